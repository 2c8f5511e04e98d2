#pragma once
// Policy of the int8 GEMM (u8/s8 x s8 -> s32): the same plain-data shape as gemm_config
// (arch, MR x NR register tile, KC / MC / NC cache blocks), with int32 accumulators.
//   MR x NR  register tile: MR rows of A, each a broadcast 4-byte group (4 k-values),
//            against NR / lanes(int32) vectors of B, one vpdpbusd / sdot per (row, vector)
//            per 4 k-values. NR must be a multiple of the int32 lanes.
//   KC       k-values per rank-KC update (multiple of 4): the KC x NR B sliver stays in L1.
//   MC       rows of A packed per block (MC x KC bytes in L2), multiple of MR.
//   NC       columns per outer block, multiple of NR.
// Why >= 10 accumulators: vpdpbusd has latency 5 and two ports on Cascade Lake, so 10
// independent chains are the minimum to keep both ports busy.
//   amx_tiles (optional, default false) run the macro-kernel on Intel AMX tiles when the
//            target has AMX-INT8 and the OS grants the tile state (quant/kernels/
//            int8_gemm_amx.hpp); needs nr == 32 (two 16-column B tiles) and kc a multiple
//            of 64 (one tile row of A). The packed B pads every k-block to 64 k-values.
//   amx_nc   (optional, default nc) columns per L2 block of the tile kernel: it reads B
//            twice as fast as the vector kernel, so it wants a larger B block.
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "pact/core/matrix_view.hpp"
#include "pact/gemm/policy.hpp"  // gemm_loop_order, loop_order_of (optional member)
#include "pact/simd/ops_amx.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN

/// The members an int8 GEMM policy must have.
template <class P>
concept int8_gemm_policy = requires {
  typename P::arch;
  { P::mr } -> std::convertible_to<int>;
  { P::nr } -> std::convertible_to<int>;
  { P::kc } -> std::convertible_to<index_t>;
  { P::mc } -> std::convertible_to<index_t>;
  { P::nc } -> std::convertible_to<index_t>;
} && simd::simd_arch<typename P::arch>;

/// An int8 GEMM policy as a struct of constants.
template <simd::simd_arch Arch, int MR, int NR, index_t KC, index_t MC, index_t NC,
          gemm_loop_order Order = gemm_loop_order::b_sliver_in_l1, bool AmxTiles = false>
struct int8_gemm_config {
  using arch = Arch;
  static constexpr gemm_loop_order loop_order = Order;
  static constexpr bool amx_tiles = AmxTiles;
  static constexpr int mr = MR;
  static constexpr int nr = NR;
  static constexpr index_t kc = KC;
  static constexpr index_t mc = MC;
  static constexpr index_t nc = NC;
};

