# Install rules and packages: the CMake package (find_package(logreg)), pkg-config files
# (logreg, logreg-io, logreg-mpi) and a Debian package made by CPack (cpack -G DEB).
# Included by the top-level CMakeLists.txt after the targets are defined.

set(LOGREG_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/logreg)
set(LOGREG_PKGCONFIG_DIR ${CMAKE_INSTALL_DATADIR}/pkgconfig)  # header-only: arch-independent

# What the package was built with; logregConfig.cmake finds the same dependencies again.
foreach(dep ZLIB_FOUND nlohmann_json_FOUND LOGREG_STB_INCLUDE_DIR LOGREG_SPNG_FOUND LOGREG_CSV_FOUND MPI_CXX_FOUND)
  string(MAKE_C_IDENTIFIER "LOGREG_CONFIG_${dep}" var)
  if(${dep})
    set(${var} ON)
  else()
    set(${var} OFF)
  endif()
endforeach()

if(LOGREG_CONFIG_ZLIB_FOUND AND LOGREG_CONFIG_nlohmann_json_FOUND AND LOGREG_CONFIG_LOGREG_STB_INCLUDE_DIR
   AND LOGREG_CONFIG_LOGREG_SPNG_FOUND AND LOGREG_CONFIG_LOGREG_CSV_FOUND)
  set(LOGREG_CONFIG_IO ON)  # logreg::io has all it needs (the io component)
else()
  set(LOGREG_CONFIG_IO OFF)
endif()

install(DIRECTORY include/logreg DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT logreg_devel)
install(TARGETS ${logreg_install_targets} EXPORT logregTargets COMPONENT logreg_devel)
install(EXPORT logregTargets NAMESPACE logreg:: DESTINATION ${LOGREG_CMAKE_DIR} COMPONENT logreg_devel)
configure_package_config_file(cmake/logregConfig.cmake.in
  ${PROJECT_BINARY_DIR}/logregConfig.cmake
  INSTALL_DESTINATION ${LOGREG_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/logregConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/logregConfig.cmake ${PROJECT_BINARY_DIR}/logregConfigVersion.cmake
  DESTINATION ${LOGREG_CMAKE_DIR} COMPONENT logreg_devel)

# pkg-config: the prefix is found from the .pc file's own place (${pcfiledir}), so an install
# moved or made with `cmake --install --prefix` elsewhere stays usable.
file(RELATIVE_PATH LOGREG_PC_TO_PREFIX "/prefix/${LOGREG_PKGCONFIG_DIR}" "/prefix")
string(REGEX REPLACE "/$" "" LOGREG_PC_TO_PREFIX "${LOGREG_PC_TO_PREFIX}")
set(logreg_pc_files logreg)
if(LOGREG_CONFIG_IO)
  list(APPEND logreg_pc_files logreg-io)
endif()
if(MPI_CXX_FOUND)
  list(APPEND logreg_pc_files logreg-mpi)
endif()
foreach(pc IN LISTS logreg_pc_files)
  configure_file(cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc DESTINATION ${LOGREG_PKGCONFIG_DIR} COMPONENT logreg_devel)
endforeach()

# ---- Debian package: liblogreg-dev, architecture-independent (headers and package files) ----
set(CPACK_PACKAGE_NAME liblogreg-dev)
set(CPACK_PACKAGE_VENDOR "logreg")
set(CPACK_PACKAGE_CONTACT "The logreg developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Multinomial logistic regression for C++17 on Eigen (header-only)
 Softmax regression trained by mini-batch SGD, with hand-derived gradients, a threaded
 allocation-free hot path, IDX/MNIST and safetensors I/O and HTML reports.
 CMake: find_package(logreg) and the targets logreg::logreg, logreg::io, logreg::mpi;
 pkg-config: logreg, logreg-io, logreg-mpi.")
# The package's own dependencies: the core needs Eigen; logreg::io needs zlib, nlohmann_json, stb, libspng
# and libcsv.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libeigen3-dev (>= 3.4)")
if(LOGREG_CONFIG_IO)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", zlib1g-dev, nlohmann-json3-dev (>= 3.9), libstb-dev, libspng-dev, libcsv-dev")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pkg-config")
if(MPI_CXX_FOUND)
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libopenmpi-dev")  # logreg::mpi / logreg-mpi only
endif()
# Only logreg's own files: not what a FetchContent fallback (Eigen, Catch2, benchmark) would install.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};logreg_devel;/")
include(CPack)
