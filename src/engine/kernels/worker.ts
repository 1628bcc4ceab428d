// A worker thread of the wasm kernels (bundled to dist/worker.js; started by wasm.ts when
// threads > 1). It instantiates the already compiled kernel module on the shared memory and
// stays inside workerLoop(), which waits for jobs and computes parts of the big matrix
// products (see "Threads" in assembly/kernels.ts) until the backend is closed.

import { workerData } from 'node:worker_threads';
import type { WasmExports, WorkerInit } from './wasm';

const init = workerData as WorkerInit;
const WA = (globalThis as unknown as {
  WebAssembly: { Instance: new (module: unknown, imports: object) => { exports: unknown } };
}).WebAssembly;
const ex = new WA.Instance(init.module, { env: { memory: init.memory } }).exports as WasmExports;
ex.init(init.ctrl, init.scratch, init.threads);
try {
  ex.workerLoop(); // returns after stopWorkers()
} catch (e) {
  ex.workerFailed(); // else the main thread would wait for this part forever
  throw e; // reported by the main thread ('error' event)
}
