# es_library(name SOURCES... DEPS...): a static library with the project's
# include root, warnings and sanitizer flags.
function(es_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC es_warnings es_sanitize ${ARG_DEPS})
endfunction()

# es_test(name SOURCES... DEPS... [LABELS ...]): a GoogleTest binary registered
# with CTest, run from the repository root so tests can find tests/data.
function(es_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE es_warnings es_sanitize ${ARG_DEPS}
                        GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${name} PRIVATE
      ES_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      ES_BINARY="${CMAKE_BINARY_DIR}/bin/eventsift")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}")
endfunction()
