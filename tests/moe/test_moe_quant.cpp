// Quantized experts (int8 W8A8, ggml Q4_0 / Q8_0) in the whole layer, against a float64
// reference of the same layer with the dequantized weights; decode (GEMV) and prefill
// (GEMM) paths; thread-count determinism; invalid arguments. The quant kernels run on the
// native arch only.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "moe/moe_reference.hpp"
#include "pact/moe.hpp"
#include "pact/moe/quantized_expert_weights.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

namespace ref = pact_test::moe_ref;
using pact::index_t;

namespace {
using pact_test::expect_error;
/// Experts in PyTorch layout W[out][in]: gate/up E x F x H, down E x H x F.
struct torch_experts {
  index_t E, H, F;
  std::vector<float> gate, up, down;
  torch_experts(index_t e, index_t h, index_t f, std::uint32_t seed) : E(e), H(h), F(f) {
    gate = pact_test::random_values<float>(static_cast<std::size_t>(E * F * H), seed, -0.3, 0.3);
    up = pact_test::random_values<float>(gate.size(), seed + 1, -0.3, 0.3);
    down = pact_test::random_values<float>(gate.size(), seed + 2, -0.3, 0.3);
  }
  std::vector<double> ffn(index_t e, const float* x) const {
    std::vector<double> xd(x, x + H);
    const float* g = gate.data() + e * F * H;
    const float* u = up.data() + e * F * H;
    const float* d = down.data() + e * H * F;
    return ref::expert_ffn(
        xd, static_cast<int>(H), static_cast<int>(F), [&](int i, int f) { return double(g[f * H + i]); },
        [&](int i, int f) { return double(u[f * H + i]); }, [&](int f, int j) { return double(d[j * F + f]); });
  }
  auto views() const { return pact::stacked_expert_views<float>(gate.data(), up.data(), down.data(), E, H, F); }
};

std::vector<double> reference_layer(const pact::moe_routing& r, const torch_experts& ex, const std::vector<float>& x) {
  std::vector<double> out(static_cast<std::size_t>(r.tokens * ex.H), 0.0);
  for (index_t t = 0; t < r.tokens; ++t)
    for (index_t s = 0; s < r.k; ++s) {
      const auto y = ex.ffn(r.expert_of(t, s), x.data() + t * ex.H);
      for (index_t j = 0; j < ex.H; ++j) out[static_cast<std::size_t>(t * ex.H + j)] += r.weight_of(t, s) * y[static_cast<std::size_t>(j)];
    }
  return out;
}

/// |got - want| <= tol * max|want| (quantized activations: errors relative to the scale).
void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol, const std::string& what) {
  double scale = 1e-30;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol * scale) << what << " element " << i;
}

template <class W>
std::vector<float> run_layer(const W& w, index_t T, index_t H, index_t E, const std::vector<float>& logits, const std::vector<float>& x,
                             pact::moe_workspace& ws, int threads = 1) {
  std::vector<float> out(static_cast<std::size_t>(T * H), std::numeric_limits<float>::quiet_NaN());
  pact::thread_pool pool(threads);
  pact::moe_options<> opt;
  opt.row_block = 16;
  pact::moe_forward_logits(pact::softmax_topk{2}, pact::make_row_major<const float>(logits.data(), T, E), w,
                           pact::make_row_major<const float>(x.data(), T, H), pact::make_row_major(out.data(), T, H), ws, opt, pool);
  return out;
}

/// Quantizes each row of W[out][in] to ggml blocks; `deq` receives the dequantized values.
template <class Block>
std::vector<Block> to_blocks(const std::vector<float>& w, std::vector<float>& deq) {
  std::vector<Block> b(w.size() / 32);
  pact::quant::quantize<Block>(w, b);
  deq.resize(w.size());
  pact::quant::dequantize<Block>(std::span<const Block>(b), deq);
  return b;
}
}  // namespace

TEST(MoeQuant, Int8ExpertsMatchReference) {
  const index_t E = 8, H = 40, F = 56;  // int8 needs no block multiple
  const torch_experts ex(E, H, F, 5);
  const auto views = ex.views();
  const pact::int8_expert_weights w8(views);
  EXPECT_EQ(w8.num_experts(), E);
  EXPECT_LT(w8.expert_bytes(), views.expert_bytes() / 3);
  for (index_t T : {1, 3, 40}) {  // 1..3 rows per expert and full blocks
    const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), static_cast<std::uint32_t>(6 + T), -2, 2);
    const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), static_cast<std::uint32_t>(7 + T));
    pact::moe_workspace ws;
    const auto out = run_layer(w8, T, H, E, logits, x, ws);
    // W8A8 with per-channel / per-token scales: ~1% of the output scale.
    expect_close(out, reference_layer(ws.routing, ex, x), 0.03, "int8 T=" + std::to_string(T));
    for (int threads : {2, 3}) {
      pact::moe_workspace ws2;
      EXPECT_EQ(run_layer(w8, T, H, E, logits, x, ws2, threads), out) << threads;
    }
  }
}

