// charrnn native kernels: what one instruction-set build of the kernels provides.
// isa.inc is compiled three times on x86-64 (isa_avx512.cc, isa_avx2.cc, isa_base.cc), each
// with its own target pragma, and once (isa_base.cc) elsewhere; addon.cc picks one table at
// run time from the CPU's features and splits the work between the threads (pool.h).
//
// Shape legend: B batch, H hidden, G gate width (4H lstm, 3H gru), V vocab; M, K, N generic
// matrix sizes. All matrices are row-major float32; sizes are element counts.
#pragma once
#include <cstdint>

namespace charrnn {

enum ProductKind { NN = 0, TN = 1, NT = 2 };

/** One matrix product, as kernels/types.ts defines it (TN always accumulates). */
struct Product {
  int kind;
  float* o;
  const float* a;
  const float* b;
  int M, K, N;
  bool acc;
  /** B already packed whole (packWhole), or null: pack per block into the scratch. */
  const float* packedB = nullptr;
  /** NN without acc only: out starts as this row (N) in every row instead of 0 (the bias). */
  const float* bias = nullptr;
  /**
   * TN only: colSums[j] += the sum of column j of B, for the columns computed, with sumRows'
   * bits (row after row), as B is packed. The caller sees that every column is computed once.
   */
  float* colSums = nullptr;
};

/** Floats of per-thread scratch a table's products need (packed panels of A and B). */
constexpr long SCRATCH_FLOATS = 256L * 1024 + 192L * 256 + 1024;

struct IsaTable {
  const char* name;
  /** Register tile: MR rows x NR columns of the output. */
  int MR, NR;
  /** Products with fewer rows than this are done row by row on B in place (no packing). */
  int smallM;
  /** Floats packWhole writes for B of p (all k blocks, all column panels). */
  long (*packedFloats)(const Product& p);
  /** Packs the whole B of p (NN, NT) into dst (64-byte aligned) in the layout product reads. */
  void (*packWhole)(const Product& p, float* dst);
  /** Packs columns [j0, j1) of B of p (j0 a multiple of NR) into dst, laid out as packWhole's. */
  void (*packCols)(const Product& p, float* dst, int j0, int j1);
  /** out[i0:i1, j0:j1] of the product; scratch: SCRATCH_FLOATS, 64-byte aligned. j0 % NR == 0 with packedB. */
  void (*product)(const Product& p, int i0, int i1, int j0, int j1, float* scratch);
  // Recurrent cells on batch rows [b0, b1) (kernels/types.ts for the semantics); LSTM on hidden
  // units [j0, j1) of those rows (j0 a multiple of the vector width).
  void (*lstmForward)(float* h, float* c, float* gates, const float* cPrev, int b0, int b1, int H, int j0, int j1);
  void (*lstmBackward)(float* dgates, float* dc, const float* dh, const float* gates, const float* c,
                       const float* cPrev, int b0, int b1, int H, int j0, int j1);
  void (*gruForward)(float* h, float* xg, const float* hg, const float* hPrev, int b0, int b1, int H);
  void (*gruBackward)(float* dxg, float* dhg, float* dhPrev, const float* dh, const float* act, const float* hg,
                      const float* hPrev, int b0, int b1, int H);
  // Elementwise on [i0, i1).
  void (*tanh)(float* g, long i0, long i1);
  void (*tanhBackward)(float* da, const float* dh, const float* h, long i0, long i1);
  void (*mul)(float* out, const float* a, const float* b, long i0, long i1);
  void (*vexp)(float* out, const float* x, long n);
  void (*vsigmoid)(float* out, const float* x, long n);
  /** Softmax of rows [r0, r1) of probs(M,V) in place; row losses -log p[target] into loss[r]. */
  void (*softmaxRows)(float* probs, const int32_t* targets, double* loss, int r0, int r1, int V);
  /** dbias[j0:j1] += column sums of d(M,N). */
  void (*sumRows)(float* dbias, const float* d, int M, int N, int j0, int j1);
};

extern const IsaTable avx512Table;
extern const IsaTable avx2Table;
extern const IsaTable baseTable;

}  // namespace charrnn
