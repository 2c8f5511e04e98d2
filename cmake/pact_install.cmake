# install(): headers, the exported target pact::pact, a config that finds xsimd,
# an arch-independent version file (header-only: any arch may consume it) and pkg-config.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/pact DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS pact EXPORT pactTargets)
set(PACT_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/pact)
install(EXPORT pactTargets NAMESPACE pact:: DESTINATION ${PACT_CMAKE_DIR})

configure_package_config_file(cmake/templates/pactConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/pactConfig.cmake INSTALL_DESTINATION ${PACT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/pactConfigVersion.cmake
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pactConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/pactConfigVersion.cmake
        DESTINATION ${PACT_CMAKE_DIR})

configure_file(cmake/templates/pact.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pact.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pact.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
