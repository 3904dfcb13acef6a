# download_test.cmake - drives cmake/mnist_download.cmake against file:// mirrors built here.
#
#   cmake -DMODE=<good|corrupt|fallback|env|usage> -DDOWNLOADER=<mnist_download.cmake>
#         -DMIRROR_DIR=<folder with the real MNIST .gz files, may be empty> [-DFALLBACK_DIR=<another>]
#         -DWORK_DIR=<scratch> -P download_test.cmake
#
# The real files come from the first folder that holds all four .gz files: MIRROR_DIR, then
# $LOGREG_MNIST_DIR as the test runs, then FALLBACK_DIR (the build's LOGREG_DATA_DIR, where the
# main job downloads MNIST). Prints "SKIPPED: ..." (the test's SKIP_REGULAR_EXPRESSION) when a mode
# needs the real files and none of them holds them.

cmake_minimum_required(VERSION 3.20)

set(names train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

set(have_real FALSE)
set(tried "")
foreach(candidate "${MIRROR_DIR}" "$ENV{LOGREG_MNIST_DIR}" "${FALLBACK_DIR}")
  string(REGEX REPLACE "(.)/+$" "\\1" candidate "${candidate}")  # no trailing slash
  if(have_real OR candidate STREQUAL "")
    continue()
  endif()
  list(APPEND tried "${candidate}")
  set(complete TRUE)
  foreach(n IN LISTS names)
    if(NOT EXISTS "${candidate}/${n}.gz")
      set(complete FALSE)
    endif()
  endforeach()
  if(complete)
    set(have_real TRUE)
    set(MIRROR_DIR "${candidate}")
  endif()
endforeach()
set(skip_reason "SKIPPED: no folder with the four MNIST .gz files (tried: ${tried}); run `cmake --build <build> --target mnist_data` or set LOGREG_MNIST_DIR to such a folder to enable this test")

find_program(GZIP gzip REQUIRED)

# A fresh scratch folder per mode, so that reruns start clean.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(data "${WORK_DIR}/data")

macro(fail)
  message(FATAL_ERROR "download test '${MODE}' FAILED: ${ARGN}\n--- downloader output ---\n${out}")
endmacro()

# run_downloader(<mirrors> [ENV <VAR=value>]): sets rc and out (stdout + stderr).
function(run_downloader mirrors)
  cmake_parse_arguments(ARG "" "ENV" "" ${ARGN})
  if(ARG_ENV)
    set(env_args "${ARG_ENV}")
  else()
    # The default must not leak in from the caller's environment.
    set(env_args --unset=LOGREG_MNIST_MIRRORS)
  endif()
  # "-DMIRRORS=a;b" stays one argument only when written quoted here (a list variable would split it).
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env_args} ${CMAKE_COMMAND} "-DDIR=${data}" "-DMIRRORS=${mirrors}"
                          -P "${DOWNLOADER}"
                  RESULT_VARIABLE r OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(rc "${r}" PARENT_SCOPE)
  set(out "${o}${e}" PARENT_SCOPE)
  message(STATUS "downloader (mirrors: ${mirrors} ${ARG_ENV}) exited with ${r}")
endfunction()

# Every name in ARGN must exist in the data folder with exactly the bytes of the real mirror's file.
macro(expect_files_match_real)
  foreach(n ${ARGN})
    if(NOT EXISTS "${data}/${n}.gz")
      fail("${data}/${n}.gz is missing")
    endif()
    file(SHA256 "${data}/${n}.gz" got)
    file(SHA256 "${MIRROR_DIR}/${n}.gz" want)
    if(NOT got STREQUAL want)
      fail("${data}/${n}.gz differs from ${MIRROR_DIR}/${n}.gz")
    endif()
  endforeach()
endmacro()

macro(expect_no_temp_files)
  file(GLOB leftovers "${data}/*.part" "${data}/*.part.raw")
  if(leftovers)
    fail("temporary files left behind: ${leftovers}")
  endif()
endmacro()

