#pragma once
// Measured int8 dot-product ceiling (GOP/s, 2 ops per multiply-add) of the native arch:
// 12 independent dot_u8s8 chains per thread (vpdpbusd has latency 5 and 2 ports on
// Cascade Lake: 10 chains is the minimum to saturate it), best of a few runs.
#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "pact/simd/ops_int8.hpp"
#include "pact/simd/simd.hpp"
#include "support/machine_peak.hpp"

namespace pact_bench {
namespace detail {
inline std::int32_t int8_dot_loop(std::int64_t iters, int seed) {
  namespace simd = pact::simd;
  using A = simd::native_arch;
  using VI = simd::vec<std::int32_t, A>;
  constexpr int chains = 12;
  VI acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = simd::broadcast<A>(static_cast<std::int32_t>(seed + c));
  const auto a = simd::broadcast<A>(static_cast<std::uint8_t>(seed + 1));
  const auto b = simd::broadcast<A>(static_cast<std::int8_t>(seed - 3));
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < chains; ++c) acc[c] = simd::dot_u8s8(acc[c], a, b);
  }
  VI s = acc[0];
  for (int c = 1; c < chains; ++c) s = s + acc[c];
  return simd::reduce_add(s);
}
}  // namespace detail

/// int8 multiply-add peak in GOP/s (one u8 x s8 product + add = 2 ops).
inline double int8_peak_gops(int threads = 1) {
  static std::mutex mu;
  static std::map<int, double> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(threads); it != cache.end()) return it->second;
  constexpr double lanes = static_cast<double>(pact::simd::lanes<std::int32_t, pact::simd::native_arch>);
  const std::int64_t iters = 20'000'000;
  std::vector<std::int32_t> sink(static_cast<std::size_t>(threads));
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const double secs = detail::run_on_threads(
        threads, [&](int t) { sink[static_cast<std::size_t>(t)] = detail::int8_dot_loop(iters, 2 + t); });
    best = std::max(best, 2.0 * 4.0 * lanes * 12 * static_cast<double>(iters) * threads / secs / 1e9);
  }
  cache[threads] = best;
  return best;
}
}  // namespace pact_bench
