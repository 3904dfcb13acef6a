# mnist_experiments: a grid of training settings on MNIST -> a Markdown table (docs/guide.md).
# Included by examples/CMakeLists.txt after the MNIST programs, so CLI11 and logreg::io are there.
add_executable(mnist_experiments ${CMAKE_CURRENT_LIST_DIR}/mnist_experiments.cpp)
target_link_libraries(mnist_experiments PRIVATE logreg::io logreg_kernels_once CLI11::CLI11 logreg_warnings)

if(LOGREG_BUILD_TESTS)
  # The CI's short mode: two settings, one epoch each; skipped (with the reason) without MNIST.
  set(logreg_experiments_table ${CMAKE_CURRENT_BINARY_DIR}/experiments-quick.md)
  logreg_program_test(mnist_experiments_quick MNIST EXPECT success
    MATCH "\\| lr \\| batch \\|.*\\| 0\\.001 \\| 64 \\| unit \\|.*table written to"
    COMMAND $<TARGET_FILE:mnist_experiments> --quick --output ${logreg_experiments_table})
  set_tests_properties(mnist_experiments_quick PROPERTIES TIMEOUT 300)
  # Option errors end as mnist_train's do (exit 2, not CLI11's 104-114).
  logreg_program_test(mnist_experiments_bad_number EXPECT failure EXIT_CODE 2 MATCH "--threads.*x"
    COMMAND $<TARGET_FILE:mnist_experiments> --threads x)
  logreg_program_test(mnist_experiments_seed_too_large EXPECT failure EXIT_CODE 2
    MATCH "--seed.*'18446744073709551616' is not a whole number"
    COMMAND $<TARGET_FILE:mnist_experiments> --seed 18446744073709551616)
endif()
