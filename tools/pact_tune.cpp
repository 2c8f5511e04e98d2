// pact_tune: searches the GEMM policy space and the attention tile sizes on this machine
// and writes a policy header.
//
//   pact_tune [--quick] [--rounds N] [--max-candidates N] [--out pact_tuned.hpp]
//
// Candidates are policies for the arch this tool was compiled for (its -march): register
// tiles the arch allows x cache blocks (KC, MC, NC) x loop order x software prefetch.
// Each candidate runs on a few representative shapes (a large square GEMM and an LLM-style
// small-M product with pre-packed weights); timings are interleaved round-robin across
// candidates (so machine drift hits all of them alike) and each candidate is scored by the
// geometric mean over shapes of its median GFLOP/s. Inputs are seeded, so runs are
// reproducible up to timing noise. The winner is written as data:
//
//   template <> struct pact::tuning::tuned_gemm_policy<pact::simd::avx512_vnni, float>
//       : pact::gemm_config<...> {};
//
// Build your code with -DPACT_TUNED_HEADER='"path/pact_tuned.hpp"' (every translation unit,
// so all of them see the same policy) and pact::gemm uses it with no run-time cost.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "pact/attention.hpp"
#include "pact/gemm.hpp"

namespace {
namespace simd = pact::simd;
using A = simd::native_arch;
using pact::gemm_loop_order;

struct candidate {
  int mr, nr;
  long kc, mc, nc;
  gemm_loop_order order;
  int prefetch;
  std::function<double(const struct shape&)> time_one;  // seconds for one call
  std::vector<std::vector<double>> samples;            // per shape
  double score = 0;
};

struct shape {
  int m, n, k;
  bool packed;
  std::vector<float> a, b, c;
};

std::vector<shape> make_shapes(bool quick) {
  std::vector<shape> s;
  if (quick) {
    s.push_back({96, 96, 96, false, {}, {}, {}});
    s.push_back({4, 256, 256, true, {}, {}, {}});
  } else {
    s.push_back({1024, 1024, 1024, false, {}, {}, {}});
    s.push_back({32, 4096, 4096, true, {}, {}, {}});
    s.push_back({512, 512, 512, false, {}, {}, {}});
  }
  std::mt19937 gen(2026);
  std::uniform_real_distribution<float> d(-1, 1);
  for (auto& x : s) {
    x.a.resize(static_cast<std::size_t>(x.m) * x.k);
    x.b.resize(static_cast<std::size_t>(x.k) * x.n);
    x.c.resize(static_cast<std::size_t>(x.m) * x.n);
    for (auto& v : x.a) v = d(gen);
    for (auto& v : x.b) v = d(gen);
  }
  return s;
}

template <class P>
candidate make_candidate() {
  candidate c{P::mr, P::nr, P::kc, P::mc, P::nc, pact::loop_order_of<P>, pact::prefetch_b_of<P>, {}, {}, 0};
  c.time_one = [](const shape& s) {
    auto A_ = pact::make_row_major<const float>(s.a.data(), s.m, s.k);
    auto B_ = pact::make_row_major<const float>(s.b.data(), s.k, s.n);
    auto C_ = pact::make_row_major(const_cast<float*>(s.c.data()), s.m, s.n);
    if (s.packed) {
      static std::vector<std::pair<const float*, std::shared_ptr<pact::packed_b<float, P>>>> cache;
      std::shared_ptr<pact::packed_b<float, P>> pb;
      for (auto& [ptr, p] : cache)
        if (ptr == s.b.data()) pb = p;
      if (!pb) {
        pb = std::make_shared<pact::packed_b<float, P>>(B_);
        cache.emplace_back(s.b.data(), pb);
      }
      const auto t0 = std::chrono::steady_clock::now();
      pact::gemm(1.0f, A_, *pb, 0.0f, C_);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const auto t0 = std::chrono::steady_clock::now();
    pact::gemm<P>(1.0f, A_, B_, 0.0f, C_);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  return c;
}

// ---- the search space for this arch -----------------------------------------------------
template <int MR, int NR>
void add_blockings(std::vector<candidate>& out) {
  constexpr auto AUTO = gemm_loop_order::automatic;
  constexpr auto BL1 = gemm_loop_order::b_sliver_in_l1;
  constexpr long mc = (336 / MR) * MR;  // blocks are multiples of the tile
  constexpr long nc = (1024 / NR) * NR;
  out.push_back(make_candidate<pact::gemm_config<A, float, MR, NR, 384, mc, nc, AUTO, 32>>());
  out.push_back(make_candidate<pact::gemm_config<A, float, MR, NR, 256, mc, nc, AUTO, 32>>());
  out.push_back(make_candidate<pact::gemm_config<A, float, MR, NR, 384, (168 / MR) * MR, (4096 / NR) * NR, BL1, 32>>());
  out.push_back(make_candidate<pact::gemm_config<A, float, MR, NR, 384, mc, nc, AUTO, 0>>());
}

std::vector<candidate> search_space() {
  std::vector<candidate> c;
  // The current default first: the report states the tuned policy's gain over it.
  c.push_back(make_candidate<pact::default_gemm_policy_t<float>>());
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  if constexpr (A::bytes >= 64) {
    add_blockings<14, 2 * L>(c);  // 28 accumulators
    add_blockings<12, 2 * L>(c);  // 24, leaves room for deeper unrolling
    add_blockings<8, 3 * L>(c);   // 24, wider B (fewer broadcasts per FMA)
  } else if constexpr (A::bytes == 32) {
    add_blockings<6, 2 * L>(c);
    add_blockings<4, 3 * L>(c);
  } else {
    add_blockings<6, 2 * L>(c);
    add_blockings<4, 2 * L>(c);
  }
  return c;
}

const char* order_name(gemm_loop_order o) {
  switch (o) {
    case gemm_loop_order::b_sliver_in_l1: return "b_sliver_in_l1";
    case gemm_loop_order::a_sliver_in_l1: return "a_sliver_in_l1";
    case gemm_loop_order::automatic: return "automatic";
  }
  return "automatic";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---- attention tiles ------------------------------------------------------------------
// Candidates block_q x block_kv for pact::attention, timed on a causal GQA prefill (8 query
// heads over 2 KV heads, d = 128; --quick: seq 128) with HeadDim = 128 fixed, which runs
// the same kernel the runtime-head-dim policy dispatches to at d = 128; the header then
// records attention_config<block_q, block_kv> (any head dim).
struct attention_candidate {
  int block_q, block_kv;
  std::function<void()> run;
  std::vector<double> samples;
  double score = 0;
};

struct attention_problem {
  pact::index_t seq, heads = 8, kv_heads = 2, dim = 128;
  std::vector<float> q, k, v, o;
  explicit attention_problem(pact::index_t s) : seq(s) {
    std::mt19937 g(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    auto fill = [&](std::vector<float>& x, pact::index_t n) {
      x.resize(static_cast<std::size_t>(n));
      for (auto& e : x) e = u(g);
    };
    fill(q, seq * heads * dim);
    fill(k, seq * kv_heads * dim);
    fill(v, seq * kv_heads * dim);
    o.resize(q.size());
  }
  double flops() const { return 2.0 * static_cast<double>(heads) * static_cast<double>(seq * seq) * static_cast<double>(dim); }  // causal: half of 4 S^2 d
};

template <int BQ, int BKV>
attention_candidate make_attention_candidate(attention_problem& p) {
  attention_candidate c{BQ, BKV, {}, {}, 0};
  c.run = [&p] {
    pact::attention_params opt;
    opt.causal = true;
    pact::attention<pact::attention_config<BQ, BKV, 128>>(
        pact::tensor_view<const float, 4>(p.q.data(), {1, p.seq, p.heads, p.dim}),
        pact::tensor_view<const float, 4>(p.k.data(), {1, p.seq, p.kv_heads, p.dim}),
        pact::tensor_view<const float, 4>(p.v.data(), {1, p.seq, p.kv_heads, p.dim}),
        pact::tensor_view<float, 4>(p.o.data(), {1, p.seq, p.heads, p.dim}), opt);
  };
  return c;
}

/// The default (64 x 64) first.
std::vector<attention_candidate> attention_space(attention_problem& p) {
  std::vector<attention_candidate> c;
  c.push_back(make_attention_candidate<64, 64>(p));
  c.push_back(make_attention_candidate<32, 64>(p));
  c.push_back(make_attention_candidate<64, 128>(p));
  c.push_back(make_attention_candidate<128, 64>(p));
  c.push_back(make_attention_candidate<128, 128>(p));
  c.push_back(make_attention_candidate<64, 32>(p));
  return c;
}

double time_call(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int rounds = 5;
  std::size_t max_candidates = 1000;
  std::string out = "pact_tuned.hpp";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--max-candidates") && i + 1 < argc) max_candidates = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--rounds N] [--max-candidates N] [--out FILE]\n", argv[0]);
      return 2;
    }
  }
  auto shapes = make_shapes(quick);
  auto cands = search_space();
  if (cands.size() > max_candidates) cands.resize(max_candidates);
  std::printf("pact_tune: %zu candidates for %s, %zu shapes, %d rounds\n", cands.size(), A::name, shapes.size(), rounds);
  for (auto& c : cands) {
    c.samples.resize(shapes.size());
    for (auto& s : shapes) c.time_one(s);  // warm-up (and pack the weights once)
  }
  for (int r = 0; r < rounds; ++r) {
    for (auto& c : cands)
      for (std::size_t si = 0; si < shapes.size(); ++si) c.samples[si].push_back(c.time_one(shapes[si]));
    std::printf("  round %d/%d done\n", r + 1, rounds);
    std::fflush(stdout);
  }
  for (auto& c : cands) {
    double log_sum = 0;
    for (std::size_t si = 0; si < shapes.size(); ++si) {
      const auto& s = shapes[si];
      log_sum += std::log(2.0 * s.m * s.n * s.k / median(c.samples[si]) / 1e9);
    }
    c.score = std::exp(log_sum / static_cast<double>(shapes.size()));
  }
  const auto best = std::max_element(cands.begin(), cands.end(), [](const candidate& x, const candidate& y) { return x.score < y.score; });
  std::printf("\n  %-4s %-4s %-5s %-5s %-5s %-15s %-8s %s\n", "MR", "NR", "KC", "MC", "NC", "order", "prefetch", "GFLOP/s (geomean of medians)");
  for (const auto& c : cands)
    std::printf("  %-4d %-4d %-5ld %-5ld %-5ld %-15s %-8d %.1f%s%s\n", c.mr, c.nr, c.kc, c.mc, c.nc, order_name(c.order), c.prefetch,
                c.score, &c == &cands.front() ? "  (default)" : "", &c == &*best ? "  <- chosen" : "");
  std::printf("\nchosen: mr=%d nr=%d kc=%ld mc=%ld nc=%ld order=%s prefetch=%d, %.1f%% over the default\n", best->mr, best->nr,
              best->kc, best->mc, best->nc, order_name(best->order), best->prefetch, 100.0 * (best->score / cands.front().score - 1));

  // Attention tiles, interleaved the same way.
  attention_problem ap(quick ? 128 : 1024);
  auto acands = attention_space(ap);
  if (acands.size() > max_candidates) acands.resize(max_candidates);
  for (auto& c : acands) c.run();  // warm-up
  for (int r = 0; r < rounds; ++r)
    for (auto& c : acands) c.samples.push_back(time_call(c.run));
  for (auto& c : acands) c.score = ap.flops() / median(c.samples) / 1e9;
  const auto abest = std::max_element(acands.begin(), acands.end(),
                                      [](const attention_candidate& x, const attention_candidate& y) { return x.score < y.score; });
  std::printf("\n  attention, causal prefill %ld tokens, 8/2 heads, d 128\n  %-8s %-8s %s\n", static_cast<long>(ap.seq), "block_q",
              "block_kv", "GFLOP/s (median)");
  for (const auto& c : acands)
    std::printf("  %-8d %-8d %.1f%s%s\n", c.block_q, c.block_kv, c.score, &c == &acands.front() ? "  (default)" : "",
                &c == &*abest ? "  <- chosen" : "");
  std::printf("\nchosen attention: block_q=%d block_kv=%d, %.1f%% over the default\n", abest->block_q, abest->block_kv,
              100.0 * (abest->score / acands.front().score - 1));

  std::ofstream f(out);
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  f << "#pragma once\n"
    << "// Generated by pact_tune on " << date << " for simd::" << A::name << " (" << cands.size() << " candidates, " << rounds
    << " rounds, geometric mean of median GFLOP/s over " << shapes.size() << " shapes).\n"
    << "// Chosen: " << best->score << " GFLOP/s; the default policy: " << cands.front().score << " GFLOP/s.\n"
    << "// Use it in every translation unit: -DPACT_TUNED_HEADER='\"" << out << "\"'.\n"
    << "#include \"pact/tuning/gemm_defaults.hpp\"\n\n"
    << "template <>\nstruct pact::tuning::tuned_gemm_policy<pact::simd::" << A::name << ", float>\n"
    << "    : pact::gemm_config<pact::simd::" << A::name << ", float, " << best->mr << ", " << best->nr << ", " << best->kc
    << ", " << best->mc << ", " << best->nc << ", pact::gemm_loop_order::" << order_name(best->order) << ", " << best->prefetch
    << "> {};\n\n"
    << "// Attention tiles (causal prefill, " << ap.seq << " tokens): " << abest->score << " GFLOP/s; the default: "
    << acands.front().score << " GFLOP/s.\n"
    << "#include \"pact/tuning/attention_defaults.hpp\"\n\n"
    << "template <>\nstruct pact::tuning::tuned_attention_policy<pact::simd::" << A::name << ">\n"
    << "    : pact::attention_config<" << abest->block_q << ", " << abest->block_kv << ", 0, pact::simd::" << A::name << "> {};\n";
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
