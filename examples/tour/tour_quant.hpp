#pragma once
// Tour section: quantized weights. A decode step (M = 1) reads every weight once, so its
// speed is DRAM bandwidth divided by bytes per weight: 4 bytes for f32, 1.06 for Q8_0,
// 1 for FP8, 0.56 for Q4_0 and Q4_K, 0.53 for MXFP4. The int8 GEMM table shows the compute side (VNNI on AVX512-VNNI).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "pact/gemm.hpp"
#include "pact/quant.hpp"
#include "support/peers.hpp"
#include "tour_report.hpp"

namespace tour {

/// y = W x with cold quantized weights (rotated copies, > cold_rotation_bytes() together). Copy 0 is
/// quantized from floats (ggml's rules; on two threads), the others are byte copies of it.
template <class Block>
inline void quant_gemv_cold(report& rep, const char* impl, int n, int threads, int reps, int min_copies) {
  using XBlock = pact::quant::gemv_activation_t<Block>;
  const std::size_t nblk = static_cast<std::size_t>(n) * (static_cast<std::size_t>(n) / Block::elems);
  const double bytes = static_cast<double>(nblk * sizeof(Block));
  const int copies = cold_copies(min_copies, bytes);
  std::vector<float> wf(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < wf.size(); ++i) wf[i] = std::sin(0.001f * static_cast<float>(i));
  std::vector<std::vector<Block>> w(static_cast<std::size_t>(copies), std::vector<Block>(nblk));
  pact::thread_pool pool(threads);
  pact::quant::quantize<Block>(std::span<const float>(wf), std::span<Block>(w[0]), pact::thread_pool(2));
  for (int c = 1; c < copies; ++c) w[static_cast<std::size_t>(c)] = w[0];
  std::vector<float> x(static_cast<std::size_t>(n), 0.25f), y(static_cast<std::size_t>(n));
  std::vector<XBlock> xq(static_cast<std::size_t>(n) / XBlock::elems);
  pact::quant::quantize<XBlock>(std::span<const float>(x), std::span<XBlock>(xq));
  int turn = 0;
  const std::string shape = "1x" + std::to_string(n) + "x" + std::to_string(n) + (min_copies > 1 ? " (cold)" : "");
  rep.add("quantized gemv", shape, impl, threads, 2.0 * n * n, bytes, true, [&] {
    pact::quant::gemv<Block>(std::span<const Block>(w[static_cast<std::size_t>(turn++ % copies)]), n, n,
                             std::span<const XBlock>(xq), std::span<float>(y), pool);
  }, reps);
}

/// The same with FP8 E4M3 weights and 128x128 block scales (DeepSeek-V3), f32 activations.
inline void quant_gemv_cold_fp8(report& rep, int n, int threads, int reps, int min_copies) {
  const auto N = static_cast<std::size_t>(n);
  const double bytes = static_cast<double>(N * N);
  const int copies = cold_copies(min_copies, bytes);
  std::vector<float> wf(N * N);
  for (std::size_t i = 0; i < wf.size(); ++i) wf[i] = std::sin(0.001f * static_cast<float>(i));
  std::vector<pact::quant::fp8_weights_128x128<pact::fp8_e4m3>> w;
  w.push_back(pact::quant::quantize_fp8_128x128<pact::fp8_e4m3>(wf.data(), N, N, N));
  for (int c = 1; c < copies; ++c) {
    pact::quant::fp8_weights_128x128<pact::fp8_e4m3> copy;
    copy.rows = copy.cols = N;
    copy.data.resize(N * N);
    copy.scales.resize(w[0].scales.size());
    std::copy(w[0].data.data(), w[0].data.data() + N * N, copy.data.data());
    std::copy(w[0].scales.data(), w[0].scales.data() + w[0].scales.size(), copy.scales.data());
    w.push_back(std::move(copy));
  }
  std::vector<float> x(N, 0.25f), y(N);
  pact::thread_pool pool(threads);
  int turn = 0;
  const std::string shape = "1x" + std::to_string(n) + "x" + std::to_string(n) + (min_copies > 1 ? " (cold)" : "");
  rep.add("quantized gemv", shape, "pact FP8 E4M3 128x128 (1 B/weight)", threads, 2.0 * n * n, bytes, true, [&] {
    pact::quant::gemv(w[static_cast<std::size_t>(turn++ % copies)], std::span<const float>(x), std::span<float>(y), pool);
  }, reps);
}

inline void quant_gemv_table(report& rep, int n, int threads, int reps, int min_copies) {
  // f32 reference row: the same GEMV with f32 weights, through pact::gemm (M = 1).
  const int copies = cold_copies(min_copies, 4.0 * n * n);
  std::vector<std::vector<float>> w(static_cast<std::size_t>(copies), std::vector<float>(static_cast<std::size_t>(n) * n));
  for (int c = 0; c < copies; ++c)
    for (std::size_t i = 0; i < w[0].size(); ++i) w[static_cast<std::size_t>(c)][i] = std::sin(0.001f * static_cast<float>(i + static_cast<std::size_t>(c)));
  std::vector<float> x(static_cast<std::size_t>(n), 0.25f), y(static_cast<std::size_t>(n));
  pact::thread_pool pool(threads);
  int turn = 0;
  const std::string shape = "1x" + std::to_string(n) + "x" + std::to_string(n) + (min_copies > 1 ? " (cold)" : "");
  quant_gemv_cold<pact::quant::block_q4_0>(rep, "pact Q4_0 (0.56 B/weight)", n, threads, reps, min_copies);
  quant_gemv_cold<pact::quant::block_q4_K>(rep, "pact Q4_K (0.56 B/weight)", n, threads, reps, min_copies);
  quant_gemv_cold<pact::quant::block_mxfp4>(rep, "pact MXFP4 (0.53 B/weight)", n, threads, reps, min_copies);
  quant_gemv_cold<pact::quant::block_q8_0>(rep, "pact Q8_0 (1.06 B/weight)", n, threads, reps, min_copies);
  quant_gemv_cold_fp8(rep, n, threads, reps, min_copies);
  rep.add("quantized gemv", shape, "pact f32 (4 B/weight)", threads, 2.0 * n * n, 4.0 * n * n, true, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(x.data(), 1, n),
               pact::make_row_major<const float>(w[static_cast<std::size_t>(turn++ % copies)].data(), n, n).t(), 0.0f,
               pact::make_row_major(y.data(), 1, n), pact::epilogue::none{}, pool);
  }, reps);
  rep.print_table("quantized gemv", shape, threads);
}

