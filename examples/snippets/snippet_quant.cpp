// docs/quant.md's snippets: quantizers, untrusted bytes, W8A8 int8 GEMM, the block GEMVs
// (Q4_0/Q8_0, MXFP4, Q4_K), the FP8 GEMV and GEMM, the batched block GEMM, the dequantizing
// GEMM and the MX GEMM. Each block runs on
// small shapes and is checked (round trips, plain-loop products, error codes).
// [snippet quant_api]
#include <pact/quant.hpp>
namespace q = pact::quant;
// [/snippet quant_api]
// [snippet quant_int8_gemm]
#include <pact/quant/int8_gemm.hpp>
// [/snippet quant_int8_gemm]
// [snippet quant_gemv]
#include <pact/quant/gemv_q.hpp>
// [/snippet quant_gemv]
// [snippet quant_gemv_fp8]
#include <pact/quant/gemv_fp8.hpp>
// [/snippet quant_gemv_fp8]
// [snippet quant_gemm_q]
#include <pact/quant/gemm_q.hpp>
// [/snippet quant_gemm_q]
// [snippet quant_gemm_dequant]
#include <pact/quant/gemm_dequant.hpp>
// [/snippet quant_gemm_dequant]
// [snippet quant_gemm_mx]
#include <pact/quant/gemm_dequant.hpp>
// [/snippet quant_gemm_mx]
// [snippet quant_gemm_fp8]
#include <pact/quant/gemm_fp8.hpp>
// [/snippet quant_gemm_fp8]
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "snippet_check.hpp"

namespace {
/// want[n] = sum_k W(n, k) * x[k] for float W (N x K row-major).
std::vector<double> matvec(const std::vector<float>& W, const std::vector<float>& x, std::size_t N, std::size_t K) {
  std::vector<double> y(N);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) y[n] += double(W[n * K + k]) * x[k];
  return y;
}
/// want(i, n) = sum_k X(i, k) * W(n, k) in float64 (X: M x K, W: N x K, both row-major).
std::vector<double> product_xwt(const std::vector<float>& X, const std::vector<float>& W, std::size_t M, std::size_t N, std::size_t K) {
  std::vector<double> y(M * N);
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t k = 0; k < K; ++k) y[i * N + n] += double(X[i * K + k]) * W[n * K + k];
  return y;
}
template <class Block>
std::vector<float> dequantized(const std::vector<Block>& b) {
  std::vector<float> f(b.size() * Block::elems);
  q::dequantize<Block>(std::span<const Block>(b), std::span<float>(f));
  return f;
}
}  // namespace

