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

#include "dispatch.h"
#include "kernels.h"
#include "optim.h"
#include "pool.h"

namespace charrnn {
namespace {

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
/**
 * The products with a fourth vector (out, a, b, v, M, K, N): matmulBias (NN, out = v in each
 * row + a b, as fillRows then matmul with acc) and matmulTNSum (TN, out += a^T b, v += column
 * sums of b, summed as b is packed).
 */
Napi::Value ProductWith(const Napi::CallbackInfo& info, int kind) {
  Ctx* c = ctxOf(info);
  Product p{kind, F(c, info, 0), F(c, info, 1), F(c, info, 2), sz(info, 4), sz(info, 5), sz(info, 6), kind == TN};
  if (kind == TN) p.colSums = F(c, info, 3);
  else p.bias = F(c, info, 3);
  runProduct(c, p);
  return info.Env().Undefined();
}
Napi::Value MatmulBias(const Napi::CallbackInfo& info) { return ProductWith(info, NN); }
Napi::Value MatmulTN(const Napi::CallbackInfo& info) { return Product3(info, TN); }
Napi::Value MatmulTNSum(const Napi::CallbackInfo& info) { return ProductWith(info, TN); }
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

/** lstmLayerForward(hs, cs, gates, Wh, B, H, steps): an LSTM layer's forward time loop (dispatch.h LstmLayer). */
Napi::Value LstmLayerForward(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  LstmLayer L{F(c, info, 0), F(c, info, 1), F(c, info, 2), nullptr, nullptr, nullptr, F(c, info, 3), sz(info, 4), sz(info, 5), sz(info, 6)};
  runLstmLayer(c, L, false);
  return info.Env().Undefined();
}
/** lstmLayerBackward(dgates, dc, dhs, gates, cs, Wh, B, H, steps): its backward time loop. */
Napi::Value LstmLayerBackward(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  LstmLayer L{nullptr, F(c, info, 4), F(c, info, 3), F(c, info, 0), F(c, info, 1), F(c, info, 2), F(c, info, 5), sz(info, 6), sz(info, 7), sz(info, 8)};
  runLstmLayer(c, L, true);
  return info.Env().Undefined();
}

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

/** Threads for elementwise work, as runRows decides (tune(-1, 0) forces the split, as in the tests). */
int elementThreads(Ctx* c) { return !c->split && splitMinElems.load(std::memory_order_relaxed) > 0 ? 1 : c->threads; }

/** clip(g, c, n): every value of g(n) clipped to [-c, c]. */
Napi::Value Clip(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  clipValues(F(c, info, 0), num(info, 1), (long)num(info, 2), elementThreads(c));
  return info.Env().Undefined();
}

/**
 * update(p, g, s0, s1, kind, lr, eps, decay, b1, b2, c1, c2, n, clip, zero): one optimizer step
 * (optim.h); slot offset 0 = none; clip > 0 clips g first, zero != 0 zeroes it after.
 */
Napi::Value Update(const Napi::CallbackInfo& info) {
  Ctx* c = ctxOf(info);
  const size_t o0 = (size_t)num(info, 2), o1 = (size_t)num(info, 3);
  UpdateJob job{sz(info, 4), F(c, info, 0), F(c, info, 1), o0 ? F(c, info, 2) : nullptr, o1 ? F(c, info, 3) : nullptr,
                num(info, 5), num(info, 6), num(info, 7), num(info, 8), num(info, 9), num(info, 10), num(info, 11), (long)num(info, 12),
                num(info, 13), num(info, 14) != 0};
  optimizerUpdate(job, elementThreads(c));
  return info.Env().Undefined();
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
  c->isa = isa;
  c->threads = std::max(1, std::min(64, (int)info[1].As<Napi::Number>().Int32Value()));
  c->buffer = Napi::Persistent(buf);
  pool().grow(c->threads);
  c->split = c->threads > 1 && productsScale(isa);

  Napi::Object o = Napi::Object::New(env);
  struct Entry { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); };
  const Entry entries[] = {
      {"matmul", Matmul}, {"matmulBias", MatmulBias}, {"matmulTN", MatmulTN}, {"matmulTNSum", MatmulTNSum}, {"matmulNT", MatmulNT}, {"tanh", Tanh},
      {"tanhBackward", TanhBackward}, {"mul", Mul}, {"vexp", Vexp}, {"vsigmoid", Vsigmoid},
      {"fillRows", FillRows}, {"sumRows", SumRows}, {"gatherRows", GatherRows}, {"scatterRows", ScatterRows},
      {"lstmForward", LstmForward}, {"lstmBackward", LstmBackward}, {"gruForward", GruForward},
      {"gruBackward", GruBackward}, {"lstmLayerForward", LstmLayerForward}, {"lstmLayerBackward", LstmLayerBackward},
      {"softmaxXent", SoftmaxXent}, {"softmaxXentBackward", SoftmaxXentBackward}, {"hold", Hold},
      {"clip", Clip}, {"update", Update},
  };
  for (const auto& e : entries) o.Set(e.name, Napi::Function::New(env, e.fn, e.name, c));
  o.Set("isa", Napi::String::New(env, isa->name));
  o.Set("threads", Napi::Number::New(env, c->threads));
  o.Set("workThreads", Napi::Number::New(env, c->split ? c->threads : 1));
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
