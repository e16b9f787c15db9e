# Usage: cmake -DPLEXUS_BINARY_DIR=<build> -DPLEXUS_EXAMPLES_DIR=<src>/examples
#              -DPLEXUS_WORK_DIR=<scratch> [-DPLEXUS_CONFIG=<cfg>]
#              [-DPLEXUS_GENERATOR=<gen>] [-DPLEXUS_MAKE_PROGRAM=<prog>]
#              [-DPLEXUS_CXX_COMPILER=<cxx>] [-DPLEXUS_README=<src>/README.md]
#              -P check_package_config.cmake
#
# Installs the layers (and plexus-node, with PLEXUS_EXPECT_DAEMON) from an
# existing build tree into a scratch prefix, then configures and builds
# examples/ as a standalone project that finds them through
# find_package(plexus); with PLEXUS_README, also the README's minimal
# consumer CMakeLists.txt, as written there, and runs what it builds.
cmake_minimum_required(VERSION 3.25)

foreach(var PLEXUS_BINARY_DIR PLEXUS_EXAMPLES_DIR PLEXUS_WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_package_config: ${var} is required")
  endif()
endforeach()

set(prefix "${PLEXUS_WORK_DIR}/prefix")
set(build "${PLEXUS_WORK_DIR}/build")
file(REMOVE_RECURSE "${PLEXUS_WORK_DIR}")
file(MAKE_DIRECTORY "${PLEXUS_WORK_DIR}")

set(config_args)
set(config_define)
if(PLEXUS_CONFIG)
  set(config_args --config "${PLEXUS_CONFIG}")
  set(config_define "-DCMAKE_BUILD_TYPE=${PLEXUS_CONFIG}")
endif()

message(STATUS "check_package_config: installing into ${prefix}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${PLEXUS_BINARY_DIR}" --prefix "${prefix}" ${config_args}
  COMMAND_ECHO STDOUT
  COMMAND_ERROR_IS_FATAL ANY)

if(PLEXUS_EXPECT_DAEMON AND NOT EXISTS "${prefix}/bin/plexus-node")
  message(FATAL_ERROR "check_package_config: plexus-node was not installed with the libraries")
endif()

# Every standalone project below is configured as this build was: the same
# generator, make program and compiler, against the scratch prefix.
set(consumer_defaults "-DCMAKE_PREFIX_PATH=${prefix}" ${config_define})
if(PLEXUS_GENERATOR)
  list(APPEND consumer_defaults -G "${PLEXUS_GENERATOR}")
endif()
if(PLEXUS_MAKE_PROGRAM)
  list(APPEND consumer_defaults "-DCMAKE_MAKE_PROGRAM=${PLEXUS_MAKE_PROGRAM}")
endif()
if(PLEXUS_CXX_COMPILER)
  list(APPEND consumer_defaults "-DCMAKE_CXX_COMPILER=${PLEXUS_CXX_COMPILER}")
endif()
set(configure_args -S "${PLEXUS_EXAMPLES_DIR}" -B "${build}" ${consumer_defaults})

message(STATUS "check_package_config: configuring standalone examples")
execute_process(
  COMMAND "${CMAKE_COMMAND}" ${configure_args}
  COMMAND_ECHO STDOUT
  COMMAND_ERROR_IS_FATAL ANY)

# The standalone configure must have picked up the freshly installed package.
file(STRINGS "${build}/CMakeCache.txt" plexus_dir_line REGEX "^plexus_DIR:")
string(REGEX REPLACE "^plexus_DIR:[A-Z]*=" "" plexus_dir "${plexus_dir_line}")
file(REAL_PATH "${prefix}" real_prefix)
if(plexus_dir STREQUAL "")
  message(FATAL_ERROR "check_package_config: plexus_DIR not set by the examples configure")
endif()
file(REAL_PATH "${plexus_dir}" real_plexus_dir)
string(FIND "${real_plexus_dir}" "${real_prefix}/" pos)
if(NOT pos EQUAL 0)
  message(FATAL_ERROR
          "check_package_config: found plexus at '${plexus_dir}', expected under '${prefix}'")
endif()

message(STATUS "check_package_config: building standalone examples")
execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${build}" --parallel 2 ${config_args}
  COMMAND_ECHO STDOUT
  COMMAND_ERROR_IS_FATAL ANY)

