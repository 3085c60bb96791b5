# SPDX-License-Identifier: Apache-2.0
# herald_feature(<name>): the folder features/<name>/ as one feature, with its tests, and
# nothing to edit elsewhere (docs/writing-actors.md, "Walkthrough: pins").
# - The feature: a static library herald_feature_<name> of the folder's *.cpp, defining
#   `herald::<name>::feature_module()` (features/CMakeLists.txt lists it for heraldd).
# - Its unit tests (with HERALD_BUILD_TESTS): features/<name>/test/*_test.cpp form the
#   executable test_features_<name>, linked with the feature and herald::testing (test/testing:
#   the feature sandbox), registered with CTest as "features/<name>: <case>", label unit.
# - Its integration tests (with HERALD_BUILD_TESTS and HERALD_BUILD_TOOLS):
#   features/<name>/test/integration/*_test.cpp form test_features_<name>_integration, built
#   after heraldd and heraldctl, label integration, HERALD_BIN_DIR in the environment.
# Test conventions are test/CMakeLists.txt's.

function(herald_feature_tests name target dir label)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE herald_feature_${name} herald_testing)
  if(label STREQUAL "integration")
    add_dependencies(${target} heraldd heraldctl)
  endif()
  catch_discover_tests(${target}
    TEST_PREFIX "features/${name}${ARGN}: "
    PROPERTIES TIMEOUT 300 LABELS ${label} ENVIRONMENT "HERALD_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
endfunction()

function(herald_feature name)
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${name})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_library(herald_feature_${name} STATIC ${sources})
  target_link_libraries(herald_feature_${name} PUBLIC herald_feature herald_dispatch herald_domain
    herald_encoding herald_permissions herald_rest herald_store herald::headers)
  target_include_directories(herald_feature_${name} PUBLIC ${CMAKE_SOURCE_DIR})
  herald_unit_tests_wanted(unit_wanted features/${name})
  if(HERALD_BUILD_TESTS AND unit_wanted)
    herald_feature_tests(${name} test_features_${name} ${dir}/test unit)
  endif()
  if(HERALD_BUILD_TESTS)
    if(HERALD_BUILD_TOOLS)
      herald_feature_tests(${name} test_features_${name}_integration ${dir}/test/integration
        integration "/integration")
    endif()
  endif()
endfunction()
