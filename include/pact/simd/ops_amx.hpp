#pragma once
// Intel AMX (Advanced Matrix Extensions) int8 tiles: the only place pact touches the tile
// registers. Compiled in when the target flags enable AMX-INT8 (-march=sapphirerapids or
// -march=native on such a CPU: PACT_HAS_AMX_INT8); usable at run time only after the OS has
// granted the process the tile state (Linux >= 5.16: arch_prctl(ARCH_REQ_XCOMP_PERM)), which
// amx::tiles_ready() asks for once per process and caches. Kernels call it before choosing an
// AMX path and fall back to the vector path when it says no.
//
// One tile shape is used everywhere (amx::configure_16x64): all 8 tiles are 16 rows x 64 bytes,
//   C tile  16 x 16 int32
//   A tile  16 rows x 64 u8 (16 rows of A, 64 consecutive k-values each)
//   B tile  16 rows x 64 s8 (row g = 4 k-values 4g..4g+3 of 16 columns, the VNNI word order)
// so that dp_u8s8<C, A, B> computes C(i, j) += sum_{g<16, t<4} A(i, 4g+t) * B(g, 4j+t)
// (tdpbusd: 16 x 16 x 64 multiply-adds, exact int32 with wrap-around).
// The tile configuration is per thread: every thread configures before its first tile op
// and releases after its last (release() returns the state to init, cheap context switches).
#include <cstdint>

#include "pact/simd/target.hpp"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__x86_64__) && defined(__linux__)
#define PACT_HAS_AMX_INT8 1
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

PACT_NAMESPACE_BEGIN
namespace simd::amx {

#if defined(PACT_HAS_AMX_INT8)
inline constexpr bool compiled = true;

/// Asks the kernel once for the AMX tile data state; true when tiles may be used.
inline bool tiles_ready() noexcept {
  static const bool ready = [] {
    constexpr long arch_req_xcomp_perm = 0x1023;  // <asm/prctl.h>
    constexpr long xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
  }();
  return ready;
}

namespace detail {
/// Loads palette 1 with tiles t < 8 of rows[t] rows x colsb[t] bytes for this thread.
inline void load_tile_config(const std::uint8_t (&rows)[8], const std::uint16_t (&colsb)[8]) noexcept {
  struct alignas(64) tile_config {
    std::uint8_t palette_id;
    std::uint8_t start_row;
    std::uint8_t reserved[14];
    std::uint16_t colsb[16];
    std::uint8_t rows[16];
  } cfg{};
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = colsb[t];
    cfg.rows[t] = rows[t];
  }
  // g++ 12 does not see ldtilecfg read cfg: out of line (-O3) it dropped the stores of
  // colsb and rows and loaded stack garbage (#GP). The barrier makes the stores happen.
  __asm__ __volatile__("" : : "r"(&cfg) : "memory");
  _tile_loadconfig(&cfg);
}
}  // namespace detail

/// Loads the one configuration (palette 1, 8 tiles of 16 rows x 64 bytes) for this thread.
inline void configure_16x64() noexcept {
  detail::load_tile_config({16, 16, 16, 16, 16, 16, 16, 16}, {64, 64, 64, 64, 64, 64, 64, 64});
}
inline void release() noexcept { _tile_release(); }

/// The configuration of the 32-k block GEMM (quant/kernels/gemm_q8_blocks_amx.hpp): one
/// 32-k block per product, so its A and B tiles are half as deep as configure_16x64's:
///   tiles 0-3  C   16 rows x 64 bytes (16 x 16 int32)
///   tile  4    A   16 rows x 32 bytes (16 rows of one block's 32 signed codes)
///   tiles 6-7  B    8 rows x 64 bytes (row g = k-values 4g..4g+3 of 16 columns)
inline void configure_32k_blocks() noexcept {
  detail::load_tile_config({16, 16, 16, 16, 16, 0, 8, 8}, {64, 64, 64, 64, 32, 0, 64, 64});
}

