#pragma once
// Packed 4-bit integers, two per byte: element 0 (the first in memory order) is the low
// nibble, element 1 the high nibble, so element i sits in byte i / 2 on every target.
// Signed values are two's complement nibbles in [-8, 7]; unsigned values are [0, 15].
// (Formats with another order, e.g. llama.cpp Q4_0 pairing j with j + 16, reorder first.)
//
// Packing saturates: a value out of range becomes the nearest end of the range instead of
// silently wrapping to another number. Bulk functions write nothing on a size mismatch
// and return false (this layer has no error type): the packed span must hold exactly
// ceil(n / 2) bytes, and for odd n the last high nibble is written as 0.

#include <pact/simd/target.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

PACT_NAMESPACE_BEGIN

struct int4x2 {
  std::uint8_t bits;
};

static_assert(sizeof(int4x2) == 1);

// Bytes needed to pack `count` 4-bit values.
constexpr std::size_t packed_int4_size(std::size_t count) noexcept { return (count + 1) / 2; }

constexpr int saturate_s4(int value) noexcept { return value < -8 ? -8 : (value > 7 ? 7 : value); }
constexpr int saturate_u4(int value) noexcept { return value < 0 ? 0 : (value > 15 ? 15 : value); }

// ---- signed ----

constexpr int4x2 pack_s4(int lo, int hi) noexcept {
  // & 0xF keeps the two's complement nibble of the (already in range) value.
  const unsigned lo_nibble = static_cast<unsigned>(saturate_s4(lo)) & 0xFu;
  const unsigned hi_nibble = static_cast<unsigned>(saturate_s4(hi)) & 0xFu;
  return int4x2{static_cast<std::uint8_t>(lo_nibble | (hi_nibble << 4))};
}

// Sign extension of a nibble: flipping bit 3 and subtracting 8 maps 0..7 to 0..7 and
// 8..15 to -8..-1, with no branch and no implementation-defined shift.
constexpr int unpack_s4_lo(int4x2 packed) noexcept { return static_cast<int>((packed.bits & 0xFu) ^ 0x8u) - 8; }
constexpr int unpack_s4_hi(int4x2 packed) noexcept { return static_cast<int>((packed.bits >> 4) ^ 0x8u) - 8; }

// ---- unsigned ----

constexpr int4x2 pack_u4(int lo, int hi) noexcept {
  const unsigned lo_nibble = static_cast<unsigned>(saturate_u4(lo));
  const unsigned hi_nibble = static_cast<unsigned>(saturate_u4(hi));
  return int4x2{static_cast<std::uint8_t>(lo_nibble | (hi_nibble << 4))};
}

constexpr int unpack_u4_lo(int4x2 packed) noexcept { return packed.bits & 0xF; }
constexpr int unpack_u4_hi(int4x2 packed) noexcept { return packed.bits >> 4; }

// ---- bulk: values.size() elements <-> packed_int4_size(values.size()) bytes ----

constexpr bool pack_s4_span(std::span<const std::int8_t> values, std::span<int4x2> packed) noexcept {
  if (packed.size() != packed_int4_size(values.size())) return false;
  const std::size_t pairs = values.size() / 2;
  for (std::size_t i = 0; i < pairs; ++i) packed[i] = pack_s4(values[2 * i], values[2 * i + 1]);
  if (values.size() % 2 != 0) packed[pairs] = pack_s4(values.back(), 0);
  return true;
}

constexpr bool unpack_s4_span(std::span<const int4x2> packed, std::span<std::int8_t> values) noexcept {
  if (packed.size() != packed_int4_size(values.size())) return false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int4x2 byte = packed[i / 2];
    values[i] = static_cast<std::int8_t>(i % 2 == 0 ? unpack_s4_lo(byte) : unpack_s4_hi(byte));
  }
  return true;
}

constexpr bool pack_u4_span(std::span<const std::uint8_t> values, std::span<int4x2> packed) noexcept {
  if (packed.size() != packed_int4_size(values.size())) return false;
  const std::size_t pairs = values.size() / 2;
  for (std::size_t i = 0; i < pairs; ++i) packed[i] = pack_u4(values[2 * i], values[2 * i + 1]);
  if (values.size() % 2 != 0) packed[pairs] = pack_u4(values.back(), 0);
  return true;
}

constexpr bool unpack_u4_span(std::span<const int4x2> packed, std::span<std::uint8_t> values) noexcept {
  if (packed.size() != packed_int4_size(values.size())) return false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int4x2 byte = packed[i / 2];
    values[i] = static_cast<std::uint8_t>(i % 2 == 0 ? unpack_u4_lo(byte) : unpack_u4_hi(byte));
  }
  return true;
}

PACT_NAMESPACE_END
