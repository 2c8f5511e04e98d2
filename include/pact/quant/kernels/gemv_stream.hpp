#pragma once
// How the quantized GEMVs read their weights. W is row-major (rows back to back), and a
// thread's rows [n0, n1) are cut into R = gemv_streams equal contiguous parts walked side
// by side: R long sequential streams, each with a software prefetch gemv_prefetch_bytes
// ahead of its loads, and the activation loads shared by the R rows of a step.
//
// Measured (Q4_0 / Q8_0, 4096 x 4096, cold, 1 thread):
//  - R adjacent rows at once made R short interleaved streams of 2-4 KB that the hardware
//    prefetchers never caught up with: on a Zen 4 core Q4_0 took 855 us (11 GB/s), one row
//    at a time (one stream) 475-534 us (18-20 GB/s of a 21 GB/s DRAM read).
//  - One stream stalls on 4 KiB pages on an Intel (Sapphire Rapids class) VM: 10-11 GB/s
//    of a 16.7 GB/s read for every prefetch distance from 2 to 16 KB, against 15-16 GB/s
//    when the same weights sit in 2 MiB pages. Four spread streams read 15.2 (Q4_0) and
//    15.5 (Q8_0) GB/s on 4 KiB pages and 15-17 GB/s on 2 MiB pages: while one stream waits
//    on a page walk, the other three keep their misses in flight.
#include <type_traits>

#include "pact/core/matrix_view.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

/// Prefetch distance of a GEMV weight stream (about two Q4_0 rows of 4096; 2-4.6 KB measured
/// best, 9 KB and more slower).
inline constexpr index_t gemv_prefetch_bytes = 4608;

/// Prefetch distance of each of the activation quantizers' input streams (Q8_0, 1x128
/// FP8), which walk gemv_streams streams as the GEMVs do. Measured on 512 MiB of f32 in
/// 4 KiB pages, 1 thread (Q8_0 / FP8 ms): 768 B 57-59 / 49, 1152 B 53-55 / 50, 2304 B
/// 48-51 / 48-49, 4608 B 51 / 54, 9216 B 63-65 / 58-60.
inline constexpr index_t quantize_prefetch_bytes = 2304;

/// Concurrent weight streams per thread (see above).
inline constexpr int gemv_streams = 4;

/// Calls rows(std::integral_constant<int, C>{}, n) for every index of [n0, n1) (weight
/// rows, or packed slivers of columns), with n an array of C indices computed together:
/// C = gemv_streams indices, one from each of the gemv_streams contiguous parts of the
/// range, then the indices left over one at a time.
template <class RowsFn>
PACT_ALWAYS_INLINE void for_each_in_streams(index_t n0, index_t n1, RowsFn&& rows) {
  constexpr int R = gemv_streams;
  const index_t part = (n1 - n0) / R;
  for (index_t i = 0; i < part; ++i) {
    index_t n[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) n[r] = n0 + r * part + i;
    rows(std::integral_constant<int, R>{}, n);
  }
  for (index_t m = n0 + R * part; m < n1; ++m) {
    const index_t n[1] = {m};
    rows(std::integral_constant<int, 1>{}, n);
  }
}

}  // namespace quant_detail
PACT_NAMESPACE_END
