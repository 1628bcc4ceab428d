// The matrix products of the kernel contract (src/engine/kernels/types.ts), split between
// the threads when big enough (threads.ts).
//
// Shape legend: M, K, N generic matrix sizes; row-major float32.

import { NN, NT, TN } from './layout';
import { product } from './threads';

// Matrix products (src/engine/kernels/types.ts)

/** out(M,N) = (acc ? out : 0) + a(M,K) @ b(K,N). */
export function matmul(out: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: i32): void {
  product(NN, out, a, b, M, K, N, acc != 0);
}

/** out(M,N) = bias (every row) + a(M,K) @ b(K,N): the bits of fillRows then matmul with acc, in one pass. */
export function matmulBias(out: usize, a: usize, b: usize, bias: usize, M: i32, K: i32, N: i32): void {
  product(NN, out, a, b, M, K, N, false, bias);
}

/** out(M,N) += a(K,M)^T @ b(K,N). */
export function matmulTN(out: usize, a: usize, b: usize, M: i32, K: i32, N: i32): void {
  product(TN, out, a, b, M, K, N, true);
}

/** out(M,N) = (acc ? out : 0) + a(M,K) @ b(N,K)^T. */
export function matmulNT(out: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: i32): void {
  product(NT, out, a, b, M, K, N, acc != 0);
}
