// docs/types.md's fp16 API snippet, with its values checked.
#include <cstdint>
#include <cstdio>

#include <pact/types/types.hpp>

#include "snippet_check.hpp"

int main() {
  // [snippet types_fp16]
  const std::uint16_t bits = pact::float_to_fp16_bits(1.5f);  // encode, round to nearest even
  const float back = pact::fp16_bits_to_float(bits);          // decode, exact
  pact::fp16 h(1.5f);                      // explicit, same rounding as float_to_fp16_bits
  pact::fp16 g = pact::fp16::from_bits(0x3E00);
  float f = static_cast<float>(h);         // explicit, exact
  // [/snippet types_fp16]
  snippet::require(bits == 0x3E00 && back == 1.5f && h.bits == g.bits && f == 1.5f, "fp16 of 1.5");
  snippet::require(pact::float_to_fp16_bits(1.0f + 1.0f / 4096) == 0x3C00, "ties round to even");
  std::puts("fp16 snippet: ok");
  return 0;
}
