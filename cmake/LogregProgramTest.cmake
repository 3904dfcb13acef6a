# logreg_program_test(): a CTest test that runs a program through cmake/expect_run.cmake, which
# checks its exit (a clean failure or success, never a crash), its output and, optionally, the
# accuracy in its metrics JSON. Every such test sees the MNIST folder the build knows of
# (cmake/mnist_test_data.cmake); tests that need it are skipped, with the reason, without it.

# The skip line of every test that needs MNIST and finds none.
set(LOGREG_MNIST_SKIP_REGEX "skipped: no MNIST data")

# logreg_program_test(name EXPECT success|failure [EXIT_CODE n] [MATCH regex] [MNIST] [WORKING_DIRECTORY dir]
#                     COMMAND ...)
function(logreg_program_test name)
  cmake_parse_arguments(ARG "MNIST" "EXPECT;EXIT_CODE;MATCH;JSON;MIN_ACCURACY;WORKING_DIRECTORY" "COMMAND" ${ARGN})
  string(REPLACE ";" "|" cmd "${ARG_COMMAND}")
  set(defs -DCOMMAND=${cmd} -DEXPECT=${ARG_EXPECT} -DMNIST_FALLBACK_DIR=${LOGREG_DATA_DIR})
  if(ARG_WORKING_DIRECTORY)
    list(APPEND defs -DWORKING_DIRECTORY=${ARG_WORKING_DIRECTORY})
  endif()
  if(DEFINED ARG_EXIT_CODE)
    list(APPEND defs -DEXIT_CODE=${ARG_EXIT_CODE})
  endif()
  if(DEFINED ARG_MATCH)
    list(APPEND defs "-DMATCH=${ARG_MATCH}")
  endif()
  if(ARG_MNIST)
    list(APPEND defs -DNEEDS_MNIST=ON)
  endif()
  if(ARG_JSON)
    list(APPEND defs -DJSON=${ARG_JSON} -DMIN_ACCURACY=${ARG_MIN_ACCURACY})
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/expect_run.cmake)
  set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "${LOGREG_MNIST_SKIP_REGEX}" TIMEOUT 600)
endfunction()
