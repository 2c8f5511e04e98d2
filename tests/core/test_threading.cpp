// Executors: every task runs exactly once, errors propagate, the caller's executor plugs in.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "pact/core/core.hpp"

template <class Exec>
void check_runs_each_task_once(const Exec& e) {
  for (pact::index_t n : {0, 1, 2, 3, 7, 100, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
    e.parallel_for(n, [&](pact::index_t i) { hits[static_cast<std::size_t>(i)]++; });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(Threading, SerialPoolOpenMPAndRef) {
  static_assert(pact::executor<pact::serial>);
  static_assert(pact::executor<pact::thread_pool>);
  static_assert(pact::executor<pact::executor_ref>);
  check_runs_each_task_once(pact::serial{});
  for (int t : {1, 2, 3, 7}) {
    pact::thread_pool pool(t);
    EXPECT_EQ(pool.num_threads(), t);
    check_runs_each_task_once(pool);
    check_runs_each_task_once(pact::executor_ref(pool));
#if defined(_OPENMP)
    check_runs_each_task_once(pact::openmp_executor{t});
#endif
  }
}

TEST(Threading, PoolIsReusableAndRethrows) {
  pact::thread_pool pool(3);
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> sum{0};
    pool.parallel_for(64, [&](pact::index_t i) { sum += static_cast<int>(i); });
    ASSERT_EQ(sum.load(), 64 * 63 / 2);
  }
  EXPECT_THROW(pool.parallel_for(10, [](pact::index_t i) {
    if (i == 5) throw std::runtime_error("task 5");
  }),
               std::runtime_error);
  std::atomic<int> after{0};
  pool.parallel_for(10, [&](pact::index_t) { after++; });
  EXPECT_EQ(after.load(), 10);
}

TEST(Threading, CallerOwnedExecutorHook) {
  // A caller's executor: runs tasks in reverse order on the calling thread.
  struct reverse_executor {
    int calls = 0;
    static void run(void* ctx, pact::index_t n, pact::executor_ref::task_fn fn, void* task_ctx) {
      static_cast<reverse_executor*>(ctx)->calls++;
      for (pact::index_t i = n; i-- > 0;) fn(task_ctx, i);
    }
  } mine;
  pact::executor_ref ref(&mine, &reverse_executor::run, 4);
  EXPECT_EQ(ref.num_threads(), 4);
  std::vector<pact::index_t> order;
  ref.parallel_for(5, [&](pact::index_t i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<pact::index_t>{4, 3, 2, 1, 0}));
  EXPECT_EQ(mine.calls, 1);
}
