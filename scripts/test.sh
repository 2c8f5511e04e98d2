#!/usr/bin/env bash
# Builds and tests pact in several configurations, one after the other (the machine has
# 2 cores: each build uses -j2 and ctest runs 2 tests at a time), then prints a summary.
#   bash scripts/test.sh                                   # all configurations
#   PACT_TEST_CONFIGS="release aarch64" bash scripts/test.sh
# Configurations are CMake presets (CMakePresets.json), each in build/<preset>:
#   release     -march=native, every arch typed tests can run here; also builds the
#               benchmarks, the examples and the docs' snippets
#   haswell     -march=haswell (AVX2 + FMA), -O2, tests only (avx2 + scalar). Skipped on a
#               CPU without AVX-512: there -march=native is AVX2 and release ran it.
#   x86-64      -march=x86-64 (SSE2 only), -O2, tests only
#   asan-ubsan  -march=native, AddressSanitizer + UndefinedBehaviorSanitizer, widest arch
#   aarch64     cross, NEON + dotprod, tests under qemu-aarch64
#   riscv64     cross, pact's scalar arch, tests under qemu-riscv64
#   fuzz        clang + libFuzzer (ASan+UBSan): every quantized-format decoder on random
#               bytes for a bounded time (PACT_FUZZ_SECONDS, default 20)
# Exit status: non-zero if any configuration failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all_configs="release haswell x86-64 asan-ubsan aarch64 riscv64 fuzz"
configs=${PACT_TEST_CONFIGS:-$all_configs}
configs=${configs//,/ }
for c in $configs; do
  if [[ " $all_configs debug " != *" $c "* ]]; then
    echo "test.sh: unknown configuration '$c' (choose from: $all_configs debug)" >&2
    exit 2
  fi
done

bash scripts/install_deps.sh --test || exit 1

# Benchmarks only need to compile once; the other configurations skip them to save time.
extra_args() {
  case "$1" in
    release) echo "-DPACT_BUILD_BENCHMARKS=ON" ;;
    *) echo "-DPACT_BUILD_BENCHMARKS=OFF" ;;
  esac
}

declare -A result seconds
failed=0
total_start=$SECONDS
for c in $configs; do
  echo
  echo "==================== $c ===================="
  start=$SECONDS
  if [[ $c == haswell && -z ${PACT_TEST_CONFIGS:-} ]] && ! grep -qw avx512f /proc/cpuinfo; then
    # release's -march=native is AVX2 here: it already built and ran what haswell would.
    result[$c]="skipped (= release)"
    seconds[$c]=0
    echo "no AVX-512 on this CPU: release was the -march=native = AVX2 build; skipping"
    continue
  elif [[ $c == fuzz ]]; then
    # Not a preset: the fuzzer needs clang, and only its own target is built.
    if ! CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DPACT_BUILD_FUZZERS=ON \
           -DPACT_BUILD_BENCHMARKS=OFF -DPACT_BUILD_EXAMPLES=OFF -DPACT_FUZZ_SECONDS="${PACT_FUZZ_SECONDS:-20}"; then
      result[$c]="configure FAILED"
    elif ! cmake --build build/fuzz --target fuzz_quant -j2; then
      result[$c]="build FAILED"
    elif ! ctest --test-dir build/fuzz -L fuzz --output-on-failure; then
      result[$c]="fuzzing FAILED"
    else
      result[$c]="passed"
    fi
  elif ! cmake --preset "$c" $(extra_args "$c"); then
    result[$c]="configure FAILED"
  elif ! cmake --build --preset "$c" -j2; then
    result[$c]="build FAILED"
  elif ! ctest --preset "$c" --output-on-failure -j2; then
    result[$c]="tests FAILED"
  else
    result[$c]="passed"
  fi
  seconds[$c]=$((SECONDS - start))
  [[ ${result[$c]} == passed ]] || failed=1
done

echo
echo "==================== summary ===================="
printf "%-12s  %-18s  %8s\n" configuration result time
for c in $configs; do
  printf "%-12s  %-18s  %5d:%02d\n" "$c" "${result[$c]}" $((seconds[$c] / 60)) $((seconds[$c] % 60))
done
total=$((SECONDS - total_start))
printf "%-12s  %-18s  %5d:%02d\n" total "$([[ $failed == 0 ]] && echo passed || echo FAILED)" \
  $((total / 60)) $((total % 60))
exit $failed
