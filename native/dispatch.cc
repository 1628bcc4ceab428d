// The native kernels' dispatch (dispatch.h): the packed-weight cache, the split of products
// and row jobs between the threads, and the measurement that decides whether products split.
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes.

#include "dispatch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "pool.h"

namespace charrnn {

std::atomic<double> splitMinMacs{1 << 18};
std::atomic<long> splitMinElems{4096};

namespace {
/**
 * The cache's buffer for the packed B of p while held, or null (not cached); *fresh when it
 * is new and its caller must pack it (packWhole, or packCols part by part) before it is read.
 */
float* cacheSlot(Ctx* c, const Product& p, bool* fresh) {
  *fresh = false;
  if (!c->hold || p.kind == TN || p.M >= CACHE_MAX_M || p.M < c->isa->smallM || p.K <= 0) return nullptr;
  Packed* free = nullptr;
  for (auto& e : c->cache) {
    if (e.valid && e.b == p.b && e.kind == p.kind && e.K == p.K && e.N == p.N) return e.data;
    if (!e.valid && (!free || e.cap > free->cap)) free = &e;
  }
  const long need = c->isa->packedFloats(p);
  if (!free) {
    if (c->cache.size() >= CACHE_ENTRIES) return nullptr;
    c->cache.emplace_back();
    free = &c->cache.back();
  }
  if (free->cap < need) {
    std::free(free->data);
    const size_t bytes = ((size_t)need * 4 + 63) / 64 * 64;
    free->data = static_cast<float*>(std::aligned_alloc(64, bytes));
    free->cap = free->data ? need : 0;
    if (!free->data) return nullptr;
  }
  free->b = p.b;
  free->kind = p.kind;
  free->K = p.K;
  free->N = p.N;
  free->valid = true;
  *fresh = true;
  return free->data;
}

/** The packed B of p from the cache (packing it on first use while held), or null. */
const float* cachedB(Ctx* c, const Product& p) {
  bool fresh;
  float* d = cacheSlot(c, p, &fresh);
  if (fresh) c->isa->packWhole(p, d);
  return d;
}

/** First index of part `part` of `parts`: size cut in units of `unit`, as evenly as possible. */
inline int partStart(int part, int parts, int size, int unit) {
  const long units = (size + unit - 1) / unit;
  const long s = (long)part * units / parts * unit;
  return (int)(s < size ? s : size);
}

inline int splitParts(int threads, long work, long minWork, int size, int unit) {
  if (threads <= 1 || work < minWork) return 1;
  const int units = (size + unit - 1) / unit;
  return threads < units ? threads : units;
}

// ---- jobs ----

struct ProductJob {
  const IsaTable* isa;
  Product p;
  bool splitRows;
  int unit;
};
void productPart(const void* c, int part, int parts, float* scratch) {
  const auto& j = *static_cast<const ProductJob*>(c);
  const int size = j.splitRows ? j.p.M : j.p.N;
  const int s0 = partStart(part, parts, size, j.unit), s1 = partStart(part + 1, parts, size, j.unit);
  if (j.splitRows) j.isa->product(j.p, s0, s1, 0, j.p.N, scratch);
  else j.isa->product(j.p, 0, j.p.M, s0, s1, scratch);
}

void rowPart(const void* c, int part, int parts, float* scratch) {
  (void)scratch;
  const auto& j = *static_cast<const RowJob*>(c);
  const int r0 = partStart(part, parts, (int)j.n, j.unit), r1 = partStart(part + 1, parts, (int)j.n, j.unit);
  if (r0 >= r1) return;
  auto* f = j.f;
  switch (j.kind) {
    case LSTM_F: j.isa->lstmForward(f[0], f[1], f[2], f[3], r0, r1, j.H, 0, j.H); break;
    case LSTM_B: j.isa->lstmBackward(f[0], f[1], f[2], f[3], f[4], f[5], r0, r1, j.H, 0, j.H); break;
    case GRU_F: j.isa->gruForward(f[0], f[1], f[2], f[3], r0, r1, j.H); break;
    case GRU_B: j.isa->gruBackward(f[0], f[1], f[2], f[3], f[4], f[5], f[6], r0, r1, j.H); break;
    case SOFTMAX: j.isa->softmaxRows(f[0], j.ids, j.loss, r0, r1, j.H); break;
    case TANH: j.isa->tanh(f[0], r0, r1); break;
    case TANH_B: j.isa->tanhBackward(f[0], f[1], f[2], r0, r1); break;
    case MUL: j.isa->mul(f[0], f[1], f[2], r0, r1); break;
    case SUM_ROWS: j.isa->sumRows(f[0], f[1], j.rows, j.H, r0, r1); break;
    case FILL_ROWS:  // rows [r0, r1) of out(M, N) = bias
      for (int i = r0; i < r1; i++) std::memcpy(f[0] + (long)i * j.H, f[1], (size_t)j.H * 4);
      break;
    case GATHER:  // rows [r0, r1) of out(M, N) = table[ids[i], :]
      for (int i = r0; i < r1; i++) std::memcpy(f[0] + (long)i * j.H, f[1] + (long)j.ids[i] * j.H, (size_t)j.H * 4);
      break;
    case GATHER_ACC:
      for (int i = r0; i < r1; i++) {
        float* dst = f[0] + (long)i * j.H;
        const float* src = f[1] + (long)j.ids[i] * j.H;
        for (int c = 0; c < j.H; c++) dst[c] += src[c];
      }
      break;
    case SCATTER:  // columns [r0, r1) of dtable[ids[i], :] += d(i, :), rows in order (repeated ids add up)
      for (int i = 0; i < j.rows; i++) {
        float* dst = f[0] + (long)j.ids[i] * j.H;
        const float* src = f[1] + (long)i * j.H;
        for (int c = r0; c < r1; c++) dst[c] += src[c];
      }
      break;
  }
}

/** Prefetches columns [c0, c1) of rows x ld floats from m (the next step's share of a (T x B, ...) array). */
inline void prefetchCols(const float* m, int rows, long ld, int c0, int c1) {
  for (int r = 0; r < rows; r++)
    for (int c = c0; c < c1; c += 16) __builtin_prefetch(m + r * ld + c, 1, 3);
}

struct LayerJob {
  const IsaTable* isa;
  LstmLayer L;
  const float* packed;  // Wh packed for the step's product (forward NN, backward NT), or null
  const Product* pack;  // the step's product when the parts pack `packed` first, or null
  Barrier* barrier;     // the unit split's (every step), the row split's (after packing), or null
  bool byRows;          // parts are batch rows (else hidden units)
};

/** A part's block of the layer: batch rows [b0, b1) x hidden units [u0, u1). */
struct Block {
  int b0, b1, u0, u1;
};
inline Block blockOf(const LayerJob& j, int part, int parts) {
  const int B = j.L.B, H = j.L.H;
  if (j.byRows) return {partStart(part, parts, B, 1), partStart(part + 1, parts, B, 1), 0, H};
  return {0, B, partStart(part, parts, H, UNIT_SPLIT), partStart(part + 1, parts, H, UNIT_SPLIT)};
}

/**
 * A part's share of packing Wh (the weights changed since the last pass: ~4 x 45 us a step at
 * H128 on one thread, 4 x 250 us at H256, while the other thread waited). Hidden units: the
 * part's own columns, all it reads; batch rows: a share of the panels, then the parts meet,
 * since each reads all of them.
 */
void packShare(const LayerJob& j, const Block& k, int part, int parts) {
  const Product& p = *j.pack;
  float* dst = const_cast<float*>(j.packed);
  if (parts == 1) {
    j.isa->packCols(p, dst, 0, p.N);
  } else if (j.byRows) {
    j.isa->packCols(p, dst, partStart(part, parts, p.N, j.isa->NR), partStart(part + 1, parts, p.N, j.isa->NR));
    j.barrier->wait();
  } else if (p.kind == NT) {
    j.isa->packCols(p, dst, k.u0, k.u1);  // backward: dh's columns are the units
  } else {
    for (int g = 0; g < 4; g++) j.isa->packCols(p, dst, g * j.L.H + k.u0, g * j.L.H + k.u1);
  }
}

/**
 * Part `part` of a layer's forward loop, step after step: its block's gate columns and cells.
 * Batch rows: a stream's recurrence reads only its own row of h and c, so the parts never wait
 * for each other and never read what another core wrote (each streams all of Wh a step, which
 * suits a Wh that stays in every core's L2). Hidden units: the parts meet once a step.
 */
void lstmForwardPart(const void* ctx, int part, int parts, float* scratch) {
  const auto& j = *static_cast<const LayerJob*>(ctx);
  const LstmLayer& L = j.L;
  const int B = L.B, H = L.H, G = 4 * H;
  const Block k = blockOf(j, part, parts);
  const long bh = (long)B * H, bg = (long)B * G;
  if (j.pack) packShare(j, k, part, parts);
  for (int t = 0; t < L.steps; t++) {
    float* gates = L.gates + t * bg;
    // units: the next step's gates (x Wx + b, written long ago, out of the caches) while this one
    // computes (a row block is contiguous: the hardware prefetchers find it, and asking was slower)
    if (!j.byRows && t + 1 < L.steps)
      for (int g = 0; g < 4; g++) prefetchCols(gates + bg, B, G, g * H + k.u0, g * H + k.u1);
    // forward: gates = x_t Wx + b (on entry) + h_{t-1} Wh
    const Product p{NN, gates, L.hs + t * bh, L.Wh, B, H, G, true, j.packed};
    if (k.u0 == 0 && k.u1 == H) j.isa->product(p, k.b0, k.b1, 0, G, scratch);
    else
      for (int g = 0; g < 4; g++) j.isa->product(p, k.b0, k.b1, g * H + k.u0, g * H + k.u1, scratch);
    j.isa->lstmForward(L.hs + (t + 1) * bh, L.cs + (t + 1) * bh, gates, L.cs + t * bh, k.b0, k.b1, H, k.u0, k.u1);
    if (!j.byRows && j.barrier && parts > 1) j.barrier->wait();  // h_t whole before the next product reads it
  }
}

void lstmBackwardPart(const void* ctx, int part, int parts, float* scratch) {
  const auto& j = *static_cast<const LayerJob*>(ctx);
  const LstmLayer& L = j.L;
  const int B = L.B, H = L.H, G = 4 * H;
  const Block k = blockOf(j, part, parts);
  const long bh = (long)B * H, bg = (long)B * G;
  if (j.pack) packShare(j, k, part, parts);
  for (int t = L.steps - 1; t >= 0; t--) {
    float* dg = L.dgates + t * bg;
    // forward: c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t); dc becomes dc_{t-1} (own block only)
    j.isa->lstmBackward(dg, L.dc, L.dhs + (t + 1) * bh, L.gates + t * bg, L.cs + (t + 1) * bh, L.cs + t * bh, k.b0, k.b1, H, k.u0, k.u1);
    if (!j.byRows && j.barrier && parts > 1) j.barrier->wait();  // dgates_t whole before the product reads it
    // forward: gates = x_t Wx + h_{t-1} Wh + b  =>  dh_{t-1} += dgates Wh^T (own block: what this part reads next)
    const Product p{NT, L.dhs + t * bh, dg, L.Wh, B, G, H, true, j.packed};
    j.isa->product(p, k.b0, k.b1, k.u0, k.u1, scratch);
  }
}

}  // namespace

/** The layer's loop as the kernels called one by one run it: each product and cell split on its own. */
void lstmLayerByCalls(Ctx* c, const LstmLayer& L, bool backward) {
  const int B = L.B, H = L.H, G = 4 * H;
  const long bh = (long)B * H, bg = (long)B * G;
  for (int i = 0; i < L.steps; i++) {
    const int t = backward ? L.steps - 1 - i : i;
    float *h = L.hs + (t + 1) * bh, *cell = L.cs + (t + 1) * bh, *cPrev = L.cs + t * bh, *gates = L.gates + t * bg;
    if (backward) {
      RowJob job{c->isa, LSTM_B, {L.dgates + t * bg, L.dc, L.dhs + (t + 1) * bh, gates, cell, cPrev}, nullptr, nullptr, B, H, 0, 1};
      runRows(c, job, bh);
      runProduct(c, Product{NT, L.dhs + t * bh, L.dgates + t * bg, L.Wh, B, G, H, true});
    } else {
      runProduct(c, Product{NN, gates, L.hs + t * bh, L.Wh, B, H, G, true});
      RowJob job{c->isa, LSTM_F, {h, cell, gates, cPrev}, nullptr, nullptr, B, H, 0, 1};
      runRows(c, job, bh);
    }
  }
}

void runLstmLayer(Ctx* c, const LstmLayer& L, bool backward) {
  if (L.steps <= 0 || L.B <= 0 || L.H <= 0) return;
  const int H = L.H, G = 4 * H;
  // big steps: many parts claimed as threads come free balance a busy core better than the
  // gang's fixed shares; a few rows (sampling): the product streams whole rows of Wh, which
  // unit ranges would cut up
  if ((double)L.B * H * G >= LAYER_MAX_MACS || L.B < c->isa->smallM) return lstmLayerByCalls(c, L, backward);
  const Product step = backward ? Product{NT, L.dhs, L.dgates, L.Wh, L.B, G, H, true} : Product{NN, L.gates, L.hs, L.Wh, L.B, H, G, true};
  bool fresh;
  LayerJob job{c->isa, L, cacheSlot(c, step, &fresh), nullptr, nullptr, false};
  if (fresh) job.pack = &step;  // the parts pack it (a gang: each part on its own thread)
  const PartFn fn = backward ? lstmBackwardPart : lstmForwardPart;
  // split when a step's product would be (runProduct)
  const double minMacs = splitMinMacs.load(std::memory_order_relaxed);
  const bool split = c->threads > 1 && (c->split || minMacs <= 0) && (double)L.B * H * G >= minMacs;
  int parts = 1;
  if (split && (long)H * G <= ROW_SPLIT_MAX_WH && L.B >= 2 * ROW_SPLIT_MIN_ROWS) {
    // a Wh that stays in every core's L2: each thread takes its own batch rows for all the steps
    job.byRows = true;
    parts = std::min(c->threads, L.B / ROW_SPLIT_MIN_ROWS);
    if (!job.pack) {
      pool().run(fn, &job, parts, c->threads);
      return;
    }
  } else if (split && H % UNIT_SPLIT == 0) {
    // else the threads share each step's hidden units, in whole multiples of UNIT_SPLIT
    parts = std::min(c->threads, H / UNIT_SPLIT);
  }
  if (parts > 1) {
    Barrier barrier(parts);
    job.barrier = &barrier;
    if (pool().runGang(fn, &job, parts)) return;
    job.barrier = nullptr;  // (gone with this scope; nothing below meets)
  }
  if (job.byRows) {  // the gang could not start: packed here, then the rows as above
    c->isa->packWhole(step, const_cast<float*>(job.packed));
    job.pack = nullptr;
    pool().run(fn, &job, parts, c->threads);
    return;
  }
  job.byRows = false;
  fn(&job, 0, 1, pool().callerScratch());
}

bool cpuHas(const char* isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!std::strcmp(isa, "avx512")) return __builtin_cpu_supports("avx512f");
  if (!std::strcmp(isa, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return !std::strcmp(isa, "base");
}

const IsaTable* tableFor(const std::string& name) {
#if defined(__x86_64__)
  if (name == "avx512") return &avx512Table;
  if (name == "avx2") return &avx2Table;
#endif
  if (name == "base") return &baseTable;
  return nullptr;
}

const IsaTable* bestTable() {
  for (const char* n : {"avx512", "avx2", "base"})
    if (cpuHas(n)) return tableFor(n);
  return &baseTable;
}

void runProduct(Ctx* c, Product p) {
  if (p.M <= 0 || p.N <= 0) return;
  p.packedB = cachedB(c, p);
  const double macs = (double)p.M * p.K * p.N;
  // few rows (the no-packing path): split the columns, whatever their number
  const bool splitRows = p.M >= p.N && p.M >= c->isa->smallM && !p.packedB;
  const int unit = splitRows ? c->isa->MR : COL_UNIT;
  const int size = splitRows ? p.M : p.N;
  if (!c->split && splitMinMacs.load(std::memory_order_relaxed) > 0) {
    c->isa->product(p, 0, p.M, 0, p.N, pool().callerScratch());
    return;
  }
  const int grain = macs >= GRAIN_MIN_MACS ? std::max(1, std::min(GRAIN, size / (GRAIN_MIN_SIZE * c->threads))) : 1;
  int parts = splitParts(c->threads * grain, macs >= splitMinMacs.load(std::memory_order_relaxed) ? 1 : 0, 1, size, unit);
  if (c->threads <= 1) parts = 1;
  if (parts <= 1) {
    c->isa->product(p, 0, p.M, 0, p.N, pool().callerScratch());
    return;
  }
  const ProductJob job{c->isa, p, splitRows, unit};
  pool().run(productPart, &job, parts, c->threads);
}

/** Runs a row job split by rows (unit 1) or ranges (unit), when `work` is big enough. */
void runRows(Ctx* c, RowJob& job, long work) {
  const long minWork = splitMinElems.load(std::memory_order_relaxed);
  const int parts = !c->split && minWork > 0 ? 1 : splitParts(c->threads, work, minWork, (int)job.n, job.unit);
  if (parts <= 1) rowPart(&job, 0, 1, nullptr);
  else pool().run(rowPart, &job, parts, c->threads);
}

/**
 * Whether a product split between two threads runs faster than on one: measured once per
 * process and instruction set (a few milliseconds). When it does not (the other core is busy
 * with other work, or the two "cores" of a virtual machine are hyperthreads of one physical
 * core sharing its multiply-add units), the backend splits nothing: a second thread would only
 * add synchronisation, duplicated packing and spinning. A "no" is asked again a few times,
 * SCALE_RETRY_MS apart: at start-up V8's own compiler and collector threads can hold the other
 * core for a few milliseconds (seen here: 1 start in 6 measured no gain and trained at half
 * speed). CHARRNN_SPLIT=0 or 1 decides instead. The results are the same bits either way.
 */
bool productsScale(const IsaTable* isa) {
  if (const char* env = std::getenv("CHARRNN_SPLIT")) return std::strcmp(env, "0") != 0;
  static std::vector<std::pair<const IsaTable*, bool>> known;
  for (const auto& k : known)
    if (k.first == isa) return k.second;
  const int M = 192, K = 256, N = 512;
  float* mem = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * (M * K + K * N + M * N)));
  if (!mem) return true;
  for (long i = 0; i < (long)M * K + K * N; i++) mem[i] = (float)(i % 13) * 0.01f;
  Product p{NN, mem + M * K + K * N, mem, mem + M * K, M, K, N, false};
  const ProductJob job{isa, p, false, COL_UNIT};
  auto best = [&](bool split) {
    double t = 1e30;
    for (int rep = 0; rep < 5; rep++) {
      const auto t0 = std::chrono::steady_clock::now();
      if (split) pool().run(productPart, &job, 2, 2);
      else isa->product(p, 0, M, 0, N, pool().callerScratch());
      t = std::min(t, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return t;
  };
  best(false);  // warm-up: caches, the workers' start and wake-up
  best(true);
  best(true);
  bool scales = false;
  for (int attempt = 0; attempt < SCALE_ATTEMPTS && !scales; attempt++) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(SCALE_RETRY_MS));
    const double t2 = std::min(best(true), best(true)), t1 = std::min(best(false), best(false));
    scales = t2 < 0.75 * t1;
    if (std::getenv("CHARRNN_DEBUG_SPLIT")) fprintf(stderr, "products: 1 thread %.1f us, 2 threads %.1f us\n", t1 * 1e6, t2 * 1e6);
  }
  std::free(mem);
  known.emplace_back(isa, scales);
  return scales;
}

}  // namespace charrnn
