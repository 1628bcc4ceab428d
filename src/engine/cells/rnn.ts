// Vanilla tanh RNN, exactly min-char-rnn's cell:  h_t = tanh(x_t Wx + h_{t-1} Wh + b).
// (min-char-rnn writes Wxh x + Whh h + bh with column vectors; Wx = Wxh^T, Wh = Whh^T.)
//
// Shape legend: B batch, D input width, H hidden; G = H.

import type { Cell } from './cell';
import { fillNormal } from './cell';

export const rnnCell: Cell = {
  params(p, D, H) {
    return [
      { name: p + 'Wx', shape: [D, H] },
      { name: p + 'Wh', shape: [H, H] },
      { name: p + 'b', shape: [H] },
    ];
  },

  init(t, p, _D, _H, rng) {
    // min-char-rnn: randn * 0.01, zero bias
    fillNormal(t[p + 'Wx'], 0.01, rng);
    fillNormal(t[p + 'Wh'], 0.01, rng);
  },

  forward(L, k, steps) {
    const { B, H, xgAt, hs, hsAt, Wh } = L;
    const n = B * H;
    for (let t = 0; t < steps; t++) {
      const a = xgAt[t]; // (B, H) x Wx + b
      k.matmul(a, hsAt[t], Wh, B, H, H, true); // + h_{t-1} Wh
      k.tanh(a, n); // h_t = tanh(a), kept in xg for backward and copied to hs
      hs.set(a, (t + 1) * n);
    }
  },

  backward(L, k, steps) {
    const { B, H, hsAt, dxgAt, dhsAt, dhs, Wh } = L;
    const n = B * H;
    dhs.fill(0, 0, n);
    for (let t = steps - 1; t >= 0; t--) {
      const da = dxgAt[t];
      // forward: h_t = tanh(a_t)
      k.tanhBackward(da, dhsAt[t + 1], hsAt[t + 1], n);
      // forward: a_t = x_t Wx + h_{t-1} Wh + b  =>  dh_{t-1} += da Wh^T
      k.matmulNT(dhsAt[t], da, Wh, B, H, H, true);
    }
  },
};
