# Dependencies: find_package first (Debian packages), FetchContent as the fallback
# for a machine with only a compiler and CMake (FIND_PACKAGE_ARGS needs CMake 3.24).
include(FetchContent)
find_package(Threads REQUIRED)

if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.24)
  FetchContent_Declare(Eigen3
    GIT_REPOSITORY https://gitlab.com/libeigen/eigen.git
    GIT_TAG 3.4.0
    GIT_SHALLOW TRUE
    FIND_PACKAGE_ARGS 3.4 NO_MODULE)
  FetchContent_MakeAvailable(Eigen3)
  if(NOT TARGET Eigen3::Eigen AND TARGET eigen)
    add_library(Eigen3::Eigen ALIAS eigen)
  endif()
else()
  find_package(Eigen3 3.4 REQUIRED NO_MODULE)
endif()
