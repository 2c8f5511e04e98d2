#pragma once
// Test-only reference for narrow binary floating-point formats, written plainly and
// independently of include/pact/types (no bit tricks, no shared code):
//  - decode: (-1)^s * 2^(e - bias) * (1 + m / 2^mbits) in double, subnormals 2^(1-bias) * m / 2^mbits;
//  - encode: a sorted table of every non-negative finite value (plus the first value past the
//    largest finite one, to decide overflow the way rounding would); pick the nearest entry
//    by |x - v| in double, ties to the even code; the caller applies its NaN/Inf/overflow rule.
// Plus the float32 inputs every encode test runs over, and a mismatch counter that reports
// the first few failures instead of flooding the log.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ref {

struct format {
  const char* name;
  int exp_bits;
  int mant_bits;
  int bias;
  std::uint32_t max_finite_code;  // largest positive finite encoding (sign bit clear)
};

inline constexpr format bf16_format{"bf16", 8, 7, 127, 0x7F7F};
inline constexpr format fp16_format{"fp16", 5, 10, 15, 0x7BFF};
inline constexpr format e4m3_format{"fp8_e4m3", 4, 3, 7, 0x7E};
inline constexpr format e5m2_format{"fp8_e5m2", 5, 2, 15, 0x7B};
inline constexpr format e2m1_format{"fp4_e2m1", 2, 1, 1, 0x7};

// Value of a sign-less code, valid for every finite code and for max_finite_code + 1
// (read as if the exponent range went on).
inline double magnitude_value(const format& f, std::uint32_t code) {
  const std::uint32_t e = code >> f.mant_bits;
  const std::uint32_t m = code & ((1u << f.mant_bits) - 1u);
  const double fraction = std::ldexp(static_cast<double>(m), -f.mant_bits);
  if (e == 0) return std::ldexp(fraction, 1 - f.bias);
  return std::ldexp(1.0 + fraction, static_cast<int>(e) - f.bias);
}

// Signed value of a finite code (sign is the bit just above the magnitude).
inline double value(const format& f, std::uint32_t code) {
  const std::uint32_t sign_bit = 1u << (f.exp_bits + f.mant_bits);
  const double v = magnitude_value(f, code & (sign_bit - 1u));
  return (code & sign_bit) != 0 ? -v : v;
}

class nearest_encoder {
 public:
  explicit nearest_encoder(const format& f) : format_(f) {
    for (std::uint32_t c = 0; c <= f.max_finite_code + 1; ++c) values_.push_back(magnitude_value(f, c));
    // The table must be strictly increasing for a search to mean "nearest".
    for (std::size_t i = 1; i < values_.size(); ++i) EXPECT_LT(values_[i - 1], values_[i]) << f.name << " code " << i;
  }

  // Code nearest to a >= 0 (may be +inf), ties to the even code. A result above
  // max_finite_code means the value overflows after rounding.
  std::uint32_t magnitude_code(double a) const {
    if (a >= values_.back()) return format_.max_finite_code + 1;
    const auto above = std::upper_bound(values_.begin(), values_.end(), a);  // values_[0] = 0 <= a
    const auto hi = static_cast<std::uint32_t>(above - values_.begin());
    const std::uint32_t lo = hi - 1;
    const double below_distance = a - values_[lo];
    const double above_distance = values_[hi] - a;
    if (below_distance < above_distance) return lo;
    if (above_distance < below_distance) return hi;
    return lo % 2 == 0 ? lo : hi;
  }

  const std::vector<double>& values() const { return values_; }

 private:
  format format_;
  std::vector<double> values_;
};

// Sign, NaN-ness and rounded magnitude code of a float32 input; the format's own rule then
// maps NaN and overflow (code > max_finite_code, which includes +-Inf) to bits.
struct rounded {
  bool is_nan;
  bool negative;
  std::uint32_t code;
};

inline rounded round_to_format(const nearest_encoder& table, float x) {
  if (std::isnan(x)) return {true, std::signbit(x), 0};
  return {false, std::signbit(x), table.magnitude_code(std::fabs(static_cast<double>(x)))};
}

inline std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }
inline float float_of(std::uint32_t u) { return std::bit_cast<float>(u); }