/// The int8 compute ceiling relative to the f32 FMA peak: vpdpbusd does 64 u8 x s8 MACs
/// where vfmadd231ps does 16; without VNNI (pmaddubsw + pmaddwd + add) about half that.
inline constexpr double int8_ceiling_scale = std::is_base_of_v<pact::simd::avx512_vnni, pact::simd::native_arch> ? 4.0 : 2.0;

/// u8 x s8 -> s32 GEMM (W8A8), against oneDNN's dnnl_gemm_u8s8s32 when installed.
inline void int8_gemm_table(report& rep, int n, int threads, int reps) {
  std::vector<std::uint8_t> a(static_cast<std::size_t>(n) * n);
  std::vector<std::int8_t> b(a.size());
  std::vector<std::int32_t> c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(i * 37 % 251), b[i] = static_cast<std::int8_t>(i * 91 % 255 - 127);
  const double ops = 2.0 * n * n * n, bytes = 2.0 * n * n + 4.0 * n * n;
  const std::string shape = std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(n);
  pact::thread_pool pool(threads);
  pact_bench::set_peer_threads(threads);
  rep.add("int8 gemm (GOP/s)", shape, "pact int8_gemm", threads, ops, bytes, false, [&] {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(a.data(), n, n), pact::make_row_major<const std::int8_t>(b.data(), n, n),
                    pact::make_row_major(c.data(), n, n), pact::int8_requantize{}, pool);
  }, reps).ceiling_scale = int8_ceiling_scale;
#if defined(PACT_BENCH_HAVE_DNNL)
  rep.add("int8 gemm (GOP/s)", shape, "oneDNN u8s8s32", threads, ops, bytes, false, [&] {
    const std::int32_t co = 0;
    dnnl_gemm_u8s8s32('N', 'N', 'F', n, n, n, 1.0f, a.data(), n, 0, b.data(), n, 0, 0.0f, c.data(), n, &co);
  }, reps).ceiling_scale = int8_ceiling_scale;
#endif
  rep.print_table("int8 gemm (GOP/s)", shape, threads);
}

inline void quant_section(report& rep, const options& opt) {
  if (opt.smoke) {
    quant_gemv_table(rep, 256, 1, 1, 1);
    int8_gemm_table(rep, 64, 1, 1);
    return;
  }
  quant_gemv_table(rep, 4096, 1, opt.reps(5, 15), 2);
  quant_gemv_table(rep, 4096, 2, opt.reps(5, 15), 2);
  int8_gemm_table(rep, 1024, 1, opt.reps(3, 7));
  if (opt.thorough) int8_gemm_table(rep, 1024, 2, 7);
}

}  // namespace tour
