add_library(shopsync_warnings INTERFACE)
target_compile_options(shopsync_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${SHOPSYNC_WARNINGS_AS_ERRORS}>:-Werror>)

# shopsync_library(NAME SOURCES... [LIBS ...]): one library target per folder.
function(shopsync_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_LIBS} PRIVATE shopsync_warnings)
endfunction()
