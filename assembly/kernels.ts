// charrnn WebAssembly SIMD kernels (AssemblyScript, 128-bit SIMD, float32).
// Contract: src/engine/kernels/types.ts; semantics: src/engine/kernels/js.ts (the reference); JS side:
// src/engine/kernels/wasm.ts. Built by `npm run build` with assembly/asconfig.json.
//
// Shape legend: B batch, H hidden, G gate width (4H lstm, 3H gru), V vocab; M, K, N generic
// matrix sizes. Matrices are row-major float32. Every pointer is a byte address in the
// memory; every size is an element count. "o" out, "a"/"b" operands, "ld*" row strides in
// bytes, "ks" the byte step from one k to the next.
//
// Memory map (laid out by wasm.ts and handed to init() in every thread):
//   [0, heapBase)  nothing: this module has no static data, so instantiating it again in each
//                  worker thread writes nothing into the shared memory
//   ctrl           CTRL_BYTES: the job block the threads share (see threads.ts)
//   scratch[t]     SCRATCH_BYTES per thread: packed panels of B and A, a 4x8 tile buffer
//   base ...       the arena (all model buffers)
//
// The matrix products all run one register-blocked micro-kernel, tile(): a 4x8 block of
// the output held in 8 v128 accumulators while k runs, fed by a packed copy of B (kc rows
// of 8 floats, contiguous) so its loads stream through L1 whatever N is (N*4 a multiple of
// 4 KiB would otherwise alias every row of B into the same L1 set). Each output element is
// computed as out + a0*b0 + a1*b1 + ... in k order in one f32 lane whichever variant of the
// code touches it, so results do not depend on how the work is split between threads.
// With --enable relaxed-simd (dist/kernels-relaxed.wasm) madd() is a fused multiply-add.
//
// The source is split by concern, compiled together into one module: layout.ts (memory
// layout, tuning), simd.ts (SIMD helpers), products.ts (the blocked products), threads.ts,
// matmul.ts, math.ts (exp, sigmoid, tanh, ln), elementwise.ts, cells.ts (LSTM, GRU), layer.ts
// (an LSTM layer's time loop), softmax.ts and optim.ts (the optimizer's clip and update). This file is the entry: the module's exports, in the order the JS side knows.

export { heapBase, ctrlBytes, scratchBytes, init, defaultTuning, setTuning } from './layout';
export { workerLoop, workerFailed, stopWorkers } from './threads';
export { matmul, matmulBias, matmulTN, matmulNT } from './matmul';
export { vexp, vsigmoid } from './math';
export { tanh, tanhBackward, mul, fillRows, sumRows, gatherRows, scatterRows } from './elementwise';
export { lstmForward, lstmBackward, gruForward, gruBackward } from './cells';
export { lstmLayerForward, lstmLayerBackward } from './layer';
export { softmaxXent, softmaxXentBackward } from './softmax';
export { clip, update } from './optim';
