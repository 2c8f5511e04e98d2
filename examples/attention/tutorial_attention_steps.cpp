// "Attention from three loops to flash attention" (docs/tutorials/attention_steps.md).
// One head, Sq = Skv = n, head dim 128, f32, non-causal. Each step is checked against
// step 1 and timed; GFLOP/s counts 4 * n * n * d (two n x n x d products).
//   tutorial_attention_steps [n]     (default 1024; CI runs it with 128)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <vector>

#include "pact/attention.hpp"
#include "support/machine_peak.hpp"

namespace simd = pact::simd;
using Arch = simd::native_arch;
using V = simd::vec<float, Arch>;
constexpr int L = static_cast<int>(simd::lanes<float, Arch>);
constexpr int d = 128;

// Step 1 - naive: materialize S = scale * Q K^T (n x n), softmax each row, O = P V.
// O(n^2) memory; the P V loop walks V down a column.
void step1_naive(int n, const float* q, const float* k, const float* v, float* o) {
  std::vector<float> s(static_cast<std::size_t>(n) * n);
  const float scale = 1.0f / std::sqrt(float(d));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      float acc = 0;
      for (int x = 0; x < d; ++x) acc += q[i * d + x] * k[j * d + x];
      s[std::size_t(i) * n + j] = acc * scale;
    }
  for (int i = 0; i < n; ++i) {
    float* r = &s[std::size_t(i) * n];
    const float mx = *std::max_element(r, r + n);
    float sum = 0;
    for (int j = 0; j < n; ++j) sum += (r[j] = std::exp(r[j] - mx));
    for (int j = 0; j < n; ++j) r[j] /= sum;
  }
  for (int i = 0; i < n; ++i)
    for (int x = 0; x < d; ++x) {
      float acc = 0;
      for (int j = 0; j < n; ++j) acc += s[std::size_t(i) * n + j] * v[j * d + x];
      o[i * d + x] = acc;
    }
}

// Step 2 - fused row softmax: one query row at a time, its n scores in a small buffer
// (O(n) memory instead of O(n^2)), and P V as "o_row += p_j * v_row_j" so the inner loop
// streams V rows contiguously and vectorizes.
void step2_fused_rows(int n, const float* q, const float* k, const float* v, float* o) {
  std::vector<float> s(static_cast<std::size_t>(n));
  const float scale = 1.0f / std::sqrt(float(d));
  for (int i = 0; i < n; ++i) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < n; ++j) {
      float acc = 0;
      for (int x = 0; x < d; ++x) acc += q[i * d + x] * k[j * d + x];
      s[std::size_t(j)] = acc * scale;
      mx = std::max(mx, s[std::size_t(j)]);
    }
    float sum = 0;
    for (int j = 0; j < n; ++j) sum += (s[std::size_t(j)] = std::exp(s[std::size_t(j)] - mx));
    float* orow = o + i * d;
    std::fill(orow, orow + d, 0.0f);
    for (int j = 0; j < n; ++j) {
      const float p = s[std::size_t(j)] / sum;
      for (int x = 0; x < d; ++x) orow[x] += p * v[j * d + x];
    }
  }
}

// Step 3 - tiles with an online softmax (FlashAttention): a block of Br query rows meets
// K/V in tiles of Bc keys. Each row keeps a running max m and sum l; when a tile raises
// the max, the old sum and the partial output are rescaled by exp(m_old - m_new). Memory
// is O(Br * Bc) whatever n is, and each K/V tile is reused by Br rows while it is in cache.
// The dot products use pact::simd vectors along the head dim (one horizontal sum each).
void step3_tiled_online(int n, const float* q, const float* k, const float* v, float* o) {
  constexpr int Br = 32, Bc = 64;
  const float scale = 1.0f / std::sqrt(float(d));
  std::vector<float> s(Br * Bc), m(Br), l(Br);
  for (int i0 = 0; i0 < n; i0 += Br) {
    const int nr = std::min(Br, n - i0);
    std::fill(m.begin(), m.end(), -std::numeric_limits<float>::infinity());
    std::fill(l.begin(), l.end(), 0.0f);
    std::fill(o + i0 * d, o + (i0 + nr) * d, 0.0f);
    for (int j0 = 0; j0 < n; j0 += Bc) {
      const int nc = std::min(Bc, n - j0);
      for (int r = 0; r < nr; ++r) {
        const float* qi = q + (i0 + r) * d;
        float mx = m[std::size_t(r)];
        for (int c = 0; c < nc; ++c) {
          const float* kj = k + (j0 + c) * d;
          V acc = simd::zero<float, Arch>();
          for (int x = 0; x < d; x += L) acc = simd::fma(simd::load<Arch>(qi + x), simd::load<Arch>(kj + x), acc);
          const float sc = simd::reduce_add(acc) * scale;
          s[std::size_t(r * Bc + c)] = sc;
          mx = std::max(mx, sc);
        }
        const float alpha = std::exp(m[std::size_t(r)] - mx);  // rescale what we had so far
        float* orow = o + (i0 + r) * d;
        float sum = 0;
        const V va = simd::broadcast<Arch>(alpha);
        for (int x = 0; x < d; x += L) simd::store(orow + x, simd::load<Arch>(orow + x) * va);
        for (int c = 0; c < nc; ++c) {
          const float p = std::exp(s[std::size_t(r * Bc + c)] - mx);
          sum += p;
          const V vp = simd::broadcast<Arch>(p);
          const float* vj = v + (j0 + c) * d;
          for (int x = 0; x < d; x += L) simd::store(orow + x, simd::fma(vp, simd::load<Arch>(vj + x), simd::load<Arch>(orow + x)));
        }
        l[std::size_t(r)] = l[std::size_t(r)] * alpha + sum;
        m[std::size_t(r)] = mx;
      }
    }
    for (int r = 0; r < nr; ++r)
      for (int x = 0; x < d; ++x) o[(i0 + r) * d + x] /= l[std::size_t(r)];
  }
}

