#pragma once
// Fused epilogues: applied to each finished tile of C (after alpha*AB + beta*C) right
// after the tile is stored, while it is in L1, so bias / activation / residual cost no
// extra pass over memory. An epilogue must not read C (gemm() checks residual_add).
// An epilogue is any type with
//     template <class V> V operator()(V x, index_t row, index_t col, int n) const;
// where x holds C(row, col .. col+n-1) in its first n lanes (lanes >= n are don't-care).
// `custom` adapts a user functor (vector or scalar form); `chain` composes epilogues.
#include <cmath>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace epilogue {

/// Identity (no epilogue).
struct none {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    return x;
  }
};

/// x + bias[row] (one value per output row, e.g. per output channel of W * X).
template <class T>
struct bias_per_row {
  const T* bias;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t row, index_t, int) const noexcept {
    return x + simd::broadcast<simd::arch_of<V>>(static_cast<typename V::value_type>(bias[row]));
  }
};

/// x + bias[col] (one value per output column: the usual Linear-layer bias of X * W^T).
template <class T>
struct bias_per_col {
  const T* bias;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t col, int n) const noexcept {
    using A = simd::arch_of<V>;
    return x + simd::load_partial<A>(bias + col, static_cast<std::size_t>(n));
  }
};

/// max(x, 0); NaN stays NaN.
struct relu {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    using A = simd::arch_of<V>;
    const V zero = simd::zero<typename V::value_type, A>();
    return simd::select(simd::cmp_lt(x, zero), zero, x);
  }
};

/// x * sigmoid(x) = x / (1 + exp(-x)).
struct silu {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    using A = simd::arch_of<V>;
    const V one = simd::broadcast<A>(1.0f);
    return x / (one + simd::exp(-x));
  }
};

/// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
struct gelu_tanh {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    using A = simd::arch_of<V>;
    const V inner = simd::broadcast<A>(0.7978845608028654f) * simd::fma(simd::broadcast<A>(0.044715f) * x, x * x, x);
    return simd::broadcast<A>(0.5f) * x * (simd::broadcast<A>(1.0f) + simd::tanh(inner));
  }
};

/// GELU, exact: 0.5 x (1 + erf(x / sqrt(2))).
struct gelu_erf {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    using A = simd::arch_of<V>;
    return simd::broadcast<A>(0.5f) * x *
           (simd::broadcast<A>(1.0f) + simd::erf(x * simd::broadcast<A>(0.70710678118654752f)));
  }
};

/// x * factor.
template <class T>
struct scale {
  T factor;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    return x * simd::broadcast<simd::arch_of<V>>(static_cast<typename V::value_type>(factor));
  }
};

/// min(max(x, lo), hi).
template <class T>
struct clamp {
  T lo, hi;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t, index_t, int) const noexcept {
    using A = simd::arch_of<V>;
    using E = typename V::value_type;
    return simd::min(simd::max(x, simd::broadcast<A>(static_cast<E>(lo))), simd::broadcast<A>(static_cast<E>(hi)));
  }
};

/// x + R(row, col): a residual connection from another matrix of C's shape.
template <class T>
struct residual_add {
  matrix_view<const T, strided> residual;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t row, index_t col, int n) const noexcept {
    using A = simd::arch_of<V>;
    const T* r = residual.data() + row * residual.row_stride() + col * residual.col_stride();
    if (residual.col_stride() == 1) return x + simd::load_partial<A>(r, static_cast<std::size_t>(n));
    alignas(64) T buf[simd::lanes<T, A>] = {};
    for (int j = 0; j < n; ++j) buf[j] = r[j * residual.col_stride()];
    return x + simd::load_aligned<A>(buf);
  }
};

/// A user functor: either vector form f(V x, row, col, n) -> V, or scalar form
/// f(T x, row, col) -> T applied per valid lane (slower, but any code works).
template <class F>
struct custom {
  F f;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t row, index_t col, int n) const {
    if constexpr (std::is_invocable_r_v<V, const F&, V, index_t, index_t, int>) {
      return f(x, row, col, n);
    } else {
      using A = simd::arch_of<V>;
      using T = typename V::value_type;
      alignas(64) T buf[simd::lanes<T, A>];
      simd::store_aligned(buf, x);
      for (int j = 0; j < n; ++j) buf[j] = static_cast<T>(f(buf[j], row, col + j));
      return simd::load_aligned<A>(buf);
    }
  }
};
template <class F>
custom(F) -> custom<F>;

/// Applies E0, then E1, ... (e.g. chain{bias_per_col<float>{b}, gelu_erf{}}).
template <class... E>
struct chain {
  std::tuple<E...> stages;
  constexpr chain(E... e) : stages(e...) {}  // NOLINT(google-explicit-constructor)
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t row, index_t col, int n) const {
    std::apply([&](const auto&... s) { ((x = s(x, row, col, n)), ...); }, stages);
    return x;
  }
};

}  // namespace epilogue

/// What an epilogue must look like (checked on the arch's float vector).
template <class E, class V>
concept epilogue_for = requires(const E& e, V x, index_t i) {
  { e(x, i, i, 1) } -> std::convertible_to<V>;
};

/// Whether an epilogue reads memory overlapping `out`. The epilogue runs on each C tile
/// right after it is stored (store_tile.hpp), so one that read C would see the new values:
/// gemm() rejects it (errc::aliasing). To add C itself, use beta = 1.
template <class E, class T, class L>
bool epilogue_reads(const E&, const matrix_view<T, L>&) noexcept {
  return false;
}
template <class R, class T, class L>
bool epilogue_reads(const epilogue::residual_add<R>& e, const matrix_view<T, L>& out) noexcept {
  return overlaps(e.residual, out);
}
template <class... E, class T, class L>
bool epilogue_reads(const epilogue::chain<E...>& e, const matrix_view<T, L>& out) noexcept {
  return std::apply([&](const auto&... s) { return (epilogue_reads(s, out) || ...); }, e.stages);
}

PACT_NAMESPACE_END
