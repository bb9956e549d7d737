# espcn_add_test(NAME source... LABELS unit|ffmpeg|gpu|slow [TIMEOUT s] [STANDALONE])
# One GoogleTest executable per test, registered with CTest with labels,
# a timeout and JUnit XML output under <build>/test-results/. STANDALONE: not
# linked with the engine (espcn_test_support); the test links what it needs.
function(espcn_add_test name)
  cmake_parse_arguments(ARG "STANDALONE" "TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_STANDALONE)
    target_link_libraries(${name} PRIVATE GTest::gtest_main espcn_compile_options)
  else()
    target_link_libraries(${name} PRIVATE espcn_test_support GTest::gtest_main espcn_compile_options)
  endif()
  add_test(NAME ${name} COMMAND ${name}
    --gtest_output=xml:${CMAKE_BINARY_DIR}/test-results/${name}.xml)
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
  if("gpu" IN_LIST ARG_LABELS)
    # GPU tests share the device: ctest -j must not run them concurrently.
    set_tests_properties(${name} PROPERTIES RESOURCE_LOCK gpu)
  endif()
endfunction()

# espcn_find_python(OUT MODULES module... [CANDIDATES python...])
# The first python of CANDIDATES that imports every module, or empty. By
# default Python3_EXECUTABLE, then Debian's /usr/bin/python3: a pyenv python
# first on PATH may lack the Debian packages scripts/lib/deps.sh installs.
function(espcn_find_python out)
  cmake_parse_arguments(ARG "" "" "MODULES;CANDIDATES" ${ARGN})
  if(NOT ARG_CANDIDATES)
    set(ARG_CANDIDATES ${Python3_EXECUTABLE} /usr/bin/python3)
  endif()
  string(REPLACE ";" ", " imports "${ARG_MODULES}")
  foreach(candidate IN LISTS ARG_CANDIDATES)
    if(candidate AND EXISTS ${candidate})
      execute_process(COMMAND ${candidate} -c "import ${imports}" RESULT_VARIABLE rc
                      OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        set(${out} ${candidate} PARENT_SCOPE)
        return()
      endif()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# espcn_add_pytest(NAME FILE PYTHON python LABELS ... [TIMEOUT s] [ARGS arg...])
# One CTest entry per pytest file, JUnit XML under <build>/test-results/ as
# for espcn_add_test. ARGS: the file's own options (--cli ..., declared in
# tests/conftest.py). A file whose every test skipped exits 77: CTest shows
# it as skipped, not passed (the conftest's doing).
function(espcn_add_pytest name file)
  cmake_parse_arguments(ARG "" "PYTHON;TIMEOUT" "LABELS;ARGS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name}
    COMMAND ${ARG_PYTHON} -m pytest -q -p no:cacheprovider --rootdir=${PROJECT_SOURCE_DIR}/tests
            --junitxml=${CMAKE_BINARY_DIR}/test-results/${name}.xml ${file} ${ARG_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    SKIP_RETURN_CODE 77)
endfunction()
