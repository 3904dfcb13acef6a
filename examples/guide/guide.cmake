# The guide's code (docs/guide.md): every C++ block in the page is a marked region of one of these
# programs, which are compiled with our warnings and run as tests; a last test checks that the page
# shows each region verbatim. Included by examples/CMakeLists.txt (logreg::io is available there).
set(logreg_guide_dir ${CMAKE_CURRENT_LIST_DIR})
set(logreg_guide_snippets matrices data model loss_optimizer training_loop train_evaluate pictures)
set(logreg_guide_needs_mnist data training_loop train_evaluate pictures)

foreach(snippet IN LISTS logreg_guide_snippets)
  add_executable(guide_${snippet} ${logreg_guide_dir}/${snippet}.cpp)
  target_link_libraries(guide_${snippet} PRIVATE logreg::io logreg_kernels_once logreg_warnings)
endforeach()

if(LOGREG_BUILD_TESTS)
  set(logreg_guide_work ${CMAKE_CURRENT_BINARY_DIR}/guide-work)
  file(MAKE_DIRECTORY ${logreg_guide_work})
  foreach(snippet IN LISTS logreg_guide_snippets)
    if(snippet IN_LIST logreg_guide_needs_mnist)
      # Finds MNIST as every test does (cmake/mnist_test_data.cmake); skipped, with the reason, without it.
      logreg_program_test(guide_${snippet} MNIST EXPECT success WORKING_DIRECTORY ${logreg_guide_work}
        COMMAND $<TARGET_FILE:guide_${snippet}>)
    else()
      add_test(NAME guide_${snippet} COMMAND guide_${snippet} WORKING_DIRECTORY ${logreg_guide_work})
    endif()
  endforeach()

  find_program(LOGREG_GUIDE_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NOT LOGREG_GUIDE_PYTHON)
    find_program(LOGREG_GUIDE_PYTHON NAMES python3)
  endif()
  list(TRANSFORM logreg_guide_snippets APPEND .cpp OUTPUT_VARIABLE logreg_guide_files)
  if(LOGREG_GUIDE_PYTHON)
    add_test(NAME guide_code_blocks_in_sync
      COMMAND ${LOGREG_GUIDE_PYTHON} ${logreg_guide_dir}/check_guide.py ${PROJECT_SOURCE_DIR}/docs/guide.md
              ${logreg_guide_dir} --built ${logreg_guide_files})
  else()
    add_test(NAME guide_code_blocks_in_sync
      COMMAND ${CMAKE_COMMAND} -E echo "skipped: python3 not found; it checks docs/guide.md against examples/guide")
    set_tests_properties(guide_code_blocks_in_sync PROPERTIES SKIP_REGULAR_EXPRESSION "skipped: python3")
  endif()
endif()
