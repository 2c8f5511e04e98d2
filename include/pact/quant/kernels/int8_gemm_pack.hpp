#pragma once
// Packing for the int8 GEMM. One int32 word = 4 consecutive k-values of one row of A or
// one column of B, the operand shape of vpdpbusd / sdot.
//   A block (mc x kc)  -> slivers of MR rows; sliver word [g*MR + i] = a(i, 4g .. 4g+3)
//   B (K x N)          -> for each KC block of K, ceil(N/NR) slivers of kc4 x NR;
//                         sliver word [g*NR + j] = b(4g .. 4g+3, j)
// K is padded to a multiple of 4 and N to a multiple of NR with zero bytes in B only: a
// zero B byte makes the product 0 whatever A holds there, so A's padding never matters
// (it is written as zeros anyway, to stay deterministic). A is packed in the kernel's
// unsigned domain: a signed A byte is stored as a + 128 (xor 0x80) and the driver
// subtracts 128 * colsum(B) -- exact in wrapping int32 arithmetic.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/kernels/int8_gemm_policy.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/ops_int8_pack.hpp"
#include "pact/simd/ops_transpose.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

constexpr index_t ceil_div(index_t a, index_t b) noexcept { return (a + b - 1) / b; }
constexpr index_t round_up(index_t a, index_t b) noexcept { return ceil_div(a, b) * b; }

/// A strided byte matrix: element (i, j) at p[i*rs + j*cs].
template <class S>
struct byte_ref {
  const S* p;
  index_t rs;
  index_t cs;
  PACT_ALWAYS_INLINE S operator()(index_t i, index_t j) const noexcept { return p[i * rs + j * cs]; }
};

/// 4 bytes as one word (little-endian order of k), without alignment requirements.
PACT_ALWAYS_INLINE std::uint32_t load_word(const void* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

/// Packs rows [0, mc) x k-values [0, kc) of `a` (block origin) into MR-row slivers.
/// Flip = 0x80808080 stores signed bytes in the unsigned domain (a + 128).
template <int MR, class S>
void pack_a_int8(byte_ref<S> a, index_t mc, index_t kc, std::uint32_t flip, std::uint32_t* PACT_RESTRICT dst) noexcept {
  const index_t groups = ceil_div(kc, 4);
  const index_t full = kc / 4;
  for (index_t i0 = 0; i0 < mc; i0 += MR) {
    const index_t m = std::min<index_t>(MR, mc - i0);
    if (a.cs == 1 && m == MR) {
      const S* rows[MR];
      for (int i = 0; i < MR; ++i) rows[i] = a.p + (i0 + i) * a.rs;
      for (index_t g = 0; g < full; ++g) {
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) dst[g * MR + i] = load_word(rows[i] + 4 * g) ^ flip;
      }
    } else {
      for (index_t g = 0; g < full; ++g)
        for (index_t i = 0; i < m; ++i) {
          std::uint32_t w = 0;
          for (int t = 0; t < 4; ++t) w |= std::uint32_t(static_cast<std::uint8_t>(a(i0 + i, 4 * g + t))) << (8 * t);
          dst[g * MR + i] = w ^ flip;
        }
    }
    if (groups > full) {  // ragged k tail: bytes past kc are zero
      for (index_t i = 0; i < m; ++i) {
        std::uint32_t w = 0;
        for (index_t t = 0; 4 * full + t < kc; ++t)
          w |= std::uint32_t(static_cast<std::uint8_t>(a(i0 + i, 4 * full + t))) << (8 * t);
        dst[full * MR + i] = w ^ flip;
      }
    }
    for (index_t g = 0; g < groups; ++g)
      for (index_t i = m; i < MR; ++i) dst[g * MR + i] = 0;
    dst += groups * MR;
  }
}

/// Packs one 4-k group of one B sliver (n valid columns starting at j0, k-values k0..k0+3).
template <class A, int NR>
PACT_ALWAYS_INLINE void pack_b_int8_group(byte_ref<std::int8_t> b, index_t K, index_t k0, index_t j0, index_t n,
                                          std::int8_t* PACT_RESTRICT o) noexcept {
  const bool full_k = k0 + 4 <= K;
  if (b.cs == 1 && full_k) {
    // Row-major B: transpose 4 x 16 byte blocks.
    const std::int8_t* rows[4] = {&b.p[k0 * b.rs + j0], &b.p[(k0 + 1) * b.rs + j0], &b.p[(k0 + 2) * b.rs + j0],
                                  &b.p[(k0 + 3) * b.rs + j0]};
    index_t j = 0;
    for (; j + 16 <= n; j += 16) {
      const std::int8_t* r[4] = {rows[0] + j, rows[1] + j, rows[2] + j, rows[3] + j};
      simd::interleave4_bytes16<A>(r, o + 4 * j);
    }
    for (; j < n; ++j)
      for (int t = 0; t < 4; ++t) o[4 * j + t] = rows[t][j];
  } else if (b.rs == 1 && full_k) {
    // Column-major B (weights stored N x K): the 4 k-values are already adjacent.
    for (index_t j = 0; j < n; ++j) std::memcpy(o + 4 * j, &b.p[(j0 + j) * b.cs + k0], 4);
  } else {
    for (index_t j = 0; j < n; ++j)
      for (index_t t = 0; t < 4; ++t) o[4 * j + t] = k0 + t < K ? b(k0 + t, j0 + j) : std::int8_t(0);
  }
  std::memset(o + 4 * n, 0, static_cast<std::size_t>(4 * (NR - n)));
}

