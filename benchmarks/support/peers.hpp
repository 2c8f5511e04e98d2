#pragma once
// The peer libraries a benchmark compares against, each optional at configure time
// (PACT_BENCH_HAVE_*). Thread counts are set explicitly before each run.
#include <cstdint>

#if defined(PACT_BENCH_HAVE_OPENBLAS)
#include <cblas.h>
#endif
#if defined(PACT_BENCH_HAVE_BLIS)
#include <blis.h>
#endif
#if defined(PACT_BENCH_HAVE_DNNL)
#include <dnnl.hpp>
#endif
#if defined(PACT_BENCH_HAVE_EIGEN)
#include <Eigen/Core>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace pact_bench {

inline void set_peer_threads(int threads) {
#if defined(PACT_BENCH_HAVE_OPENBLAS)
  openblas_set_num_threads(threads);
#endif
#if defined(PACT_BENCH_HAVE_BLIS)
  bli_thread_set_num_threads(threads);
#endif
#if defined(_OPENMP)
  omp_set_num_threads(threads);  // oneDNN and Eigen thread through OpenMP
#endif
#if defined(PACT_BENCH_HAVE_EIGEN)
  Eigen::setNbThreads(threads);
#endif
}

}  // namespace pact_bench
