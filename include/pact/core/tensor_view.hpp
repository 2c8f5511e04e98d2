#pragma once
// tensor_view<T, Rank>: a pointer with Rank extents and element strides (mdspan's
// layout_stride). Attention and MoE use it for (batch, heads, seq, dim)-shaped data.
#include <array>
#include <cstddef>
#include <string>

#include "pact/core/matrix_view.hpp"

PACT_NAMESPACE_BEGIN

template <class T, std::size_t Rank>
class tensor_view {
 public:
  using element_type = T;
  static constexpr std::size_t rank = Rank;

  constexpr tensor_view() = default;
  /// Strided view.
  constexpr tensor_view(T* data, const std::array<index_t, Rank>& extents, const std::array<index_t, Rank>& strides) noexcept
      : data_(data), extents_(extents), strides_(strides) {}
  /// Dense, last index fastest (C order).
  constexpr tensor_view(T* data, const std::array<index_t, Rank>& extents) noexcept : data_(data), extents_(extents) {
    index_t s = 1;
    for (std::size_t d = Rank; d-- > 0;) {
      strides_[d] = s;
      s *= extents_[d];
    }
  }
  template <class U>
    requires std::is_convertible_v<U*, T*>
  constexpr tensor_view(const tensor_view<U, Rank>& o) noexcept  // NOLINT(google-explicit-constructor)
      : data_(o.data()), extents_(o.extents()), strides_(o.strides()) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr index_t extent(std::size_t d) const noexcept { return extents_[d]; }
  constexpr index_t stride(std::size_t d) const noexcept { return strides_[d]; }
  constexpr const std::array<index_t, Rank>& extents() const noexcept { return extents_; }
  constexpr const std::array<index_t, Rank>& strides() const noexcept { return strides_; }
  constexpr index_t size() const noexcept {
    index_t n = 1;
    for (auto e : extents_) n *= e;
    return n;
  }
  template <class... I>
    requires(sizeof...(I) == Rank)
  constexpr T& operator()(I... idx) const noexcept {
    const std::array<index_t, Rank> ix{static_cast<index_t>(idx)...};
    // Pointer steps, not one integer sum of index x stride products: at -O2 GCC 12's
    // basic-block SLP vectorizer turned that sum into a 64-bit vector multiply (vpmullq)
    // and a horizontal add, and the attention decode kernel, which forms row addresses
    // per key, ran 3x slower at -O2 than at -O3.
    T* p = data_;
    for (std::size_t d = 0; d < Rank; ++d) p += ix[d] * strides_[d];
    return *p;
  }

 private:
  T* data_ = nullptr;
  std::array<index_t, Rank> extents_{};
  std::array<index_t, Rank> strides_{};
};

/// Checks extents >= 0, non-null when non-empty, strides > 0, and no overflow.
template <class T, std::size_t Rank>
void validate(const tensor_view<T, Rank>& v, const char* what) {
  using std::string;
  std::size_t span = 1;
  bool empty = false;
  for (std::size_t d = 0; d < Rank; ++d) {
    if (v.extent(d) < 0) throw error(errc::invalid_shape, string(what) + ": negative extent");
    if (v.extent(d) == 0) empty = true;
  }
  if (empty) return;
  if (v.data() == nullptr) throw error(errc::null_pointer, string(what) + ": null data with non-zero extent");
  for (std::size_t d = 0; d < Rank; ++d) {
    if (v.stride(d) <= 0 && v.extent(d) > 1) throw error(errc::bad_stride, string(what) + ": strides must be positive");
    span += detail::checked_mul(static_cast<std::size_t>(v.extent(d) - 1), static_cast<std::size_t>(v.stride(d) > 0 ? v.stride(d) : 0), what);
    if (span > static_cast<std::size_t>(PTRDIFF_MAX)) throw error(errc::size_overflow, string(what) + ": size overflows");
  }
}

PACT_NAMESPACE_END
