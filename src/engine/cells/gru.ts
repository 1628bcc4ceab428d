// GRU in the PyTorch / cuDNN formulation, so weights move to and from PyTorch's nn.GRU
// (weight_ih = Wx^T, weight_hh = Wh^T, bias_ih = b, bias_hh = bh; gate order r, z, n):
//   r = sigmoid(x Wx_r + b_r + h Wh_r + bh_r)
//   z = sigmoid(x Wx_z + b_z + h Wh_z + bh_z)
//   n = tanh(x Wx_n + b_n + r * (h Wh_n + bh_n))
//   h_t = (1 - z) * n + z * h_{t-1}
//
// Shape legend: B batch, D input width, H hidden; G = 3H.

import type { Cell } from './cell';
import { fillUniform } from './cell';

export const gruCell: Cell = {
  params(p, D, H) {
    return [
      { name: p + 'Wx', shape: [D, 3 * H] },
      { name: p + 'Wh', shape: [H, 3 * H] },
      { name: p + 'b', shape: [3 * H] },
      { name: p + 'bh', shape: [3 * H] },
    ];
  },

  init(t, p, _D, H, rng) {
    // PyTorch's uniform(-1/sqrt(H), 1/sqrt(H)) for the weights, zero biases
    const a = 1 / Math.sqrt(H);
    fillUniform(t[p + 'Wx'], a, rng);
    fillUniform(t[p + 'Wh'], a, rng);
  },

  forward(L, k, steps) {
    const { B, H, xgAt, hgAt, hsAt, Wh, bh } = L;
    const G = 3 * H;
    for (let t = 0; t < steps; t++) {
      const hgt = hgAt[t]; // (B, 3H)
      k.matmulBias(hgt, hsAt[t], Wh, bh!, B, H, G); // h_{t-1} Wh + bh
      k.gruForward(
        hsAt[t + 1],
        xgAt[t],
        hgt,
        hsAt[t],
        B,
        H,
      );
    }
  },

  backward(L, k, steps) {
    const { B, H, xgAt, hgAt, hsAt, dxgAt, dhgAt, dhsAt, dhs, Wh } = L;
    const G = 3 * H;
    dhs.fill(0, 0, B * H);
    for (let t = steps - 1; t >= 0; t--) {
      const dhgt = dhgAt[t];
      const dhPrev = dhsAt[t];
      // forward: h_t = (1-z)*n + z*h_{t-1}, n = tanh(xn + r*hn), r/z = sigmoid(x.. + h..)
      k.gruBackward(
        dxgAt[t],
        dhgt,
        dhPrev,
        dhsAt[t + 1],
        xgAt[t],
        hgAt[t],
        hsAt[t],
        B,
        H,
      );
      // forward: hg = h_{t-1} Wh + bh  =>  dh_{t-1} += dhg Wh^T
      k.matmulNT(dhPrev, dhgt, Wh, B, G, H, true);
    }
  },
};