# The literal text s as a regular expression (paths may contain '.', '+', ...).
function(escape_regex s var)
  string(REGEX REPLACE "([][+.*()^$?|\\])" "\\\\\\1" e "${s}")
  set(${var} "${e}" PARENT_SCOPE)
endfunction()

escape_regex("${MIRROR_DIR}" MIRROR_RE)
escape_regex("${WORK_DIR}" WORK_RE)
set(bad_re "${WORK_RE}/bad-mirror")
set(mirror_re "${WORK_RE}/mirror")

macro(expect_output regex)
  if(NOT out MATCHES "${regex}")
    fail("the output does not match '${regex}'")
  endif()
endmacro()

# count_matches(<regex> <var>): how many times regex occurs in out.
function(count_matches regex var)
  string(REGEX MATCHALL "${regex}" m "${out}")
  list(LENGTH m c)
  set(${var} ${c} PARENT_SCOPE)
endfunction()

# A small gzip file whose content is valid gzip but not the expected file: a hash mismatch.
function(make_wrong_gz path)
  file(WRITE "${WORK_DIR}/wrong.txt" "this is not an MNIST file\n")
  execute_process(COMMAND "${GZIP}" -c "${WORK_DIR}/wrong.txt" OUTPUT_FILE "${path}" RESULT_VARIABLE r)
  if(NOT r EQUAL 0)
    message(FATAL_ERROR "gzip failed")
  endif()
endfunction()

