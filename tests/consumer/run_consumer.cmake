# Builds and runs tests/consumer/project against logreg consumed as MODE, from an empty folder.
# -DMODE=find_package|add_subdirectory|FetchContent -DSOURCE=<logreg source> -DBUILD=<logreg build> -DWORK=<scratch>
#
# A logreg copy in a system folder would let a broken package pass (its headers or config file are
# found instead of the ones under test): refuse to run if one is there.
foreach(dir /usr/local/include/logreg /usr/include/logreg /usr/local/share/cmake/logreg /usr/local/lib/cmake/logreg
            /usr/share/cmake/logreg /usr/lib/cmake/logreg /usr/local/lib/pkgconfig/logreg.pc
            /usr/local/share/pkgconfig/logreg.pc /usr/share/pkgconfig/logreg.pc)
  if(EXISTS "${dir}")
    message(FATAL_ERROR "consumer (${MODE}): ${dir} exists: a logreg copy installed system-wide would hide "
                        "packaging bugs. Remove it (or uninstall the logreg package) and run again.")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
set(args -DLOGREG_CONSUME=${MODE} -DLOGREG_SOURCE_DIR=${SOURCE} -DCMAKE_BUILD_TYPE=
         -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(CXX)
  list(APPEND args -DCMAKE_CXX_COMPILER=${CXX})
endif()
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD}" --prefix "${WORK}/prefix" RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install failed (${rc})")
  endif()
  list(APPEND args "-DCMAKE_PREFIX_PATH=${WORK}/prefix")
endif()

function(run step)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer (${MODE}) ${step} failed (${rc}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(MAKE_DIRECTORY "${WORK}")
run(configure ${CMAKE_COMMAND} -S "${SOURCE}/tests/consumer/project" -B "${WORK}/build" ${args})
if(MODE STREQUAL "find_package" AND NOT out MATCHES "logreg package used: ${WORK}/prefix/")
  message(FATAL_ERROR "consumer (find_package): the package was not taken from the fresh prefix:\n${out}")
endif()
run(build ${CMAKE_COMMAND} --build "${WORK}/build" -j 2)
foreach(program consumer consumer_io consumer_mpi)
  if(EXISTS "${WORK}/build/${program}")
    run(${program} "${WORK}/build/${program}")
    message(STATUS "consumer (${MODE}): ${out}")
  elseif(NOT program STREQUAL "consumer_mpi")
    message(FATAL_ERROR "consumer (${MODE}): ${program} was not built")
  endif()
endforeach()
