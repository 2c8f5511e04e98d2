#pragma once
// A zeroed heap array that asks the OS for 2 MiB pages when it is at least that large: for
// big pools read in scattered pieces (paged KV caches), where 4 KiB pages cost a TLB miss
// per jump. On Linux the request is madvise(MADV_HUGEPAGE) before the first touch, so it
// also works where transparent huge pages are enabled only on request ("madvise", Debian's
// default); elsewhere, or when the kernel declines, the buffer is an ordinary allocation.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "pact/core/error.hpp"

PACT_NAMESPACE_BEGIN

template <class T>
class huge_page_buffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_default_constructible_v<T>,
                "huge_page_buffer holds trivial elements (zero bytes are their value)");

 public:
  static constexpr std::size_t huge_page = std::size_t{2} << 20;

  huge_page_buffer() = default;
  /// count zero elements. Errors: size_overflow; std::bad_alloc.
  explicit huge_page_buffer(std::size_t count) {
    if (count == 0) return;
    const std::size_t bytes = detail::checked_mul(count, sizeof(T), "huge_page_buffer");
    const std::size_t align = bytes >= huge_page ? huge_page : 64;
    const std::size_t rounded = (bytes + align - 1) / align * align;
    if (rounded < bytes) throw error(errc::size_overflow, "huge_page_buffer: size overflows");
    void* p = std::aligned_alloc(align, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == huge_page) (void)madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure is fine
#endif
    std::memset(p, 0, rounded);
    data_.reset(static_cast<T*>(p));
    size_ = count;
  }

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  struct free_deleter {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T, free_deleter> data_;
  std::size_t size_ = 0;
};

PACT_NAMESPACE_END
