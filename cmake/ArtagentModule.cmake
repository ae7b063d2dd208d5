# artagent_library(<module> SOURCES ... [DEPS ...])
#   Defines the static library artagent_<module>. Headers are included as "<module>/file.h" from the
#   repository root.
function(artagent_library module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(artagent_${module} STATIC ${ARG_SOURCES})
  target_include_directories(artagent_${module} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(artagent_${module} PUBLIC ${ARG_DEPS})
  artagent_warnings(artagent_${module})
endfunction()

# artagent_tests(<name> SOURCES ... DEPS ... [LABELS unit])
#   One GoogleTest binary per module: artagent_<name>_test, registered with ctest.
function(artagent_tests name)
  if(NOT ARTAGENT_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(artagent_${name}_test ${ARG_SOURCES})
  target_link_libraries(artagent_${name}_test PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  artagent_warnings(artagent_${name}_test)
  artagent_test_flags(artagent_${name}_test)
  gtest_discover_tests(artagent_${name}_test
    PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "ARTAGENT_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    DISCOVERY_TIMEOUT 30)
endfunction()

function(artagent_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  if(ARTAGENT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ARTAGENT_SANITIZE)
    string(REPLACE ";" "," _san "${ARTAGENT_SANITIZE}")
    target_compile_options(${target} PRIVATE -fsanitize=${_san} -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=${_san})
  endif()
endfunction()

# Test code is compiled without optimisation: GCC 12 takes minutes and gigabytes to optimise
# coroutine-heavy Asio test code (one server test file: 14 min and 7.5 GB at -O2, 1 min at -O0),
# and the code under test lives in the optimised libraries anyway.
function(artagent_test_flags target)
  target_compile_options(${target} PRIVATE -O0)
endfunction()
