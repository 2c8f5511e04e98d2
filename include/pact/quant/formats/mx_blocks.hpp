#pragma once
// OCP Microscaling (MX v1.0) blocks: 32 elements sharing one E8M0 scale X = 2^(e - 127);
// value_j = X * element_j. The spec fixes the scale and element encodings but not a
// memory layout; pact's layout is one scale byte followed by the packed elements:
//
//   format          element     bytes  element storage (after the scale byte)
//   mx_block_fp8_e4m3  E4M3      33     q[j] = code of element j
//   mx_block_fp8_e5m2  E5M2      33     q[j] = code of element j
//   mx_block_fp6_e2m3  E2M3      25     packed[24]: 6-bit codes, little-endian bit stream:
//   mx_block_fp6_e3m2  E3M2      25       element j occupies bits [6j, 6j + 6) of the stream
//                                          whose bit b is (packed[b / 8] >> (b % 8)) & 1,
//                                          i.e. every 3 bytes hold 4 elements.
//   mx_block_fp4       E2M1      17     packed[16]: packed[i] = element 2i | element 2i+1 << 4
//                                       (consecutive pairs; ggml's block_mxfp4 instead pairs
//                                       j with j + 16)
//   mx_block_int8      INT8      33     q[j] = two's complement q_j, value_j = X * q_j / 64
//                                       (the spec's implicit 2^-6 element scale)
//
// Scale code 0xFF is NaN: the whole block decodes to NaN (spec), and the untrusted-bytes API
// rejects it (quant/untrusted.hpp).

#include <pact/simd/target.hpp>
#include <pact/types/e8m0.hpp>

#include <cstddef>
#include <cstdint>

PACT_NAMESPACE_BEGIN
namespace quant {

/// Elements per MX block (the spec's k).
inline constexpr std::size_t mx_block_elems = 32;

struct mx_block_fp8_e4m3 {
  static constexpr std::size_t elems = 32;
  e8m0 scale;               // offset 0
  std::uint8_t q[32];  // offset 1
};
struct mx_block_fp8_e5m2 {
  static constexpr std::size_t elems = 32;
  e8m0 scale;
  std::uint8_t q[32];
};
struct mx_block_fp6_e2m3 {
  static constexpr std::size_t elems = 32;
  e8m0 scale;
  std::uint8_t packed[24];
};
struct mx_block_fp6_e3m2 {
  static constexpr std::size_t elems = 32;
  e8m0 scale;
  std::uint8_t packed[24];
};
struct mx_block_fp4 {
  static constexpr std::size_t elems = 32;
  e8m0 scale;
  std::uint8_t packed[16];
};
struct mx_block_int8 {
  static constexpr std::size_t elems = 32;
  e8m0 scale;
  std::int8_t q[32];
};

static_assert(sizeof(mx_block_fp8_e4m3) == 33 && offsetof(mx_block_fp8_e4m3, q) == 1);
static_assert(sizeof(mx_block_fp8_e5m2) == 33 && offsetof(mx_block_fp8_e5m2, q) == 1);
static_assert(sizeof(mx_block_fp6_e2m3) == 25 && offsetof(mx_block_fp6_e2m3, packed) == 1);
static_assert(sizeof(mx_block_fp6_e3m2) == 25 && offsetof(mx_block_fp6_e3m2, packed) == 1);
static_assert(sizeof(mx_block_fp4) == 17 && offsetof(mx_block_fp4, packed) == 1);
static_assert(sizeof(mx_block_int8) == 33 && offsetof(mx_block_int8, q) == 1);
static_assert(alignof(mx_block_fp8_e4m3) == 1 && alignof(mx_block_fp6_e2m3) == 1 &&
              alignof(mx_block_fp4) == 1 && alignof(mx_block_int8) == 1);

/// Largest power-of-two exponent of each element type (the spec's emax_elem): the shared
/// exponent is floor(log2(amax)) - emax_elem.
inline constexpr int mx_emax_fp8_e4m3 = 8;   // 448 = 1.75 * 2^8
inline constexpr int mx_emax_fp8_e5m2 = 15;  // 57344 = 1.75 * 2^15
inline constexpr int mx_emax_fp6_e2m3 = 2;   // 7.5 = 1.875 * 2^2
inline constexpr int mx_emax_fp6_e3m2 = 4;   // 28 = 1.75 * 2^4
inline constexpr int mx_emax_fp4_e2m1 = 2;   // 6 = 1.5 * 2^2
inline constexpr int mx_emax_int8 = 0;       // 127/64 = 1.984375 * 2^0

}  // namespace quant
PACT_NAMESPACE_END
