# braid_library(NAME n SRCS ... DEPS ... [PUBLIC_DEPS ...])
#   One library target per module (braid_<n>), include root = src/.
# braid_test(NAME n SRCS ... DEPS ... [LABELS ...])
#   A GoogleTest executable registered with ctest (label "unit" by default).

set(BRAID_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter
    -Wno-missing-field-initializers)
# g++ 12 reports -Wrestrict false positives inside libstdc++ for ordinary
# std::string concatenation ("a" + std::to_string(i)): GCC bug 105329.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND BRAID_WARNINGS -Wno-restrict)
endif()
if(BRAID_WERROR)
  list(APPEND BRAID_WARNINGS -Werror)
endif()

if(BRAID_SANITIZE)
  string(REPLACE ";" "," _san "${BRAID_SANITIZE}")
  add_compile_options(-fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_san})
endif()

if(BRAID_BUILD_FUZZ)
  # Instrument every library for coverage-guided fuzzing; fuzzers link libFuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# The shared reference test vectors live beside the repository
# (../shared/testdata); never copied into it. BRAID_TESTDATA overrides.
if(DEFINED ENV{BRAID_TESTDATA})
  set(BRAID_TESTDATA_DIR $ENV{BRAID_TESTDATA})
else()
  get_filename_component(BRAID_TESTDATA_DIR ${PROJECT_SOURCE_DIR}/../shared/testdata ABSOLUTE)
  if(NOT EXISTS ${BRAID_TESTDATA_DIR} AND EXISTS /work/shared/testdata)
    set(BRAID_TESTDATA_DIR /work/shared/testdata)
  endif()
endif()
if(NOT EXISTS ${BRAID_TESTDATA_DIR})
  message(WARNING "reference test data not found at ${BRAID_TESTDATA_DIR}; set BRAID_TESTDATA")
endif()

function(braid_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(braid_${A_NAME} STATIC ${A_SRCS})
  target_include_directories(braid_${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(braid_${A_NAME} PRIVATE ${BRAID_WARNINGS})
  target_link_libraries(braid_${A_NAME} PUBLIC ${A_DEPS})
endfunction()

function(braid_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${BRAID_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  add_test(NAME ${A_NAME} COMMAND ${A_NAME})
  set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}"
    ENVIRONMENT "BRAID_TESTDATA=${BRAID_TESTDATA_DIR};BRAID_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# braid_fuzzer(NAME n SRCS ... DEPS ...): libFuzzer target, only with clang and BRAID_BUILD_FUZZ.
function(braid_fuzzer)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT BRAID_BUILD_FUZZ)
    return()
  endif()
  add_executable(${A_NAME} ${A_SRCS})
  target_link_options(${A_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  # .ci/run runs every build/fuzz/fuzz/*_fuzzer for a bounded time.
  set_target_properties(${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endfunction()
