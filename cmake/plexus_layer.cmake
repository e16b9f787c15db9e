# One library per layer, and one test binary per layer (docs/architecture.md).
#
# plexus_add_layer(<name> [PUBLIC_DEPS <target>...] [PRIVATE_DEPS <target>...])
#   In <layer>/CMakeLists.txt: the library plexus_<name> (plexus::<name>) of
#   src/*.cpp, with the public headers of include/ and its internals in src/
#   (for itself only); installed and exported for find_package(plexus).
#
# plexus_add_layer_tests(<name> [DEPS <target>...])
#   In tests/CMakeLists.txt: the test binary plexus-<name>-tests of
#   tests/<name>/*.cpp, linked to plexus::<name> (and so to the layers below
#   it) and to DEPS, with the layer's own src/ on its include path: a layer's
#   tests see its internals, and no other layer's.

include_guard(GLOBAL)
include(GNUInstallDirs)

function(plexus_add_layer name)
  cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp")
  set(target plexus_${name})
  add_library(${target} ${sources})
  add_library(plexus::${name} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE ${PLEXUS_WARNING_FLAGS})
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME plexus_${name}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR})
  install(TARGETS ${target}
    EXPORT plexusTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/include/plexus"
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

function(plexus_add_layer_tests name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${name}/*.cpp")
  set(target plexus-${name}-tests)
  add_executable(${target} ${sources})
  target_compile_options(${target} PRIVATE ${PLEXUS_WARNING_FLAGS})
  target_include_directories(${target} PRIVATE
    "${PROJECT_SOURCE_DIR}/${name}/src" "${CMAKE_CURRENT_SOURCE_DIR}/support")
  target_link_libraries(${target}
    PRIVATE plexus::${name} ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${target}
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT 300)
endfunction()
