// The kernel module: every piece of heavy math in charrnn goes through this interface.
// Three implementations: js.ts (plain TypeScript, the reference, float32 or float64),
// wasm.ts (WebAssembly SIMD, float32, on buffers that live in the WebAssembly memory) and
// native.ts (the C++ addon, float32, on memory the addon maps).
//
// Shape legend: B batch, T steps, D input width, H hidden, G gate width (H rnn, 4H lstm,
// 3H gru), V vocab; M, K, N are generic matrix sizes. All matrices are row-major.
// Argument order everywhere: outputs, then inputs, then weights, then sizes.
// Outputs may alias inputs only where a kernel says "in place".
// Gradients (d-prefixed) accumulate with += unless the kernel says "writes".

import type { Vec } from '../arena';

/** LSTM gate order, written down once: input, forget, output, candidate (i, f, o, g). */
export const LSTM_GATES = ['i', 'f', 'o', 'g'] as const;
/** GRU gate order (PyTorch / cuDNN): reset, update, new (r, z, n). */
export const GRU_GATES = ['r', 'z', 'n'] as const;

export interface Kernels {
  readonly name: 'js' | 'wasm' | 'native';

  /** out(M,N) = (acc ? out : 0) + a(M,K) @ b(K,N). */
  matmul(out: Vec, a: Vec, b: Vec, M: number, K: number, N: number, acc: boolean): void;
  /**
   * out(M,N) = bias(N) in every row + a(M,K) @ b(K,N): the same bits as fillRows then matmul with
   * acc (what js does); native and wasm write out once (the input and output layers, GRU's hWh + bh).
   */
  matmulBias(out: Vec, a: Vec, b: Vec, bias: Vec, M: number, K: number, N: number): void;
  /** out(M,N) += a(K,M)^T @ b(K,N). Weight gradients: dW += X^T dY. Always accumulates. */
  matmulTN(out: Vec, a: Vec, b: Vec, M: number, K: number, N: number): void;
  /**
   * matmulTN and dbias(N) += column sums of b(K,N): a layer's weight and bias gradients, the
   * same bits as sumRows then matmulTN (what js and wasm do); native sums b while it packs it.
   */
  matmulTNSum(out: Vec, a: Vec, b: Vec, dbias: Vec, M: number, K: number, N: number): void;
  /** out(M,N) = (acc ? out : 0) + a(M,K) @ b(N,K)^T. Input gradients: dX = dY W^T. */
  matmulNT(out: Vec, a: Vec, b: Vec, M: number, K: number, N: number, acc: boolean): void;

  /** out(M,N): every row set to bias(N). */
  fillRows(out: Vec, bias: Vec, M: number, N: number): void;
  /** dbias(N) += column sums of d(M,N). */
  sumRows(dbias: Vec, d: Vec, M: number, N: number): void;
  /** out(M,N) = (acc ? out : 0) + table[ids[i], :]: one-hot matmul or embedding lookup. */
  gatherRows(out: Vec, ids: Int32Array, table: Vec, M: number, N: number, acc: boolean): void;
  /** dtable[ids[i], :] += d(i, :) for i < M. */
  scatterRows(dtable: Vec, d: Vec, ids: Int32Array, M: number, N: number): void;
  /** out(n) = a(n) * b(n), elementwise (dropout masks); out may alias a. */
  mul(out: Vec, a: Vec, b: Vec, n: number): void;

  /** Vanilla RNN nonlinearity, in place: g(n) = tanh(g). */
  tanh(g: Vec, n: number): void;
  /** Writes da(n) = dh * (1 - h^2), the derivative of h = tanh(a). */
  tanhBackward(da: Vec, dh: Vec, h: Vec, n: number): void;

  /**
   * LSTM step, gates(B,4H) in place from pre-activations to activations, then
   * c = f*cPrev + i*g and h = o*tanh(c). Writes c(B,H), h(B,H).
   */
  lstmForward(h: Vec, c: Vec, gates: Vec, cPrev: Vec, B: number, H: number): void;
  /**
   * LSTM step backward. Writes dgates(B,4H) (gradient of the pre-activations). dc(B,H)
   * holds the gradient of c from the future on entry and is overwritten, in place, with the
   * gradient of cPrev. dh(B,H) is the total gradient of h.
   */
  lstmBackward(dgates: Vec, dc: Vec, dh: Vec, gates: Vec, c: Vec, cPrev: Vec, B: number, H: number): void;