int main() {
  pact::thread_pool pool(2);
  {
    const std::size_t n = 1024, tokens = 4, channels = 256, ld = 256, rows = 256, cols = 256;
    const auto xv = snippet::values(n, 1), wv = snippet::values(rows * cols, 2);
    std::vector<float> yv(n);
    const float* x = xv.data();
    const float* w = wv.data();
    float* y = yv.data();
    std::vector<q::block_q8_0> blocks(n / 32);
    const std::size_t n_blocks = blocks.size();
    // [snippet quant_api]
    // ggml blocks: x.size() == blocks.size() * Block::elems; any executor, identical bytes.
    std::vector<q::block_q4_K> w4(n / 256);
    q::quantize<q::block_q4_K>(std::span<const float>(x, n), std::span<q::block_q4_K>(w4), pool);  // throws on NaN/Inf
    q::dequantize<q::block_q4_K>(std::span<const q::block_q4_K>(w4), std::span<float>(y, n));

    // Dynamic per-token activation quantization (buffers reused between calls).
    q::fp8_activations_1x128<pact::fp8_e4m3> act;
    q::quantize_fp8_1x128(x, tokens, channels, ld, act, pool);
    auto wq = q::quantize_fp8_128x128<pact::fp8_e4m3>(w, rows, cols, cols);
    q::int8_matrix<std::int8_t> a8;
    q::quantize_int8(x, tokens, channels, ld, {q::int8_granularity::per_row, 0, q::int8_scheme::symmetric}, a8, pool);
    auto u8 = q::quantize_uint8(x, tokens, channels, ld, {q::int8_granularity::per_group, 64, q::int8_scheme::asymmetric});

    // OCP MX
    std::vector<q::mx_block_fp6_e2m3> m(n / 32);
    q::quantize_mx<q::mx_block_fp6_e2m3>(std::span<const float>(x, n), std::span<q::mx_block_fp6_e2m3>(m));

    // Arch-templated kernels (tests, or kernels choosing their own arch): no checks.
    bool finite = q::quantize_blocks<pact::simd::native_arch>(x, blocks.data(), n_blocks);
    // [/snippet quant_api]
    double worst = 0;
    for (std::size_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(yv[i] - xv[i]));
    snippet::require(worst < 0.1, "Q4_K round trip");  // 4.5 bits of values in [-1, 1)
    snippet::require(finite && act.rows == tokens && wq.rows == rows && a8.rows == tokens && u8.cols == channels,
                     "quantizer outputs");
    std::vector<float> back(n);
    q::dequantize_mx<q::mx_block_fp6_e2m3>(std::span<const q::mx_block_fp6_e2m3>(m), std::span<float>(back));
    worst = 0;
    for (std::size_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(back[i] - xv[i]));
    snippet::require(worst < 0.15, "MXFP6 round trip");
  }
  {
    const std::size_t rows = 8, cols = 64;
    std::vector<q::block_q4_0> src(rows * cols / 32);
    q::quantize<q::block_q4_0>(std::span<const float>(snippet::values(rows * cols, 3)), std::span<q::block_q4_0>(src));
    std::vector<float> outv(rows * cols);
    const std::span<float> out(outv);
    // [snippet quant_untrusted]
    std::span<const std::byte> blob = std::as_bytes(std::span(src));  // e.g. a GGUF tensor's data
    auto view = q::view_blocks<q::block_q4_0>(blob, rows * cols);    // zero-copy, needs alignof(Block)
    auto copy = q::load_blocks<q::block_q4_0>(blob, rows * cols);    // any alignment
    q::dequantize_bytes(q::format::q4_0, blob, rows, cols, out);     // validate, then decode
    // [/snippet quant_untrusted]
    snippet::require(view.size() == src.size() && copy.size() == src.size(), "view / copy sizes");
    snippet::require(outv == dequantized(src), "dequantize_bytes == dequantize");
    bool threw = false;
    try {
      q::dequantize_bytes(q::format::q4_0, blob.first(blob.size() - 1), rows, cols, out);  // truncated
    } catch (const pact::error& e) {
      threw = e.code() == pact::errc::invalid_shape;
    }
    snippet::require(threw, "a truncated blob is invalid_shape");
  }
  {
    const pact::index_t M = 6, N = 40, K = 72;
    std::vector<std::uint8_t> av(static_cast<std::size_t>(M * K));
    std::vector<std::int8_t> bv(static_cast<std::size_t>(K * N));
    for (std::size_t i = 0; i < av.size(); ++i) av[i] = static_cast<std::uint8_t>((i * 37) % 256);
    for (std::size_t i = 0; i < bv.size(); ++i) bv[i] = static_cast<std::int8_t>((i * 53) % 256 - 128);
    std::vector<std::int32_t> c32(static_cast<std::size_t>(M * N));
    std::vector<float> cf(static_cast<std::size_t>(M * N)), sa(std::size_t(M), 0.02f), sb(std::size_t(N), 0.01f), bias(std::size_t(N), 0.5f);
    std::vector<std::int8_t> cs8(static_cast<std::size_t>(M * N));
    const auto A = pact::make_row_major<const std::uint8_t>(av.data(), M, K);
    const auto B = pact::make_row_major<const std::int8_t>(bv.data(), K, N);
    const auto C32 = pact::make_row_major(c32.data(), M, N);
    const auto Cf32 = pact::make_row_major(cf.data(), M, N);
    const auto Cs8 = pact::make_row_major(cs8.data(), M, N);
    // [snippet quant_int8_gemm]
    pact::int8_gemm(A, B, C32);                       // C int32: exact sums
    pact::int8_packed_b W(B);                         // pack the weights once (optionally on an executor)
    pact::int8_requantize rq;
    rq.a_zero_point = 128;  rq.a_row_scales = sa.data();   // per-token activation scales (M)
    rq.b_col_scales = sb.data();   rq.bias = bias.data();  // per-channel weight scales (N), bias (N)
    pact::int8_gemm(A, W, Cf32, rq, pact::thread_pool{2});
    rq.out_scale = 0.05f;   rq.out_zero_point = 3;    // int8 / u8 C: requantized output
    pact::int8_gemm(A, W, Cs8, rq);
    // [/snippet quant_int8_gemm]
    for (pact::index_t i = 0; i < M; ++i)
      for (pact::index_t j = 0; j < N; ++j) {
        std::int64_t s = 0, sz = 0;
        for (pact::index_t k = 0; k < K; ++k) {
          s += std::int64_t(av[std::size_t(i * K + k)]) * bv[std::size_t(k * N + j)];
          sz += (std::int64_t(av[std::size_t(i * K + k)]) - 128) * bv[std::size_t(k * N + j)];
        }
        snippet::require(c32[std::size_t(i * N + j)] == s, "int8_gemm int32 exact");
        const double want = double(sz) * 0.02 * 0.01 + 0.5;
        snippet::require(std::fabs(cf[std::size_t(i * N + j)] - want) < 1e-4 * std::fmax(1.0, std::fabs(want)), "int8_gemm f32");
        const double qv = std::fmin(127, std::fmax(-128, std::nearbyint(want / 0.05) + 3));
        snippet::require(std::fabs(cs8[std::size_t(i * N + j)] - qv) <= 1, "int8_gemm int8 requantized");
      }
  }
  {
    const pact::index_t N = 64, K = 512;
    const auto wf = snippet::values(std::size_t(N * K), 4), xv = snippet::values(std::size_t(K), 5);
    const std::span<const float> x_f32(xv);
    std::vector<float> yv(static_cast<std::size_t>(N)), y2(static_cast<std::size_t>(N));
    const std::span<float> y(yv);
    std::vector<q::block_q4_0> w4(static_cast<std::size_t>(N * K / 32));
    std::vector<q::block_q8_0> w8(static_cast<std::size_t>(N * K / 32)), xq8(static_cast<std::size_t>(K / 32));
    std::vector<q::block_mxfp4> wm(static_cast<std::size_t>(N * K / 32));
    std::vector<q::block_q4_K> wk(static_cast<std::size_t>(N * K / 256));
    std::vector<q::block_q8_K> xqk(static_cast<std::size_t>(K / 256));
    q::quantize<q::block_q4_0>(std::span<const float>(wf), std::span<q::block_q4_0>(w4));
    q::quantize<q::block_q8_0>(std::span<const float>(wf), std::span<q::block_q8_0>(w8));
    q::quantize<q::block_mxfp4>(std::span<const float>(wf), std::span<q::block_mxfp4>(wm));
    q::quantize<q::block_q4_K>(std::span<const float>(wf), std::span<q::block_q4_K>(wk));
    q::quantize<q::block_q8_0>(x_f32, std::span<q::block_q8_0>(xq8));
    q::quantize<q::block_q8_K>(x_f32, std::span<q::block_q8_K>(xqk));
    const std::span<const q::block_q8_0> x_q8_0(xq8);
    const std::span<const q::block_q8_K> x_q8_K(xqk);
    const auto x8 = dequantized(xq8), xk = dequantized(xqk);
    {
      const std::span<const q::block_q4_0> W(w4);
      // [snippet quant_gemv]
      pact::quant::gemv<pact::quant::block_q4_0>(W, N, K, x_f32, y, pool);   // x quantized to Q8_0
      // [/snippet quant_gemv]
      snippet::require(snippet::max_rel_err(yv.data(), matvec(dequantized(w4), x8, N, K)) < 1e-4, "Q4_0 GEMV");
    }
    {
      const std::span<const q::block_q8_0> W(w8);
      // [snippet quant_gemv]
      pact::quant::gemv<pact::quant::block_q8_0>(W, N, K, x_q8_0, y);        // x already Q8_0
      // [/snippet quant_gemv]
      snippet::require(snippet::max_rel_err(yv.data(), matvec(dequantized(w8), x8, N, K)) < 1e-4, "Q8_0 GEMV");
    }
    {
      const std::span<const q::block_mxfp4> W(wm);
      // [snippet quant_gemv_k]
      pact::quant::gemv<pact::quant::block_mxfp4>(W, N, K, x_q8_0, y, pool);   // ggml MXFP4 x Q8_0
      // [/snippet quant_gemv_k]
      snippet::require(snippet::max_rel_err(yv.data(), matvec(dequantized(wm), x8, N, K)) < 1e-4, "MXFP4 GEMV");
    }
    {
      const std::span<const q::block_q4_K> W(wk);
      // [snippet quant_gemv_k]
      pact::quant::gemv<pact::quant::block_q4_K>(W, N, K, x_q8_K, y, pool);    // Q4_K x Q8_K
      pact::quant::gemv<pact::quant::block_q4_K>(W, N, K, x_f32, y);           // x quantized to Q8_K
      // [/snippet quant_gemv_k]
      snippet::require(snippet::max_rel_err(yv.data(), matvec(dequantized(wk), xk, N, K)) < 1e-4, "Q4_K GEMV");
    }
  }
  {
    const std::size_t N = 200, K = 300;
    const auto wv = snippet::values(N * K, 6), xv = snippet::values(K, 7);
    const float* w = wv.data();
    const float* x = xv.data();
    std::vector<float> yv(N), y1(N);
    float* y = yv.data();
    // [snippet quant_gemv_fp8]
    auto W = pact::quant::quantize_fp8_128x128<pact::fp8_e4m3>(w, N, K, K);   // at load time
    pact::quant::gemv(W, std::span<const float>(x, K), std::span<float>(y, N), pool);
    // [/snippet quant_gemv_fp8]
    std::vector<float> wd(N * K);
    q::dequantize_fp8(W, wd.data(), K);
    snippet::require(snippet::max_rel_err(y, matvec(wd, xv, N, K)) < 1e-4, "FP8 GEMV, f32 x");
    std::memcpy(y1.data(), y, sizeof(float) * N);
    // [snippet quant_gemv_fp8]
    auto xq = pact::quant::quantize_fp8_1x128<pact::fp8_e4m3>(x, 1, K, K);    // or FP8 activations
    pact::quant::gemv(W, xq, std::span<float>(y, N), pool);
    // [/snippet quant_gemv_fp8]
    std::vector<float> xd(K);
    q::dequantize_fp8(xq, xd.data(), K);
    snippet::require(snippet::max_rel_err(y, matvec(wd, xd, N, K)) < 1e-4, "FP8 GEMV, 1x128 x");
  }
  {
    const pact::index_t M = 8, N = 64, K = 256;
    const auto wf = snippet::values(std::size_t(N * K), 8), xf = snippet::values(std::size_t(M * K), 9);
    std::vector<q::block_q4_0> w_blocks(static_cast<std::size_t>(N * K / 32));
    std::vector<q::block_q8_0> x_blocks(static_cast<std::size_t>(M * K / 32));
    q::quantize<q::block_q4_0>(std::span<const float>(wf), std::span<q::block_q4_0>(w_blocks));
    q::quantize<q::block_q8_0>(std::span<const float>(xf), std::span<q::block_q8_0>(x_blocks));
    std::vector<float> yv(static_cast<std::size_t>(M * N));
    float* y = yv.data();
    // [snippet quant_gemm_q]
    pact::quant::packed_q_weights<pact::quant::block_q4_0> W(w_blocks, N, K);   // at load time
    pact::quant::gemm(x_blocks, M, W, pact::make_row_major(y, M, N), pool);     // Y = X · Wᵀ
    // [/snippet quant_gemm_q]
    const auto wd = dequantized(w_blocks), xd = dequantized(x_blocks);
    const auto want = product_xwt(xd, wd, std::size_t(M), std::size_t(N), std::size_t(K));
    snippet::require(snippet::max_rel_err(y, want) < 1e-4, "batched Q4_0 GEMM");
  }
  {
    const pact::index_t M = 8, N = 64, K = 512;
    const auto wf = snippet::values(std::size_t(N * K), 10), xf = snippet::values(std::size_t(M * K), 11);
    std::vector<q::block_q4_K> w_blocks(static_cast<std::size_t>(N * K / 256));
    q::quantize<q::block_q4_K>(std::span<const float>(wf), std::span<q::block_q4_K>(w_blocks));
    std::vector<float> yv(static_cast<std::size_t>(M * N));
    float* y = yv.data();
    const float* x = xf.data();
    // [snippet quant_gemm_dequant]
    const auto X = pact::make_row_major(x, M, K);   // f32 (or bf16 / fp16) activations, not quantized
    pact::quant::gemm_dequant<pact::quant::block_q4_K>(X, std::span<const q::block_q4_K>(w_blocks), N,
                                                       pact::make_row_major(y, M, N), pool);   // Y = X · Wᵀ
    // [/snippet quant_gemm_dequant]
    const auto wd = dequantized(w_blocks);
    const auto want = product_xwt(xf, wd, std::size_t(M), std::size_t(N), std::size_t(K));
    snippet::require(snippet::max_rel_err(y, want) < 1e-5, "W4A32 Q4_K GEMM (dequantize on the fly)");
  }
  {
    const pact::index_t M = 6, N = 40, K = 256;
    const auto wf = snippet::values(std::size_t(N * K), 12), xf = snippet::values(std::size_t(M * K), 13);
    std::vector<q::mx_block_fp4> w_mx(static_cast<std::size_t>(N * K / 32));
    std::vector<q::mx_block_fp8_e4m3> x_mx(static_cast<std::size_t>(M * K / 32));
    q::quantize_mx<q::mx_block_fp4>(std::span<const float>(wf), std::span<q::mx_block_fp4>(w_mx));
    q::quantize_mx<q::mx_block_fp8_e4m3>(std::span<const float>(xf), std::span<q::mx_block_fp8_e4m3>(x_mx));
    std::vector<float> yv(static_cast<std::size_t>(M * N));
    float* y = yv.data();
    // [snippet quant_gemm_mx]
    // MXFP8 activations (M rows of K / 32 blocks) against MXFP4 weights (N rows): Y = X · Wᵀ
    pact::quant::gemm_dequant(std::span<const q::mx_block_fp8_e4m3>(x_mx), M, std::span<const q::mx_block_fp4>(w_mx), N,
                              pact::make_row_major(y, M, N), pool);
    // [/snippet quant_gemm_mx]
    std::vector<float> wd(wf.size()), xd(xf.size());
    q::dequantize_mx<q::mx_block_fp4>(std::span<const q::mx_block_fp4>(w_mx), std::span<float>(wd));
    q::dequantize_mx<q::mx_block_fp8_e4m3>(std::span<const q::mx_block_fp8_e4m3>(x_mx), std::span<float>(xd));
    const auto want = product_xwt(xd, wd, std::size_t(M), std::size_t(N), std::size_t(K));
    snippet::require(snippet::max_rel_err(y, want) < 1e-5, "MX GEMM (MXFP8 x MXFP4)");
  }
  {
    const std::size_t M = 5, N = 300, K = 384;
    const auto wf = snippet::values(N * K, 14), xf = snippet::values(M * K, 15);
    const float* w = wf.data();
    const float* x = xf.data();
    std::vector<float> yv(M * N), yq(M * N);
    float* y = yv.data();
    // [snippet quant_gemm_fp8]
    auto W = pact::quant::quantize_fp8_128x128<pact::fp8_e4m3>(w, N, K, K);   // at load time
    const auto Y = pact::make_row_major(y, pact::index_t(M), pact::index_t(N));
    pact::quant::gemm(pact::make_row_major(x, pact::index_t(M), pact::index_t(K)), W, Y, pool);   // f32 activations

    auto Xq = pact::quant::quantize_fp8_1x128<pact::fp8_e4m3>(x, M, K, K);    // or 1x128 FP8 tokens
    pact::quant::gemm(Xq, W, pact::make_row_major(yq.data(), pact::index_t(M), pact::index_t(N)), pool);
    // [/snippet quant_gemm_fp8]
    std::vector<float> wd(N * K), xd(M * K);
    q::dequantize_fp8(W, wd.data(), K);
    q::dequantize_fp8(Xq, xd.data(), K);
    const auto want = product_xwt(xf, wd, M, N, K), want_q = product_xwt(xd, wd, M, N, K);
    snippet::require(snippet::max_rel_err(yv.data(), want) < 1e-5, "FP8 GEMM, f32 activations");
    snippet::require(snippet::max_rel_err(yq.data(), want_q) < 1e-5, "FP8 x FP8 GEMM");
  }
  std::puts("quant snippets: ok");
  return 0;
}
