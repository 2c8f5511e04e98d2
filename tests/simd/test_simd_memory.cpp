// Loads, stores, partial moves and broadcast on every compiled arch. Partial moves are
// checked against a guard page: touching one byte past the end would crash the test.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "pact/simd/simd.hpp"
#include "support/arch_list.hpp"

namespace simd = pact::simd;

namespace {
/// A buffer whose end abuts an inaccessible page.
struct guarded_buffer {
  std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  unsigned char* base = nullptr;
  guarded_buffer() {
    void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base = static_cast<unsigned char*>(p);
    mprotect(base + page, page, PROT_NONE);
  }
  ~guarded_buffer() { munmap(base, 2 * page); }
  template <class T>
  T* tail(std::size_t n) {  // n elements ending exactly at the guard page
    return reinterpret_cast<T*>(base + page - n * sizeof(T));
  }
};
}  // namespace

template <class A>
class SimdMemory : public ::testing::Test {};
TYPED_TEST_SUITE(SimdMemory, pact_test::compiled_archs, pact_test::arch_name);

template <class A, class T>
void check_load_store() {
  constexpr std::size_t L = simd::lanes<T, A>;
  alignas(64) T in[L], out[L];
  for (std::size_t i = 0; i < L; ++i) in[i] = static_cast<T>(i * 3 + 1);
  simd::store(out, simd::load<A>(in));
  for (std::size_t i = 0; i < L; ++i) EXPECT_EQ(out[i], in[i]);
  simd::store_aligned(out, simd::load_aligned<A>(in));
  for (std::size_t i = 0; i < L; ++i) EXPECT_EQ(out[i], in[i]);
  simd::store(out, simd::broadcast<A>(static_cast<T>(7)));
  for (std::size_t i = 0; i < L; ++i) EXPECT_EQ(out[i], static_cast<T>(7));
  simd::store(out, simd::zero<T, A>());
  for (std::size_t i = 0; i < L; ++i) EXPECT_EQ(out[i], static_cast<T>(0));
}

TYPED_TEST(SimdMemory, LoadStoreBroadcast) {
  check_load_store<TypeParam, float>();
  check_load_store<TypeParam, double>();
  check_load_store<TypeParam, std::int32_t>();
  check_load_store<TypeParam, std::uint8_t>();
  check_load_store<TypeParam, std::int8_t>();
}

template <class A, class T>
void check_partial() {
  constexpr std::size_t L = simd::lanes<T, A>;
  guarded_buffer g;
  for (std::size_t n = 0; n <= L; ++n) {
    T* src = g.tail<T>(n);
    for (std::size_t i = 0; i < n; ++i) src[i] = static_cast<T>(i + 1);
    alignas(64) T out[L];
    simd::store(out, simd::load_partial<A>(src, n));
    for (std::size_t i = 0; i < L; ++i) EXPECT_EQ(out[i], i < n ? static_cast<T>(i + 1) : T(0)) << "n=" << n;
    // store_partial writes exactly n elements, ending at the guard page.
    for (std::size_t i = 0; i < n; ++i) src[i] = T(0);
    alignas(64) T vals[L];
    for (std::size_t i = 0; i < L; ++i) vals[i] = static_cast<T>(100 + i);
    simd::store_partial(src, simd::load<A>(vals), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(src[i], static_cast<T>(100 + i));
  }
}

TYPED_TEST(SimdMemory, PartialNeverCrossesTheEnd) {
  check_partial<TypeParam, float>();
  check_partial<TypeParam, double>();
  check_partial<TypeParam, std::int32_t>();
  check_partial<TypeParam, std::uint8_t>();
  check_partial<TypeParam, std::int8_t>();
}

TYPED_TEST(SimdMemory, PartialStoreLeavesTheRestAlone) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  for (std::size_t n = 0; n <= L; ++n) {
    float buf[L + 1];
    for (auto& x : buf) x = -1.0f;
    simd::store_partial(buf, simd::broadcast<A>(5.0f), n);
    for (std::size_t i = 0; i <= L; ++i) EXPECT_EQ(buf[i], i < n ? 5.0f : -1.0f);
  }
}

TEST(SimdArch, NativeArchIsUsableAndNamed) {
  static_assert(simd::usable_arch<simd::native_arch>);
  static_assert(simd::simd_arch<simd::scalar>);
  EXPECT_STRNE(simd::native_arch::name, "");
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
  EXPECT_STREQ(simd::native_arch::name, "avx512_vnni");
#elif defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
  EXPECT_STREQ(simd::native_arch::name, "avx2");
#elif defined(__aarch64__)
  EXPECT_STREQ(simd::native_arch::name, "neon64");
#elif defined(__riscv)
  EXPECT_STREQ(simd::native_arch::name, "scalar");
#endif
}

TYPED_TEST(SimdMemory, TransposeTile) {
  // Every element lands at its transposed place, with strides wider than the tile on both
  // sides, and nothing outside the destination tile is written.
  using A = TypeParam;
  constexpr std::ptrdiff_t L = static_cast<std::ptrdiff_t>(pact::simd::lanes<float, A>);
  constexpr std::ptrdiff_t lds = L + 3, ldd = 2 * L + 1;
  std::vector<float> src(static_cast<std::size_t>(L * lds)), dst(static_cast<std::size_t>(L * ldd), -1.0f);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
  pact::simd::transpose_tile<A>(src.data(), lds, dst.data(), ldd);
  for (std::ptrdiff_t i = 0; i < L; ++i)
    for (std::ptrdiff_t j = 0; j < ldd; ++j) {
      const float want = j < L ? src[static_cast<std::size_t>(j * lds + i)] : -1.0f;
      ASSERT_EQ(dst[static_cast<std::size_t>(i * ldd + j)], want) << i << "," << j;
    }
}

// prefetch_stream hands out every line of its region exactly once, in `steps` nearly equal
// parts (the last ones may be short), and nothing after that; an empty region asks for none.
TEST(SimdPrefetchStream, EveryLineOnceInEqualParts) {
  std::vector<unsigned char> buf(64 * 1024);
  for (auto [chunks, bytes, stride, steps] : {std::tuple{1, 4096, 0, 7}, std::tuple{5, 1000, 3000, 3},
                                              std::tuple{3, 64, 128, 10}, std::tuple{0, 64, 64, 4},
                                              std::tuple{2, 130, 192, 1}}) {
    pact::simd::prefetch_stream ps(buf.data(), chunks, bytes, stride, steps);
    const std::ptrdiff_t lines = chunks * ((bytes + 63) / 64);
    ASSERT_EQ(ps.total(), lines);
    const std::ptrdiff_t per = steps > 0 ? (lines + steps - 1) / steps : lines;
    for (int k = 0; k < steps; ++k) {
      const std::ptrdiff_t before = ps.issued();
      ps.step();
      EXPECT_EQ(ps.issued() - before, std::min(per, lines - before)) << chunks << "x" << bytes << " step " << k;
    }
    EXPECT_EQ(ps.issued(), lines);
    ps.step();
    EXPECT_EQ(ps.issued(), lines) << "asked for lines past the region";
  }
}
