# xsimd from Debian's libxsimd-dev (8.1). Two known wrinkles, see ../shared/PLATFORM.md:
#  - its config lists `xtl` as a link dependency without finding it (-> "cannot find -lxtl");
#  - a cross build must not add -I/usr/include, so PACT_XSIMD_INCLUDE_DIR exposes just the
#    xsimd folder through a link in the build tree, as a SYSTEM include.
include(GNUInstallDirs)
if(TARGET xsimd)
  return()
endif()
if(PACT_XSIMD_INCLUDE_DIR)
  set(_pact_xsimd_shim "${CMAKE_BINARY_DIR}/_pact_xsimd_include")
  file(MAKE_DIRECTORY "${_pact_xsimd_shim}")
  if(NOT EXISTS "${_pact_xsimd_shim}/xsimd")
    file(CREATE_LINK "${PACT_XSIMD_INCLUDE_DIR}/xsimd" "${_pact_xsimd_shim}/xsimd" SYMBOLIC)
  endif()
  add_library(xsimd INTERFACE IMPORTED GLOBAL)
  set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_pact_xsimd_shim}"
                                         INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_pact_xsimd_shim}")
else()
  find_package(xsimd 8 REQUIRED)
  if(NOT TARGET xtl)
    add_library(xtl INTERFACE IMPORTED GLOBAL)
  endif()
endif()
