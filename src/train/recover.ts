// --recover: the last good state of a run (the start, then every evaluation), kept in memory, to
// roll back to when the loss becomes NaN or explodes, with the learning rate halved.

import type { Vec } from '../engine/arena';
import type { RngState } from '../engine/rng';
import type { RunState } from '../checkpoint/run';
import type { Trainer } from './step';

/** --recover halves the learning rate at most this many times before giving up. */
export const MAX_RECOVERIES = 8;

/** The counters a rollback restores (not lrScale: each rollback halves it; not the time spent). */
type Counters = Pick<RunState, 'charsSeen' | 'bestVal' | 'evalsSinceBest' | 'lossSum' | 'lossCount'>;

export class LastGood {
  /** Rollbacks so far. */
  recoveries = 0;
  private readonly params: Vec;
  private readonly slots: Vec[];
  private readonly hidden: Float64Array;
  private iter = 0;
  private epoch = 0;
  private pos = 0;
  private rng!: RngState;
  private counters!: Counters;
  private nTrain = 0;
  private nVal = 0;

  /** Keeps the trainer's state as it is now. */
  constructor(
    private readonly trainer: Trainer,
    state: RunState,
  ) {
    const { model } = trainer;
    this.params = model.params.flat.slice();
    this.slots = model.slots.map((s) => s.flat.slice());
    this.hidden = new Float64Array(trainer.ws.stateSize);
    this.keep(state);
  }

  /** Remember the state now as the last good one. */
  keep(state: RunState): void {
    const { model, batcher, rng, ws } = this.trainer;
    this.params.set(model.params.flat);
    model.slots.forEach((s, i) => this.slots[i].set(s.flat));
    ws.saveState(this.hidden);
    this.iter = this.trainer.iter;
    this.epoch = batcher.epoch;
    this.pos = batcher.pos;
    this.rng = rng.state();
    const { charsSeen, bestVal, evalsSinceBest, lossSum, lossCount } = state;
    this.counters = { charsSeen, bestVal, evalsSinceBest, lossSum, lossCount };
    this.nTrain = state.history.train.length;
    this.nVal = state.history.val.length;
  }

  /**
   * Go back to the last good state and halve the learning rate (state.lrScale); false, and
   * nothing changed, when the rollbacks are used up.
   */
  rollBack(state: RunState): boolean {
    if (this.recoveries >= MAX_RECOVERIES) return false;
    const { model, batcher, rng, ws } = this.trainer;
    model.params.flat.set(this.params);
    model.slots.forEach((s, i) => s.flat.set(this.slots[i]));
    ws.loadState(this.hidden);
    this.trainer.iter = this.iter;
    batcher.epoch = this.epoch;
    batcher.pos = this.pos;
    rng.setState(this.rng);
    Object.assign(state, this.counters);
    state.history.train.length = this.nTrain;
    state.history.val.length = this.nVal;
    state.lrScale /= 2;
    this.recoveries++;
    return true;
  }
}
