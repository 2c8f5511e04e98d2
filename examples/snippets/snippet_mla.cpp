// docs/attention.md's MLA decode snippet (DeepSeek-V3 dims, 16 heads, 2 query tokens),
// checked against plain loops.
// [snippet mla_decode]
#include <pact/attention.hpp>
// [/snippet mla_decode]
#include <cstdio>

#include "snippet_check.hpp"

int main() {
  const pact::index_t B = 1, Sq = 2, H = 16, Dl = 512, Dr = 64, Skv = 300;
  const auto ql = snippet::values(std::size_t(B * Sq * H * Dl), 1), qr = snippet::values(std::size_t(B * Sq * H * Dr), 2),
             ckv = snippet::values(std::size_t(B * Skv * Dl), 3), kr = snippet::values(std::size_t(B * Skv * Dr), 4);
  std::vector<float> outv(ql.size());
  const pact::tensor_view<const float, 4> q_latent(ql.data(), {B, Sq, H, Dl}), q_rope(qr.data(), {B, Sq, H, Dr});
  const pact::tensor_view<const float, 3> c_kv(ckv.data(), {B, Skv, Dl}), k_rope(kr.data(), {B, Skv, Dr});
  const pact::tensor_view<float, 4> out(outv.data(), {B, Sq, H, Dl});
  // [snippet mla_decode]
  // q_latent [B, Sq, H, 512] (q_nope absorbed through W_UK), q_rope [B, Sq, H, 64];
  // the shared latent cache c_kv [B, Skv, 512] and RoPE keys k_rope [B, Skv, 64].
  pact::mla_params p;
  p.scale = 1.0f / std::sqrt(128.0f + 64.0f);  // DeepSeek-V3: 1/sqrt(qk_nope + qk_rope)
  pact::thread_pool pool(2);
  pact::mla_decode(q_latent, q_rope, c_kv, k_rope, out, p, pool);  // out [B, Sq, H, 512]
  // [/snippet mla_decode]
  double worst = 0;
  for (pact::index_t s = 0; s < Sq; ++s)
    for (pact::index_t h : {0, 7, 15}) {
      const pact::index_t last = s + Skv - Sq;
      std::vector<double> sc(std::size_t(last + 1));
      double mx = -1e300, sum = 0;
      for (pact::index_t j = 0; j <= last; ++j) {
        double d = 0;
        for (pact::index_t x = 0; x < Dl; ++x) d += double(q_latent(0, s, h, x)) * c_kv(0, j, x);
        for (pact::index_t x = 0; x < Dr; ++x) d += double(q_rope(0, s, h, x)) * k_rope(0, j, x);
        sc[std::size_t(j)] = p.scale * d;
        mx = std::fmax(mx, sc[std::size_t(j)]);
      }
      for (auto& v : sc) sum += (v = std::exp(v - mx));
      for (pact::index_t x = 0; x < Dl; x += 37) {
        double o = 0;
        for (pact::index_t j = 0; j <= last; ++j) o += sc[std::size_t(j)] / sum * c_kv(0, j, x);
        worst = std::fmax(worst, std::fabs(o - out(0, s, h, x)));
      }
    }
  std::printf("mla snippet: max |error| vs plain loops %.2e\n", worst);
  snippet::require(worst < 1e-5, "mla_decode vs plain loops");

  // The same cache in bf16 (half the bytes): each KV tile is widened to f32 inside the kernel.
  std::vector<pact::bf16> ckv16(ckv.begin(), ckv.end()), kr16(kr.begin(), kr.end());
  std::vector<float> out16v(ql.size());
  const pact::tensor_view<float, 4> out16(out16v.data(), {B, Sq, H, Dl});
  // [snippet mla_bf16_cache]
  const pact::tensor_view<const pact::bf16, 3> c_kv_bf16(ckv16.data(), {B, Skv, Dl}), k_rope_bf16(kr16.data(), {B, Skv, Dr});
  pact::mla_decode(q_latent, q_rope, c_kv_bf16, k_rope_bf16, out16, p, pool);
  // [/snippet mla_bf16_cache]
  double worst16 = 0;
  for (std::size_t i = 0; i < outv.size(); ++i) worst16 = std::fmax(worst16, std::fabs(double(outv[i]) - out16v[i]));
  std::printf("mla snippet: bf16 cache, max |difference| from the f32 cache %.2e\n", worst16);
  snippet::require(worst16 < 2e-2, "mla_decode over a bf16 cache vs the f32 cache");
  return 0;
}
