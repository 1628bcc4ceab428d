// The optimizer's elementwise work over the flat parameter buffer (kernels/types.ts clip and
// update): clip every gradient value to [-c, c]; one step of SGD, Adagrad, RMSprop or Adam,
// optionally clipping the gradient first and zeroing it after, in the same pass.
// The arithmetic is float64, each stored value rounded to float32 once, in the order of the
// loops of src/engine/optim.ts (JavaScript's), so the bits equal those loops' on any backend
// and for any split between threads (every element is computed alone).
//
// Shape legend: P values in the flat parameter buffer; slots s0, s1 share its layout.

// No fused multiply-adds here: they would round differently from JavaScript's a * b + c.
#pragma GCC optimize("fp-contract=off")
#pragma STDC FP_CONTRACT OFF

#include "optim.h"

#include <cmath>

#include "dispatch.h"
#include "pool.h"

namespace charrnn {
namespace {

/** Parts split on multiples of this many values (whole cache lines). */
constexpr long UNIT = 16;
/** Below this many values the caller does it alone (waking a worker costs more). */
constexpr long MIN_SPLIT = 1 << 16;

/**
 * In float32: x > c (float64) exactly when x > (float)c or x == (float)c > c, and that x is
 * (float)c already, so the bits are JavaScript's; max/min keep a NaN (as its two ifs do).
 */
inline __attribute__((always_inline)) void clipLoop(float* g, double c, long i0, long i1) {
  const float hi = (float)c, lo = (float)-c;
  for (long i = i0; i < i1; i++) {
    float x = g[i];
    x = lo > x ? lo : x;
    g[i] = x > hi ? hi : x;
  }
}

/**
 * The update of [i0, i1). CLIP: each g first clipped to [-clip, clip] as clipLoop does (the
 * same bits as clip then update); ZERO: g set to 0 once read (the next step's zeroing); without
 * ZERO a clipped g is stored back, as clip leaves it. Both save a pass over g(P) a step.
 */
template <bool CLIP, bool ZERO>
inline __attribute__((always_inline)) void updateLoop(const UpdateJob& j, long i0, long i1) {
  float* p = j.p;
  float* g = j.g;
  float* s0 = j.s0;
  float* s1 = j.s1;
  const double lr = j.lr, eps = j.eps;
  const float hi = (float)j.clip, lo = (float)-j.clip;
  auto grad = [&](long i) {
    float x = g[i];
    if (CLIP) {
      x = lo > x ? lo : x;
      x = x > hi ? hi : x;
    }
    if (ZERO) g[i] = 0.0f;
    else if (CLIP) g[i] = x;
    return (double)x;
  };
  switch (j.kind) {
    case SGD:  // p -= lr * g
      for (long i = i0; i < i1; i++) {
        const double gi = grad(i);
        p[i] = (float)((double)p[i] - lr * gi);
      }
      break;
    case ADAGRAD:  // mem += g * g; p -= lr * g / sqrt(mem + eps)
      for (long i = i0; i < i1; i++) {
        const double gi = grad(i);
        s0[i] = (float)((double)s0[i] + gi * gi);
        p[i] = (float)((double)p[i] - (lr * gi) / std::sqrt((double)s0[i] + eps));
      }
      break;
    case RMSPROP: {  // m = a*m + (1-a)*g^2; p -= lr * g / (sqrt(m) + eps)
      const double a = j.decay;
      for (long i = i0; i < i1; i++) {
        const double gi = grad(i);
        s0[i] = (float)(a * (double)s0[i] + (1 - a) * gi * gi);
        p[i] = (float)((double)p[i] - (lr * gi) / (std::sqrt((double)s0[i]) + eps));
      }
      break;
    }
    case ADAM: {  // m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * m*c1 / (sqrt(v*c2) + eps)
      const double b1 = j.b1, b2 = j.b2, c1 = j.c1, c2 = j.c2;
      for (long i = i0; i < i1; i++) {
        const double gi = grad(i);
        s0[i] = (float)(b1 * (double)s0[i] + (1 - b1) * gi);
        s1[i] = (float)(b2 * (double)s1[i] + (1 - b2) * gi * gi);
        p[i] = (float)((double)p[i] - (lr * (double)s0[i] * c1) / (std::sqrt((double)s1[i] * c2) + eps));
      }
      break;
    }
  }
}

inline __attribute__((always_inline)) void updateAny(const UpdateJob& j, long i0, long i1) {
  const bool clip = j.clip > 0;
  if (clip && j.zero) updateLoop<true, true>(j, i0, i1);
  else if (clip) updateLoop<true, false>(j, i0, i1);
  else if (j.zero) updateLoop<false, true>(j, i0, i1);
  else updateLoop<false, false>(j, i0, i1);
}

// The loops built for the vector widths of the CPU (chosen at run time, never -march=native):
// the float64 square roots and divisions are the work, 8 lanes on AVX-512, 4 on AVX, 2 baseline.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) void clip512(float* g, double c, long i0, long i1) { clipLoop(g, c, i0, i1); }
__attribute__((target("avx512f"))) void update512(const UpdateJob& j, long i0, long i1) { updateAny(j, i0, i1); }
__attribute__((target("avx2"))) void clip256(float* g, double c, long i0, long i1) { clipLoop(g, c, i0, i1); }
__attribute__((target("avx2"))) void update256(const UpdateJob& j, long i0, long i1) { updateAny(j, i0, i1); }
#endif
void clipBase(float* g, double c, long i0, long i1) { clipLoop(g, c, i0, i1); }
void updateBase(const UpdateJob& j, long i0, long i1) { updateAny(j, i0, i1); }

using ClipFn = void (*)(float*, double, long, long);
using UpdateFn = void (*)(const UpdateJob&, long, long);
struct Loops {
  ClipFn clip;
  UpdateFn update;
};
const Loops& loops() {
  static const Loops l = [] {
#if defined(__x86_64__)
    if (cpuHas("avx512")) return Loops{clip512, update512};
    if (cpuHas("avx2")) return Loops{clip256, update256};
#endif
    return Loops{clipBase, updateBase};
  }();
  return l;
}
void clipRange(float* g, double c, long i0, long i1) { loops().clip(g, c, i0, i1); }
void updateRange(const UpdateJob& j, long i0, long i1) { loops().update(j, i0, i1); }

inline long partStart(int part, int parts, long n) {
  const long units = (n + UNIT - 1) / UNIT;
  const long s = part * units / parts * UNIT;
  return s < n ? s : n;
}

struct ClipJob {
  float* g;
  double c;
  long n;
};

void clipPart(const void* ctx, int part, int parts, float*) {
  const auto& j = *static_cast<const ClipJob*>(ctx);
  clipRange(j.g, j.c, partStart(part, parts, j.n), partStart(part + 1, parts, j.n));
}

void updatePart(const void* ctx, int part, int parts, float*) {
  const auto& j = *static_cast<const UpdateJob*>(ctx);
  updateRange(j, partStart(part, parts, j.n), partStart(part + 1, parts, j.n));
}

inline int partsFor(int threads, long n) { return threads > 1 && n >= MIN_SPLIT ? threads : 1; }

}  // namespace

void clipValues(float* g, double c, long n, int threads) {
  const ClipJob job{g, c, n};
  const int parts = partsFor(threads, n);
  if (parts <= 1) clipRange(g, c, 0, n);
  else pool().run(clipPart, &job, parts, parts);
}

void optimizerUpdate(const UpdateJob& job, int threads) {
  const int parts = partsFor(threads, job.n);
  if (parts <= 1) updateRange(job, 0, job.n);
  else pool().run(updatePart, &job, parts, parts);
}

}  // namespace charrnn
