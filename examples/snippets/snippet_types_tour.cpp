// [snippet types_tour]
#include <pact/types/types.hpp>

#include <array>
#include <cstdio>

int main() {
  // fp8 with both overflow modes.
  const pact::fp8_e4m3 a(1000.0f);                                    // saturates to 448
  const pact::fp8_e4m3 b(1000.0f, pact::fp8_overflow::to_nan_or_inf);  // NaN
  std::printf("%g %g\n", static_cast<float>(a), static_cast<float>(b));  // 448 nan

  // An MX-style block: shared scale from the block's largest magnitude, FP4 elements.
  const std::array<float, 4> block{0.3f, -1.2f, 2.6f, 0.05f};
  // floor(log2(2.6)) = 1; FP4's largest power of two is 2^2, so the scale is 2^(1 - 2).
  const pact::e8m0 scale = pact::e8m0_from_exponent(pact::e8m0_from_float_floor_log2(2.6f).exponent() - 2);
  for (float x : block) {
    const pact::fp4_e2m1 q(x / pact::e8m0_to_float(scale));
    std::printf("%g -> %g\n", x, static_cast<float>(q) * pact::e8m0_to_float(scale));
  }

  // int4: 5 values in 3 bytes, the last high nibble is 0.
  const std::array<std::int8_t, 5> values{-8, 7, 0, -1, 3};
  std::array<pact::int4x2, pact::packed_int4_size(5)> packed{};
  const bool ok = pact::pack_s4_span(values, packed);
  std::printf("%d %02x %02x %02x\n", ok, packed[0].bits, packed[1].bits, packed[2].bits);  // 1 78 f0 03
}
// [/snippet types_tour]
