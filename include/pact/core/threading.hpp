#pragma once
// Threading policies. An executor runs `f(task)` for task in [0, n) and returns when all
// are done; the caller chooses the thread count explicitly (no hidden global). Kernels
// split work into tasks whose outputs are disjoint and whose arithmetic does not depend
// on which thread runs them, so results are bitwise identical for any thread count.
//   serial            - runs tasks in order on the calling thread
//   thread_pool       - a small persistent std::thread pool (the caller thread helps)
//   openmp_executor   - `#pragma omp parallel for`, when compiled with -fopenmp
//   executor_ref      - type-erased hook for a caller-owned executor (e.g. an engine's pool)
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pact/core/matrix_view.hpp"
#if defined(_OPENMP)
#include <omp.h>
#endif

PACT_NAMESPACE_BEGIN

/// What every threading policy provides.
template <class E>
concept executor = requires(const E& e, index_t n, void (*f)(index_t)) {
  { e.num_threads() } -> std::convertible_to<int>;
  e.parallel_for(n, f);
};

struct serial {
  int num_threads() const noexcept { return 1; }
  template <class F>
  void parallel_for(index_t n, F&& f) const {
    for (index_t i = 0; i < n; ++i) f(i);
  }
};

/// A fixed set of worker threads. parallel_for hands out tasks dynamically; the first
/// exception thrown by a task is rethrown on the calling thread after all tasks finish.
/// Workers and the caller spin briefly before sleeping: a GEMM issues a parallel_for per
/// K block, and a futex wake-up in a VM costs tens of microseconds.
/// Each call publishes its own job object, so a worker that wakes late for a finished
/// job only finds its task counter exhausted and never touches the next job's state.
class thread_pool {
 public:
  explicit thread_pool(int threads) : threads_(threads < 1 ? 1 : threads) {
    for (int t = 1; t < threads_; ++t) workers_.emplace_back([this] { worker_loop(); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int num_threads() const noexcept { return threads_; }

  template <class F>
  void parallel_for(index_t n, F&& f) const {
    if (n <= 0) return;
    if (threads_ == 1 || n == 1) {
      for (index_t i = 0; i < n; ++i) f(i);
      return;
    }
    std::lock_guard<std::mutex> one_job_at_a_time(job_mutex_);
    auto j = std::make_shared<job>();
    j->fn = [&f](index_t i) { f(i); };
    j->tasks = n;
    j->pending.store(n, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = j;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    run(*j);
    for (int spin = 0; j->pending.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < spin_limit) {
        cpu_relax();
      } else {
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return j->pending.load(std::memory_order_acquire) == 0; });
      }
    }
    if (j->error) std::rethrow_exception(j->error);
  }

 private:
  struct job {
    std::function<void(index_t)> fn;
    index_t tasks = 0;
    std::atomic<index_t> next{0};
    std::atomic<index_t> pending{0};
    std::mutex error_mutex;
    std::exception_ptr error;
  };

  static constexpr int spin_limit = 20000;  // ~tens of microseconds of polling

  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }

  void run(job& j) const {
    for (;;) {
      const index_t i = j.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= j.tasks) return;
      try {
        j.fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(j.error_mutex);
        if (!j.error) j.error = std::current_exception();
      }
      if (j.pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // pairs with the caller's sleeping wait
        done_.notify_all();
      }
    }
  }

  void worker_loop() const {
    std::size_t seen = 0;
    for (;;) {
      for (int spin = 0; spin < spin_limit && generation_.load(std::memory_order_acquire) == seen; ++spin) cpu_relax();
      std::shared_ptr<job> j;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        if (stopping_) return;
        seen = generation_.load(std::memory_order_relaxed);
        j = current_;
      }
      if (j) run(*j);
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  mutable std::mutex job_mutex_;
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  mutable std::condition_variable done_;
  mutable std::shared_ptr<job> current_;
  mutable std::atomic<std::size_t> generation_{0};
  bool stopping_ = false;
};

#if defined(_OPENMP)
/// OpenMP with an explicit thread count (static schedule).
struct openmp_executor {
  int threads = 1;
  int num_threads() const noexcept { return threads < 1 ? 1 : threads; }
  template <class F>
  void parallel_for(index_t n, F&& f) const {
    std::exception_ptr err;
#pragma omp parallel for schedule(static) num_threads(num_threads())
    for (index_t i = 0; i < n; ++i) {
      try {
        f(i);
      } catch (...) {
#pragma omp critical(pact_openmp_error)
        if (!err) err = std::current_exception();
      }
    }
    if (err) std::rethrow_exception(err);
  }
};
#endif

/// Adapts a caller-owned executor: `run(ctx, n, task_fn, task_ctx)` must call
/// task_fn(task_ctx, i) once for every i in [0, n) and return when all have finished.
class executor_ref {
 public:
  using task_fn = void (*)(void* task_ctx, index_t task);
  using run_fn = void (*)(void* ctx, index_t n, task_fn fn, void* task_ctx);
  executor_ref(void* ctx, run_fn run, int threads) noexcept : ctx_(ctx), run_(run), threads_(threads < 1 ? 1 : threads) {}

  /// Wrap any pact executor (or one of the caller's own with the same two members).
  template <executor E>
  explicit executor_ref(const E& e) noexcept
      : ctx_(const_cast<E*>(&e)),
        run_([](void* ctx, index_t n, task_fn fn, void* task_ctx) {
          static_cast<const E*>(ctx)->parallel_for(n, [&](index_t i) { fn(task_ctx, i); });
        }),
        threads_(e.num_threads()) {}

  int num_threads() const noexcept { return threads_; }
  template <class F>
  void parallel_for(index_t n, F&& f) const {
    using Fn = std::remove_reference_t<F>;
    run_(ctx_, n, [](void* c, index_t i) { (*static_cast<Fn*>(c))(i); }, const_cast<void*>(static_cast<const void*>(&f)));
  }

 private:
  void* ctx_;
  run_fn run_;
  int threads_;
};

PACT_NAMESPACE_END
