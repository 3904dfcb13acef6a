# Tests of the logreg command (examples/logreg_cli.cpp): a train, predict, eval and info round
# trip on a small made-up table, the bad-input errors with their exit code, and the proof on
# scikit-learn's own data files (sklearn_proof.py).
set(_cli_dir ${CMAKE_CURRENT_BINARY_DIR}/cli)
# scikit-learn's data files (Debian's python3-sklearn), for the proof test and the C++ example.
find_path(LOGREG_SKLEARN_DATA_DIR wine_data.csv PATHS /usr/lib/python3/dist-packages/sklearn/datasets/data
          NO_DEFAULT_PATH DOC "scikit-learn's datasets/data folder (wine_data.csv, digits.csv.gz)")
file(MAKE_DIRECTORY ${_cli_dir})
# Three separable flowers: petal length grows with the class, petal width is noise; a quoted name.
set(_rows "petal length,petal width,species\n")
foreach(i RANGE 0 29)
  math(EXPR cls "${i} % 3")
  math(EXPR len "10 * ${cls} + ${i} % 5")
  math(EXPR wid "(${i} * 7) % 4")
  if(cls EQUAL 0)
    set(name "setosa")
  elseif(cls EQUAL 1)
    set(name "\"versi, color\"")
  else()
    set(name "virginica")
  endif()
  string(APPEND _rows "${len}.5,${wid},${name}\n")
endforeach()
file(WRITE ${_cli_dir}/flowers.csv "${_rows}")
file(WRITE ${_cli_dir}/missing.csv "a,b,y\n1,2,x\n3,,x\n4,5,z\n")
file(WRITE ${_cli_dir}/three_columns.csv "a,b,c\n1,2,3\n")
file(WRITE ${_cli_dir}/unknown_class.csv "petal length,petal width,species\n1,2,tulip\n")

set(_cli $<TARGET_FILE:logreg_cli>)
logreg_program_test(logreg_cli_train EXPECT success MATCH "test accuracy 1.0000.*model saved to"
  COMMAND ${_cli} train --data ${_cli_dir}/flowers.csv --label species --test-split 0.3 --stratify --seed 3
          --save ${_cli_dir}/flowers.safetensors --metrics-json ${_cli_dir}/flowers.json --report ${_cli_dir}/flowers.html)
logreg_program_test(logreg_cli_train_minibatch EXPECT success MATCH "epoch  40.*test accuracy 1.0000"
  COMMAND ${_cli} train --data ${_cli_dir}/flowers.csv --test-split 0.3 --stratify --optimizer adam --lr 0.05
          --epochs 40 --val-split 0.2 --batch-size 4)
logreg_program_test(logreg_cli_predict EXPECT success
  MATCH "class,setosa,\"versi, color\",virginica\nsetosa,[0-9.e-]+,[0-9.e-]+,[0-9.e-]+\n\"versi, color\",[0-9.e-]+,"
  COMMAND ${_cli} predict --model ${_cli_dir}/flowers.safetensors --data ${_cli_dir}/flowers.csv --label species)
logreg_program_test(logreg_cli_eval EXPECT success MATCH "accuracy 1.0000  loss [0-9.]+  .30 rows.*macro"
  COMMAND ${_cli} eval --model ${_cli_dir}/flowers.safetensors --data ${_cli_dir}/flowers.csv --label species)
logreg_program_test(logreg_cli_info EXPECT success
  MATCH "shape: 2 features -> 3 classes\nclasses: setosa versi, color virginica\npreprocessing: standard.*optimizer: \"lbfgs\""
  COMMAND ${_cli} info ${_cli_dir}/flowers.safetensors)
set_tests_properties(logreg_cli_train PROPERTIES FIXTURES_SETUP logreg_cli_model)
set_tests_properties(logreg_cli_predict logreg_cli_eval logreg_cli_info PROPERTIES FIXTURES_REQUIRED logreg_cli_model)

# Bad input: one line naming the file, line, column or option; exit code 2; nothing written.
logreg_program_test(logreg_cli_missing_value EXPECT failure EXIT_CODE 2
  MATCH "logreg: error: CSV file '[^']*missing.csv', line 3, column 2 \\('b'\\): missing value"
  COMMAND ${_cli} train --data ${_cli_dir}/missing.csv --save ${_cli_dir}/never.safetensors)
logreg_program_test(logreg_cli_predict_wrong_columns EXPECT failure EXIT_CODE 2
  MATCH "three_columns.csv has 3 feature columns but the model expects 2 \\(name its label column with --label\\)"
  COMMAND ${_cli} predict --model ${_cli_dir}/flowers.safetensors --data ${_cli_dir}/three_columns.csv
          --output ${_cli_dir}/never.csv)