# The README's consumer: its CMakeLists.txt word for word (the first cmake
# block of "Using Plexus in your project"), with a main.cpp on the hub.
if(PLEXUS_README)
  file(READ "${PLEXUS_README}" readme)
  string(FIND "${readme}" "## Using Plexus in your project" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_package_config: no 'Using Plexus in your project' in the README")
  endif()
  string(SUBSTRING "${readme}" ${at} -1 readme)
  string(FIND "${readme}" "```cmake\n" begin)
  string(FIND "${readme}" "\n```\n" end)
  if(begin EQUAL -1 OR end LESS begin)
    message(FATAL_ERROR "check_package_config: no cmake block in the README's usage section")
  endif()
  math(EXPR begin "${begin} + 9")
  math(EXPR length "${end} - ${begin} + 1")
  string(SUBSTRING "${readme}" ${begin} ${length} consumer_cmake)
  set(consumer "${PLEXUS_WORK_DIR}/readme_consumer")
  file(MAKE_DIRECTORY "${consumer}")
  file(WRITE "${consumer}/CMakeLists.txt" "${consumer_cmake}")
  file(WRITE "${consumer}/main.cpp" [=[
#include <iostream>

#include "plexus/hub/hub.h"
#include "plexus/version.h"

int main() {
  plexus::hub::HubConfig config;
  config.hub_id = "chat";
  std::cout << "plexus " << PLEXUS_VERSION_STRING << " hub " << config.hub_id << "\n";
}
]=])
  message(STATUS "check_package_config: building the README's consumer")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${consumer}" -B "${consumer}/build"
                          ${consumer_defaults} COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${consumer}/build" ${config_args}
                  COMMAND_ERROR_IS_FATAL ANY)
  file(GLOB_RECURSE consumer_binary "${consumer}/build/chat_server")
  if(NOT consumer_binary)
    message(FATAL_ERROR "check_package_config: the README's consumer built no chat_server")
  endif()
  list(GET consumer_binary 0 consumer_binary)
  execute_process(COMMAND "${consumer_binary}" OUTPUT_VARIABLE said COMMAND_ERROR_IS_FATAL ANY)
  if(NOT said MATCHES "^plexus [0-9.]+ hub chat")
    message(FATAL_ERROR "check_package_config: the README's consumer said '${said}'")
  endif()
  message(STATUS "check_package_config: the README's consumer builds and runs")
endif()

# A consumer built with GCC 12 hears of its co_await miscompilation from the
# package itself (plexusConfig.cmake), not only from a build of Plexus.
find_program(gxx NAMES g++)
if(gxx)
  execute_process(COMMAND "${gxx}" -dumpversion OUTPUT_VARIABLE gxx_version
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(gxx_version VERSION_LESS 13)
    set(probe "${PLEXUS_WORK_DIR}/gcc_probe")
    file(MAKE_DIRECTORY "${probe}")
    file(WRITE "${probe}/CMakeLists.txt"
         "cmake_minimum_required(VERSION 3.25)\nproject(probe CXX)\nfind_package(plexus REQUIRED)\n")
    execute_process(
      COMMAND "${CMAKE_COMMAND}" -S "${probe}" -B "${probe}/build" "-DCMAKE_PREFIX_PATH=${prefix}"
              "-DCMAKE_CXX_COMPILER=${gxx}"
      OUTPUT_VARIABLE probe_out ERROR_VARIABLE probe_err RESULT_VARIABLE probe_rc)
    if(NOT probe_rc EQUAL 0)
      message(FATAL_ERROR "check_package_config: the GCC probe did not configure:\n${probe_err}")
    endif()
    string(FIND "${probe_out}${probe_err}" "miscompiles aggregate temporaries" warned)
    if(warned EQUAL -1)
      message(FATAL_ERROR "check_package_config: find_package(plexus) with GCC ${gxx_version} "
                          "did not warn of the co_await miscompilation")
    endif()
    message(STATUS "check_package_config: find_package(plexus) warns GCC ${gxx_version}")
  endif()
endif()

message(STATUS "check_package_config: OK (plexus_DIR=${plexus_dir})")
