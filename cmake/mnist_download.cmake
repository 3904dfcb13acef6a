# mnist_download.cmake - downloads the four MNIST files and verifies their SHA-256.
#
#   cmake -DDIR=<dir> [-DMIRRORS="url1;url2"] -P cmake/mnist_download.cmake
#
# Mirrors are tried in order: -DMIRRORS, else $ENV{LOGREG_MNIST_MIRRORS} (';'- or
# space-separated), else the defaults below; http(s):// and file:// URLs work.
# The hashes are those of the DECOMPRESSED files, so a mirror may use any gzip
# settings. A file reaches its final name only after verification (download to
# <name>.part, check, then rename), so an interrupted or bad download never
# leaves a plausible-looking file behind. Needs the gzip program.

cmake_minimum_required(VERSION 3.20)

set(_mnist_default_mirrors
  "https://ossci-datasets.s3.amazonaws.com/mnist/"
  "https://storage.googleapis.com/cvdf-datasets/mnist/")

# SHA-256 of the decompressed official files.
set(_mnist_files
  train-images-idx3-ubyte
  train-labels-idx1-ubyte
  t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte)
set(_mnist_sha256_train-images-idx3-ubyte ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db)
set(_mnist_sha256_train-labels-idx1-ubyte 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5)
set(_mnist_sha256_t10k-images-idx3-ubyte 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7)
set(_mnist_sha256_t10k-labels-idx1-ubyte ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2)

if(NOT DEFINED DIR OR DIR STREQUAL "")
  message(FATAL_ERROR "mnist_download: no target folder; usage: cmake -DDIR=<dir> [-DMIRRORS=\"url1;url2\"] -P mnist_download.cmake")
endif()
# A relative DIR is relative to the directory cmake was started from.
get_filename_component(DIR "${DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

if(DEFINED MIRRORS AND NOT MIRRORS STREQUAL "")
  set(_mirrors "${MIRRORS}")
elseif(NOT "$ENV{LOGREG_MNIST_MIRRORS}" STREQUAL "")
  string(REGEX REPLACE "[ \t\r\n]+" ";" _mirrors "$ENV{LOGREG_MNIST_MIRRORS}")
else()
  set(_mirrors ${_mnist_default_mirrors})
endif()
list(FILTER _mirrors EXCLUDE REGEX "^$")
if(_mirrors STREQUAL "")
  message(FATAL_ERROR "mnist_download: the mirror list is empty")
endif()

find_program(_mnist_gzip NAMES gzip)
if(NOT _mnist_gzip)
  message(FATAL_ERROR "mnist_download: the 'gzip' program is needed to verify the downloads; install it (e.g. apt-get install gzip)")
endif()

file(MAKE_DIRECTORY "${DIR}")

# _mnist_verify(<gz or raw file> <is_gz> <expected sha> <out_var> <out_reason>):
# <out_var> is TRUE when the (decompressed) content has the expected SHA-256.
function(_mnist_verify file is_gz expected out_ok out_reason)
  set(${out_ok} FALSE PARENT_SCOPE)
  file(READ "${file}" _head LIMIT 16)
  if(_head MATCHES "^[ \t\r\n]*<")
    set(${out_reason} "it is an HTML page (an error page served instead of the file?), not gzip data" PARENT_SCOPE)
    return()
  endif()
  if(is_gz)
    set(_raw "${file}.raw")
    execute_process(COMMAND "${_mnist_gzip}" -dc "${file}" OUTPUT_FILE "${_raw}"
                    RESULT_VARIABLE _rc ERROR_VARIABLE _err)
    if(NOT _rc EQUAL 0)
      file(REMOVE "${_raw}")
      string(STRIP "${_err}" _err)
      set(${out_reason} "it is not a valid gzip file (gzip: ${_err})" PARENT_SCOPE)
      return()
    endif()
  else()
    set(_raw "${file}")
  endif()
  file(SHA256 "${_raw}" _sha)
  if(is_gz)
    file(REMOVE "${_raw}")
  endif()
  if(NOT _sha STREQUAL expected)
    set(${out_reason} "SHA-256 mismatch: the decompressed content has SHA-256 ${_sha}, expected ${expected}" PARENT_SCOPE)
    return()
  endif()
  set(${out_ok} TRUE PARENT_SCOPE)
endfunction()

foreach(name IN LISTS _mnist_files)
  set(expected "${_mnist_sha256_${name}}")
  set(final "${DIR}/${name}.gz")

  # Already there: the .gz, or the file already decompressed by the user (the loader reads both).
  set(done FALSE)
  foreach(have "${DIR}/${name}" "${final}")
    if(NOT done AND EXISTS "${have}" AND NOT IS_DIRECTORY "${have}")
      if(have STREQUAL final)
        set(is_gz TRUE)
      else()
        set(is_gz FALSE)
      endif()
      _mnist_verify("${have}" ${is_gz} "${expected}" ok reason)
      if(ok)
        message(STATUS "${name}: already present, verified (${have})")
        set(done TRUE)
      elseif(have STREQUAL final)
        # Never keep an unverified file under the final name; move it aside for inspection.
        file(RENAME "${final}" "${final}.corrupt")
        message(STATUS "${name}: ${final} fails verification (${reason}); moved to ${final}.corrupt, downloading again")
      else()
        message(STATUS "${name}: ignoring ${have}: ${reason}")
      endif()
    endif()
  endforeach()
  if(done)
    continue()
  endif()

  set(part "${final}.part")
  set(tried "")
  foreach(mirror IN LISTS _mirrors)
    if(NOT mirror MATCHES "/$")
      string(APPEND mirror "/")
    endif()
    set(url "${mirror}${name}.gz")
    list(APPEND tried "${url}")
    file(REMOVE "${part}")
    file(DOWNLOAD "${url}" "${part}" STATUS status INACTIVITY_TIMEOUT 60 TIMEOUT 1800 TLS_VERIFY ON)
    list(GET status 0 code)
    if(NOT code EQUAL 0)
      list(GET status 1 msg)
      message(STATUS "${name}: ${url} failed: ${msg} (code ${code}); trying the next mirror")
      file(REMOVE "${part}")
      continue()
    endif()
    _mnist_verify("${part}" TRUE "${expected}" ok reason)
    if(NOT ok)
      message(STATUS "${name}: REJECTED the file served by ${mirror}: ${reason}; trying the next mirror")
      file(REMOVE "${part}")
      continue()
    endif()
    file(RENAME "${part}" "${final}")
    message(STATUS "${name}: downloaded from ${mirror}, verified (SHA-256 ${expected})")
    set(done TRUE)
    break()
  endforeach()
  if(NOT done)
    list(JOIN tried "\n  " tried_lines)
    message(FATAL_ERROR "mnist_download: could not get a verified ${name}.gz; tried:\n  ${tried_lines}\n"
                        "(see the messages above for why each mirror failed; set -DMIRRORS=\"url1;url2\" or "
                        "LOGREG_MNIST_MIRRORS to other mirrors)")
  endif()
endforeach()
message(STATUS "MNIST: all four files verified in ${DIR}")
