// LSTM with fused gate weights (torch-rnn's layout): Wx (D,4H) and Wh (H,4H) together are
// one (D+H, 4H) matrix; gate columns in the order i, f, o, g (kernels/types.ts).
//   [i f o g] = x_t Wx + h_{t-1} Wh + b;  i,f,o = sigmoid, g = tanh
//   c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
// The forget-gate bias starts at 1, so the cell remembers by default.
//
// Shape legend: B batch, D input width, H hidden; G = 4H.

import type { Cell } from './cell';
import { fillUniform } from './cell';

export const lstmCell: Cell = {
  params(p, D, H) {
    return [
      { name: p + 'Wx', shape: [D, 4 * H] },
      { name: p + 'Wh', shape: [H, 4 * H] },
      { name: p + 'b', shape: [4 * H] },
    ];
  },

  init(t, p, _D, H, rng) {
    // PyTorch's uniform(-1/sqrt(H), 1/sqrt(H)) for the weights; zero bias but the forget gate
    const a = 1 / Math.sqrt(H);
    fillUniform(t[p + 'Wx'], a, rng);
    fillUniform(t[p + 'Wh'], a, rng);
    t[p + 'b'].fill(1, H, 2 * H);
  },

  forward(L, k, steps) {
    const { B, H, xgAt, hsAt, csAt, Wh } = L;
    const G = 4 * H;
    // the native and wasm kernels run the whole loop below in one call (same bits, threads split by rows or units)
    if (k.lstmLayerForward) return k.lstmLayerForward(L.hs, L.cs!, L.xg, Wh, B, H, steps);
    for (let t = 0; t < steps; t++) {
      const gates = xgAt[t]; // (B, 4H) x Wx + b
      k.matmul(gates, hsAt[t], Wh, B, H, G, true); // + h_{t-1} Wh
      k.lstmForward(
        hsAt[t + 1],
        csAt[t + 1],
        gates,
        csAt[t],
        B,
        H,
      );
    }
  },

  backward(L, k, steps) {
    const { B, H, xgAt, csAt, dxgAt, dhsAt, dhs, dc, Wh } = L;
    const G = 4 * H;
    dhs.fill(0, 0, B * H);
    dc!.fill(0); // truncated BPTT: no gradient flows in from the next chunk
    if (k.lstmLayerBackward) return k.lstmLayerBackward(L.dxg, dc!, L.dhs, L.xg, L.cs!, Wh, B, H, steps);
    for (let t = steps - 1; t >= 0; t--) {
      const dgates = dxgAt[t];
      // forward: c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t); dc becomes dc_{t-1}
      k.lstmBackward(
        dgates,
        dc!,
        dhsAt[t + 1],
        xgAt[t],
        csAt[t + 1],
        csAt[t],
        B,
        H,
      );
      // forward: gates = x_t Wx + h_{t-1} Wh + b  =>  dh_{t-1} += dgates Wh^T
      k.matmulNT(dhsAt[t], dgates, Wh, B, G, H, true);
    }
  },
};
