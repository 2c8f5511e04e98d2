#pragma once
// GGUF / ggml-compatible quantized blocks, byte-identical to ggml's `ggml-common.h`
// (block_q8_0, block_q4_0, block_q4_1, block_q4_K, block_q6_K, block_q8_K, block_mxfp4).
// Every struct is a plain aggregate of bytes and 2/4-byte little-endian scalars, so a GGUF
// tensor blob reinterpreted as an array of these blocks (after the checks in
// quant/untrusted.hpp) reads exactly what ggml reads. The static_asserts below pin sizes
// AND offsets: a block layout must never change with the compiler or -march.
//
// Notation: "element j" is the j-th float of the block (row order). fp16 is IEEE binary16.

#include <pact/simd/target.hpp>
#include <pact/types/e8m0.hpp>
#include <pact/types/fp16.hpp>

#include <cstddef>
#include <cstdint>

PACT_NAMESPACE_BEGIN
namespace quant {

/// Elements per superblock of the K-quants (ggml's QK_K).
inline constexpr std::size_t qk_k = 256;

/// Q8_0: 32 elements, value_j = d * qs[j]. 34 bytes (8.5 bits/element).
struct block_q8_0 {
  static constexpr std::size_t elems = 32;
  fp16 d;              // offset 0: scale
  std::int8_t qs[32];  // offset 2: element j at byte 2 + j
};

/// Q4_0: 32 elements, value_j = d * (nibble_j - 8). 18 bytes (4.5 bits/element).
/// Byte qs[j] holds element j in its low nibble and element j + 16 in its high nibble.
struct block_q4_0 {
  static constexpr std::size_t elems = 32;
  fp16 d;               // offset 0
  std::uint8_t qs[16];  // offset 2
};

/// Q4_1: 32 elements, value_j = d * nibble_j + m. 20 bytes (5 bits/element).
/// Nibble order as Q4_0 (qs[j] = element j | element j + 16 << 4).
struct block_q4_1 {
  static constexpr std::size_t elems = 32;
  fp16 d;               // offset 0: scale
  fp16 m;               // offset 2: minimum (added)
  std::uint8_t qs[16];  // offset 4
};

/// Q4_K: 256 elements in 8 sub-blocks of 32, value = d * sc_s * q - dmin * m_s with a 4-bit q
/// and 6-bit sub-block scale sc_s / min m_s. 144 bytes (4.5 bits/element).
///   scales[12] packs the eight (sc, m) pairs, 6 bits each:
///     s < 4:  sc_s = scales[s] & 63,  m_s = scales[s + 4] & 63
///     s >= 4: sc_s = (scales[s + 4] & 0xF) | (scales[s - 4] >> 6) << 4
///             m_s  = (scales[s + 4] >> 4)  | (scales[s]     >> 6) << 4
///   qs[128]: 4 chunks of 64 elements; chunk c uses qs[32c .. 32c+31]: the low nibble of
///   qs[32c + l] is element 64c + l (sub-block 2c), the high nibble element 64c + 32 + l
///   (sub-block 2c + 1).
struct block_q4_K {
  static constexpr std::size_t elems = qk_k;
  fp16 d;                    // offset 0: super-scale of the sub-block scales
  fp16 dmin;                 // offset 2: super-scale of the sub-block mins
  std::uint8_t scales[12];   // offset 4
  std::uint8_t qs[128];      // offset 16
};

/// Q6_K: 256 elements in 16 sub-blocks of 16, value = d * scales[s] * (q - 32), q 6-bit.
/// 210 bytes (6.5625 bits/element). Two halves of 128 elements; half h uses ql[64h ..],
/// qh[32h ..], scales[8h ..]. Within a half, for l in [0, 32):
///   element 128h + l      : low 4 bits = ql[64h + l] & 0xF,      high 2 = qh[32h + l] >> 0 & 3
///   element 128h + l + 32 : low 4 bits = ql[64h + l + 32] & 0xF, high 2 = qh[32h + l] >> 2 & 3
///   element 128h + l + 64 : low 4 bits = ql[64h + l] >> 4,       high 2 = qh[32h + l] >> 4 & 3
///   element 128h + l + 96 : low 4 bits = ql[64h + l + 32] >> 4,  high 2 = qh[32h + l] >> 6 & 3
/// and element e belongs to sub-block e / 16.
struct block_q6_K {
  static constexpr std::size_t elems = qk_k;
  std::uint8_t ql[128];     // offset 0
  std::uint8_t qh[64];      // offset 128
  std::int8_t scales[16];   // offset 192
  fp16 d;                   // offset 208
};

/// Q8_K: the activation format the K-quant dot products consume. value_j = d * qs[j];
/// bsums[g] = sum of qs[16g .. 16g+15] (lets a kernel apply the Q4_K mins without
/// touching the quants). 292 bytes.
struct block_q8_K {
  static constexpr std::size_t elems = qk_k;
  float d;                   // offset 0 (float32, not fp16)
  std::int8_t qs[256];       // offset 4
  std::int16_t bsums[16];    // offset 260
};

/// ggml's MXFP4 block (GGML_TYPE_MXFP4): 32 E2M1 elements sharing one E8M0 scale.
/// value_j = e2m1(nibble_j) * 2^(e - 127). 17 bytes. Nibble order as Q4_0: qs[j] holds
/// element j (low) and element j + 16 (high). ggml computes the same value as
/// kvalues_mxfp4[nibble] * 2^(e - 128), its table holding the doubled E2M1 values
/// {0, 1, 2, 3, 4, 6, 8, 12, -0, -1, ...} (integers) and its scale helper halving 2^(e-127).
/// Note: this differs from pact's OCP mx_block_fp4 (quant/formats/mx_blocks.hpp) only in the
/// nibble order and in the quantizer's tie rule (see docs/quant.md).
struct block_mxfp4 {
  static constexpr std::size_t elems = 32;
  e8m0 e;                // offset 0
  std::uint8_t qs[16];   // offset 1
};

/// ggml's doubled E2M1 table (exact small integers): value = kvalues_mxfp4[code] * 2^(e-128).
inline constexpr std::int8_t kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12,
                                                  0, -1, -2, -3, -4, -6, -8, -12};