  /**
   * GRU step (PyTorch formulation). xg(B,3H) holds x Wx + bx and is overwritten in place
   * with the activations r, z, n; hg(B,3H) holds hPrev Wh + bh (kept for backward).
   *   r = sigmoid(xr + hr); z = sigmoid(xz + hz); n = tanh(xn + r*hn); h = (1-z)*n + z*hPrev.
   * Writes h(B,H).
   */
  gruForward(h: Vec, xg: Vec, hg: Vec, hPrev: Vec, B: number, H: number): void;
  /**
   * GRU step backward. Writes dxg(B,3H) (gradient of x Wx + bx), dhg(B,3H) (gradient of
   * hPrev Wh + bh); adds the direct path dh*z into dhPrev(B,H). act = (r,z,n) from forward.
   */
  gruBackward(dxg: Vec, dhg: Vec, dhPrev: Vec, dh: Vec, act: Vec, hg: Vec, hPrev: Vec, B: number, H: number): void;

  /**
   * Softmax over each row of logits(M,V), in place (logits become probabilities). Returns the
   * summed cross-entropy -log p[target] over the M rows (in float64), or 0 when targets is null.
   */
  softmaxXent(probs: Vec, targets: Int32Array | null, M: number, V: number): number;
  /** dlogits(M,V) writes (probs - onehot(target)) * scale; dlogits may alias probs. */
  softmaxXentBackward(dlogits: Vec, probs: Vec, targets: Int32Array, scale: number, M: number, V: number): void;

  /**
   * Optional (native, wasm): an LSTM layer's whole forward time loop in one call, the same bits as
   * cells/lstm.ts's loop over matmul and lstmForward. gates(steps,B,4H) holds x Wx + b on entry
   * and the activations on exit; hs(steps+1,B,H) and cs(steps+1,B,H) hold the carried state in
   * slot 0, and slots 1..steps are written. Wh is (H,4H).
   */
  lstmLayerForward?(hs: Vec, cs: Vec, gates: Vec, Wh: Vec, B: number, H: number, steps: number): void;
  /**
   * Optional (native, wasm): the backward time loop, the same bits as cells/lstm.ts's loop over
   * lstmBackward and matmulNT. Writes dgates(steps,B,4H); dc(B,H) holds the gradient of c_steps
   * on entry and of c_0 on exit; dhs(steps+1,B,H) holds the gradient from above in 1..steps, and
   * dhs[t] += dgates_t Wh^T for t = steps-1 .. 0. gates and cs as forward left them.
   */
  lstmLayerBackward?(dgates: Vec, dc: Vec, dhs: Vec, gates: Vec, cs: Vec, Wh: Vec, B: number, H: number, steps: number): void;

  /**
   * Optional hint (native): from weightsBegin() to weightsEnd() the b operands of matmul and
   * matmulNT (the weights, in the model) do not change, so a backend may pack them once and
   * reuse the packed copy at every step (the recurrent products). The model brackets each
   * forward and each backward pass with the two; results are the same bits either way.
   */
  weightsBegin?(): void;
  weightsEnd?(): void;

  /**
   * Optional (native and wasm): the optimizer's elementwise work over the flat parameter
   * buffer, in float64 rounded to float32 once per stored value in the order of
   * engine/optim.ts's loops, so the bits equal those loops' (which run where a backend has no
   * such kernel: js).
   * clip: g(n) clipped to [-c, c] in place.
   */
  clip?(g: Vec, c: number, n: number): void;
  /**
   * update: one step of p(n) from g(n) (optim.ts optimizerStep): kind 0 sgd, 1 adagrad,
   * 2 rmsprop, 3 adam; s0 = Adagrad's mem, RMSprop's mean square, Adam's m; s1 = Adam's v
   * (null where the optimizer has none); c1, c2 = Adam's 1 / (1 - beta^step). clip > 0: g is
   * first clipped as clip(g, clip, n) would (the same bits), in the same pass; zeroGrad: g is
   * set to 0 once read (else a clipped g stays clipped), sparing the next step's zeroing pass.
   */
  update?(
    p: Vec, g: Vec, s0: Vec | null, s1: Vec | null, kind: number, lr: number, eps: number, decay: number, b1: number, b2: number, c1: number, c2: number, n: number,
    clip: number, zeroGrad: boolean,
  ): void;
}
