// A persistent pool of worker threads for the kernels: created once (grown when a backend asks
// for more threads), never per call. The calling thread publishes a job (a function, its
// context, a number of parts), wakes the workers and claims parts itself; everyone claims
// parts with a compare-and-swap on one ticket and the caller returns when all are done.
// Waiting workers spin for a while (the next job usually follows within microseconds), then
// sleep on a condition variable. Each thread has its own scratch (packed panels). With
// `owners` threads meant for a job, thread t first claims its own parts t, t + owners, ... (so
// from one call to the next the same thread works on the same parts of a product and finds its
// packed weights in its own cache), then any part left: a thread that the system has put aside
// (a busy machine) does not hold up the others.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace charrnn {

/** A part of a job: fn(ctx, part, parts, scratch of the thread that runs it). */
using PartFn = void (*)(const void* ctx, int part, int parts, float* scratch);

class Pool {
 public:
  static constexpr int MAX_PARTS = 32;
  /** Makes sure `threads - 1` workers exist (the caller is the other one). */
  void grow(int threads);
  /** Runs parts [0, parts) (parts <= MAX_PARTS) of fn on the workers and the caller; returns when all are done. */
  void run(PartFn fn, const void* ctx, int parts, int owners);
  /**
   * Runs parts [0, parts) of fn each on its own thread at the same time (a gang: the parts wait
   * for each other on a Barrier), the caller taking one; returns when all are done. Returns false,
   * having run nothing, when that cannot be promised (too few threads, or the pool busy with
   * another caller): the caller then runs the job as one part.
   */
  bool runGang(PartFn fn, const void* ctx, int parts);
  /** Scratch of the calling thread (slot 0 while it holds the pool, else its own). */
  float* callerScratch();

 private:
  /** Publishes the job, claims parts on the caller, returns when all are done (busy_ held). */
  void start(PartFn fn, const void* ctx, int parts, int owners);
  void workerLoop(int slot);
  void claim(int slot, uint32_t job, float* scratch);
  bool tryClaim(int p, uint32_t job, float* scratch);

  std::vector<std::thread> threads_;
  std::vector<float*> scratch_;  // [0] the caller's, [1 + w] worker w's
  std::mutex busy_;              // one job at a time (Node worker threads could share the addon)
  std::atomic<uint32_t> seq_{0};  // bumped per job
  std::atomic<uint64_t> claimed_{0};  // (job << 32) | bit p for each part p claimed
  int parts_ = 0;
  int owners_ = 1;
  std::atomic<int> done_{0};
  std::atomic<int> sleepers_{0};
  PartFn fn_ = nullptr;
  const void* ctx_ = nullptr;
  std::mutex m_;
  std::condition_variable cv_;
};

/**
 * The parts of a gang job (Pool::runGang) meet here between steps: wait() returns when all n
 * have arrived. It spins (a step takes microseconds), yielding the core after a while.
 */
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait();

 private:
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<int> gen_{0};
};

/** The process's pool (never destroyed: workers are detached-safe at exit). */
Pool& pool();
/** A new SCRATCH_FLOATS buffer, 64-byte aligned (never freed: one per thread). */
float* newScratch();

}  // namespace charrnn