/// Packs B slivers [s_begin, s_end) of the k-block [pc, pc + kc) into `dst` (block base).
/// Walks a page worth of slivers (4 KiB of each row of a row-major B: 128 slivers of 32
/// columns) down all k-groups at a time, so every row is read in one sequential run that
/// stays within a page, and the slivers are written as parallel sequential streams. With
/// 8 slivers (256 bytes of a row) per walk, each step down the k-groups touched 4 new
/// pages (one per row) for 1 KiB of output: a 4096 x 4096 B took 4.8-4.9 ms to pack on
/// the Intel AMX VM (L3-resident), 2.8 ms with the page-wide walk.
template <class A, int NR>
void pack_b_int8_slivers(byte_ref<std::int8_t> b, index_t K, index_t N, index_t pc, index_t kc, index_t s_begin,
                         index_t s_end, index_t sliver_stride, std::int8_t* PACT_RESTRICT dst) noexcept {
  const index_t groups = ceil_div(kc, 4);
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  if constexpr (L >= 8 && NR % L == 0) {  // AVX2 / AVX-512: the transpose below is intrinsics
    if (b.rs == 1 && b.cs % 4 == 0) {
      // Column-major B (weights stored N x K, a linear layer's W): column j is a run of K
      // bytes. Per sliver, L 4-byte k-groups of its NR columns form an NR x L matrix of
      // 32-bit words, which L x L word transposes turn into the sliver's L groups. Group by
      // group, each 4-byte word came from another column (K bytes apart): 53 ms to pack a
      // 4096 x 4096 W on the Intel AMX VM, against 5 ms for a row-major B.
      for (index_t s = s_begin; s < s_end; ++s) {
        const index_t j0 = s * NR;
        const index_t n = std::min<index_t>(NR, N - j0);
        std::int8_t* out = dst + s * sliver_stride;
        index_t g = 0;
        if (n == NR)
          for (; g + L <= groups && pc + 4 * (g + L) <= K; g += L)
            for (index_t c = 0; c < NR; c += L)
              simd::transpose_tile<A>(reinterpret_cast<const float*>(b.p + (j0 + c) * b.cs + pc + 4 * g), b.cs / 4,
                                      reinterpret_cast<float*>(out + g * NR * 4) + c, NR);
        for (; g < groups; ++g) pack_b_int8_group<A, NR>(b, K, pc + 4 * g, j0, n, out + g * NR * 4);
      }
      return;
    }
  }
  constexpr index_t sblock = std::max<index_t>(8, 4096 / NR);
  for (index_t sb = s_begin; sb < s_end; sb += sblock) {
    const index_t se = std::min(s_end, sb + sblock);
    for (index_t g = 0; g < groups; ++g)
      for (index_t s = sb; s < se; ++s) {
        const index_t j0 = s * NR;
        const index_t n = std::min<index_t>(NR, N - j0);
        pack_b_int8_group<A, NR>(b, K, pc + 4 * g, j0, n, dst + s * sliver_stride + g * NR * 4);
      }
  }
}

}  // namespace quant_detail

/// B (K x N, int8) packed once into the int8 GEMM's sliver layout, with its column sums
/// (for zero-point / signed-A compensation). Reuse it across calls (weights).
template <class Policy = void>
class int8_packed_b {
 public:
  using policy = select_int8_gemm_policy<Policy>;
  static_assert(int8_gemm_policy<policy>, "int8_packed_b: Policy must be an int8 GEMM policy (arch, mr, nr, kc, mc, nc)");
  static_assert(quant_detail::check_int8_gemm_policy<policy>());

  int8_packed_b() = default;

  template <class LB, executor Exec = serial>
  explicit int8_packed_b(const matrix_view<const std::int8_t, LB>& B, const Exec& exec = {}) {
    validate(B, "int8 pack_b: B");
    pack(quant_detail::byte_ref<std::int8_t>{B.data(), B.row_stride(), B.col_stride()}, B.rows(), B.cols(), exec);
  }
  template <class LB, executor Exec = serial>
  explicit int8_packed_b(const matrix_view<std::int8_t, LB>& B, const Exec& exec = {})
      : int8_packed_b(matrix_view<const std::int8_t, LB>(B), exec) {}

  /// Packs B into this object, reusing its memory when large enough (no page faults
  /// per call when a temporary packed B is reused).
  template <class LB, executor Exec = serial>
  void repack(const matrix_view<const std::int8_t, LB>& B, const Exec& exec = {}) {
    validate(B, "int8 pack_b: B");
    pack(quant_detail::byte_ref<std::int8_t>{B.data(), B.row_stride(), B.col_stride()}, B.rows(), B.cols(), exec);
  }

