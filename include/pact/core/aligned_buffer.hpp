#pragma once
// A heap array aligned for SIMD and cache lines: packed GEMM panels, scratch tiles.
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

#include "pact/core/error.hpp"

PACT_NAMESPACE_BEGIN

/// 64 bytes: one cache line and one AVX-512 register, so aligned loads never split.
inline constexpr std::size_t default_alignment = 64;

template <class T, std::size_t Alignment = default_alignment>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "aligned_buffer holds trivially copyable elements");
  static_assert((Alignment & (Alignment - 1)) == 0 && Alignment >= alignof(T));

 public:
  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t count) { resize(count); }

  /// Grow (never shrink) to hold at least `count` elements; contents are not preserved.
  void reserve_discard(std::size_t count) {
    if (count > capacity_) resize(count);
  }

  /// Reallocate to exactly `count` elements (uninitialized).
  void resize(std::size_t count) {
    if (count == 0) {
      data_.reset();
      size_ = capacity_ = 0;
      return;
    }
    std::size_t bytes = detail::checked_mul(count, sizeof(T), "aligned_buffer");
    bytes = (bytes + Alignment - 1) / Alignment * Alignment;
    if (bytes < count * sizeof(T)) throw error(errc::size_overflow, "aligned_buffer: size overflows");
    void* p = std::aligned_alloc(Alignment, bytes);
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<T*>(p));
    size_ = capacity_ = count;
  }

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_.get()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_.get()[i]; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }

 private:
  struct free_deleter {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T, free_deleter> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

PACT_NAMESPACE_END
