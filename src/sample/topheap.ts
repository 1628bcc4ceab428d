// A bounded heap of the W best (score, key) pairs offered: higher score first, and for equal
// scores the lower key (so the result never depends on the order of offers). The worst of the
// kept pairs sits at the root, so a new pair is compared with it once and the heap never grows
// past W. Beam search offers every extension of every live hypothesis (W x V per step).
//
// Shape legend: W capacity.

/** a comes before b: higher score, then lower key. */
export function better(sa: number, ka: number, sb: number, kb: number): boolean {
  return sa > sb || (sa === sb && ka < kb);
}

export class TopHeap {
  readonly score: Float64Array; // (W) heap order; the worst at 0
  readonly key: Float64Array; // (W)
  /** After sortBest(): indices into score / key, best first. */
  readonly order: Int32Array; // (W)
  size = 0;

  constructor(readonly capacity: number) {
    this.score = new Float64Array(capacity);
    this.key = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** The worst score kept (the bar a new pair must beat once full). */
  get worstScore(): number {
    return this.score[0];
  }

  /** Keep (score, key) if there is room or it beats the worst kept. */
  offer(score: number, key: number): void {
    if (this.size < this.capacity) {
      let i = this.size++;
      this.score[i] = score;
      this.key[i] = key;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.before(p, i)) break;
        this.swap(i, p);
        i = p;
      }
    } else if (better(score, key, this.score[0], this.key[0])) {
      this.score[0] = score;
      this.key[0] = key;
      this.siftDown(0);
    }
  }

  /** Fill order[0..size) with the kept entries, best first (insertion sort: W is small). */
  sortBest(): void {
    const { order } = this;
    for (let i = 0; i < this.size; i++) {
      let j = i;
      while (j > 0 && this.before(i, order[j - 1])) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
  }

  /** Entry i comes before entry j. */
  private before(i: number, j: number): boolean {
    return better(this.score[i], this.key[i], this.score[j], this.key[j]);
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i; // the worst of i and its children goes up
      if (l < this.size && this.before(w, l)) w = l;
      if (r < this.size && this.before(w, r)) w = r;
      if (w === i) return;
      this.swap(i, w);
      i = w;
    }
  }

  private swap(i: number, j: number): void {
    const s = this.score[i];
    this.score[i] = this.score[j];
    this.score[j] = s;
    const k = this.key[i];
    this.key[i] = this.key[j];
    this.key[j] = k;
  }
}
