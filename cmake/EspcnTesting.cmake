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