  index_t rows() const noexcept { return rows_; }
  index_t cols() const noexcept { return cols_; }
  index_t padded_cols() const noexcept { return padded_cols_; }
  /// Sliver s of the k-block starting at pc (a multiple of KC). Slivers are separated by
  /// a 256-byte gap so that power-of-two sliver sizes do not start every sliver in the same
  /// cache sets (packing writes 8 slivers as parallel streams).
  const std::int8_t* sliver(index_t pc, index_t s) const noexcept {
    return data_.data() + block_offset(pc) + s * sliver_stride(pc);
  }
  index_t sliver_stride(index_t pc) const noexcept {
    const index_t kc = std::min<index_t>(policy::kc, rows_ - pc);
    return policy::nr * quant_detail::round_up(kc, k_pad) + sliver_gap;
  }
  index_t block_offset(index_t pc) const noexcept {
    return (pc / policy::kc) * (padded_cols_ / policy::nr) * (policy::nr * policy::kc + sliver_gap);
  }
  /// sum_k b(k, j) for j < padded_cols() (zero past N).
  const std::int32_t* col_sums() const noexcept { return sums_.data(); }

 private:
  template <class Exec>
  void pack(quant_detail::byte_ref<std::int8_t> b, index_t K, index_t N, const Exec& exec) {
    using A = typename policy::arch;
    constexpr index_t NR = policy::nr;
    rows_ = K;
    cols_ = N;
    padded_cols_ = quant_detail::round_up(std::max<index_t>(N, 1), NR);
    const index_t k4 = quant_detail::round_up(std::max<index_t>(K, 1), k_pad);
    const std::size_t bytes = detail::checked_mul(static_cast<std::size_t>(k4), static_cast<std::size_t>(padded_cols_), "int8 pack_b: B") +
                              static_cast<std::size_t>(quant_detail::ceil_div(std::max<index_t>(K, 1), policy::kc) * (padded_cols_ / policy::nr) * sliver_gap);
    data_.reserve_discard(bytes);
    sums_.reserve_discard(static_cast<std::size_t>(padded_cols_));
    std::fill(sums_.data(), sums_.data() + padded_cols_, 0);
    if (K == 0 || N == 0) return;
    const index_t slivers = padded_cols_ / NR;
    const index_t tasks = std::min<index_t>(std::max(1, exec.num_threads()), slivers);
    auto work = [&](index_t t) {
      const index_t s0 = slivers * t / tasks, s1 = slivers * (t + 1) / tasks;
      for (index_t pc = 0; pc < K; pc += policy::kc) {
        const index_t kc = std::min<index_t>(policy::kc, K - pc);
        quant_detail::pack_b_int8_slivers<A, NR>(b, K, N, pc, kc, s0, s1, sliver_stride(pc), data_.data() + block_offset(pc));
        // Zero k-groups up to the k-block's padded depth (AMX tiles read whole 64-k rows).
        const index_t pad_bytes = NR * (quant_detail::round_up(kc, k_pad) - quant_detail::round_up(kc, 4));
        for (index_t s = s0; s < s1 && pad_bytes > 0; ++s)
          std::memset(data_.data() + block_offset(pc) + s * sliver_stride(pc) + NR * quant_detail::round_up(kc, 4), 0,
                      static_cast<std::size_t>(pad_bytes));
      }
      column_sums(s0, s1);
    };
    if (tasks <= 1 || K * N < 64 * 1024) {
      for (index_t t = 0; t < tasks; ++t) work(t);
    } else {
      exec.parallel_for(tasks, work);
    }
  }

  /// Column sums from the packed words: a dot with all-ones bytes adds each word's 4 bytes.
  void column_sums(index_t s0, index_t s1) {
    using A = typename policy::arch;
    using VI = simd::vec<std::int32_t, A>;
    constexpr int L = static_cast<int>(simd::lanes<std::int32_t, A>);
    constexpr int NV = policy::nr / L;
    const auto ones = simd::broadcast<A>(std::uint8_t{1});
    for (index_t s = s0; s < s1; ++s) {
      VI acc[NV];
      for (int v = 0; v < NV; ++v) acc[v] = simd::zero<std::int32_t, A>();
      for (index_t pc = 0; pc < rows_; pc += policy::kc) {
        const index_t groups = quant_detail::ceil_div(std::min<index_t>(policy::kc, rows_ - pc), 4);
        const std::int8_t* p = sliver(pc, s);
        for (index_t g = 0; g < groups; ++g)
          for (int v = 0; v < NV; ++v)
            acc[v] = simd::dot_u8s8(acc[v], ones, simd::load_aligned<A>(p + (g * policy::nr + v * L) * 4));
      }
      for (int v = 0; v < NV; ++v) simd::store_aligned(sums_.data() + s * policy::nr + v * L, acc[v]);
    }
  }

  static constexpr index_t sliver_gap = 256;
  static constexpr index_t k_pad = quant_detail::int8_k_pad_of<policy>;
  index_t rows_ = 0, cols_ = 0, padded_cols_ = 0;
  aligned_buffer<std::int8_t> data_;
  aligned_buffer<std::int32_t> sums_;
};

PACT_NAMESPACE_END
