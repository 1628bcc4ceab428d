// The kernels' thread pool (see pool.h).
#include "pool.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpuRelax() { asm volatile("yield"); }
#else
static inline void cpuRelax() {}
#endif

namespace charrnn {

/**
 * How long a worker spins for the next job before it sleeps: long enough to bridge the
 * JavaScript between two kernel calls of a training step (zeroing the gradients, batching, a
 * scavenge: 50-400 us seen at batch 16), since a sleeping worker costs the caller a futex wake
 * and starts its part late (~10 us). 50 us let it sleep ~8 times a step.
 */
constexpr auto SPIN_WORKER = std::chrono::microseconds(1000);

float* newScratch() {
  void* p = std::aligned_alloc(64, SCRATCH_FLOATS * sizeof(float));
  if (!p) std::abort();
  std::memset(p, 0, SCRATCH_FLOATS * sizeof(float));
  return static_cast<float*>(p);
}

Pool& pool() {
  static Pool* p = new Pool();  // leaked on purpose: no destructor joins threads at exit
  return *p;
}

float* Pool::callerScratch() {
  if (scratch_.empty()) scratch_.push_back(newScratch());
  return scratch_[0];
}

void Pool::grow(int threads) {
  std::lock_guard<std::mutex> lk(busy_);
  if (scratch_.empty()) scratch_.push_back(newScratch());
  while ((int)threads_.size() < threads - 1) {
    const int slot = (int)threads_.size() + 1;
    scratch_.push_back(newScratch());
    threads_.emplace_back([this, slot] { workerLoop(slot); });
    threads_.back().detach();
  }
}

/** Claims part p of job `job` and runs it; false when it was taken or the job is over. */
bool Pool::tryClaim(int p, uint32_t job, float* scratch) {
  uint64_t v = claimed_.load(std::memory_order_acquire);
  for (;;) {
    if ((uint32_t)(v >> 32) != job || (v >> p & 1)) return false;
    if (claimed_.compare_exchange_weak(v, v | (1ull << p), std::memory_order_acq_rel)) break;
  }
  fn_(ctx_, p, parts_, scratch);
  done_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

/** Runs parts of job `job`: this slot's own parts first, then any part left. */
void Pool::claim(int slot, uint32_t job, float* scratch) {
  uint64_t v = claimed_.load(std::memory_order_acquire);
  if ((uint32_t)(v >> 32) != job) return;  // that job is over, another may have begun
  const int parts = parts_, owners = owners_;
  if (slot < owners)
    for (int p = slot; p < parts; p += owners) tryClaim(p, job, scratch);
  for (int p = 0; p < parts; p++) {
    v = claimed_.load(std::memory_order_acquire);
    if ((uint32_t)(v >> 32) != job) return;
    if (!(v >> p & 1)) tryClaim(p, job, scratch);
  }
}

void Pool::workerLoop(int slot) {
  float* scratch = scratch_[slot];
  uint32_t seen = seq_.load(std::memory_order_acquire);
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    int spins = 0;
    uint32_t s;
    while ((s = seq_.load(std::memory_order_acquire)) == seen) {
      cpuRelax();
      if ((++spins & 255) == 0 && std::chrono::steady_clock::now() - start > SPIN_WORKER) {
        std::unique_lock<std::mutex> lk(m_);
        sleepers_.fetch_add(1);
        cv_.wait(lk, [&] { return seq_.load() != seen; });
        sleepers_.fetch_sub(1);
        start = std::chrono::steady_clock::now();
      }
    }
    seen = s;
    claim(slot, s, scratch);
  }
}

void Pool::run(PartFn fn, const void* ctx, int parts, int owners) {
  std::unique_lock<std::mutex> lk(busy_, std::try_to_lock);
  if (!lk.owns_lock() || threads_.empty() || parts <= 1) {
    // another thread of the process is using the pool, or nothing to share: all parts here
    thread_local float* own = nullptr;
    float* scratch = lk.owns_lock() ? callerScratch() : (own ? own : (own = newScratch()));
    for (int p = 0; p < parts; p++) fn(ctx, p, parts, scratch);
    return;
  }
  if (parts > MAX_PARTS) parts = MAX_PARTS;  // (the split is part of the job: any count gives the same bits)
  start(fn, ctx, parts, owners);
}

bool Pool::runGang(PartFn fn, const void* ctx, int parts) {
  std::unique_lock<std::mutex> lk(busy_, std::try_to_lock);
  if (!lk.owns_lock() || parts > MAX_PARTS || (int)threads_.size() + 1 < parts) return false;
  // every thread claims its own part first and holds one part at a time, so with as many
  // threads as parts, each part runs on a thread of its own
  start(fn, ctx, parts, parts);
  return true;
}

void Pool::start(PartFn fn, const void* ctx, int parts, int owners) {
  fn_ = fn;
  ctx_ = ctx;
  parts_ = parts;
  owners_ = owners < 1 ? 1 : owners;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t job = seq_.load() + 1;
  claimed_.store((uint64_t)job << 32, std::memory_order_release);
  seq_.store(job);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> g(m_); }
    cv_.notify_all();
  }
  claim(0, job, scratch_[0]);
  int spins = 0;
  while (done_.load(std::memory_order_acquire) < parts) {
    cpuRelax();
    if (++spins > 256) std::this_thread::yield();  // a worker was descheduled (busy machine)
  }
}

void Barrier::wait() {
  const int g = gen_.load(std::memory_order_acquire);
  if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
    count_.store(0, std::memory_order_relaxed);
    gen_.store(g + 1, std::memory_order_release);
    return;
  }
  int spins = 0;
  while (gen_.load(std::memory_order_acquire) == g) {
    cpuRelax();
    if (++spins > 4096) std::this_thread::yield();  // a part's thread was descheduled (busy machine)
  }
}

}  // namespace charrnn
