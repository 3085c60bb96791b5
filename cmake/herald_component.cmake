# SPDX-License-Identifier: Apache-2.0
# herald's layering: every folder runtime/<c>/ and actors/<c>/ is one component,
# a static library that links only the components it declares.
#
#   herald_component(<folder> [DEPS <folder>...] [LINK <third-party target>...])
#
# <folder> is the component's path from the repository root (runtime/net,
# actors/guild); its target is herald_<name> with "actors/" dropped and "/" made
# "_" (actors/guild -> herald_guild, runtime/net -> herald_runtime_net).
# Every .cpp under the folder (subfolders included) is compiled into it.
#
# The dependency rule, checked on every build by cmake/check_layering.cmake:
#   - a file may include headers of its own component and of the components
#     its component lists in DEPS (direct dependencies only: a header of a
#     dependency's dependency needs its own DEPS entry);
#   - actors/ components may include any runtime/ component (they sit on the
#     runtime as a whole and link all of it); runtime/ never includes actors/;
#   - DEPS must name components declared earlier, so the graph is acyclic by
#     construction.
#
#   herald_layer_scope(<folder> ALLOW <folder or prefix/*>...)
# adds a folder that is no component (a tool, an example, a test tree) to the
# same include check.

# Third-party libraries every component may use.
set(HERALD_COMPONENT_BASE_LIBS herald::caf herald::headers herald_proto spdlog::spdlog fmt::fmt
    Threads::Threads OpenSSL::Crypto ZLIB::ZLIB)

function(herald_component_target out folder)
  string(REGEX REPLACE "^actors/" "" name "${folder}")
  string(REPLACE "/" "_" name "${name}")
  set(${out} herald_${name} PARENT_SCOPE)
endfunction()

function(herald_layer_scope folder)
  cmake_parse_arguments(arg "" "" "ALLOW" ${ARGN})
  string(REPLACE ";" "," allow "${arg_ALLOW}")
  set_property(GLOBAL APPEND PROPERTY HERALD_LAYER_SCOPES "${folder}=${allow}")
endfunction()

function(herald_component folder)
  cmake_parse_arguments(arg "" "" "DEPS;LINK" ${ARGN})
  herald_component_target(target ${folder})
  get_property(known GLOBAL PROPERTY HERALD_COMPONENTS)
  foreach(dep ${arg_DEPS})
    if(NOT dep IN_LIST known)
      message(FATAL_ERROR "herald_component(${folder}): dependency ${dep} is not a component "
                          "declared before it (the graph must stay acyclic)")
    endif()
  endforeach()
  if(folder MATCHES "^runtime/")
    foreach(dep ${arg_DEPS})
      if(NOT dep MATCHES "^runtime/")
        message(FATAL_ERROR "herald_component(${folder}): runtime/ may not depend on ${dep}")
      endif()
    endforeach()
  endif()

  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*.cpp)
  if(NOT sources)
    message(FATAL_ERROR "herald_component(${folder}): no .cpp files")
  endif()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${target} PUBLIC
    HERALD_VERSION="${PROJECT_VERSION}" BOOST_BEAST_USE_STD_STRING_VIEW)
  set(dep_targets)
  foreach(dep ${arg_DEPS})
    herald_component_target(dep_target ${dep})
    list(APPEND dep_targets ${dep_target})
  endforeach()
  if(folder MATCHES "^actors/")
    list(APPEND dep_targets herald_runtime)
  endif()
  target_link_libraries(${target} PUBLIC ${dep_targets} ${HERALD_COMPONENT_BASE_LIBS} ${arg_LINK})
  # The include check runs before any component compiles (herald_layering is
  # created by herald_layering_finish).
  add_dependencies(${target} herald_layering)

  set_property(GLOBAL APPEND PROPERTY HERALD_COMPONENTS ${folder})
  set(allow ${arg_DEPS})
  if(folder MATCHES "^actors/")
    list(APPEND allow "runtime/*")
  endif()
  herald_layer_scope(${folder} ALLOW ${allow})
endfunction()

# Writes the declared graph for check_layering.cmake, registers the check as an
# ALL target (run on every build) and as the CTest test "layering" (label
# unit). Call once, after every herald_component and herald_layer_scope.
function(herald_layering_finish)
  get_property(scopes GLOBAL PROPERTY HERALD_LAYER_SCOPES)
  string(REPLACE ";" "\n" text "${scopes}")
  set(layers_file ${PROJECT_BINARY_DIR}/layering.txt)
  set(old_text "")
  if(EXISTS ${layers_file})
    file(READ ${layers_file} old_text)
  endif()
  if(NOT old_text STREQUAL "${text}\n")
    file(WRITE ${layers_file} "${text}\n")
  endif()
  set(check ${CMAKE_COMMAND} -DHERALD_SOURCE_DIR=${PROJECT_SOURCE_DIR}
      -DHERALD_LAYERS=${layers_file}
      -P ${PROJECT_SOURCE_DIR}/cmake/check_layering.cmake)
  add_custom_target(herald_layering ALL COMMAND ${check}
    COMMENT "Checking the component include graph (cmake/check_layering.cmake)" VERBATIM)
  if(HERALD_BUILD_TESTS)
    add_test(NAME layering COMMAND ${check})
    set_tests_properties(layering PROPERTIES LABELS unit TIMEOUT 60)
  endif()
endfunction()
