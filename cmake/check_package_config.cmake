# Usage: cmake -DPLEXUS_BINARY_DIR=<build> -DPLEXUS_EXAMPLES_DIR=<src>/examples
#              -DPLEXUS_WORK_DIR=<scratch> [-DPLEXUS_CONFIG=<cfg>]
#              [-DPLEXUS_GENERATOR=<gen>] [-DPLEXUS_MAKE_PROGRAM=<prog>]
#              [-DPLEXUS_CXX_COMPILER=<cxx>] -P check_package_config.cmake
#
# Installs the layers (and plexus-node, with PLEXUS_EXPECT_DAEMON) from an
# existing build tree into a scratch prefix, then configures and builds
# examples/ as a standalone project that finds them through
# find_package(plexus).
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

set(configure_args -S "${PLEXUS_EXAMPLES_DIR}" -B "${build}"
    "-DCMAKE_PREFIX_PATH=${prefix}" ${config_define})
if(PLEXUS_GENERATOR)
  list(APPEND configure_args -G "${PLEXUS_GENERATOR}")
endif()
if(PLEXUS_MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${PLEXUS_MAKE_PROGRAM}")
endif()
if(PLEXUS_CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${PLEXUS_CXX_COMPILER}")
endif()

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