if(MODE STREQUAL "usage")
  execute_process(COMMAND ${CMAKE_COMMAND} -P "${DOWNLOADER}" RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(out "${o}${e}")
  if(rc EQUAL 0)
    fail("the downloader succeeded without -DDIR")
  endif()
  expect_output("usage: cmake -DDIR=<dir>")

elseif(MODE STREQUAL "good")
  if(NOT have_real)
    message("${skip_reason}")
    return()
  endif()
  run_downloader("file://${MIRROR_DIR}")
  if(NOT rc EQUAL 0)
    fail("exit code ${rc}")
  endif()
  expect_files_match_real(${names})
  expect_no_temp_files()
  count_matches("downloaded from file://[^\n]*, verified" n)
  if(NOT n EQUAL 4)
    fail("expected 4 'downloaded from ..., verified' lines, got ${n}")
  endif()
  # A second run verifies what is there and downloads nothing (no mirror would work).
  run_downloader("file://${WORK_DIR}/no-such-mirror")
  if(NOT rc EQUAL 0)
    fail("second run: exit code ${rc}")
  endif()
  count_matches("already present, verified" n)
  if(NOT n EQUAL 4)
    fail("second run: expected 4 'already present, verified' lines, got ${n}")
  endif()
  # A decompressed copy counts as present too (the loader reads either).
  file(REMOVE "${data}/t10k-labels-idx1-ubyte.gz")
  execute_process(COMMAND "${GZIP}" -dc "${MIRROR_DIR}/t10k-labels-idx1-ubyte.gz"
                  OUTPUT_FILE "${data}/t10k-labels-idx1-ubyte")
  run_downloader("file://${WORK_DIR}/no-such-mirror")
  if(NOT rc EQUAL 0)
    fail("third run (decompressed file present): exit code ${rc}")
  endif()
  expect_output("t10k-labels-idx1-ubyte: already present, verified \\([^)]*t10k-labels-idx1-ubyte\\)")

elseif(MODE STREQUAL "corrupt")
  # A mirror serving one bad file. With the real files, the bad one is the last (the three others must
  # arrive); without them, the first, so that this test needs no data.
  set(mirror "${WORK_DIR}/mirror")
  file(MAKE_DIRECTORY "${mirror}")
  if(have_real)
    set(bad t10k-labels-idx1-ubyte)
    foreach(n train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte)
      file(CREATE_LINK "${MIRROR_DIR}/${n}.gz" "${mirror}/${n}.gz" SYMBOLIC COPY_ON_ERROR)
    endforeach()
  else()
    set(bad train-images-idx3-ubyte)
  endif()
  make_wrong_gz("${mirror}/${bad}.gz")
  run_downloader("file://${mirror}")
  if(rc EQUAL 0)
    fail("the downloader accepted a corrupted ${bad}.gz")
  endif()
  expect_output("${bad}: REJECTED the file served by file://${mirror_re}/: SHA-256 mismatch")
  expect_output("could not get a verified ${bad}.gz")
  if(EXISTS "${data}/${bad}.gz")
    fail("${data}/${bad}.gz exists although it failed verification")
  endif()
  expect_no_temp_files()
  if(have_real)
    expect_files_match_real(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte)
  endif()

elseif(MODE STREQUAL "fallback")
  if(NOT have_real)
    message("${skip_reason}")
    return()
  endif()
  # The first mirror fails in every way: an HTML page, a truncated .gz, a missing file, wrong content.
  set(bad "${WORK_DIR}/bad-mirror")
  file(MAKE_DIRECTORY "${bad}")
  file(WRITE "${bad}/train-images-idx3-ubyte.gz" "<!DOCTYPE html>\n<html><body>Access denied</body></html>\n")
  find_program(HEAD head)
  if(HEAD)
    execute_process(COMMAND "${HEAD}" -c 2000 "${MIRROR_DIR}/train-labels-idx1-ubyte.gz"
                    OUTPUT_FILE "${bad}/train-labels-idx1-ubyte.gz")
    set(truncated_regex "train-labels-idx1-ubyte: REJECTED the file served by file://${bad_re}/: it is not a valid gzip file")
  else()
    make_wrong_gz("${bad}/train-labels-idx1-ubyte.gz")
    set(truncated_regex "train-labels-idx1-ubyte: REJECTED")
  endif()
  make_wrong_gz("${bad}/t10k-labels-idx1-ubyte.gz")
  # A stale unverified file under a final name must be replaced, never trusted.
  file(MAKE_DIRECTORY "${data}")
  file(WRITE "${data}/t10k-images-idx3-ubyte.gz" "partial download")

  run_downloader("file://${bad};file://${MIRROR_DIR}/")
  if(NOT rc EQUAL 0)
    fail("exit code ${rc}")
  endif()
  expect_output("train-images-idx3-ubyte: REJECTED the file served by file://${bad_re}/: it is an HTML page")
  expect_output("${truncated_regex}")
  expect_output("t10k-images-idx3-ubyte: file://${bad_re}/t10k-images-idx3-ubyte.gz failed")
  expect_output("t10k-labels-idx1-ubyte: REJECTED the file served by file://${bad_re}/: SHA-256 mismatch")
  expect_output("t10k-images-idx3-ubyte.gz fails verification")
  count_matches("downloaded from file://${MIRROR_RE}/, verified" n)
  if(NOT n EQUAL 4)
    fail("expected 4 files from the second mirror, got ${n}")
  endif()
  expect_files_match_real(${names})
  expect_no_temp_files()
  if(NOT EXISTS "${data}/t10k-images-idx3-ubyte.gz.corrupt")
    fail("the stale t10k-images-idx3-ubyte.gz was not moved aside")
  endif()

elseif(MODE STREQUAL "env")
  if(NOT have_real)
    message("${skip_reason}")
    return()
  endif()
  run_downloader("" ENV "LOGREG_MNIST_MIRRORS=file://${WORK_DIR}/nowhere file://${MIRROR_DIR}")
  if(NOT rc EQUAL 0)
    fail("exit code ${rc}")
  endif()
  expect_output("file://${WORK_RE}/nowhere/train-images-idx3-ubyte.gz failed")
  count_matches("downloaded from file://${MIRROR_RE}/, verified" n)
  if(NOT n EQUAL 4)
    fail("expected 4 files from the LOGREG_MNIST_MIRRORS mirror, got ${n}")
  endif()
  expect_files_match_real(${names})

else()
  message(FATAL_ERROR "download_test.cmake: unknown MODE '${MODE}'")
endif()
message(STATUS "download test '${MODE}' passed")
