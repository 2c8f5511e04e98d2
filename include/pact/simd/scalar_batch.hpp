#pragma once
// The scalar arch's vector: a 128-bit register emulated with plain arrays, so kernels
// written against pact::simd compile and run (and can be tested) on any target.
// Only element-wise operators live here; everything else goes through simd/ops_*.hpp.
#include <cstddef>
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "pact/simd/target.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

template <class T>
struct scalar_mask;

template <class T>
struct scalar_batch {
  static constexpr std::size_t size = 16 / sizeof(T);
  using value_type = T;
  T v[size];

  friend scalar_batch operator+(scalar_batch a, const scalar_batch& b) noexcept {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] + b.v[i]);
    return a;
  }
  friend scalar_batch operator-(scalar_batch a, const scalar_batch& b) noexcept {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] - b.v[i]);
    return a;
  }
  friend scalar_batch operator*(scalar_batch a, const scalar_batch& b) noexcept {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] * b.v[i]);
    return a;
  }
  friend scalar_batch operator/(scalar_batch a, const scalar_batch& b) noexcept {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] / b.v[i]);
    return a;
  }
  friend scalar_batch operator-(scalar_batch a) noexcept {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(-a.v[i]);
    return a;
  }
  // Integer lanes: bitwise ops and shifts (>> is arithmetic for signed T, as in xsimd).
  friend scalar_batch operator&(scalar_batch a, const scalar_batch& b) noexcept requires std::integral<T> {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] & b.v[i]);
    return a;
  }
  friend scalar_batch operator|(scalar_batch a, const scalar_batch& b) noexcept requires std::integral<T> {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] | b.v[i]);
    return a;
  }
  friend scalar_batch operator^(scalar_batch a, const scalar_batch& b) noexcept requires std::integral<T> {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] ^ b.v[i]);
    return a;
  }
  friend scalar_batch operator<<(scalar_batch a, int n) noexcept requires std::integral<T> {
    using U = std::make_unsigned_t<T>;
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(static_cast<U>(a.v[i]) << n);
    return a;
  }
  friend scalar_batch operator>>(scalar_batch a, int n) noexcept requires std::integral<T> {
    for (std::size_t i = 0; i < size; ++i) a.v[i] = static_cast<T>(a.v[i] >> n);
    return a;
  }
  scalar_batch& operator+=(const scalar_batch& b) noexcept { return *this = *this + b; }
  scalar_batch& operator-=(const scalar_batch& b) noexcept { return *this = *this - b; }
  scalar_batch& operator*=(const scalar_batch& b) noexcept { return *this = *this * b; }
};

template <class T>
struct scalar_mask {
  static constexpr std::size_t size = 16 / sizeof(T);
  bool v[size];
};

}  // namespace simd
PACT_NAMESPACE_END
