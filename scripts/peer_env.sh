# Source before running a benchmark or the tour: environment that lets the peer libraries
# use their best kernels on this machine (never used by tests).
#  - OpenBLAS 0.3.21 detects some virtualized CPUs as "Prescott" (SSE3 kernels, ~20 GFLOP/s);
#    name the core from the CPU flags instead.
#  - Debian's BLIS picks its AVX2 kernels on AVX-512 CPUs unless BLIS_ARCH_TYPE is numeric
#    (0 = skx).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -q avx512f /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -q avx2 /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=Haswell
  fi
fi
unset OPENBLAS_L2_SIZE
if [ -z "${BLIS_ARCH_TYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then export BLIS_ARCH_TYPE=0; fi
