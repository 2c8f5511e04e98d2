# Runs the tuner in its quick mode, then compiles and runs a program built with the
# generated header and checks that pact's default policy is now the one reported.
execute_process(COMMAND ${TUNE} --quick --rounds 2 --max-candidates 3 --out ${OUT}/pact_tuned_test.hpp
                OUTPUT_VARIABLE tune_out RESULT_VARIABLE rc)
message("${tune_out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pact_tune failed (${rc})")
endif()
if(NOT tune_out MATCHES "chosen: mr=([0-9]+) nr=([0-9]+) kc=([0-9]+) mc=([0-9]+) nc=([0-9]+) order=([a-z_0-9]+) prefetch=([0-9]+)")
  message(FATAL_ERROR "no 'chosen:' line in the tuner's output")
endif()
set(expected "mr=${CMAKE_MATCH_1} nr=${CMAKE_MATCH_2} kc=${CMAKE_MATCH_3} mc=${CMAKE_MATCH_4} nc=${CMAKE_MATCH_5} prefetch=${CMAKE_MATCH_7}")
if(NOT tune_out MATCHES "chosen attention: block_q=([0-9]+) block_kv=([0-9]+)")
  message(FATAL_ERROR "no 'chosen attention:' line in the tuner's output")
endif()
string(APPEND expected " block_q=${CMAKE_MATCH_1} block_kv=${CMAKE_MATCH_2}")

file(WRITE ${OUT}/check_tuned.cpp [=[
#include <cstdio>
#include <vector>
#include "pact/gemm.hpp"
#include "pact/tuning/attention_defaults.hpp"
int main() {
  using P = pact::default_gemm_policy_t<float>;
  using AP = pact::default_attention_policy_t<>;
  std::printf("mr=%d nr=%d kc=%ld mc=%ld nc=%ld prefetch=%d block_q=%ld block_kv=%ld\n", P::mr, P::nr, static_cast<long>(P::kc),
              static_cast<long>(P::mc), static_cast<long>(P::nc), pact::prefetch_b_of<P>, static_cast<long>(AP::block_q),
              static_cast<long>(AP::block_kv));
  // And the tuned policy computes: 70 x 50 x 90 against a plain loop.
  const int M = 70, N = 50, K = 90;
  std::vector<float> a(M * K), b(K * N), c(M * N);
  for (int i = 0; i < M * K; ++i) a[i] = static_cast<float>(i % 7) - 3;
  for (int i = 0; i < K * N; ++i) b[i] = static_cast<float>(i % 5) - 2;
  pact::gemm(1.0f, pact::make_row_major<const float>(a.data(), M, K), pact::make_row_major<const float>(b.data(), K, N),
             0.0f, pact::make_row_major(c.data(), M, N));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float s = 0;
      for (int k = 0; k < K; ++k) s += a[i * K + k] * b[k * N + j];
      if (s != c[i * N + j]) return 1;
    }
  return 0;
}
]=])
separate_arguments(flag_list UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND ${CXX} -std=c++20 -O1 ${flag_list} -I${SRC}/include
                        "-DPACT_TUNED_HEADER=\"${OUT}/pact_tuned_test.hpp\"" ${OUT}/check_tuned.cpp -o ${OUT}/check_tuned -pthread
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the generated header does not compile:\n${err}")
endif()
execute_process(COMMAND ${OUT}/check_tuned OUTPUT_VARIABLE got RESULT_VARIABLE rc)
string(STRIP "${got}" got)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gemm with the tuned policy gave a wrong result")
endif()
if(NOT got STREQUAL expected)
  message(FATAL_ERROR "pact uses '${got}', the tuner chose '${expected}'")
endif()
message("tuned policy selected: ${got}")
