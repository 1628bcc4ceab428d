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

void Pool::claim(float* scratch) {
  for (;;) {
    uint32_t t = ticket_.load(std::memory_order_acquire);
    const int next = (int)(t & 0xffff);
    const int parts = (int)(t >> 16);
    if (next >= parts) return;
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
    fn_(ctx_, next, parts, scratch);
    done_.fetch_add(1, std::memory_order_acq_rel);
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
    claim(scratch);
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
  fn_ = fn;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  ticket_.store((uint32_t)parts << 16, std::memory_order_release);
  seq_.fetch_add(1);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> g(m_); }
    cv_.notify_all();
  }
  claim(scratch_[0]);
  int spins = 0;
  while (done_.load(std::memory_order_acquire) < parts) {
    cpuRelax();
    if (++spins > 4096) std::this_thread::yield();  // a worker was descheduled (busy machine)
  }
}

}  // namespace charrnn