// g++'s tile intrinsics paste the tile number into inline assembly, so it must be a
// literal: each op below turns its template argument into one through a constexpr chain.
#define PACT_AMX_TILE_CASES(T, OP) \
  if constexpr (T == 0) OP(0);     \
  else if constexpr (T == 1) OP(1); \
  else if constexpr (T == 2) OP(2); \
  else if constexpr (T == 3) OP(3); \
  else if constexpr (T == 4) OP(4); \
  else if constexpr (T == 5) OP(5); \
  else if constexpr (T == 6) OP(6); \
  else OP(7)

template <int T>
PACT_ALWAYS_INLINE void zero() noexcept {
  static_assert(T >= 0 && T < 8);
#define PACT_AMX_OP(t) _tile_zero(t)
  PACT_AMX_TILE_CASES(T, PACT_AMX_OP);
#undef PACT_AMX_OP
}
/// Tile T <- 16 rows of 64 bytes at p, p + stride, ... (any alignment).
template <int T>
PACT_ALWAYS_INLINE void load(const void* p, std::ptrdiff_t stride) noexcept {
  static_assert(T >= 0 && T < 8);
#define PACT_AMX_OP(t) _tile_loadd(t, p, stride)
  PACT_AMX_TILE_CASES(T, PACT_AMX_OP);
#undef PACT_AMX_OP
}
/// As load, with a hint that the data is not reused soon (tileloaddt1: it does not displace
/// the caller's L1-resident operand).
template <int T>
PACT_ALWAYS_INLINE void load_stream(const void* p, std::ptrdiff_t stride) noexcept {
  static_assert(T >= 0 && T < 8);
#define PACT_AMX_OP(t) _tile_stream_loadd(t, p, stride)
  PACT_AMX_TILE_CASES(T, PACT_AMX_OP);
#undef PACT_AMX_OP
}
template <int T>
PACT_ALWAYS_INLINE void store(void* p, std::ptrdiff_t stride) noexcept {
  static_assert(T >= 0 && T < 8);
#define PACT_AMX_OP(t) _tile_stored(t, p, stride)
  PACT_AMX_TILE_CASES(T, PACT_AMX_OP);
#undef PACT_AMX_OP
}
/// C += A (u8) * B (s8), see the header comment for the index map. The kernels use the
/// 2 x 2 blocking C(i, j) = tile 2i + j, A(i) = tile 4 + i, B(j) = tile 6 + j; those are
/// the combinations spelled out (tdpbusd needs three literal tile numbers).
template <int C, int A, int B>
PACT_ALWAYS_INLINE void dp_u8s8() noexcept {
  static_assert(C >= 0 && C < 4 && A == 4 + C / 2 && B == 6 + C % 2,
                "simd::amx::dp_u8s8: supported for C = 2i + j, A = 4 + i, B = 6 + j");
  if constexpr (C == 0) _tile_dpbusd(0, 4, 6);
  else if constexpr (C == 1) _tile_dpbusd(1, 4, 7);
  else if constexpr (C == 2) _tile_dpbusd(2, 5, 6);
  else _tile_dpbusd(3, 5, 7);
}
/// C += A (s8) * B (u8) (tdpbsud), the index map of dp_u8s8 with the signedness swapped:
/// for configure_32k_blocks, C = 0..3, A = 4, B = 6 + C % 2.
template <int C, int A, int B>
PACT_ALWAYS_INLINE void dp_s8u8() noexcept {
  static_assert(C >= 0 && C < 4 && A == 4 && B == 6 + C % 2, "simd::amx::dp_s8u8: supported for C = 0..3, A = 4, B = 6 + C % 2");
  if constexpr (C == 0) _tile_dpbsud(0, 4, 6);
  else if constexpr (C == 1) _tile_dpbsud(1, 4, 7);
  else if constexpr (C == 2) _tile_dpbsud(2, 4, 6);
  else _tile_dpbsud(3, 4, 7);
}
#undef PACT_AMX_TILE_CASES
#else
inline constexpr bool compiled = false;
inline bool tiles_ready() noexcept { return false; }
#endif

}  // namespace simd::amx
PACT_NAMESPACE_END
