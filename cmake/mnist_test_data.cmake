# Where the tests find MNIST, for the test scripts (included with -P scripts, at test time):
#   1. $LOGREG_MNIST_DIR, when it is set;
#   2. else MNIST_FALLBACK_DIR (the build's LOGREG_DATA_DIR: where `--target mnist` / `mnist_data`
#      put the files), when it holds the four files.
# logreg_use_mnist_dir() exports the folder found as LOGREG_MNIST_DIR to the programs the script
# runs and sets LOGREG_MNIST_FOUND; logreg_mnist_skip() prints the skip line that the tests'
# SKIP_REGULAR_EXPRESSION ("skipped: no MNIST data") turns into a skip with the reason.

function(logreg_mnist_dir_complete dir out)
  set(complete TRUE)
  foreach(name train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
    if(NOT EXISTS "${dir}/${name}" AND NOT EXISTS "${dir}/${name}.gz")
      set(complete FALSE)
    endif()
  endforeach()
  set(${out} ${complete} PARENT_SCOPE)
endfunction()

macro(logreg_use_mnist_dir)
  set(LOGREG_MNIST_FOUND FALSE)
  if(NOT "$ENV{LOGREG_MNIST_DIR}" STREQUAL "")
    set(LOGREG_MNIST_FOUND TRUE)
  elseif(NOT "${MNIST_FALLBACK_DIR}" STREQUAL "")
    logreg_mnist_dir_complete("${MNIST_FALLBACK_DIR}" _logreg_fallback_complete)
    if(_logreg_fallback_complete)
      set(ENV{LOGREG_MNIST_DIR} "${MNIST_FALLBACK_DIR}")
      set(LOGREG_MNIST_FOUND TRUE)
    endif()
  endif()
endmacro()

function(logreg_mnist_skip)
  message("skipped: no MNIST data: LOGREG_MNIST_DIR is not set and ${MNIST_FALLBACK_DIR} does not hold the four "
          "MNIST files. Run `cmake --build <build> --target mnist_data` (downloads and verifies them there) "
          "or set LOGREG_MNIST_DIR to a folder with them, then run the tests again.")
endfunction()