static_assert(sizeof(block_q8_0) == 34 && alignof(block_q8_0) == 2);
static_assert(offsetof(block_q8_0, d) == 0 && offsetof(block_q8_0, qs) == 2);
static_assert(sizeof(block_q4_0) == 18 && alignof(block_q4_0) == 2);
static_assert(offsetof(block_q4_0, d) == 0 && offsetof(block_q4_0, qs) == 2);
static_assert(sizeof(block_q4_1) == 20 && alignof(block_q4_1) == 2);
static_assert(offsetof(block_q4_1, d) == 0 && offsetof(block_q4_1, m) == 2 &&
              offsetof(block_q4_1, qs) == 4);
static_assert(sizeof(block_q4_K) == 144 && alignof(block_q4_K) == 2);
static_assert(offsetof(block_q4_K, d) == 0 && offsetof(block_q4_K, dmin) == 2 &&
              offsetof(block_q4_K, scales) == 4 && offsetof(block_q4_K, qs) == 16);
static_assert(sizeof(block_q6_K) == 210 && alignof(block_q6_K) == 2);
static_assert(offsetof(block_q6_K, ql) == 0 && offsetof(block_q6_K, qh) == 128 &&
              offsetof(block_q6_K, scales) == 192 && offsetof(block_q6_K, d) == 208);
static_assert(sizeof(block_q8_K) == 292 && alignof(block_q8_K) == 4);
static_assert(offsetof(block_q8_K, d) == 0 && offsetof(block_q8_K, qs) == 4 &&
              offsetof(block_q8_K, bsums) == 260);
static_assert(sizeof(block_mxfp4) == 17 && alignof(block_mxfp4) == 1);
static_assert(offsetof(block_mxfp4, e) == 0 && offsetof(block_mxfp4, qs) == 1);

}  // namespace quant
PACT_NAMESPACE_END
