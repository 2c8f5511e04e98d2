# Builds and runs tests/packaging/consumer against pact brought in by one route.
#   cmake -DROUTE=<install|add_subdirectory|fetchcontent> -DPACT_SOURCE_DIR=<pact checkout>
#         -DWORK_DIR=<scratch folder> [-DGENERATOR=Ninja] [-DCXX_COMPILER=g++]
#         [-DPKG_CONFIG=<pkg-config>] -P run_consumer.cmake
# Every step runs in WORK_DIR (wiped first); the nested pact build has tests, benchmarks
# and examples off, so a route takes a few seconds.
cmake_minimum_required(VERSION 3.21)
foreach(_v ROUTE PACT_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "run_consumer.cmake: -D${_v}=... is required")
  endif()
endforeach()
set(_consumer_src "${CMAKE_CURRENT_LIST_DIR}/consumer")
set(_gen_args)
if(GENERATOR)
  list(APPEND _gen_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND _gen_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
list(APPEND _gen_args -DCMAKE_BUILD_TYPE=Release)

function(run_step what)
  message(STATUS "[${ROUTE}] ${what}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[${ROUTE}] ${what} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# Builds the consumer with extra configure arguments, runs it, checks what it prints.
function(build_and_run_consumer)
  set(bin "${WORK_DIR}/consumer-build")
  set(consumer_route ${ROUTE})
  if(ROUTE STREQUAL "install")
    set(consumer_route find_package)
  endif()
  run_step("configure consumer" ${CMAKE_COMMAND} -S "${_consumer_src}" -B "${bin}" ${_gen_args}
           -DPACT_CONSUMER_ROUTE=${consumer_route} ${ARGN})
  run_step("build consumer" ${CMAKE_COMMAND} --build "${bin}")
  run_step("run consumer" "${bin}/consumer")
  check_consumer_output("${step_output}")
endfunction()

function(check_consumer_output out)
  if(NOT out MATCHES "pact [0-9]+\\.[0-9]+\\.[0-9]+ native_arch=[a-z0-9_]+ ")
    message(FATAL_ERROR "[${ROUTE}] unexpected consumer output:\n${out}")
  endif()
  message(STATUS "[${ROUTE}] consumer says: ${out}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(ROUTE STREQUAL "install")
  # (a) cmake --install into a prefix, then find_package(pact) and pkg-config.
  set(prefix "${WORK_DIR}/prefix")
  run_step("configure pact" ${CMAKE_COMMAND} -S "${PACT_SOURCE_DIR}" -B "${WORK_DIR}/pact-build"
           ${_gen_args} -DPACT_BUILD_TESTS=OFF -DPACT_BUILD_BENCHMARKS=OFF
           -DPACT_BUILD_EXAMPLES=OFF -DPACT_INSTALL=ON "-DCMAKE_INSTALL_PREFIX=${prefix}")
  run_step("install pact" ${CMAKE_COMMAND} --install "${WORK_DIR}/pact-build")
  build_and_run_consumer("-DCMAKE_PREFIX_PATH=${prefix}")

  if(NOT PKG_CONFIG)
    message(FATAL_ERROR "[install] pkg-config not found (install package pkg-config)")
  endif()
  set(ENV{PKG_CONFIG_PATH} "${prefix}/share/pkgconfig")
  run_step("pkg-config --cflags" ${PKG_CONFIG} --cflags pact)
  string(STRIP "${step_output}" cflags)
  separate_arguments(cflags UNIX_COMMAND "${cflags}")
  run_step("pkg-config --libs" ${PKG_CONFIG} --libs pact)
  string(STRIP "${step_output}" libs)
  separate_arguments(libs UNIX_COMMAND "${libs}")
  if(NOT cflags MATCHES "${prefix}/include")
    message(FATAL_ERROR "[install] pkg-config --cflags pact does not point into the prefix: ${cflags}")
  endif()
  if(NOT CXX_COMPILER)
    set(CXX_COMPILER c++)
  endif()
  run_step("compile with pkg-config flags" ${CXX_COMPILER} ${cflags} -O2
           "${_consumer_src}/main.cpp" -o "${WORK_DIR}/consumer_pkgconfig" ${libs})
  run_step("run pkg-config consumer" "${WORK_DIR}/consumer_pkgconfig")
  check_consumer_output("${step_output}")

elseif(ROUTE STREQUAL "add_subdirectory")
  # (b) the consumer adds pact's source folder as a subdirectory.
  build_and_run_consumer("-DPACT_SOURCE=${PACT_SOURCE_DIR}")

elseif(ROUTE STREQUAL "fetchcontent")
  # (c) FetchContent from a local archive of what a release tarball holds (no network).
  set(members CMakeLists.txt cmake include)
  foreach(f LICENSE README.md)
    if(EXISTS "${PACT_SOURCE_DIR}/${f}")
      list(APPEND members ${f})
    endif()
  endforeach()
  set(archive "${WORK_DIR}/pact-src.tar.gz")
  execute_process(COMMAND ${CMAKE_COMMAND} -E tar czf "${archive}" -- ${members}
                  WORKING_DIRECTORY "${PACT_SOURCE_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[fetchcontent] could not pack ${PACT_SOURCE_DIR}")
  endif()
  build_and_run_consumer("-DPACT_SOURCE=file://${archive}")

else()
  message(FATAL_ERROR "unknown ROUTE '${ROUTE}' (install | add_subdirectory | fetchcontent)")
endif()
message(STATUS "[${ROUTE}] OK")