logreg_program_test(logreg_cli_eval_unknown_class EXPECT failure EXIT_CODE 2
  MATCH "line 2, column 3 \\('species'\\): label 'tulip' is not one of the 3 classes"
  COMMAND ${_cli} eval --model ${_cli_dir}/flowers.safetensors --data ${_cli_dir}/unknown_class.csv)
set_tests_properties(logreg_cli_predict_wrong_columns logreg_cli_eval_unknown_class
  PROPERTIES FIXTURES_REQUIRED logreg_cli_model)
logreg_program_test(logreg_cli_output_is_input EXPECT failure EXIT_CODE 2
  MATCH "--save [^ ]*flowers.csv is also an input \\(--data"
  COMMAND ${_cli} train --data ${_cli_dir}/flowers.csv --save ${_cli_dir}/flowers.csv)
logreg_program_test(logreg_cli_option_of_other_optimizer EXPECT failure EXIT_CODE 2
  MATCH "--lr applies to --optimizer sgd, adam or adamw, not to --optimizer lbfgs"
  COMMAND ${_cli} train --data ${_cli_dir}/flowers.csv --lr 0.1)
logreg_program_test(logreg_cli_stratify_without_split EXPECT failure EXIT_CODE 2
  MATCH "--stratify needs --test-split" COMMAND ${_cli} train --data ${_cli_dir}/flowers.csv --stratify)
logreg_program_test(logreg_cli_unknown_format EXPECT failure EXIT_CODE 2
  MATCH "cannot tell the format of '[^']*flowers.safetensors' from its name"
  COMMAND ${_cli} train --data ${_cli_dir}/flowers.safetensors)
set_tests_properties(logreg_cli_unknown_format PROPERTIES FIXTURES_REQUIRED logreg_cli_model)
add_test(NAME logreg_cli_wrote_nothing_on_errors
  COMMAND ${CMAKE_COMMAND} -DFILES=${_cli_dir}/never.safetensors|${_cli_dir}/never.csv
          -P ${CMAKE_CURRENT_LIST_DIR}/expect_absent.cmake)
set_tests_properties(logreg_cli_wrote_nothing_on_errors PROPERTIES DEPENDS
  "logreg_cli_missing_value;logreg_cli_predict_wrong_columns")

# scikit-learn's digits and wine files through logreg train, against scikit-learn on the same split.
if(LOGREG_SKLEARN_PYTHON)
  add_test(NAME logreg_cli_matches_sklearn_on_its_own_data
    COMMAND ${LOGREG_SKLEARN_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/sklearn_proof.py $<TARGET_FILE:logreg_cli> ${_cli_dir})
else()
  add_test(NAME logreg_cli_matches_sklearn_on_its_own_data
    COMMAND ${CMAKE_COMMAND} -E echo "skipped: no python3 in /usr/bin (LOGREG_SKLEARN_PYTHON)")
endif()
set_tests_properties(logreg_cli_matches_sklearn_on_its_own_data PROPERTIES SKIP_REGULAR_EXPRESSION "skipped:"
  TIMEOUT 600)

# docs/your-data.md's C++ on scikit-learn's wine_data.csv (a documentation program: built with
# LOGREG_BUILD_DOC_PROGRAMS, see examples/CMakeLists.txt).
if(LOGREG_BUILD_DOC_PROGRAMS)
  add_executable(your_data ${CMAKE_CURRENT_LIST_DIR}/your_data.cpp)
  target_link_libraries(your_data PRIVATE logreg::io logreg_kernels_once logreg_warnings)
  set(_wine ${LOGREG_SKLEARN_DATA_DIR}/wine_data.csv)
  if(LOGREG_SKLEARN_DATA_DIR AND EXISTS ${_wine})
    logreg_program_test(your_data_example EXPECT success MATCH "test accuracy 0.9[0-9]+, first row's probabilities sum to 1.000000"
      COMMAND $<TARGET_FILE:your_data> ${_wine} ${_cli_dir}/wine_from_cpp.safetensors)
  else()
    add_test(NAME your_data_example COMMAND ${CMAKE_COMMAND} -E echo
      "skipped: scikit-learn's wine_data.csv not found (apt-get install python3-sklearn, or set LOGREG_SKLEARN_DATA_DIR)")
    set_tests_properties(your_data_example PROPERTIES SKIP_REGULAR_EXPRESSION "skipped:")
  endif()
endif()
