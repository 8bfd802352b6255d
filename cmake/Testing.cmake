# shopsync_add_test(NAME SOURCES... [LIBS ...] [TIMEOUT seconds] [LABELS ...] [COST n])
#
# Builds one Boost.Test executable and registers every enabled test case in it as
# its own CTest test named "<NAME>/<suite>/<case>". The list is read from the
# executable itself (--list_content) after each build, so adding a test case
# needs no CMake edit. COST (CTest's property, default 1) puts long suites
# first in a run without measured times (a fresh clone), so that they do not
# end it alone on one core.
set(SHOPSYNC_DISCOVER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/DiscoverBoostTests.cmake)

function(shopsync_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;COST" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(NOT ARG_COST)
    set(ARG_COST 1)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} shopsync_test_main shopsync_warnings)
  target_precompile_headers(${name} REUSE_FROM shopsync_test_main)
  set(list_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_tests.cmake)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND}
      -D EXE=$<TARGET_FILE:${name}> -D PREFIX=${name} -D OUT=${list_file}
      -D TIMEOUT=${ARG_TIMEOUT} -D COST=${ARG_COST} -D "LABELS=${ARG_LABELS}"
      -D WORKDIR=${CMAKE_CURRENT_BINARY_DIR}
      -P ${SHOPSYNC_DISCOVER_SCRIPT}
    BYPRODUCTS ${list_file}
    VERBATIM)
  # CTest reads the list through a guard, so a tree where this executable was
  # not built yet still runs the other tests.
  set(guard_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_include.cmake)
  file(WRITE ${guard_file}
    "if(EXISTS [=[${list_file}]=])\n  include([=[${list_file}]=])\nelse()\n"
    "  add_test([=[${name}/NOT_BUILT]=] ${CMAKE_COMMAND} -E false)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${guard_file})
endfunction()
