// Plain TypeScript kernels: the reference implementation of kernels/types.ts.
// Works on float32 and float64 buffers alike; clear loops, no tricks beyond loop order.
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes; row-major.

import type { Kernels } from './types';

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export const jsKernels: Kernels = {
  name: 'js',

  matmul(out, a, b, M, K, N, acc) {
    if (!acc) out.fill(0, 0, M * N);
    for (let i = 0; i < M; i++) {
      const oi = i * N;
      for (let k = 0; k < K; k++) {
        const aik = a[i * K + k];
        if (aik === 0) continue; // one-hot and dropout rows are sparse
        const bk = k * N;
        for (let j = 0; j < N; j++) out[oi + j] += aik * b[bk + j];
      }
    }
  },

  matmulBias(out, a, b, bias, M, K, N) {
    jsKernels.fillRows(out, bias, M, N);
    jsKernels.matmul(out, a, b, M, K, N, true);
  },

  matmulTN(out, a, b, M, K, N) {
    // out[i,j] += sum_k a[k,i] * b[k,j]
    for (let k = 0; k < K; k++) {
      const ak = k * M;
      const bk = k * N;
      for (let i = 0; i < M; i++) {
        const aki = a[ak + i];
        if (aki === 0) continue;
        const oi = i * N;
        for (let j = 0; j < N; j++) out[oi + j] += aki * b[bk + j];
      }
    }
  },

  matmulTNSum(out, a, b, dbias, M, K, N) {
    jsKernels.sumRows(dbias, b, K, N);
    jsKernels.matmulTN(out, a, b, M, K, N);
  },

  matmulNT(out, a, b, M, K, N, acc) {
    // out[i,j] (+)= sum_k a[i,k] * b[j,k]
    for (let i = 0; i < M; i++) {
      const ai = i * K;
      for (let j = 0; j < N; j++) {
        const bj = j * K;
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ai + k] * b[bj + k];
        out[i * N + j] = acc ? out[i * N + j] + s : s;
      }
    }
  },

  fillRows(out, bias, M, N) {
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[i * N + j] = bias[j];
  },

  sumRows(dbias, d, M, N) {
    for (let i = 0; i < M; i++) {
      const di = i * N;
      for (let j = 0; j < N; j++) dbias[j] += d[di + j];
    }
  },

  gatherRows(out, ids, table, M, N, acc) {
    for (let i = 0; i < M; i++) {
      const src = ids[i] * N;
      const dst = i * N;
      if (acc) for (let j = 0; j < N; j++) out[dst + j] += table[src + j];
      else for (let j = 0; j < N; j++) out[dst + j] = table[src + j];
    }
  },

  scatterRows(dtable, d, ids, M, N) {
    for (let i = 0; i < M; i++) {
      const dst = ids[i] * N;
      const src = i * N;
      for (let j = 0; j < N; j++) dtable[dst + j] += d[src + j];
    }
  },

  mul(out, a, b, n) {
    for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
  },

  tanh(g, n) {
    for (let i = 0; i < n; i++) g[i] = Math.tanh(g[i]);
  },

  tanhBackward(da, dh, h, n) {
    // forward: h = tanh(a)
    for (let i = 0; i < n; i++) da[i] = dh[i] * (1 - h[i] * h[i]);
  },

  lstmForward(h, c, gates, cPrev, B, H) {
    const G = 4 * H;
    for (let b = 0; b < B; b++) {
      const gb = b * G;
      const hb = b * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[gb + j]);
        const f = sigmoid(gates[gb + H + j]);
        const o = sigmoid(gates[gb + 2 * H + j]);
        const g = Math.tanh(gates[gb + 3 * H + j]);
        gates[gb + j] = i;
        gates[gb + H + j] = f;
        gates[gb + 2 * H + j] = o;
        gates[gb + 3 * H + j] = g;
        const ct = f * cPrev[hb + j] + i * g;
        c[hb + j] = ct;
        h[hb + j] = o * Math.tanh(ct);
      }
    }
  },

  lstmBackward(dgates, dc, dh, gates, c, cPrev, B, H) {
    const G = 4 * H;
    for (let b = 0; b < B; b++) {
      const gb = b * G;
      const hb = b * H;
      for (let j = 0; j < H; j++) {
        const i = gates[gb + j];
        const f = gates[gb + H + j];
        const o = gates[gb + 2 * H + j];
        const g = gates[gb + 3 * H + j];
        const tc = Math.tanh(c[hb + j]);
        const dhj = dh[hb + j];
        // forward: h = o * tanh(c)
        const dcj = dc[hb + j] + dhj * o * (1 - tc * tc);
        const dO = dhj * tc;
        // forward: c = f * cPrev + i * g
        const dI = dcj * g;
        const dF = dcj * cPrev[hb + j];
        const dG = dcj * i;
        dc[hb + j] = dcj * f;
        // forward: i, f, o = sigmoid(.), g = tanh(.)
        dgates[gb + j] = dI * i * (1 - i);
        dgates[gb + H + j] = dF * f * (1 - f);
        dgates[gb + 2 * H + j] = dO * o * (1 - o);
        dgates[gb + 3 * H + j] = dG * (1 - g * g);
      }
    }
  },

  gruForward(h, xg, hg, hPrev, B, H) {
    const G = 3 * H;
    for (let b = 0; b < B; b++) {
      const gb = b * G;
      const hb = b * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(xg[gb + j] + hg[gb + j]);
        const z = sigmoid(xg[gb + H + j] + hg[gb + H + j]);
        const n = Math.tanh(xg[gb + 2 * H + j] + r * hg[gb + 2 * H + j]);
        xg[gb + j] = r;
        xg[gb + H + j] = z;
        xg[gb + 2 * H + j] = n;
        h[hb + j] = (1 - z) * n + z * hPrev[hb + j];
      }
    }
  },

  gruBackward(dxg, dhg, dhPrev, dh, act, hg, hPrev, B, H) {
    const G = 3 * H;
    for (let b = 0; b < B; b++) {
      const gb = b * G;
      const hb = b * H;
      for (let j = 0; j < H; j++) {
        const r = act[gb + j];
        const z = act[gb + H + j];
        const n = act[gb + 2 * H + j];
        const hn = hg[gb + 2 * H + j];
        const dhj = dh[hb + j];
        // forward: h = (1 - z) * n + z * hPrev
        const dn = dhj * (1 - z);
        const dz = dhj * (hPrev[hb + j] - n);
        dhPrev[hb + j] += dhj * z;
        // forward: n = tanh(xn + r * hn)
        const dan = dn * (1 - n * n);
        const dr = dan * hn;
        // forward: r = sigmoid(xr + hr), z = sigmoid(xz + hz)
        const dar = dr * r * (1 - r);
        const daz = dz * z * (1 - z);
        dxg[gb + j] = dar;
        dxg[gb + H + j] = daz;
        dxg[gb + 2 * H + j] = dan;
        dhg[gb + j] = dar;
        dhg[gb + H + j] = daz;
        dhg[gb + 2 * H + j] = dan * r;
      }
    }
  },

  softmaxXent(probs, targets, M, V) {
    let loss = 0;
    for (let i = 0; i < M; i++) {
      const row = i * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (probs[row + j] > max) max = probs[row + j];
      // -log p[target] = log(sum) - (x_t - max), from the logits: exact even when p underflows
      const xt = targets ? probs[row + targets[i]] - max : 0;
      let sum = 0;
      for (let j = 0; j < V; j++) {
        const e = Math.exp(probs[row + j] - max);
        probs[row + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < V; j++) probs[row + j] *= inv;
      if (targets) loss += Math.log(sum) - xt;
    }
    return loss;
  },

  softmaxXentBackward(dlogits, probs, targets, scale, M, V) {
    // forward: loss = -log softmax(x)[t]  =>  dx = (p - onehot(t)) * scale
    for (let i = 0; i < M; i++) {
      const row = i * V;
      for (let j = 0; j < V; j++) dlogits[row + j] = probs[row + j] * scale;
      dlogits[row + targets[i]] -= scale;
    }
  },
};