// Float32 inputs for encode tests, each passed to `visit(float)`:
//  1. every representable value of the format, every midpoint between neighbours (including
//     the one between the largest finite value and the next power), each +-1 float32 ulp, both signs;
//  2. specials: +-0, +-Inf, quiet/signalling NaNs with assorted payloads, float32 extremes;
//  3. a sweep of 2^20 * 6 floats: every sign/exponent/top-8-mantissa-bit combination with the
//     low 12 bits in {0, 1, 0x7FF, 0x800, 0x801, 0xFFF} (exact, tie, just above/below a tie for
//     every format whose rounding point is at bit 12 or higher, i.e. all of them);
//  4. one million random bit patterns (fixed seed).
template <class Visit>
void for_each_test_float(const nearest_encoder& table, Visit&& visit) {
  const std::vector<double>& v = table.values();
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::vector<double> points = i + 1 < v.size() ? std::vector<double>{v[i], (v[i] + v[i + 1]) / 2}
                                                         : std::vector<double>{v[i]};
    for (double p : points) {
      if (p > std::numeric_limits<float>::max()) continue;  // bf16's 2^128
      const auto f = static_cast<float>(p);
      EXPECT_EQ(static_cast<double>(f), p) << "test point not exact in float32";
      for (float x : {f, std::nextafter(f, inf), std::nextafter(f, -inf)}) {
        visit(x);
        visit(-x);
      }
    }
  }
  for (std::uint32_t u : {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u,
                          0x7F800001u, 0xFF800001u, 0x7FBFFFFFu, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7F802000u,
                          0x7F801FFFu, 0x7FA00000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x00800000u, 0x00000001u,
                          0x80000001u, 0x007FFFFFu, 0x3F800000u, 0xBF800000u}) {
    visit(float_of(u));
  }
  for (std::uint32_t high = 0; high < (1u << 20); ++high) {
    for (std::uint32_t low : {0x000u, 0x001u, 0x7FFu, 0x800u, 0x801u, 0xFFFu}) visit(float_of((high << 12) | low));
  }
  std::mt19937 rng(20240531u);
  for (int i = 0; i < 1000000; ++i) visit(float_of(static_cast<std::uint32_t>(rng())));
}

// Counts mismatches; reports the first few with the input's bits.
class mismatch_log {
 public:
  explicit mismatch_log(std::string what) : what_(std::move(what)) {}
  // Input is a float32 (encode tests).
  void check(float input, std::uint32_t got, std::uint32_t want) {
    ++checked_;
    if (got == want || ++mismatches_ > 10) return;
    char text[64];
    std::snprintf(text, sizeof text, "%a (0x%08X)", static_cast<double>(input), bits_of(input));
    ADD_FAILURE() << what_ << ": input " << text << std::hex << " -> got 0x" << got << ", want 0x" << want;
  }
  // Input is a code of the narrow format (decode tests).
  void check_code(std::uint32_t code, std::uint32_t got, std::uint32_t want) {
    ++checked_;
    if (got == want || ++mismatches_ > 10) return;
    ADD_FAILURE() << what_ << std::hex << ": code 0x" << code << " -> got 0x" << got << ", want 0x" << want;
  }

 private:
  std::string what_;
  std::uint64_t checked_ = 0;
  std::uint64_t mismatches_ = 0;
};

// Checks a decoder on every code of a format. `special(code, want_bits)` returns true and sets
// the expected float32 bits for NaN/Inf codes; every other code must decode to value(f, code)
// exactly, sign of zero included.
template <class Decode, class Special>
void check_decode_all_codes(const format& f, Decode decode, Special special) {
  mismatch_log log(std::string(f.name) + " decode");
  const std::uint32_t code_count = 1u << (1 + f.exp_bits + f.mant_bits);
  for (std::uint32_t code = 0; code < code_count; ++code) {
    const float got = decode(code);
    std::uint32_t want_bits = 0;
    if (!special(code, want_bits)) {
      const double want = value(f, code);
      EXPECT_EQ(static_cast<double>(got), want) << f.name << " code 0x" << std::hex << code;
      want_bits = bits_of(static_cast<float>(want));  // exact: every finite value is a float32
    }
    log.check_code(code, bits_of(got), want_bits);
  }
}

}  // namespace ref
