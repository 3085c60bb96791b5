# SPDX-License-Identifier: Apache-2.0
# Fails when a file includes a herald header its component may not include.
# Run as: cmake -DHERALD_SOURCE_DIR=<repo> -DHERALD_LAYERS=<build>/layering.txt -P this
# HERALD_LAYERS lines are "<folder>=<allowed,comma,separated>" as written by
# herald_layering_finish() (cmake/herald_component.cmake, which states the rule).
# An allowed entry is a component folder (actors/relay) or a prefix ending in
# "/*" (runtime/*). A file belongs to the longest listed folder containing it.
# One line per offending include, then a fatal error: no Python needed.

if(NOT HERALD_SOURCE_DIR OR NOT HERALD_LAYERS)
  message(FATAL_ERROR "usage: cmake -DHERALD_SOURCE_DIR=... -DHERALD_LAYERS=... -P check_layering.cmake")
endif()

file(STRINGS ${HERALD_LAYERS} scope_lines)
set(scopes)
foreach(line ${scope_lines})
  if(line MATCHES "^([^=]+)=(.*)$")
    set(folder ${CMAKE_MATCH_1})
    string(REPLACE "," ";" allowed "${CMAKE_MATCH_2}")
    list(APPEND scopes ${folder})
    set(allow_${folder} ${allowed})
  endif()
endforeach()
# Longest folders first, so a file belongs to its innermost scope.
list(SORT scopes ORDER DESCENDING)

set(errors 0)
set(checked 0)
foreach(scope ${scopes})
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE ${HERALD_SOURCE_DIR}
       ${HERALD_SOURCE_DIR}/${scope}/*.cpp ${HERALD_SOURCE_DIR}/${scope}/*.hpp
       ${HERALD_SOURCE_DIR}/${scope}/*.h)
  foreach(file ${files})
    # Skip files owned by a more specific scope.
    set(owner ${scope})
    foreach(other ${scopes})
      string(LENGTH "${other}" other_len)
      string(LENGTH "${owner}" owner_len)
      if(other_len GREATER owner_len AND file MATCHES "^${other}/")
        set(owner ${other})
      endif()
    endforeach()
    if(NOT owner STREQUAL scope)
      continue()
    endif()
    math(EXPR checked "${checked} + 1")
    file(STRINGS ${HERALD_SOURCE_DIR}/${file} includes
         REGEX "^[ \t]*#[ \t]*include[ \t]*\"(actors|runtime)/")
    foreach(inc ${includes})
      if(NOT inc MATCHES "\"((actors|runtime)/[^/\"]+)/[^\"]*\"")
        continue()
      endif()
      set(component ${CMAKE_MATCH_1})
      string(REGEX MATCH "\"[^\"]+\"" header "${inc}")
      if(component STREQUAL scope)
        continue()
      endif()
      set(ok FALSE)
      foreach(a ${allow_${scope}})
        if(a STREQUAL component)
          set(ok TRUE)
        elseif(a MATCHES "^(.*)/\\*$")
          # CMAKE_MATCH_1 is set only after the condition above is evaluated.
          if(component MATCHES "^${CMAKE_MATCH_1}/")
            set(ok TRUE)
          endif()
        endif()
      endforeach()
      if(NOT ok)
        message("layering: ${file} includes ${header}: ${scope} does not declare a dependency on ${component}")
        math(EXPR errors "${errors} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()

if(errors GREATER 0)
  message(FATAL_ERROR "layering: ${errors} include(s) outside the declared component graph "
                      "(declare the edge in CMakeLists.txt if it points down, else move the code)")
endif()
message(STATUS "layering: ${checked} files follow the declared component graph")
