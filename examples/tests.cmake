# Tests of the MNIST programs: the end-to-end run on the real data, and bad input.
set(expect ${PROJECT_SOURCE_DIR}/cmake/expect_run.cmake)
set(work ${CMAKE_CURRENT_BINARY_DIR}/test-work)
file(MAKE_DIRECTORY ${work})

# logreg_program_test(name EXPECT success|failure [MATCH regex] [MNIST] COMMAND ...)
function(logreg_program_test name)
  cmake_parse_arguments(ARG "MNIST" "EXPECT;MATCH;JSON;MIN_ACCURACY" "COMMAND" ${ARGN})
  string(REPLACE ";" "|" cmd "${ARG_COMMAND}")
  set(defs -DCOMMAND=${cmd} -DEXPECT=${ARG_EXPECT})
  if(DEFINED ARG_MATCH)
    list(APPEND defs "-DMATCH=${ARG_MATCH}")
  endif()
  if(ARG_MNIST)
    list(APPEND defs -DNEEDS_MNIST=ON)
  endif()
  if(ARG_JSON)
    list(APPEND defs -DJSON=${ARG_JSON} -DMIN_ACCURACY=${ARG_MIN_ACCURACY})
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${expect})
  set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "skipped: LOGREG_MNIST_DIR" TIMEOUT 600)
endfunction()

# ---- the main job: defaults reach >= 92% test accuracy on the real MNIST ----
logreg_program_test(mnist_train_defaults_reach_92 MNIST EXPECT success
  MATCH "test accuracy 0\\.9[2-9]"
  JSON ${work}/defaults.json MIN_ACCURACY 0.92
  COMMAND $<TARGET_FILE:mnist_train> --metrics-json ${work}/defaults.json --save ${work}/defaults.safetensors
          --report ${work}/defaults.html)
set_tests_properties(mnist_train_defaults_reach_92 PROPERTIES FIXTURES_SETUP mnist_model)

logreg_program_test(mnist_eval_test_set MNIST EXPECT success MATCH "test accuracy 0\\.9[2-9]"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/defaults.safetensors --predictions ${work}/predictions.safetensors)
set_tests_properties(mnist_eval_test_set PROPERTIES FIXTURES_REQUIRED mnist_model FIXTURES_SETUP mnist_predictions)

# The saved model read by Python + NumPy alone predicts the MNIST test set exactly as C++ did.
find_program(LOGREG_NUMPY_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(LOGREG_NUMPY_PYTHON)
  add_test(NAME mnist_model_read_by_numpy
    COMMAND ${LOGREG_NUMPY_PYTHON} ${PROJECT_SOURCE_DIR}/tests/safetensors/read_with_numpy.py
            ${work}/defaults.safetensors ${work}/predictions.safetensors)
  set_tests_properties(mnist_model_read_by_numpy PROPERTIES FIXTURES_REQUIRED mnist_predictions SKIP_RETURN_CODE 77)
endif()

# One test digit written as PGM and as PNG (the first MNIST test image is a 7).
add_executable(mnist_digit_to_image tools/mnist_digit_to_image.cpp)
target_link_libraries(mnist_digit_to_image PRIVATE logreg::io logreg_warnings)
logreg_program_test(mnist_write_digit_images MNIST EXPECT success
  COMMAND $<TARGET_FILE:mnist_digit_to_image> 0 ${work}/digit0.pgm ${work}/digit0.png)
set_tests_properties(mnist_write_digit_images PROPERTIES FIXTURES_SETUP mnist_digit)
foreach(ext pgm png)
  logreg_program_test(mnist_eval_image_${ext} MNIST EXPECT success MATCH "predicted class 7"
    COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/defaults.safetensors --image ${work}/digit0.${ext})
  set_tests_properties(mnist_eval_image_${ext} PROPERTIES FIXTURES_REQUIRED "mnist_model;mnist_digit")
endforeach()

# ---- bad input: a clear message and a non-zero exit, never a crash ----
logreg_program_test(mnist_train_missing_dir EXPECT failure MATCH "does not exist.*mnist_download"
  COMMAND $<TARGET_FILE:mnist_train> --data ${work}/no-such-dir)
logreg_program_test(mnist_train_batch_size_0 EXPECT failure MATCH "--batch-size.*0"
  COMMAND $<TARGET_FILE:mnist_train> --batch-size 0)
logreg_program_test(mnist_train_negative_lr EXPECT failure MATCH "--lr.*-1"
  COMMAND $<TARGET_FILE:mnist_train> --lr -1)
logreg_program_test(mnist_train_epochs_abc EXPECT failure MATCH "--epochs.*abc"
  COMMAND $<TARGET_FILE:mnist_train> --epochs abc)
logreg_program_test(mnist_train_unknown_option EXPECT failure MATCH "--bogus"
  COMMAND $<TARGET_FILE:mnist_train> --bogus)
logreg_program_test(mnist_train_nesterov_without_momentum MNIST EXPECT failure MATCH "'nesterov'"
  COMMAND $<TARGET_FILE:mnist_train> --nesterov --epochs 1)
logreg_program_test(mnist_train_help EXPECT success MATCH "--batch-size.*--normalize"
  COMMAND $<TARGET_FILE:mnist_train> --help)

# Broken inputs written by the test itself: truncated / corrupt data, a corrupt model, a non-image.
add_executable(make_bad_inputs tools/make_bad_inputs.cpp)
target_link_libraries(make_bad_inputs PRIVATE logreg_warnings)
target_compile_features(make_bad_inputs PRIVATE cxx_std_17)
add_test(NAME mnist_make_bad_inputs COMMAND make_bad_inputs ${work}/bad "$ENV{LOGREG_MNIST_DIR}")
set_tests_properties(mnist_make_bad_inputs PROPERTIES FIXTURES_SETUP bad_inputs)
logreg_program_test(mnist_train_truncated_file EXPECT failure MATCH "train-images.*(truncated|holds|claims|gzip)"
  COMMAND $<TARGET_FILE:mnist_train> --data ${work}/bad/truncated --epochs 1)
logreg_program_test(mnist_train_corrupt_file EXPECT failure MATCH "train-images.*magic"
  COMMAND $<TARGET_FILE:mnist_train> --data ${work}/bad/corrupt --epochs 1)
logreg_program_test(mnist_eval_corrupt_model EXPECT failure MATCH "corrupt.safetensors"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/bad/corrupt.safetensors)
logreg_program_test(mnist_eval_bad_image MNIST EXPECT failure MATCH "not-an-image.png.*(not a readable|image)"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/defaults.safetensors --image ${work}/bad/not-an-image.png)
set_tests_properties(mnist_train_truncated_file mnist_train_corrupt_file mnist_eval_corrupt_model
  PROPERTIES FIXTURES_REQUIRED bad_inputs)
set_tests_properties(mnist_eval_bad_image PROPERTIES FIXTURES_REQUIRED "mnist_model;bad_inputs")
logreg_program_test(mnist_eval_missing_model EXPECT failure MATCH "no-such.safetensors"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/no-such.safetensors)
