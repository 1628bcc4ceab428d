// The state of a run in progress beyond its configuration: the weights and optimizer slots, where
// the training stands (the trainer's iteration, the batcher's position, the hidden state carried
// into the next batch, the generator) and the loop's counters (RunState). A checkpoint records
// all of it (buildCheckpoint) and --resume restores it (resumeRun), so a resumed run continues
// bit for bit; --recover rolls part of it back in memory (train/recover.ts).

import {
  decodeTensor,
  encodeTensor,
  encodeTensors,
  loadTensors,
  FORMAT,
  VERSION,
  type CheckpointJSON,
  type DataJSON,
  type HistoryJSON,
} from './format';
import type { EngineConfig, OptimConfig, TrainConfig } from '../config';
import type { Vocab } from '../data/corpus';
import type { Trainer } from '../train/step';

/** The training loop's counters. */
export interface RunState {
  history: HistoryJSON;
  charsSeen: number;
  /** The best validation loss so far, and the evaluations since it (for --patience). */
  bestVal: number | null;
  evalsSinceBest: number;
  /** Sum and count of the training losses since the last history point. */
  lossSum: number;
  lossCount: number;
  /** The schedule's learning rate of the last update (before lrScale). */
  lr: number;
  /** The factor on the learning rate that each --recover rollback halves. */
  lrScale: number;
  /** Seconds of training in the run's earlier sessions. */
  elapsedBefore: number;
}

/** The counters of a run that starts now. */
export function newRunState(lr: number): RunState {
  return { history: { train: [], val: [] }, charsSeen: 0, bestVal: null, evalsSinceBest: 0, lossSum: 0, lossCount: 0, lr, lrScale: 1, elapsedBefore: 0 };
}

/** --resume: load the weights, optimizer slots and position of `ck` into the trainer; returns the counters. */
export function resumeRun(ck: CheckpointJSON, file: string, trainer: Trainer): RunState {
  const st = ck.training!;
  const { model, batcher } = trainer;
  loadTensors(model.params.t, ck.tensors, ck.model, ck.vocab.length, file);
  ck.optimizer!.slots.forEach((slot, i) => loadTensors(model.slots[i].t, slot, ck.model, ck.vocab.length, file));
  trainer.iter = st.iter;
  batcher.epoch = st.epoch;
  batcher.pos = st.batchPos;
  trainer.ws.loadState(decodeTensor(st.hidden, 'training.hidden', file));
  trainer.rng.setState(st.rng);
  const [lossSum, lossCount] = st.pendingLoss || [0, 0];
  return {
    history: ck.history,
    charsSeen: st.charsSeen,
    bestVal: st.bestValLoss,
    evalsSinceBest: st.evalsSinceBest,
    lossSum,
    lossCount,
    lr: st.lr,
    lrScale: st.lrScale || 1,
    elapsedBefore: st.elapsed,
  };
}

export interface RunSnapshot {
  trainer: Trainer;
  /** The configuration recorded for the record and for --resume. */
  config: { train: TrainConfig; optim: OptimConfig; engine: EngineConfig };
  vocab: Vocab;
  data: DataJSON;
  state: RunState;
  /** Seconds of training so far, over all sessions of the run. */
  elapsed: number;
}

/** The checkpoint of a run in progress (docs/checkpoint-format.md). */
export function buildCheckpoint({ trainer, config, vocab, data, state, elapsed }: RunSnapshot): CheckpointJSON {
  const { model, batcher, rng } = trainer;
  const m = model.config;
  return {
    format: FORMAT,
    version: VERSION,
    created: new Date().toISOString(),
    model: m,
    config,
    vocab: [...vocab.codePoints],
    tensors: encodeTensors(model.params.t, m, model.V),
    optimizer: {
      kind: config.optim.optimizer,
      step: trainer.iter,
      slots: model.slots.map((s) => encodeTensors(s.t, m, model.V)),
    },
    training: {
      iter: trainer.iter,
      epoch: batcher.epoch,
      batchPos: batcher.pos,
      rng: rng.state(),
      hidden: hiddenState(trainer),
      bestValLoss: state.bestVal,
      evalsSinceBest: state.evalsSinceBest,
      elapsed,
      charsSeen: state.charsSeen,
      lr: state.lr,
      pendingLoss: [state.lossSum, state.lossCount],
      lrScale: state.lrScale,
    },
    data,
    history: state.history,
  };
}

/** The hidden state carried into the next batch, as float32 (what the checkpoint keeps). */
function hiddenState(trainer: Trainer) {
  const h = new Float32Array(trainer.ws.stateSize);
  trainer.ws.saveState(h);
  return encodeTensor(h, [h.length]);
}
