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

/** How long a worker spins for the next job before it sleeps. */
constexpr auto SPIN_WORKER = std::chrono::microseconds(300);

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

/** Claims and runs parts of job `job`: part `slot` first if there is one, then any other. */
void Pool::claim(int slot, uint32_t job, float* scratch) {
  int p = slot;
  int scan = 0;
  for (;;) {
    uint64_t v = claimed_.load(std::memory_order_acquire);
    if ((uint32_t)(v >> 32) != job) return;  // that job is over, another may have begun
    const int parts = parts_;
    if (p >= parts || (v >> p & 1)) {
      // not ours to take: the next part not yet claimed, if any
      while (scan < parts && (v >> scan & 1)) scan++;
      if (scan >= parts) return;
      p = scan;
    }
    if (!claimed_.compare_exchange_weak(v, v | (1ull << p), std::memory_order_acq_rel)) continue;
    fn_(ctx_, p, parts, scratch);
    done_.fetch_add(1, std::memory_order_acq_rel);
    p = parts;  // from now on, any part
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

void Pool::run(PartFn fn, const void* ctx, int parts) {
  std::unique_lock<std::mutex> lk(busy_, std::try_to_lock);
  if (!lk.owns_lock() || threads_.empty() || parts <= 1) {
    // another thread of the process is using the pool, or nothing to share: all parts here
    thread_local float* own = nullptr;
    float* scratch = lk.owns_lock() ? callerScratch() : (own ? own : (own = newScratch()));
    for (int p = 0; p < parts; p++) fn(ctx, p, parts, scratch);
    return;
  }
  if (parts > MAX_PARTS) parts = MAX_PARTS;  // callers never ask for more than threads (<= 64): cap
  fn_ = fn;
  ctx_ = ctx;
  parts_ = parts;
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
    if (++spins > 4096) std::this_thread::yield();  // a worker was descheduled (busy machine)
  }
}

}  // namespace charrnn
