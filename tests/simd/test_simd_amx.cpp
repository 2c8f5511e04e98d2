// Intel AMX tiles (simd/ops_amx.hpp): both tile configurations, called out of line, then
// one product checked against a plain loop. Skipped when AMX is not compiled in or the OS
// does not grant the tile state.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "pact/simd/ops_amx.hpp"

namespace amx = pact::simd::amx;

#if defined(PACT_HAS_AMX_INT8)
namespace {
// Through a volatile pointer, so the compiler emits and calls the out-of-line copy: g++ 12
// at -O3 once dropped that copy's stores of the configuration before ldtilecfg (#GP).
using configure_fn = void (*)() noexcept;
void call_out_of_line(configure_fn f) {
  volatile configure_fn v = f;
  v();
}
}  // namespace

TEST(SimdAmx, Configure16x64OutOfLineThenProduct) {
  if (!amx::tiles_ready()) GTEST_SKIP() << "the OS did not grant the AMX tile state";
  std::mt19937 g(7);
  alignas(64) std::uint8_t a[16][64];
  alignas(64) std::int8_t b[16][64];
  alignas(64) std::int32_t c[16][16];
  for (auto& row : a)
    for (auto& x : row) x = static_cast<std::uint8_t>(g());
  for (auto& row : b)
    for (auto& x : row) x = static_cast<std::int8_t>(g());
  call_out_of_line(&amx::configure_16x64);
  amx::zero<0>();
  amx::load<4>(a, 64);
  amx::load<6>(b, 64);
  amx::dp_u8s8<0, 4, 6>();
  amx::store<0>(c, 64);
  amx::release();
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      std::int32_t ref = 0;
      for (int gq = 0; gq < 16; ++gq)
        for (int t = 0; t < 4; ++t) ref += static_cast<std::int32_t>(a[i][4 * gq + t]) * b[gq][4 * j + t];
      ASSERT_EQ(c[i][j], ref) << "i=" << i << " j=" << j;
    }
}

TEST(SimdAmx, Configure32kBlocksOutOfLineThenProduct) {
  if (!amx::tiles_ready()) GTEST_SKIP() << "the OS did not grant the AMX tile state";
  std::mt19937 g(11);
  alignas(64) std::int8_t a[16][32];
  alignas(64) std::uint8_t b[8][128];  // 8 rows of 64 bytes read with a 128-byte stride
  alignas(64) std::int32_t c[16][16];
  for (auto& row : a)
    for (auto& x : row) x = static_cast<std::int8_t>(g());
  for (auto& row : b)
    for (auto& x : row) x = static_cast<std::uint8_t>(g());
  call_out_of_line(&amx::configure_32k_blocks);
  amx::zero<1>();
  amx::load<4>(a, 32);
  amx::load<7>(&b[0][64], 128);
  amx::dp_s8u8<1, 4, 7>();
  amx::store<1>(c, 64);
  amx::release();
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      std::int32_t ref = 0;
      for (int gq = 0; gq < 8; ++gq)
        for (int t = 0; t < 4; ++t) ref += static_cast<std::int32_t>(a[i][4 * gq + t]) * b[gq][64 + 4 * j + t];
      ASSERT_EQ(c[i][j], ref) << "i=" << i << " j=" << j;
    }
}
#else
TEST(SimdAmx, NotCompiled) { EXPECT_FALSE(amx::tiles_ready()); }
#endif
