# Compile flags live on INTERFACE targets, so every eventsift target opts in
# explicitly (simdjson's developer-options approach).
add_library(es_warnings INTERFACE)
target_compile_options(es_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
target_include_directories(es_warnings INTERFACE ${PROJECT_SOURCE_DIR})

add_library(es_sanitize INTERFACE)
if(ES_SANITIZE)
  target_compile_options(es_sanitize INTERFACE -fsanitize=address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(es_sanitize INTERFACE -fsanitize=address,undefined)
endif()
