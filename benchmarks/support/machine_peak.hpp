#pragma once
// Measured machine ceilings, so every benchmark can print "% of peak":
//   fma_peak_gflops(threads): f32 FMA throughput of the widest compiled arch, from a loop
//     of independent FMA chains (enough to hide the FMA latency) on each thread;
//   dram_read_gbps(threads): streaming read of a buffer much larger than the last-level
//     cache (256 MiB, or twice the reported L3 when that is larger), best of a few
//     repetitions.
//   llc_bytes(): the L3 size the OS reports (64 MiB when it reports none), for benchmarks
//     that rotate copies of their inputs so each call reads cold data.
// Both run for a fraction of a second and are cached per thread count.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__linux__)
#include <unistd.h>
#endif

#include "pact/core/aligned_buffer.hpp"
#include "pact/simd/simd.hpp"

namespace pact_bench {

/// The last-level cache size the OS reports (64 MiB if none): an Intel VM of this project
/// reported 35 MiB, a later one 260 MiB, so rotation sizes cannot be fixed numbers.
inline std::size_t llc_bytes() {
  long bytes = 0;
#if defined(__linux__) && defined(_SC_LEVEL3_CACHE_SIZE)
  bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
  return bytes > 0 ? static_cast<std::size_t>(bytes) : std::size_t{64} << 20;
}

namespace detail {
template <class F>
double run_on_threads(int threads, F&& f) {
  std::vector<std::thread> pool;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { f(t); });
  f(0);
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// 2 * lanes * chains * iters FLOPs; 12 independent accumulators cover FMA latency (4)
/// times throughput (2 per cycle) with room to spare.
inline float fma_loop(std::int64_t iters, float seed) {
  namespace simd = pact::simd;
  using A = simd::native_arch;
  using V = simd::vec<float, A>;
  constexpr int chains = 12;
  V acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = simd::broadcast<A>(seed + static_cast<float>(c));
  const V x = simd::broadcast<A>(0.999999f), y = simd::broadcast<A>(1e-7f);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < chains; ++c) acc[c] = simd::fma(acc[c], x, y);
  }
  V s = acc[0];
  for (int c = 1; c < chains; ++c) s = s + acc[c];
  return simd::reduce_add(s);
}
}  // namespace detail

inline double fma_peak_gflops(int threads = 1) {
  static std::mutex m;
  static std::map<int, double> cache;
  std::lock_guard<std::mutex> lock(m);
  if (auto it = cache.find(threads); it != cache.end()) return it->second;
  constexpr std::int64_t iters = 20'000'000;
  constexpr double lanes = static_cast<double>(pact::simd::lanes<float, pact::simd::native_arch>);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<float> sink(static_cast<std::size_t>(threads));
    const double secs = detail::run_on_threads(threads, [&](int t) { sink[static_cast<std::size_t>(t)] = detail::fma_loop(iters, 1.0f + static_cast<float>(t)); });
    best = std::max(best, 2.0 * lanes * 12 * static_cast<double>(iters) * threads / secs / 1e9);
  }
  return cache[threads] = best;
}

inline double dram_read_gbps(int threads = 1) {
  static std::mutex m;
  static std::map<int, double> cache;
  std::lock_guard<std::mutex> lock(m);
  if (auto it = cache.find(threads); it != cache.end()) return it->second;
  const std::size_t n = std::max<std::size_t>(std::size_t{256} << 20, 2 * llc_bytes()) / sizeof(float);
  pact::aligned_buffer<float> buf(n);
  for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i & 1023);
  namespace simd = pact::simd;
  using A = simd::native_arch;
  constexpr std::size_t L = simd::lanes<float, A>;
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    std::vector<float> sink(static_cast<std::size_t>(threads));
    const double secs = detail::run_on_threads(threads, [&](int t) {
      // Eight concurrent sequential streams per thread: one stream cannot keep enough
      // misses in flight to saturate DRAM from a single core.
      constexpr std::size_t streams = 8;
      const std::size_t b = n * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads) / (streams * L) * (streams * L);
      const std::size_t e = n * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads) / (streams * L) * (streams * L);
      const std::size_t seg = (e - b) / streams;
      auto s0 = simd::zero<float, A>(), s1 = s0, s2 = s0, s3 = s0;
      for (std::size_t i = 0; i < seg; i += L) {
        const float* p = &buf[b + i];
        s0 = s0 + simd::load_aligned<A>(p) + simd::load_aligned<A>(p + seg);
        s1 = s1 + simd::load_aligned<A>(p + 2 * seg) + simd::load_aligned<A>(p + 3 * seg);
        s2 = s2 + simd::load_aligned<A>(p + 4 * seg) + simd::load_aligned<A>(p + 5 * seg);
        s3 = s3 + simd::load_aligned<A>(p + 6 * seg) + simd::load_aligned<A>(p + 7 * seg);
      }
      sink[static_cast<std::size_t>(t)] = simd::reduce_add((s0 + s1) + (s2 + s3));
    });
    best = std::max(best, static_cast<double>(n * sizeof(float)) / secs / 1e9);
  }
  return cache[threads] = best;
}

}  // namespace pact_bench
