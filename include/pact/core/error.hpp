#pragma once
// pact's error convention: every *checked* entry point validates its arguments and throws
// pact::error (derived from std::invalid_argument) with a code and a sentence naming the
// argument. Hot internal paths (microkernels, packing, detail::) assume validated input
// and never throw. See docs/errors.md.
//
// pact::error sits outside the per-target inline namespace so that an error thrown by
// code compiled for one ISA is caught by the same type everywhere (runtime dispatch).
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace pact {

enum class errc {
  invalid_shape,      ///< a dimension is negative/zero where not allowed, or shapes disagree
  null_pointer,       ///< null data with a non-zero extent
  bad_stride,         ///< a stride / leading dimension too small or not positive
  size_overflow,      ///< an extent product or byte size overflows
  aliasing,           ///< an output overlaps an input it must not
  invalid_argument,   ///< any other out-of-range parameter
  invalid_data,       ///< malformed input bytes (e.g. NaN scale in a quantized block)
};

inline const char* to_string(errc c) noexcept {
  switch (c) {
    case errc::invalid_shape: return "invalid_shape";
    case errc::null_pointer: return "null_pointer";
    case errc::bad_stride: return "bad_stride";
    case errc::size_overflow: return "size_overflow";
    case errc::aliasing: return "aliasing";
    case errc::invalid_argument: return "invalid_argument";
    case errc::invalid_data: return "invalid_data";
  }
  return "unknown";
}

class error : public std::invalid_argument {
 public:
  error(errc code, const std::string& what) : std::invalid_argument("pact: " + what), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace pact

#include "pact/simd/target.hpp"

PACT_NAMESPACE_BEGIN
namespace detail {

/// Throw pact::error(code, message) unless cond holds.
inline void require(bool cond, errc code, const char* message) {
  if (!cond) throw error(code, message);
}

/// a * b, or a size_overflow error naming `what`.
inline std::size_t checked_mul(std::size_t a, std::size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) {
    throw error(errc::size_overflow, std::string(what) + ": size overflows");
  }
  return a * b;
}

}  // namespace detail
PACT_NAMESPACE_END