template <class Block>
void check_ggml_experts(double tol) {
  const index_t E = 8, H = 64, F = 96;
  torch_experts ex(E, H, F, 15);
  torch_experts deq = ex;  // the same layer with the weights as the blocks store them
  const auto g = to_blocks<Block>(ex.gate, deq.gate), u = to_blocks<Block>(ex.up, deq.up), d = to_blocks<Block>(ex.down, deq.down);
  const std::size_t gu = static_cast<std::size_t>(F * H / 32), dn = static_cast<std::size_t>(H * F / 32);
  pact::ggml_expert_weights<Block> packed(H, F), raw(H, F, /*pack_for_prefill=*/false);
  for (index_t e = 0; e < E; ++e) {
    const auto ue = static_cast<std::size_t>(e);
    for (auto* w : {&packed, &raw})
      w->add_expert(std::span<const Block>(g.data() + ue * gu, gu), std::span<const Block>(u.data() + ue * gu, gu),
                    std::span<const Block>(d.data() + ue * dn, dn));
  }
  EXPECT_EQ(packed.expert_bytes(), 3 * gu * sizeof(Block));
  for (index_t T : {1, 2, 40}) {
    const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), static_cast<std::uint32_t>(16 + T), -2, 2);
    const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), static_cast<std::uint32_t>(17 + T));
    pact::moe_workspace ws;
    const auto out = run_layer(packed, T, H, E, logits, x, ws);
    // Against the dequantized weights only the Q8_0 activations differ: ~1% of the scale.
    expect_close(out, reference_layer(ws.routing, deq, x), tol, "ggml packed T=" + std::to_string(T));
    pact::moe_workspace ws_raw;
    expect_close(run_layer(raw, T, H, E, logits, x, ws_raw), reference_layer(ws.routing, deq, x), tol, "ggml raw");
    for (int threads : {2, 3}) {
      pact::moe_workspace ws2;
      EXPECT_EQ(run_layer(packed, T, H, E, logits, x, ws2, threads), out) << threads;
    }
  }
}

TEST(MoeQuant, Q4_0ExpertsMatchReference) { check_ggml_experts<pact::quant::block_q4_0>(0.03); }
TEST(MoeQuant, Q8_0ExpertsMatchReference) { check_ggml_experts<pact::quant::block_q8_0>(0.03); }

TEST(MoeQuant, InvalidArguments) {
  expect_error(pact::errc::invalid_shape, [] { pact::ggml_expert_weights<pact::quant::block_q4_0> w(40, 64); });
  expect_error(pact::errc::invalid_shape, [] { pact::ggml_expert_weights<pact::quant::block_q4_0> w(64, 48); });
  pact::ggml_expert_weights<pact::quant::block_q4_0> w(32, 64);
  std::vector<pact::quant::block_q4_0> b(64);
  expect_error(pact::errc::invalid_shape, [&] { w.add_expert(b, b, std::span<const pact::quant::block_q4_0>(b.data(), 63)); });
  std::vector<float> g(8 * 4, 0.1f);
  pact::int8_expert_weights w8;
  w8.add_expert(pact::make_row_major<const float>(g.data(), 8, 4), pact::make_row_major<const float>(g.data(), 8, 4),
                pact::make_row_major<const float>(g.data(), 4, 8));
  expect_error(pact::errc::invalid_shape, [&] {
    w8.add_expert(pact::make_row_major<const float>(g.data(), 8, 4), pact::make_row_major<const float>(g.data(), 8, 4),
                  pact::make_row_major<const float>(g.data(), 8, 4));
  });
  // NaN activations cannot be quantized.
  std::vector<float> x(2 * 8, 0.5f), out(2 * 8), logits(2, 0.0f);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  pact::moe_workspace ws;
  expect_error(pact::errc::invalid_data, [&] {
    pact::moe_forward_logits(pact::softmax_topk{1}, pact::make_row_major<const float>(logits.data(), 2, 1), w8,
                             pact::make_row_major<const float>(x.data(), 2, 8), pact::make_row_major(out.data(), 2, 8), ws);
  });
}
