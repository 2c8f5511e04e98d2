#pragma once
// How the quantized GEMVs read their weights: one row at a time, so W (row-major, rows
// back to back) is ONE sequential stream, with a software prefetch gemv_prefetch_bytes
// ahead of the loads. Four rows at once (sharing the activation loads) made four short
// interleaved streams of 2-4 KB per row that the hardware prefetchers never caught up
// with: on a Zen 4 core Q4_0 4096 x 4096 took 855 us (11 GB/s) that way and 475-534 us
// (18-20 GB/s of a 21 GB/s DRAM read) as one stream.
#include "pact/core/matrix_view.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

/// Prefetch distance of a GEMV weight stream (about two Q4_0 rows of 4096; 2-4.6 KB measured
/// best, 9 KB and more slower).
inline constexpr index_t gemv_prefetch_bytes = 4608;

}  // namespace quant_detail
PACT_NAMESPACE_END
