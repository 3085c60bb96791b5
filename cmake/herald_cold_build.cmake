# SPDX-License-Identifier: Apache-2.0
# A cold build's settings (HERALD_COLD_BUILD, off by default; tools/setup/run-tests.sh turns it on
# for CI, which builds every file from a fresh clone twice over: sanitizers, then Release).
# 1. GCC's garbage collector collects less often (a larger minimum heap): about 10% less compile
#    CPU for about 25% more compiler memory (under 1.3 GB per job with sanitizers).
# 2. Precompiled third-party headers. Every translation unit parses ~150,000 lines of CAF,
#    spdlog, fmt, nlohmann-json, protobuf and the standard library before its own code. Two
#    donor targets compile them once each and every other target reuses the result
#    (REUSE_FROM): herald_pch (libraries, tools, examples, test support) and herald_test_pch
#    (the same plus Catch2, for test executables). About 10% less compile CPU at -O3, where
#    code generation dominates.
#    Only third-party headers go in: a herald header in the PCH would hide a missing include
#    from the layering check. Catch2 is only in the test donor: test/support/catch_main.cpp
#    defines CATCH_CONFIG_MAIN before including it and must not find it pre-included.
# 3. Test executables' own files at -O1 in optimised builds (Release, RelWithDebInfo). Tests
#    check behaviour, not speed (herald-bench measures speed), and at -O3 GCC spends most of a
#    test file's time optimising Catch2's expansion of every assertion; the libraries and
#    executables the tests link and start (heraldd) keep the build type's flags. The test PCH
#    donor gets the same -O1, so the precompiled header stays valid for them.
# Off by default: ccache caches no compilation that uses a PCH, and developers' incremental
# builds gain more from ccache. Builds without it (developers', the fuzz build) also prove that
# every file includes what it uses.
option(HERALD_COLD_BUILD "Tune for a one-off cold build: compiler GC, precompiled headers" OFF)

# 4. LLVM's linker (lld) when the compiler can use it, in every build: a test executable of the
#    sanitizer build (with debug info) links in about 2 s instead of 10 s with GNU ld, and CI
#    links about a hundred of them. HERALD_LINKER=default keeps the compiler's own linker.
set(HERALD_LINKER "lld" CACHE STRING "Linker for -fuse-ld= (lld, gold or default)")
if(NOT HERALD_LINKER STREQUAL "default")
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=${HERALD_LINKER}" HERALD_HAVE_LINKER_${HERALD_LINKER})
  if(HERALD_HAVE_LINKER_${HERALD_LINKER})
    add_link_options("-fuse-ld=${HERALD_LINKER}")
  else()
    message(STATUS "herald: -fuse-ld=${HERALD_LINKER} does not work here; the default linker links")
  endif()
endif()
if(HERALD_COLD_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(--param=ggc-min-heapsize=2097152 --param=ggc-min-expand=400)
endif()

# The headers most files use; not caf/all.hpp: its extra templates cost every file more to
# instantiate than the PCH saves in parsing.
set(HERALD_PCH_HEADERS
  <algorithm> <atomic> <chrono> <cstdint> <functional> <map> <memory> <mutex> <optional>
  <string> <string_view> <thread> <unordered_map> <utility> <variant> <vector>
  <caf/actor.hpp> <caf/actor_system.hpp> <caf/event_based_actor.hpp> <fmt/format.h>
  <spdlog/spdlog.h> <nlohmann/json.hpp> <google/protobuf/message.h>)

# Item 3: -O1 for a test executable (or the test PCH donor) of an optimised cold build; it comes
# after the build type's -O3 on the command line, so it wins.
function(herald_test_optimisation target)
  if(CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo)$")
    target_compile_options(${target} PRIVATE -O1)
  endif()
endfunction()

# The donors: called after herald_proto and the component base libraries exist. Each compiles
# one empty source with the flags and definitions every component has, so that GCC accepts the
# PCH in every target (a PCH built with other definitions of a macro the headers use is ignored,
# with a -Winvalid-pch warning, and the headers are parsed as usual).
function(herald_pch_donors)
  if(NOT HERALD_COLD_BUILD)
    return()
  endif()
  set(anchor ${PROJECT_BINARY_DIR}/herald_pch_anchor.cpp)
  if(NOT EXISTS ${anchor})
    file(WRITE ${anchor} "// The precompiled headers' donor (cmake/herald_cold_build.cmake).\n")
  endif()
  add_library(herald_pch STATIC ${anchor})
  target_link_libraries(herald_pch PRIVATE ${HERALD_COMPONENT_BASE_LIBS})
  target_compile_definitions(herald_pch PRIVATE
    HERALD_VERSION="${PROJECT_VERSION}" BOOST_BEAST_USE_STD_STRING_VIEW)
  target_precompile_headers(herald_pch PRIVATE ${HERALD_PCH_HEADERS})
  if(HERALD_BUILD_TESTS)
    add_library(herald_test_pch STATIC ${anchor})
    target_link_libraries(herald_test_pch PRIVATE ${HERALD_COMPONENT_BASE_LIBS} Catch2::Catch2)
    target_compile_definitions(herald_test_pch PRIVATE
      HERALD_VERSION="${PROJECT_VERSION}" BOOST_BEAST_USE_STD_STRING_VIEW)
    target_precompile_headers(herald_test_pch PRIVATE ${HERALD_PCH_HEADERS} <catch2/catch.hpp>)
    herald_test_optimisation(herald_test_pch)
  endif()
endfunction()

# Every library and executable target defined in `dir` and below reuses a donor's PCH: test
# executables (they link Catch2 through herald_test_support) herald_test_pch, the rest
# herald_pch. Call once at the end of the top-level CMakeLists.txt.
function(herald_pch_apply dir)
  if(NOT HERALD_COLD_BUILD)
    return()
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  # tools/local-*: one small file each, without spdlog's definitions (the PCH would not apply).
  if(dir MATCHES "/tools/local-")
    set(targets)
  endif()
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(target MATCHES "^herald_(test_)?pch$" OR NOT type MATCHES "^(STATIC_LIBRARY|EXECUTABLE)$")
      continue()
    endif()
    get_target_property(links ${target} LINK_LIBRARIES)
    if(HERALD_BUILD_TESTS AND type STREQUAL "EXECUTABLE" AND
       (links MATCHES "herald_test_support" OR links MATCHES "herald_testing"))
      target_precompile_headers(${target} REUSE_FROM herald_test_pch)
      herald_test_optimisation(${target})
    else()
      target_precompile_headers(${target} REUSE_FROM herald_pch)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir ${subdirs})
    herald_pch_apply(${subdir})
  endforeach()
endfunction()
