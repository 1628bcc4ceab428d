// The optimizer's elementwise kernels (optim.cc): clip-by-value and the update of SGD, Adagrad,
// RMSprop and Adam, bit for bit as src/engine/optim.ts computes them.
//
// Shape legend: P values in the flat parameter buffer; slots s0, s1 share its layout.
#pragma once

namespace charrnn {

enum OptimizerCode { SGD = 0, ADAGRAD = 1, RMSPROP = 2, ADAM = 3 };

/** One update of p(P) from g(P); s0 = Adagrad's mem, RMSprop's mean square, Adam's m; s1 = Adam's v; g clipped first and zeroed after when asked. */
struct UpdateJob {
  int kind;
  float* p;
  float* g;  // read; written when clipped or zeroed
  float* s0;
  float* s1;
  double lr, eps, decay, b1, b2;
  /** Adam's bias corrections 1 / (1 - b1^step), 1 / (1 - b2^step), as JavaScript computes them. */
  double c1, c2;
  long n;
  /** > 0: g clipped to [-clip, clip] first (clipValues' bits), in place unless zeroed. */
  double clip = 0;
  /** g set to 0 once read (the caller's zeroing before the next backward pass). */
  bool zero = false;
};

/** g(n) clipped to [-c, c], split between `threads` threads for large n. */
void clipValues(float* g, double c, long n, int threads);
/** The update, split between `threads` threads for large n (any split gives the same bits). */
void optimizerUpdate(const UpdateJob& job, int threads);

}  // namespace charrnn
