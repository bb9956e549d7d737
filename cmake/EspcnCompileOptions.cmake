# Warnings and sanitizers for the project's own targets (not for third-party code).
add_library(espcn_compile_options INTERFACE)
target_compile_options(espcn_compile_options INTERFACE
  $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wno-unknown-pragmas>
  $<$<AND:$<BOOL:${ESPCN_WERROR}>,$<COMPILE_LANGUAGE:C,CXX>>:-Werror>)
if(ESPCN_SANITIZE)
  target_compile_options(espcn_compile_options INTERFACE
    -fsanitize=${ESPCN_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(espcn_compile_options INTERFACE -fsanitize=${ESPCN_SANITIZE})
  # The code may trade speed for build time here (cpu-fast: no forced unrolling).
  target_compile_definitions(espcn_compile_options INTERFACE ESPCN_SANITIZED_BUILD)
endif()
if(ESPCN_BUILD_FUZZERS)
  # Coverage for libFuzzer in everything of ours; the fuzz targets add
  # -fsanitize=fuzzer (its main) themselves.
  target_compile_options(espcn_compile_options INTERFACE
    $<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>)
endif()
