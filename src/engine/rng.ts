// The only source of randomness in charrnn: one seeded generator (seedrandom's alea),
// passed explicitly to init, dropout and sampling. Its state can be saved in a checkpoint
// and restored, so a resumed run draws the same numbers as one that never stopped.

import seedrandom from 'seedrandom';

/** alea's four numbers, plus the spare normal of Box-Muller (null when none). */
export type RngState = seedrandom.State.Alea & { spare?: number | null };

export class Rng {
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private spare = NaN; // the second normal of the last Box-Muller pair

  constructor(seed: number | string, state?: RngState) {
    this.prng = state
      ? seedrandom.alea('', { state: { c: state.c, s0: state.s0, s1: state.s1, s2: state.s2 } })
      : seedrandom.alea(String(seed), { state: true });
    if (state) this.spare = state.spare ?? NaN;
  }

  /** Uniform in [0, 1), 53 bits of randomness (alea's double()). */
  uniform(): number {
    return this.prng.double();
  }

  /** Standard normal (Box-Muller, both values of each pair used). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Continue from a snapshot taken by state(). */
  setState(state: RngState): void {
    this.prng = seedrandom.alea('', { state: { c: state.c, s0: state.s0, s1: state.s1, s2: state.s2 } });
    this.spare = state.spare ?? NaN;
  }

  /** A snapshot that `new Rng(0, state)` continues from exactly. Plain JSON. */
  state(): RngState {
    return { ...this.prng.state(), spare: Number.isNaN(this.spare) ? null : this.spare };
  }
}
