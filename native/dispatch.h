// How the native kernels run on a backend's arena: its context (Ctx), the cache of packed
// weights, and the jobs that split products, cell steps and row kernels between the pool's
// threads (pool.h), on fixed boundaries, with the same bits for any split (see isa.inc).
// addon.cc turns JavaScript calls into these.
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels.h"

namespace charrnn {

/**
 * Products below this many multiply-adds, and cell steps / elementwise work below this many
 * elements, run on the calling thread only (waking a worker costs more). Process-wide; tests
 * set them to 0 (tune) to split everything. Results never depend on them.
 */
extern std::atomic<double> splitMinMacs;
extern std::atomic<long> splitMinElems;
/**
 * Products of at least this many multiply-adds are cut into up to GRAIN parts per thread
 * (balance on a busy machine), each of at least GRAIN_MIN_SIZE rows or columns: every part packs
 * the whole of the operand it does not split, so smaller parts would pack it too many times.
 */
constexpr double GRAIN_MIN_MACS = 1 << 23;
constexpr int GRAIN = 4;
constexpr int GRAIN_MIN_SIZE = 256;
/** Column splits fall on multiples of this (a multiple of every table's NR and 4 vectors). */
constexpr int COL_UNIT = 64;
/** The LSTM layer loops split hidden units in multiples of this (every table's NR and vector width divide it). */
constexpr int UNIT_SPLIT = 32;
/**
 * Steps whose product has at least this many multiply-adds (2 x 512 at batch 32), and steps of
 * fewer than smallM rows, run as the per-call kernels do, one product and one cell split after
 * the other: measured no slower there (bench/sweep.ts; sampling 2 x 512 was 7% slower split by
 * units), and a busy machine's threads balance over many parts.
 */
constexpr double LAYER_MAX_MACS = 1 << 25;

/**
 * LSTM layers whose Wh has at most this many floats (H <= 256: 1 MB, half this machine's L2 a
 * core) split the batch rows between the threads instead of the units, parts of at least
 * ROW_SPLIT_MIN_ROWS rows: the streams never meet, so the threads run their rows through all
 * the steps without a barrier, each reading all of Wh from its own L2 a step (measured: H128
 * and H256 steps 6-13% faster than the unit split, H320 even, H384 and H512, whose Wh leaves L2,
 * 5-12% slower).
 */
constexpr long ROW_SPLIT_MAX_WH = 1L << 18;
constexpr int ROW_SPLIT_MIN_ROWS = 4;

/** productsScale: measurements before it decides that two threads are no faster, and the pause between them. */
constexpr int SCALE_ATTEMPTS = 4;
constexpr int SCALE_RETRY_MS = 30;

/** Products with fewer rows than this use cached packed weights while they are held. */
constexpr int CACHE_MAX_M = 256;
constexpr size_t CACHE_ENTRIES = 16;

/** A packed copy of a product's B (a weight), valid while the weights are held. */
struct Packed {
  const float* b = nullptr;
  int kind = 0, K = 0, N = 0;
  float* data = nullptr;
  long cap = 0;
  bool valid = false;
};

struct Ctx {
  /** Whether work is split between the threads at all (see productsScale). */
  bool split = true;
  uint8_t* base = nullptr;
  const IsaTable* isa = nullptr;
  int threads = 1;
  Napi::Reference<Napi::ArrayBuffer> buffer;  // keeps the memory alive as long as the kernels
  std::vector<double> rowLoss;                // softmax row losses (grows, never per call)
  bool hold = false;                          // weights constant: see Hold
  std::vector<Packed> cache;                  // packed weights, buffers kept across passes
  ~Ctx() {
    for (auto& e : cache) std::free(e.data);
  }
};

enum CellKind { LSTM_F, LSTM_B, GRU_F, GRU_B, SOFTMAX, TANH, TANH_B, MUL, SUM_ROWS, FILL_ROWS, GATHER, GATHER_ACC, SCATTER };
struct RowJob {
  const IsaTable* isa;
  int kind;
  float* f[7];
  const int32_t* ids;
  double* loss;
  long n;  // rows (cells: B; softmax: M), or elements (elementwise), or columns (sumRows)
  int H;   // row width (cells: H; softmax: V; sumRows: N with rows in `rows`)
  int rows;
  int unit;
};

/** Whether the CPU runs instruction set `isa` ('avx512', 'avx2', 'base'). */
bool cpuHas(const char* isa);
/** The kernels built for `name`, or null. */
const IsaTable* tableFor(const std::string& name);
/** The best kernels this CPU runs. */
const IsaTable* bestTable();
/** Whether a product split between two threads runs faster than on one (measured once): if not, nothing is split. */
bool productsScale(const IsaTable* isa);
/** A product on c's threads (packed weights from the cache while held). */
void runProduct(Ctx* c, Product p);
/** A row job split by rows (unit 1) or ranges (unit), when `work` is big enough. */
void runRows(Ctx* c, RowJob& job, long work);

/**
 * An LSTM layer's time loop (kernels/types.ts lstmLayerForward, lstmLayerBackward): per step
 * the recurrent product and the cell, as cells/lstm.ts calls them, the same bits. Small steps
 * are split between the threads by batch rows (ROW_SPLIT_MAX_WH: each thread runs its streams
 * through every step on its own) or by hidden units (multiples of UNIT_SPLIT: each thread
 * computes its units' gate columns and cell, and the threads meet once a step, since the next
 * product reads all of h), instead of two calls and two hand-overs a step from JavaScript.
 */
struct LstmLayer {
  float* hs;        // (steps+1, B, H) slot 0 the carried state
  float* cs;        // (steps+1, B, H)
  float* gates;     // (steps, B, 4H) x Wx + b on entry to forward, then the activations
  float* dgates;    // (steps, B, 4H) backward: written
  float* dc;        // (B, H) backward: in, the gradient of c; out, of c_0
  float* dhs;       // (steps+1, B, H) backward: 1..steps from above; dhs[t] += dgates_t Wh^T
  const float* Wh;  // (H, 4H)
  int B, H, steps;
};
void runLstmLayer(Ctx* c, const LstmLayer& L, bool backward);

}  // namespace charrnn
