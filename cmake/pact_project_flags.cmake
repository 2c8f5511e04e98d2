# Flags for pact's own tests, benchmarks and examples only (never the library's interface).
add_library(pact_project_flags INTERFACE)
separate_arguments(_pact_arch_flags UNIX_COMMAND "${PACT_ARCH_FLAGS}")
target_compile_options(pact_project_flags INTERFACE ${_pact_arch_flags}
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Werror>
  # g++ 12 false positives inside avx512fintrin.h (_mm512_undefined_*, GCC PR105593).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized -Wno-uninitialized>)
# xsimd must be a SYSTEM include (plain -I raises -Wconversion/-Wshadow noise).
set_target_properties(pact PROPERTIES SYSTEM OFF)
find_package(OpenMP)
if(OpenMP_CXX_FOUND AND CMAKE_CROSSCOMPILING)
  # FindOpenMP names libgomp.so, which the -static link below rejects; passing -fopenmp
  # to the link lets the compiler driver pick libgomp.a instead.
  separate_arguments(_pact_omp_flags UNIX_COMMAND "${OpenMP_CXX_FLAGS}")
  target_compile_options(pact_project_flags INTERFACE ${_pact_omp_flags})
  target_link_options(pact_project_flags INTERFACE ${_pact_omp_flags})
elseif(OpenMP_CXX_FOUND)
  target_link_libraries(pact_project_flags INTERFACE OpenMP::OpenMP_CXX)
endif()
if(CMAKE_CROSSCOMPILING)
  # qemu-user runs static binaries without a foreign sysroot.
  target_link_options(pact_project_flags INTERFACE -static)
endif()
