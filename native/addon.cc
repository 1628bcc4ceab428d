// charrnn's native kernels as a Node-API addon (node-addon-api). create(buffer, threads, isa)
// takes the address of the arena's ArrayBuffer once and returns an object of kernel functions
// whose arguments are byte offsets into that buffer and sizes: the same signatures as the wasm
// module's exports (src/engine/kernels/wasm.ts), so the same checked wrapper serves both
// (src/engine/kernels/views.ts). Nothing is copied or allocated per call.
//
// Instruction set: chosen once per backend from the CPU's features (AVX-512F, else AVX2+FMA,
// else the baseline), or as asked. Threads: big products are split by rows or columns, the
// recurrent cells and softmax by rows, between the persistent pool's workers and the caller;
// results never depend on the split (see isa.inc).
//
// Shape legend: B batch, H hidden, V vocab; M, K, N generic matrix sizes.

#include <napi.h>

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels.h"
#include "pool.h"

namespace charrnn {
namespace {

/**
 * Products below this many multiply-adds, and cell steps / elementwise work below this many
 * elements, run on the calling thread only (waking a worker costs more). Process-wide; tests
 * set them to 0 (tune) to split everything. Results never depend on them.
 */
std::atomic<double> splitMinMacs{1 << 18};
std::atomic<long> splitMinElems{4096};
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
  /** Whether products are split between the threads (see productsScale). */
  bool splitProducts = true;
  uint8_t* base = nullptr;
  size_t bytes = 0;
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

/** The packed B of p from the cache (packing it on first use while held), or null. */
const float* cachedB(Ctx* c, const Product& p) {
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
  c->isa->packWhole(p, free->data);
  free->b = p.b;
  free->kind = p.kind;
  free->K = p.K;
  free->N = p.N;
  free->valid = true;
  return free->data;
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

void runProduct(Ctx* c, Product p) {
  if (p.M <= 0 || p.N <= 0) return;
  p.packedB = cachedB(c, p);
  const double macs = (double)p.M * p.K * p.N;
  // few rows (the no-packing path): split the columns, whatever their number
  const bool splitRows = p.M >= p.N && p.M >= c->isa->smallM && !p.packedB;
  const int unit = splitRows ? c->isa->MR : COL_UNIT;
  const int size = splitRows ? p.M : p.N;
  if (!c->splitProducts && splitMinMacs.load(std::memory_order_relaxed) > 0) {
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
void rowPart(const void* c, int part, int parts, float* scratch) {
  (void)scratch;
  const auto& j = *static_cast<const RowJob*>(c);
  const int r0 = partStart(part, parts, (int)j.n, j.unit), r1 = partStart(part + 1, parts, (int)j.n, j.unit);
  if (r0 >= r1) return;
  auto* f = j.f;
  switch (j.kind) {
    case LSTM_F: j.isa->lstmForward(f[0], f[1], f[2], f[3], r0, r1, j.H); break;
    case LSTM_B: j.isa->lstmBackward(f[0], f[1], f[2], f[3], f[4], f[5], r0, r1, j.H); break;
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

/** Runs a row job split by rows (unit 1) or ranges (unit), when `work` is big enough. */
void runRows(Ctx* c, RowJob& job, long work) {
  const int parts = splitParts(c->threads, work, splitMinElems.load(std::memory_order_relaxed), (int)job.n, job.unit);
  if (parts <= 1) rowPart(&job, 0, 1, nullptr);
  else pool().run(rowPart, &job, parts, c->threads);
}

/**
 * Whether a product split between two threads runs faster than on one: measured once per
 * process and instruction set (a few milliseconds). Two "cores" of a virtual machine are often
 * the two hyperthreads of one physical core, which share its multiply-add units: there a
 * product that keeps them busy from one thread gains nothing from a second, and only pays for
 * the synchronisation and the duplicated packing. CHARRNN_SPLIT_PRODUCTS=0 or 1 decides instead.
 * The results are the same bits either way.
 */
bool productsScale(const IsaTable* isa) {
  if (const char* env = std::getenv("CHARRNN_SPLIT_PRODUCTS")) return std::strcmp(env, "0") != 0;
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
  const double t2 = std::min(best(true), best(true)), t1 = std::min(best(false), best(false));
  const bool scales = t2 < 0.75 * t1;
  if (std::getenv("CHARRNN_DEBUG_SPLIT")) fprintf(stderr, "products: 1 thread %.1f us, 2 threads %.1f us\n", t1 * 1e6, t2 * 1e6);
  std::free(mem);
  known.emplace_back(isa, scales);
  return scales;
}

// ---- argument access ----

inline double num(const Napi::CallbackInfo& info, size_t i) {
  double v = 0;
  napi_get_value_double(info.Env(), info[i], &v);
  return v;
}
inline int sz(const Napi::CallbackInfo& info, size_t i) { return (int)num(info, i); }
inline Ctx* ctxOf(const Napi::CallbackInfo& info) { return static_cast<Ctx*>(info.Data()); }
inline float* F(Ctx* c, const Napi::CallbackInfo& info, size_t i) {
  return reinterpret_cast<float*>(c->base + (size_t)num(info, i));
}
inline int32_t* I(Ctx* c, const Napi::CallbackInfo& info, size_t i) {
  return reinterpret_cast<int32_t*>(c->base + (size_t)num(info, i));
}

/** 1 + the index of the first of ids(M) outside [0, rows), or 0. */
int badId(const int32_t* ids, int M, int rows) {
  for (int i = 0; i < M; i++)
    if ((uint32_t)ids[i] >= (uint32_t)rows) return i + 1;
  return 0;
}

// ---- the kernels (argument order as the wasm exports) ----

Napi::Value Product3(const Napi::CallbackInfo& info, int kind) {
  Ctx* c = ctxOf(info);
  Product p{kind, F(c, info, 0), F(c, info, 1), F(c, info, 2), sz(info, 3), sz(info, 4), sz(info, 5),
            kind == TN ? true : num(info, 6) != 0};
  runProduct(c, p);
  return info.Env().Undefined();
}
Napi::Value Matmul(const Napi::CallbackInfo& info) { return Product3(info, NN); }
Napi::Value MatmulTN(const Napi::CallbackInfo& info) { return Product3(info, TN); }
Napi::Value MatmulNT(const Napi::CallbackInfo& info) { return Product3(info, NT); }

Napi::Value Elementwise(const Napi::CallbackInfo& info, int kind, int nptr) {
  Ctx* c = ctxOf(info);
  RowJob job{c->isa, kind, {}, nullptr, nullptr, (long)num(info, nptr), 0, 0, 1024};
  for (int i = 0; i < nptr; i++) job.f[i] = F(c, info, i);
  runRows(c, job, job.n * 8);
  return info.Env().Undefined();
}
Napi::Value Tanh(const Napi::CallbackInfo& info) { return Elementwise(info, TANH, 1); }
Napi::Value TanhBackward(const Napi::CallbackInfo& info) { return Elementwise(info, TANH_B, 3); }
Napi::Value Mul(const Napi::CallbackInfo& info) { return Elementwise(info, MUL, 3); }

Napi::Value Vexp(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  c->isa->vexp(F(c, info, 0), F(c, info, 1), sz(info, 2));
  return info.Env().Undefined();
}
Napi::Value Vsigmoid(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  c->isa->vsigmoid(F(c, info, 0), F(c, info, 1), sz(info, 2));
  return info.Env().Undefined();
}

Napi::Value FillRows(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  const int M = sz(info, 2), N = sz(info, 3);
  RowJob job{c->isa, FILL_ROWS, {F(c, info, 0), F(c, info, 1)}, nullptr, nullptr, M, N, 0, 1};
  runRows(c, job, (long)M * N / 8);
  return info.Env().Undefined();
}

Napi::Value SumRows(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  const int M = sz(info, 2), N = sz(info, 3);
  RowJob job{c->isa, SUM_ROWS, {F(c, info, 0), F(c, info, 1)}, nullptr, nullptr, N, N, M, COL_UNIT};
  runRows(c, job, (long)M * N / 4);
  return info.Env().Undefined();
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  float* out = F(c, info, 0);
  const int32_t* ids = I(c, info, 1);
  const float* table = F(c, info, 2);
  const int M = sz(info, 3), N = sz(info, 4), rows = sz(info, 6);
  const bool acc = num(info, 5) != 0;
  if (int bad = badId(ids, M, rows)) return Napi::Number::New(info.Env(), bad);
  RowJob job{c->isa, acc ? GATHER_ACC : GATHER, {out, const_cast<float*>(table)}, ids, nullptr, M, N, 0, 1};
  runRows(c, job, (long)M * N / 8);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value ScatterRows(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  float* dtable = F(c, info, 0);
  const float* d = F(c, info, 1);
  const int32_t* ids = I(c, info, 2);
  const int M = sz(info, 3), N = sz(info, 4), rows = sz(info, 5);
  if (int bad = badId(ids, M, rows)) return Napi::Number::New(info.Env(), bad);
  RowJob job{c->isa, SCATTER, {dtable, const_cast<float*>(d)}, ids, nullptr, N, N, M, COL_UNIT};
  runRows(c, job, (long)M * N / 8);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value Cell(const Napi::CallbackInfo& info, int kind, int nptr) {
  Ctx* c = ctxOf(info);
  const int B = sz(info, nptr), H = sz(info, nptr + 1);
  RowJob job{c->isa, kind, {}, nullptr, nullptr, B, H, 0, 1};
  for (int i = 0; i < nptr; i++) job.f[i] = F(c, info, i);
  runRows(c, job, (long)B * H);
  return info.Env().Undefined();
}
Napi::Value LstmForward(const Napi::CallbackInfo& info) { return Cell(info, LSTM_F, 4); }
Napi::Value LstmBackward(const Napi::CallbackInfo& info) { return Cell(info, LSTM_B, 6); }
Napi::Value GruForward(const Napi::CallbackInfo& info) { return Cell(info, GRU_F, 4); }
Napi::Value GruBackward(const Napi::CallbackInfo& info) { return Cell(info, GRU_B, 7); }

/**
 * hold(1): the b operands of matmul and matmulNT stay as they are until hold(0), so the packed
 * copies of small-M products' b (the recurrent weights, used at every step) are kept and reused.
 * Both calls drop the copies (buffers are kept for the next pass).
 */
Napi::Value Hold(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  c->hold = num(info, 0) != 0;
  for (auto& e : c->cache) e.valid = false;
  return info.Env().Undefined();
}

/** The loss (float64), or -(1 + row) of the first target out of range; targets 0 = none. */
Napi::Value SoftmaxXent(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  const size_t toff = (size_t)num(info, 1);
  const int32_t* targets = toff ? I(c, info, 1) : nullptr;
  const int M = sz(info, 2), V = sz(info, 3);
  if (targets)
    if (int bad = badId(targets, M, V)) return Napi::Number::New(info.Env(), -bad);
  if ((int)c->rowLoss.size() < M) c->rowLoss.resize(M);
  RowJob job{c->isa, SOFTMAX, {F(c, info, 0)}, targets, c->rowLoss.data(), M, V, 0, 1};
  runRows(c, job, (long)M * V);
  double loss = 0;
  for (int i = 0; i < M; i++) loss += c->rowLoss[i];  // in row order: the same for any split
  return Napi::Number::New(info.Env(), loss);
}

/** dlogits = (probs - onehot(target)) * scale, products in float64 rounded once (as js.ts). */
Napi::Value SoftmaxXentBackward(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  float* dl = F(c, info, 0);
  const float* p = F(c, info, 1);
  const int32_t* targets = I(c, info, 2);
  const double scale = num(info, 3);
  const int M = sz(info, 4), V = sz(info, 5);
  if (int bad = badId(targets, M, V)) return Napi::Number::New(info.Env(), bad);
  for (int i = 0; i < M; i++) {
    const long row = (long)i * V;
    for (int j = 0; j < V; j++) dl[row + j] = (float)((double)p[row + j] * scale);
    float* t = dl + row + targets[i];
    *t = (float)((double)*t - scale);
  }
  return Napi::Number::New(info.Env(), 0);
}

// ---- module ----

/** create(buffer: ArrayBuffer, threads: number, isa: 'auto' | 'avx512' | 'avx2' | 'base') */
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArrayBuffer() || !info[1].IsNumber() || !info[2].IsString()) {
    Napi::TypeError::New(env, "create(buffer: ArrayBuffer, threads: number, isa: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const std::string want = info[2].As<Napi::String>().Utf8Value();
  const IsaTable* isa = want == "auto" ? bestTable() : tableFor(want);
  if (!isa || !cpuHas(want == "auto" ? isa->name : want.c_str())) {
    Napi::Error::New(env, "native kernels: instruction set '" + want + "' is not available on this CPU").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto buf = info[0].As<Napi::ArrayBuffer>();
  Ctx* c = new Ctx();
  c->base = static_cast<uint8_t*>(buf.Data());
  c->bytes = buf.ByteLength();
  c->isa = isa;
  c->threads = std::max(1, std::min(64, (int)info[1].As<Napi::Number>().Int32Value()));
  c->buffer = Napi::Persistent(buf);
  pool().grow(c->threads);
  c->splitProducts = c->threads > 1 && productsScale(isa);

  Napi::Object o = Napi::Object::New(env);
  struct Entry { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); };
  const Entry entries[] = {
      {"matmul", Matmul}, {"matmulTN", MatmulTN}, {"matmulNT", MatmulNT}, {"tanh", Tanh},
      {"tanhBackward", TanhBackward}, {"mul", Mul}, {"vexp", Vexp}, {"vsigmoid", Vsigmoid},
      {"fillRows", FillRows}, {"sumRows", SumRows}, {"gatherRows", GatherRows}, {"scatterRows", ScatterRows},
      {"lstmForward", LstmForward}, {"lstmBackward", LstmBackward}, {"gruForward", GruForward},
      {"gruBackward", GruBackward}, {"softmaxXent", SoftmaxXent}, {"softmaxXentBackward", SoftmaxXentBackward}, {"hold", Hold},
  };
  for (const auto& e : entries) o.Set(e.name, Napi::Function::New(env, e.fn, e.name, c));
  o.Set("isa", Napi::String::New(env, isa->name));
  o.Set("threads", Napi::Number::New(env, c->threads));
  o.Set("productThreads", Napi::Number::New(env, c->splitProducts ? c->threads : 1));
  o.AddFinalizer([](Napi::Env, Ctx* ctx) { delete ctx; }, c);
  return o;
}

/**
 * alloc(bytes): a zeroed ArrayBuffer on fresh pages (so 64-byte aligned, which a plain
 * ArrayBuffer is not), unmapped when collected. Throws where external buffers are not allowed.
 */
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double want = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(want >= 1 && want < 1e15)) {
    Napi::RangeError::New(env, "alloc(bytes): bytes must be a positive number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t bytes = (size_t)want;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    Napi::Error::New(env, "native kernels: cannot map " + std::to_string(bytes) + " bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(
      env, p, bytes, [](napi_env, void* data, void* hint) { munmap(data, (size_t)(uintptr_t)hint); },
      (void*)(uintptr_t)bytes, &ab);
  if (st != napi_ok) {
    munmap(p, bytes);
    Napi::Error::New(env, "native kernels: external ArrayBuffers are not allowed here").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Value(env, ab);
}

/** tune(minMacs, minElems): sets the split thresholds (a negative value keeps one); returns the old [minMacs, minElems]. */
Napi::Value Tune(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array old = Napi::Array::New(env, 2);
  old.Set(0u, Napi::Number::New(env, splitMinMacs.load()));
  old.Set(1u, Napi::Number::New(env, (double)splitMinElems.load()));
  if (info.Length() > 0 && info[0].IsNumber() && info[0].As<Napi::Number>().DoubleValue() >= 0)
    splitMinMacs.store(info[0].As<Napi::Number>().DoubleValue());
  if (info.Length() > 1 && info[1].IsNumber() && info[1].As<Napi::Number>().DoubleValue() >= 0)
    splitMinElems.store((long)info[1].As<Napi::Number>().DoubleValue());
  return old;
}

/** The instruction sets this CPU runs, best first. */
Napi::Value Isas(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const char* name : {"avx512", "avx2", "base"})
    if (tableFor(name) && cpuHas(name)) a.Set(n++, Napi::String::New(info.Env(), name));
  return a;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create, "create"));
  exports.Set("isas", Napi::Function::New(env, Isas, "isas"));
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("tune", Napi::Function::New(env, Tune, "tune"));
  return exports;
}

}  // namespace charrnn

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return charrnn::Init(env, exports); }
NODE_API_MODULE(charrnn_native, InitModule)
