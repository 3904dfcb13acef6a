# Tests of the MNIST programs: the end-to-end run on the real data, and bad input.
set(work ${CMAKE_CURRENT_BINARY_DIR}/test-work)
file(MAKE_DIRECTORY ${work})

# logreg_program_test() is defined in cmake/LogregProgramTest.cmake.

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
# Skipped, like the tests that write the two files, when there is no MNIST data.
find_program(LOGREG_NUMPY_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(LOGREG_NUMPY_PYTHON)
  logreg_program_test(mnist_model_read_by_numpy MNIST EXPECT success MATCH "predictions agree on"
    COMMAND ${LOGREG_NUMPY_PYTHON} ${PROJECT_SOURCE_DIR}/tests/safetensors/read_with_numpy.py
            ${work}/defaults.safetensors ${work}/predictions.safetensors)
  set_tests_properties(mnist_model_read_by_numpy PROPERTIES FIXTURES_REQUIRED mnist_predictions)
endif()

# One test digit written as PGM and as PNG (the first MNIST test image is a 7).
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
logreg_program_test(mnist_train_batch_size_0 EXPECT failure EXIT_CODE 2 MATCH "--batch-size.*0"
  COMMAND $<TARGET_FILE:mnist_train> --batch-size 0)
logreg_program_test(mnist_train_negative_lr EXPECT failure EXIT_CODE 2 MATCH "--lr.*-1"
  COMMAND $<TARGET_FILE:mnist_train> --lr -1)
logreg_program_test(mnist_train_epochs_abc EXPECT failure EXIT_CODE 2 MATCH "--epochs.*abc"
  COMMAND $<TARGET_FILE:mnist_train> --epochs abc)
logreg_program_test(mnist_train_unknown_option EXPECT failure EXIT_CODE 2 MATCH "--bogus"
  COMMAND $<TARGET_FILE:mnist_train> --bogus)
logreg_program_test(mnist_train_nesterov_without_momentum MNIST EXPECT failure MATCH "'nesterov'"
  COMMAND $<TARGET_FILE:mnist_train> --nesterov --epochs 1)
logreg_program_test(mnist_train_momentum_with_adam EXPECT failure MATCH "--momentum applies to --optimizer sgd"
  COMMAND $<TARGET_FILE:mnist_train> --optimizer adam --momentum 0.9)
logreg_program_test(mnist_train_beta1_with_sgd EXPECT failure MATCH "--beta1 applies to --optimizer adam and adamw"
  COMMAND $<TARGET_FILE:mnist_train> --beta1 0.8)
logreg_program_test(mnist_train_bad_optimizer EXPECT failure EXIT_CODE 2 MATCH "--optimizer.*rmsprop"
  COMMAND $<TARGET_FILE:mnist_train> --optimizer rmsprop)
logreg_program_test(mnist_train_adam_reaches_92 MNIST EXPECT success MATCH "test accuracy 0\\.9[2-9]"
  JSON ${work}/adam.json MIN_ACCURACY 0.92
  COMMAND $<TARGET_FILE:mnist_train> --optimizer adam --quiet --metrics-json ${work}/adam.json)
# The full-batch L-BFGS solver (scikit-learn's objective, C = 1): 60 iterations reach 92%, with the
# solver's history in the metrics JSON and the report; mini-batch options are refused.
logreg_program_test(mnist_train_lbfgs_reaches_92 MNIST EXPECT success MATCH "test accuracy 0\\.9[2-9].*iterations"
  JSON ${work}/lbfgs.json MIN_ACCURACY 0.92
  COMMAND $<TARGET_FILE:mnist_train> --optimizer lbfgs --l2 1.6667e-5 --max-iter 60 --threads 2
          --metrics-json ${work}/lbfgs.json --report ${work}/lbfgs.html --save ${work}/lbfgs.safetensors)
logreg_program_test(mnist_train_lbfgs_standardized MNIST EXPECT success MATCH "test accuracy 0\\.9[0-9]"
  COMMAND $<TARGET_FILE:mnist_train> --optimizer lbfgs --normalize standard --l2 1e-4 --max-iter 12 --threads 2)
logreg_program_test(mnist_train_lbfgs_rejects_epochs EXPECT failure
  MATCH "--epochs applies to the mini-batch optimizers.*not to --optimizer lbfgs"
  COMMAND $<TARGET_FILE:mnist_train> --optimizer lbfgs --epochs 3)
logreg_program_test(mnist_train_lbfgs_rejects_val_split EXPECT failure MATCH "--val-split applies to the mini-batch"
  COMMAND $<TARGET_FILE:mnist_train> --optimizer lbfgs --val-split 0.2)
logreg_program_test(mnist_train_l2_with_sgd EXPECT failure MATCH "--l2 applies to --optimizer lbfgs"
  COMMAND $<TARGET_FILE:mnist_train> --l2 0.001)
logreg_program_test(mnist_train_lbfgs_negative_l2 EXPECT failure EXIT_CODE 2 MATCH "--l2"
  COMMAND $<TARGET_FILE:mnist_train> --optimizer lbfgs --l2 -1)

# mnist_eval's option errors end the same way (exit 2, not CLI11's 104-114); mnist_experiments' are in
# experiments.cmake.
logreg_program_test(mnist_eval_unknown_option EXPECT failure EXIT_CODE 2 MATCH "--bogus"
  COMMAND $<TARGET_FILE:mnist_eval> --model m.safetensors --bogus)
logreg_program_test(mnist_eval_no_model EXPECT failure EXIT_CODE 2 MATCH "--model is required"
  COMMAND $<TARGET_FILE:mnist_eval>)

logreg_program_test(mnist_train_help EXPECT success EXIT_CODE 0 MATCH "--batch-size.*--normalize"
  COMMAND $<TARGET_FILE:mnist_train> --help)

# Broken inputs written by the test itself: truncated / corrupt data, a corrupt model, a non-image.
add_executable(make_bad_inputs tools/make_bad_inputs.cpp)
target_link_libraries(make_bad_inputs PRIVATE logreg_warnings)
target_compile_features(make_bad_inputs PRIVATE cxx_std_17)
# With MNIST at hand, the truncated file is a real one cut in half.
logreg_program_test(mnist_make_bad_inputs EXPECT success COMMAND $<TARGET_FILE:make_bad_inputs> ${work}/bad)
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
# Inputs that are not regular files: refused at once with exit 2, saying what they are. A FIFO
# that nobody writes to used to block the programs forever: these tests time out after 20 s.
logreg_program_test(mnist_train_data_file_is_directory EXPECT failure EXIT_CODE 2
  MATCH "dir_images/train-images-idx3-ubyte: cannot open: it is a directory, not a regular file"
  COMMAND $<TARGET_FILE:mnist_train> --data ${work}/bad/dir_images --epochs 1)
logreg_program_test(mnist_train_data_file_is_fifo EXPECT failure EXIT_CODE 2
  MATCH "fifo_images/train-images-idx3-ubyte: cannot open: it is a FIFO \\(named pipe\\), not a regular file"
  COMMAND $<TARGET_FILE:mnist_train> --data ${work}/bad/fifo_images --epochs 1)
logreg_program_test(mnist_train_data_is_fifo EXPECT failure EXIT_CODE 2
  MATCH "MNIST directory '.*/fifo' is a FIFO \\(named pipe\\), not a directory"
  COMMAND $<TARGET_FILE:mnist_train> --data ${work}/bad/fifo --epochs 1)
logreg_program_test(mnist_eval_model_is_fifo EXPECT failure EXIT_CODE 2
  MATCH "/fifo: cannot open: it is a FIFO \\(named pipe\\), not a regular file"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/bad/fifo)
logreg_program_test(mnist_eval_model_is_directory EXPECT failure EXIT_CODE 2
  MATCH "/bad: cannot open: it is a directory, not a regular file"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/bad)
logreg_program_test(mnist_train_resume_is_fifo MNIST EXPECT failure EXIT_CODE 2
  MATCH "/fifo: cannot open: it is a FIFO \\(named pipe\\), not a regular file"
  COMMAND $<TARGET_FILE:mnist_train> --limit-train 100 --epochs 1 --resume ${work}/bad/fifo)
set_tests_properties(mnist_train_data_file_is_directory mnist_train_data_file_is_fifo mnist_train_data_is_fifo
  mnist_eval_model_is_fifo mnist_eval_model_is_directory mnist_train_resume_is_fifo
  PROPERTIES FIXTURES_REQUIRED bad_inputs TIMEOUT 20)

# ---- hardening: divergence, checkpoints, Ctrl-C, resume, and the rest of docs/robustness.md ----
# A real run killed (SIGKILL) at random points and during saves, and interrupted with SIGINT, then
# resumed: the checkpoint always loads and the final model is bitwise the uninterrupted run's.
find_program(LOGREG_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(LOGREG_PYTHON3)
  logreg_program_test(mnist_train_kill_resume MNIST EXPECT success MATCH "PASS"
    COMMAND ${LOGREG_PYTHON3} ${PROJECT_SOURCE_DIR}/tests/robustness/kill_resume_test.py
            $<TARGET_FILE:mnist_train> ${work}/kill_resume)
  # The same with Adam (amsgrad, weight decay): its moments survive kill -9 and resume bitwise.
  logreg_program_test(mnist_train_kill_resume_adam MNIST EXPECT success MATCH "PASS"
    COMMAND ${LOGREG_PYTHON3} ${PROJECT_SOURCE_DIR}/tests/robustness/kill_resume_test.py
            $<TARGET_FILE:mnist_train> ${work}/kill_resume_adam adam)
  # And the L-BFGS solver: its curvature pairs survive kill -9 and resume bitwise.
  logreg_program_test(mnist_train_kill_resume_lbfgs MNIST EXPECT success MATCH "PASS"
    COMMAND ${LOGREG_PYTHON3} ${PROJECT_SOURCE_DIR}/tests/robustness/kill_resume_test.py
            $<TARGET_FILE:mnist_train> ${work}/kill_resume_lbfgs lbfgs)
  set_tests_properties(mnist_train_kill_resume mnist_train_kill_resume_adam mnist_train_kill_resume_lbfgs
    PROPERTIES TIMEOUT 900 COST 20  # long: ctest starts them first (a fresh build has no timings)
    ENVIRONMENT "LOGREG_TEST_SEED=${LOGREG_TEST_SEED}")
endif()

# A learning rate far too large: a clear error naming epoch and batch and a hint, exit 3.
# (tests/robustness/test_checkpoint.cpp checks that the last good checkpoint stays intact.)
logreg_program_test(mnist_train_diverges MNIST EXPECT failure
  MATCH "diverged at epoch 1, batch [0-9]+ .*Try a smaller learning rate"
  COMMAND $<TARGET_FILE:mnist_train> --lr 1e38 --epochs 2
          --limit-train 2000 --checkpoint ${work}/diverged.ckpt)
logreg_program_test(mnist_train_lr_nan MNIST EXPECT failure MATCH "'lr' is nan"
  COMMAND $<TARGET_FILE:mnist_train> --lr nan --epochs 1 --limit-train 100)
logreg_program_test(mnist_train_lr_inf MNIST EXPECT failure MATCH "lr.*inf"
  COMMAND $<TARGET_FILE:mnist_train> --lr inf --epochs 1 --limit-train 100)
logreg_program_test(mnist_train_batch_larger_than_data MNIST EXPECT success MATCH "test accuracy"
  COMMAND $<TARGET_FILE:mnist_train> --limit-train 300 --batch-size 100000 --epochs 2 --quiet)
logreg_program_test(mnist_train_limit_too_large MNIST EXPECT failure MATCH "--limit-train 70000 is more than the 60000"
  COMMAND $<TARGET_FILE:mnist_train> --limit-train 70000)
logreg_program_test(mnist_train_resume_missing MNIST EXPECT failure MATCH "no-such.ckpt"
  COMMAND $<TARGET_FILE:mnist_train> --resume ${work}/no-such.ckpt)
logreg_program_test(mnist_train_resume_model_file MNIST EXPECT failure MATCH "defaults.safetensors.*not a checkpoint"
  COMMAND $<TARGET_FILE:mnist_train> --resume ${work}/defaults.safetensors)
set_tests_properties(mnist_train_resume_model_file PROPERTIES FIXTURES_REQUIRED mnist_model)
logreg_program_test(mnist_train_resume_corrupt MNIST EXPECT failure MATCH "corrupt.safetensors.*header length"
  COMMAND $<TARGET_FILE:mnist_train> --resume ${work}/bad/corrupt.safetensors)
set_tests_properties(mnist_train_resume_corrupt PROPERTIES FIXTURES_REQUIRED bad_inputs)
logreg_program_test(mnist_train_checkpoint_unwritable MNIST EXPECT failure
  MATCH "cannot write '${work}/no-such-dir/run.ckpt'"
  COMMAND $<TARGET_FILE:mnist_train> --limit-train 200 --epochs 1 --checkpoint ${work}/no-such-dir/run.ckpt)

# Broken models and data folders (tests/robustness/make_robustness_inputs.cpp).
set(rob ${work}/robustness)
add_test(NAME mnist_make_robustness_inputs COMMAND make_robustness_inputs ${rob})
set_tests_properties(mnist_make_robustness_inputs PROPERTIES FIXTURES_SETUP robustness_inputs)
set(_rob_tests "")
macro(rob_test name)
  logreg_program_test(${name} ${ARGN})
  list(APPEND _rob_tests ${name})
endmacro()
rob_test(mnist_eval_feature_mismatch MNIST EXPECT failure MATCH "784 features but the model has 5"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${rob}/model_5_features.safetensors)
rob_test(mnist_eval_nan_model EXPECT failure MATCH "model_nan.safetensors.*'weight' has the non-finite value nan"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${rob}/model_nan.safetensors)
rob_test(mnist_eval_bad_offsets EXPECT failure MATCH "model_bad_offsets.safetensors.*data_offsets"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${rob}/model_bad_offsets.safetensors)
rob_test(mnist_train_labels_out_of_range EXPECT failure MATCH "train-labels-idx1-ubyte: label 10 at index 0"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/labels_out_of_range --epochs 1)
# A header whose size overflows 64 bits is not 28x28 either, which the MNIST loader checks first
# (test_io's "impossible sizes..." checks the overflow itself).
rob_test(mnist_train_size_overflow EXPECT failure EXIT_CODE 2
  MATCH "train-images-idx3-ubyte: header claims 4294967295 images of 4294967295x4294967295, but images of 28x28"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/overflow --epochs 1)
# The attacker's file: a small gzip claiming one 46000x46000 image, refused from its header (the
# corrupt deflate data behind the header would say "corrupt gzip data" if it were read).
rob_test(mnist_train_huge_image_gzip EXPECT failure EXIT_CODE 2
  MATCH "train-images-idx3-ubyte.gz: header claims 1 image of 46000x46000, but images of 28x28 are expected"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/huge_image_gz --epochs 1)
rob_test(mnist_train_images_above_limit EXPECT failure EXIT_CODE 2
  MATCH "claims 2000000 images of 28x28 .1568000000 bytes., more than the caller's limit of 1073741824 bytes"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/above_limit --epochs 1)
rob_test(mnist_train_count_mismatch EXPECT failure MATCH "holds 2 images but .* holds 3 labels"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/count_mismatch --epochs 1)
rob_test(mnist_train_empty_images EXPECT failure MATCH "train-images-idx3-ubyte.*dimension 0 is zero"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/empty_images --epochs 1)
rob_test(mnist_train_empty_file EXPECT failure MATCH "train-images-idx3-ubyte: the file is empty"
  COMMAND $<TARGET_FILE:mnist_train> --data ${rob}/empty_file --epochs 1)
rob_test(mnist_eval_escaped_class_names EXPECT success EXIT_CODE 0 MATCH "x1b.0.owned.x07.x1b.2J.*x9b31m"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${rob}/model_escape_names.safetensors --image ${rob}/white.pgm)
rob_test(mnist_eval_overflowing_weights EXPECT failure EXIT_CODE 2
  MATCH "white.pgm: the model's probabilities for this image are not finite"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${rob}/model_huge.safetensors --image ${rob}/white.pgm)
set_tests_properties(${_rob_tests} PROPERTIES FIXTURES_REQUIRED robustness_inputs)

# Outputs are checked before any work: a missing folder, one file for two outputs, an input as
# output, a device; out-of-range numbers are refused by the option's name.
logreg_program_test(mnist_train_save_missing_folder EXPECT failure EXIT_CODE 2
  MATCH "--save .*no-such-folder/m.safetensors: cannot write .*its folder .* does not exist"
  COMMAND $<TARGET_FILE:mnist_train> --epochs 1 --save ${work}/no-such-folder/m.safetensors)
logreg_program_test(mnist_train_save_and_report_same_file EXPECT failure EXIT_CODE 2
  MATCH "--save and --report name the same file"
  COMMAND $<TARGET_FILE:mnist_train> --epochs 1 --save ${work}/same.out --report ${work}/./same.out)
logreg_program_test(mnist_train_save_over_resume EXPECT failure EXIT_CODE 2
  MATCH "--save .*run.ckpt is also an input [(]--resume"
  COMMAND $<TARGET_FILE:mnist_train> --epochs 1 --resume ${work}/run.ckpt --save ${work}/run.ckpt)
logreg_program_test(mnist_train_metrics_to_device EXPECT failure EXIT_CODE 2
  MATCH "--metrics-json /dev/null: cannot write '/dev/null': it is a device"
  COMMAND $<TARGET_FILE:mnist_train> --epochs 1 --metrics-json /dev/null)
logreg_program_test(mnist_eval_predictions_over_model EXPECT failure EXIT_CODE 2
  MATCH "--predictions .*m.safetensors is also an input [(]--model"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${work}/m.safetensors --predictions ${work}/m.safetensors)
logreg_program_test(mnist_train_negative_seed EXPECT failure EXIT_CODE 2 MATCH "--seed.*'-1' is not a whole number"
  COMMAND $<TARGET_FILE:mnist_train> --seed -1)
logreg_program_test(mnist_train_float_seed EXPECT failure EXIT_CODE 2 MATCH "--seed.*'1e23' is not a whole number"
  COMMAND $<TARGET_FILE:mnist_train> --seed 1e23)
if(MPI_CXX_FOUND)
  logreg_program_test(mnist_train_mpi_timeout_overflow EXPECT failure EXIT_CODE 2 MATCH "--mpi-timeout.*1e10"
    COMMAND $<TARGET_FILE:mnist_train> --distributed --mpi-timeout 1e10)
endif()
# mnist_eval --image FIFO: refused before any decoding, without waiting for a writer.
logreg_program_test(mnist_eval_image_is_fifo EXPECT failure EXIT_CODE 2
  MATCH "/fifo: cannot open: it is a FIFO \\(named pipe\\), not a regular file"
  COMMAND $<TARGET_FILE:mnist_eval> --model ${rob}/model_5_features.safetensors --image ${work}/bad/fifo)
set_tests_properties(mnist_eval_image_is_fifo PROPERTIES FIXTURES_REQUIRED "robustness_inputs;bad_inputs" TIMEOUT 20)