namespace quant_detail {
/// True when the policy asks for AMX tiles and this translation unit can emit them.
template <class P>
constexpr bool int8_amx_tiles_of = [] {
  if constexpr (requires { P::amx_tiles; }) return static_cast<bool>(P::amx_tiles) && simd::amx::compiled;
  else return false;
}();
/// Columns per B block of the AMX kernel.
template <class P>
constexpr index_t int8_amx_nc_of = [] {
  if constexpr (requires { P::amx_nc; }) return static_cast<index_t>(P::amx_nc);
  else return static_cast<index_t>(P::nc);
}();
/// k-values each packed k-block of B is padded to: one AMX tile row (64), else one word.
template <class P>
constexpr index_t int8_k_pad_of = int8_amx_tiles_of<P> ? 64 : 4;

template <class A>
constexpr int int8_vector_registers() {
  if constexpr (std::is_same_v<A, simd::scalar>) return 32;
  else if constexpr (A::bytes >= 64) return 32;
#if defined(__aarch64__)
  else if constexpr (std::is_base_of_v<simd::neon64, A>) return 32;
#endif
  else return 16;
}

/// Value checks with sentences; instantiated by every int8 GEMM entry point.
template <int8_gemm_policy P>
consteval bool check_int8_gemm_policy() {
  using A = typename P::arch;
  static_assert(A::available, "int8 GEMM policy: its arch is not enabled by this translation unit's target flags");
  if constexpr (A::available) {
    constexpr int lanes = static_cast<int>(simd::lanes<std::int32_t, A>);
    static_assert(P::nr > 0 && P::nr % lanes == 0, "int8 GEMM policy: nr must be a positive multiple of the int32 lanes");
    static_assert(P::mr >= 1 && P::mr <= 32, "int8 GEMM policy: mr must be in [1, 32]");
    static_assert(P::mr * (P::nr / lanes) + P::nr / lanes + 1 <= int8_vector_registers<A>(),
                  "int8 GEMM policy: the MR x NR accumulator tile plus the B vectors and one broadcast "
                  "need more vector registers than the arch has");
    static_assert(P::kc >= 4 && P::kc % 4 == 0, "int8 GEMM policy: kc must be a positive multiple of 4 (k-groups of 4 bytes)");
    static_assert(P::mc >= P::mr && P::mc % P::mr == 0, "int8 GEMM policy: mc must be a positive multiple of mr");
    static_assert(P::nc >= P::nr && P::nc % P::nr == 0, "int8 GEMM policy: nc must be a positive multiple of nr");
    static_assert(!int8_amx_tiles_of<P> || (P::nr == 32 && P::kc % 64 == 0 && lanes == 16),
                  "int8 GEMM policy: amx_tiles needs an AVX-512 arch, nr == 32 and kc a multiple of 64");
    static_assert(int8_amx_nc_of<P> >= P::nr && int8_amx_nc_of<P> % P::nr == 0,
                  "int8 GEMM policy: amx_nc must be a positive multiple of nr");
  }
  return true;
}
}  // namespace quant_detail

namespace tuning {
/// Default int8 GEMM policy per arch (see docs/quant.md for the measurements).
template <class A>
struct default_int8_gemm_policy : int8_gemm_config<A, 4, 2 * static_cast<int>(simd::lanes<std::int32_t, A>), 256, 96, 2048> {};
#if defined(__x86_64__) || defined(__i386__)
// avx512(_vnni): 12 x 32 int32 = 24 zmm accumulators + 2 B + 1 broadcast (27 of 32 zmm).
// KC 1024: the 12 KiB A sliver stays in L1 (a_sliver_in_l1) while 32 KiB B slivers stream
// from the L2-resident 256 KiB B block (NC 256); long KC means few passes through the
// int32 workspace between k-blocks (KC 256 lost 30% to it). Sweep in docs/quant.md.
// With AMX-INT8 compiled in, the same packed layout also feeds the tile kernel (used when
// the OS grants the tiles, see int8_gemm_amx.hpp).
// AMX B blocks of 512 columns (512 KiB of L2): 1024^3 +15%, 512 x 4096^2 +10% over 256.
template <>
struct default_int8_gemm_policy<simd::avx512_vnni>
    : int8_gemm_config<simd::avx512_vnni, 12, 32, 1024, 576, 256, gemm_loop_order::a_sliver_in_l1,
                       simd::amx::compiled> {
  static constexpr index_t amx_nc = 512;
};
template <>
struct default_int8_gemm_policy<simd::avx512>
    : int8_gemm_config<simd::avx512, 12, 32, 1024, 576, 256, gemm_loop_order::a_sliver_in_l1> {};
// avx2 / sse2: 16 registers; 6 x 2 vectors = 12 accumulators (the pmaddwd emulation needs
// temporaries, the compiler keeps them in the spare registers).
template <>
struct default_int8_gemm_policy<simd::avx2> : int8_gemm_config<simd::avx2, 4, 16, 256, 96, 2048> {};
template <>
struct default_int8_gemm_policy<simd::sse2> : int8_gemm_config<simd::sse2, 4, 8, 256, 96, 2048> {};
#endif
#if defined(__aarch64__)
template <>
struct default_int8_gemm_policy<simd::neon64> : int8_gemm_config<simd::neon64, 8, 8, 256, 96, 2048> {};
#endif
}  // namespace tuning

template <class P>
using select_int8_gemm_policy =
    std::conditional_t<std::is_void_v<P>, tuning::default_int8_gemm_policy<simd::native_arch>, P>;

PACT_NAMESPACE_END