// Step 4 - pact::attention, one thread: the same tiling, but both products run as
// register-tiled microkernels with the *query* index in the vector lanes (S^T = K Q^T,
// O^T += V^T P^T): broadcasts of K/V elements, no horizontal sums, and the online softmax
// becomes lane-wise vector code.
void step4_pact(int n, const float* q, const float* k, const float* v, float* o) {
  pact::attention(pact::tensor_view<const float, 4>(q, {1, n, 1, d}), pact::tensor_view<const float, 4>(k, {1, n, 1, d}),
                  pact::tensor_view<const float, 4>(v, {1, n, 1, d}), pact::tensor_view<float, 4>(o, {1, n, 1, d}));
}

double seconds(const std::function<void()>& f, double min_time = 0.3) {
  int reps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double best = 1e30;
  do {
    const auto a = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
    ++reps;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < min_time && reps < 20);
  return best;
}

std::vector<float> noise(std::size_t count, unsigned seed) {
  std::vector<float> x(count);
  for (auto& e : x) {
    seed = seed * 1664525u + 1013904223u;
    e = float(seed >> 8) / float(1u << 24) * 2.0f - 1.0f;
  }
  return x;
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1024;
  const auto q = noise(std::size_t(n) * d, 1), k = noise(std::size_t(n) * d, 2), v = noise(std::size_t(n) * d, 3);
  std::vector<float> ref(q.size()), o(q.size());
  const double flops = 4.0 * n * n * d;
  const double peak1 = pact_bench::fma_peak_gflops(1), peak2 = pact_bench::fma_peak_gflops(2);
  std::printf("attention, 1 head, Sq = Skv = %d, d = %d, f32 (FMA peak %.1f GFLOP/s per core)\n\n", n, d, peak1);
  std::printf("%-34s %10s %10s %9s\n", "step", "GFLOP/s", "% of peak", "max err");
  bool ok = true;
  auto report = [&](const char* name, double secs, double peak, const std::vector<float>& out) {
    double err = 0;
    for (std::size_t i = 0; i < out.size(); ++i) err = std::max(err, double(std::abs(out[i] - ref[i])));
    ok = ok && err < 1e-4;
    std::printf("%-34s %10.2f %9.1f%% %9.1e\n", name, flops / secs * 1e-9, 100.0 * flops / secs * 1e-9 / peak, err);
  };
  const double t1 = seconds([&] { step1_naive(n, q.data(), k.data(), v.data(), ref.data()); }, 0.0);
  report("1 naive (n x n scores)", t1, peak1, ref);
  report("2 fused row softmax", seconds([&] { step2_fused_rows(n, q.data(), k.data(), v.data(), o.data()); }), peak1, o);
  report("3 tiles + online softmax", seconds([&] { step3_tiled_online(n, q.data(), k.data(), v.data(), o.data()); }), peak1, o);
  report("4 pact::attention, 1 thread", seconds([&] { step4_pact(n, q.data(), k.data(), v.data(), o.data()); }), peak1, o);

  // Step 5 - GQA and decode. 32 query heads share 8 KV heads: pact loads each K/V tile once
  // for its 4 query heads. Then decode: 1 query token per head over the same cache, with
  // the KV length split into chunks (flash-decoding) so both threads work on one token.
  const int hq = 32, hkv = 8, s5 = std::max(64, n / 4);
  const auto q5 = noise(std::size_t(s5) * hq * d, 4), k5 = noise(std::size_t(s5) * hkv * d, 5), v5 = noise(std::size_t(s5) * hkv * d, 6);
  std::vector<float> o5(q5.size());
  pact::thread_pool pool(2);
  const pact::tensor_view<const float, 4> kv5(k5.data(), {1, s5, hkv, d}), vv5(v5.data(), {1, s5, hkv, d});
  const double gqa = seconds([&] {
    pact::attention(pact::tensor_view<const float, 4>(q5.data(), {1, s5, hq, d}), kv5, vv5,
                    pact::tensor_view<float, 4>(o5.data(), {1, s5, hq, d}), {}, pool);
  });
  const double gqa_flops = 4.0 * s5 * s5 * d * hq;
  std::printf("%-34s %10.2f %9.1f%%   (seq %d, 2 threads)\n", "5a GQA 32q/8kv heads, prefill", gqa_flops / gqa * 1e-9,
              100.0 * gqa_flops / gqa * 1e-9 / peak2, s5);
  pact::attention_params dec;
  dec.kv_splits = 4;
  const double dt = seconds([&] {
    pact::attention(pact::tensor_view<const float, 4>(q5.data(), {1, 1, hq, d}), kv5, vv5,
                    pact::tensor_view<float, 4>(o5.data(), {1, 1, hq, d}), dec, pool);
  });
  const double dec_flops = 4.0 * s5 * d * hq;
  std::printf("%-34s %10.2f %9.1f%%   (%.1f GB/s of K/V, cache-warm)\n", "5b decode, 4 KV splits", dec_flops / dt * 1e-9,
              100.0 * dec_flops / dt * 1e-9 / peak2, 2.0 * s5 * hkv * d * 4 / dt * 1e-9);
  std::puts(ok ? "\nall steps match step 1" : "\nMISMATCH");
  return ok ? 0 : 1;
}
