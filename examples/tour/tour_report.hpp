#pragma once
// The tour's shared pieces: a median timer, the machine's measured ceilings, and the
// report every section appends to (printed as tables, written as pact_tour.json, which
// tools/roofline.py turns into a roofline chart).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "support/machine_peak.hpp"

namespace tour {

/// Bytes a set of rotated input copies must exceed together so that every call reads its
/// inputs from DRAM: twice the L3 the OS reports (260 MiB on some Xeon VMs), at least 256 MB.
inline double cold_rotation_bytes() { return std::max(256e6, 2.0 * static_cast<double>(pact_bench::llc_bytes())); }

/// Copies of an input of `bytes` to rotate: 1 (warm, e.g. the smoke run) when min_copies is
/// 1, else at least min_copies and enough to exceed cold_rotation_bytes() together.
inline int cold_copies(int min_copies, double bytes) {
  return min_copies <= 1 ? 1 : std::max(min_copies, static_cast<int>(std::ceil(cold_rotation_bytes() / bytes)));
}

/// Median wall time of `reps` calls after one warm-up call.
inline double seconds_of(const std::function<void()>& f, int reps) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct ceilings {
  double peak_gflops[2];  // f32 FMA peak, 1 and 2 threads
  double dram_gbps[2];    // DRAM read bandwidth, 1 and 2 threads
};

/// One measured kernel run. `flops` and `bytes` are per call: the rate is flops/seconds,
/// and flops/bytes is the arithmetic intensity a roofline places it at (bytes = the
/// compulsory traffic: each operand read once, the output written once).
struct result {
  std::string kernel, shape, impl;
  int threads = 1;
  double seconds = 0, flops = 0, bytes = 0;
  bool bandwidth_bound = false;  // report GB/s instead of GFLOP/s
  double ceiling_scale = 1;      // compute ceiling = scale x f32 FMA peak (4 for int8 VNNI: 64 MACs vs 16 per instruction)
  double gflops() const { return flops / seconds / 1e9; }
  double gbps() const { return bytes / seconds / 1e9; }
};

struct options {
  bool thorough = false;
  bool smoke = false;  // tiny sizes, one repetition: CI checks the tour runs, not its numbers
  int reps(int quick, int slow) const { return smoke ? 1 : thorough ? slow : quick; }
};

class report {
 public:
  explicit report(ceilings c) : ceil_(c) {}
  const ceilings& machine() const { return ceil_; }

  /// Times `f` and records it; the first impl of a table should be pact.
  result& add(std::string kernel, std::string shape, std::string impl, int threads, double flops, double bytes,
              bool bandwidth_bound, const std::function<void()>& f, int reps) {
    result r{std::move(kernel), std::move(shape), std::move(impl), threads, seconds_of(f, reps), flops, bytes, bandwidth_bound};
    results_.push_back(r);
    return results_.back();
  }

  /// Prints the rows of one (kernel, shape, threads) table: rate, % of the relevant ceiling,
  /// speed-up over the naive row and pact's ratio to the best peer.
  void print_table(const std::string& kernel, const std::string& shape, int threads) const {
    std::vector<const result*> rows;
    for (const auto& r : results_)
      if (r.kernel == kernel && r.shape == shape && r.threads == threads) rows.push_back(&r);
    if (rows.empty()) return;
    const bool bw = rows.front()->bandwidth_bound;
    // Each row against its own ceiling: an int8 row in an f32 table (Q4_0 experts next to
    // f32 ones) is measured against the int8 peak, not the f32 one.
    auto ceiling_of = [&](const result& r) {
      return bw ? ceil_.dram_gbps[threads > 1] : ceil_.peak_gflops[threads > 1] * r.ceiling_scale;
    };
    double naive = 0, best_peer = 0;
    for (const auto* r : rows) {
      const double rate = bw ? r->gbps() : r->gflops();
      if (r->impl.rfind("naive", 0) == 0) naive = rate;
      else if (r->impl.rfind("pact", 0) != 0) best_peer = std::max(best_peer, rate);
    }
    std::printf("\n  %s %s, %d thread%s%*s%s   %% %s   vs naive   vs best peer\n", kernel.c_str(), shape.c_str(), threads,
                threads > 1 ? "s" : " ", std::max(1, 34 - static_cast<int>(kernel.size() + shape.size())), "",
                bw ? "   GB/s" : "GFLOP/s", bw ? "DRAM" : "peak");
    for (const auto* r : rows) {
      const double rate = bw ? r->gbps() : r->gflops();
      std::printf("    %-36s %8.1f   %5.1f%%", r->impl.c_str(), rate, 100 * rate / ceiling_of(*r));
      if (naive > 0) std::printf("   %7.1fx", rate / naive);
      else std::printf("           ");
      if (best_peer > 0 && r->impl.rfind("pact", 0) == 0) std::printf("   %6.2fx", rate / best_peer);
      std::printf("\n");
    }
    std::fflush(stdout);
  }

  void write_json(const std::string& path, const std::string& cpu, const std::string& arch) const {
    std::ofstream out(path);
    out << "{\"cpu\":\"" << cpu << "\",\"arch\":\"" << arch << "\",\"fma_peak_gflops\":[" << ceil_.peak_gflops[0] << ","
        << ceil_.peak_gflops[1] << "],\"dram_read_gbps\":[" << ceil_.dram_gbps[0] << "," << ceil_.dram_gbps[1]
        << "],\"results\":[";
    for (std::size_t i = 0; i < results_.size(); ++i) {
      const auto& r = results_[i];
      out << (i ? ",\n" : "\n") << "{\"kernel\":\"" << r.kernel << "\",\"shape\":\"" << r.shape << "\",\"impl\":\"" << r.impl
          << "\",\"threads\":" << r.threads << ",\"seconds\":" << r.seconds << ",\"flops\":" << r.flops
          << ",\"bytes\":" << r.bytes << ",\"gflops\":" << r.gflops() << ",\"gbps\":" << r.gbps()
          << ",\"bandwidth_bound\":" << (r.bandwidth_bound ? "true" : "false") << ",\"ceiling_scale\":" << r.ceiling_scale << "}";
    }
    out << "]}\n";
  }

 private:
  ceilings ceil_;
  std::vector<result> results_;
};

/// Progress line for a tour step.
inline void step(int index, int total, const char* what) {
  std::printf("\n[%d/%d] %s\n", index, total, what);
  std::fflush(stdout);
}

}  // namespace tour
