# Reads cmake/build_flags.txt (shared with setup.py) and decides, for the Torch that was found:
#   TWOLAYER_CXX_STANDARD   17 or 20: the lowest of cxx_standards that <ATen/ATen.h> accepts
#   TWOLAYER_COMPILE_FLAGS  flags (+ gnu_flags with GCC) + warnings
#   TWOLAYER_TORCH_OPENMP   ON when ATen's parallel backend is OpenMP: at::parallel_for is then an
#                           inline #pragma omp region in our own code, which needs -fopenmp
# Call after find_package(Torch).

set(TWOLAYER_BUILD_FLAGS_FILE "${CMAKE_CURRENT_LIST_DIR}/build_flags.txt")

function(twolayer_read_build_flags key out)
  file(STRINGS "${TWOLAYER_BUILD_FLAGS_FILE}" line REGEX "^${key}:")
  string(REGEX REPLACE "^${key}:[ ]*" "" line "${line}")
  separate_arguments(line UNIX_COMMAND "${line}")
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

find_file(TWOLAYER_ATEN_HEADER ATen/ATen.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
find_file(TWOLAYER_ATEN_CONFIG ATen/Config.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
if(NOT TWOLAYER_ATEN_HEADER OR NOT TWOLAYER_ATEN_CONFIG)
  message(FATAL_ERROR "twolayer: ATen/ATen.h not found in Torch's include directories "
                      "(${TORCH_INCLUDE_DIRS})")
endif()

# ATen.h states its minimum as `#if ... __cplusplus < 202002L` followed by an #error.
file(STRINGS "${TWOLAYER_ATEN_HEADER}" requirement REGEX "__cplusplus < [0-9]+L")
string(REGEX MATCH "[0-9][0-9][0-9][0-9][0-9][0-9]" required_cplusplus "${requirement}")
if(NOT required_cplusplus)
  set(required_cplusplus 0)
endif()
twolayer_read_build_flags(cxx_standards standards)
set(cplusplus_17 201703)
set(cplusplus_20 202002)
set(TWOLAYER_CXX_STANDARD "")
foreach(standard IN LISTS standards)
  if(NOT TWOLAYER_CXX_STANDARD AND NOT cplusplus_${standard} LESS required_cplusplus)
    set(TWOLAYER_CXX_STANDARD ${standard})
  endif()
endforeach()
if(NOT TWOLAYER_CXX_STANDARD)
  message(FATAL_ERROR "twolayer: Torch requires __cplusplus >= ${required_cplusplus}, newer than "
                      "every standard in cmake/build_flags.txt (${standards})")
endif()

twolayer_read_build_flags(flags TWOLAYER_COMPILE_FLAGS)
twolayer_read_build_flags(warnings warnings)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  twolayer_read_build_flags(gnu_flags gnu_flags)
  list(APPEND TWOLAYER_COMPILE_FLAGS ${gnu_flags})
endif()
list(APPEND TWOLAYER_COMPILE_FLAGS ${warnings})

file(STRINGS "${TWOLAYER_ATEN_CONFIG}" openmp REGEX "define AT_PARALLEL_OPENMP 1")
if(openmp)
  set(TWOLAYER_TORCH_OPENMP ON)
else()
  set(TWOLAYER_TORCH_OPENMP OFF)
endif()
message(STATUS "twolayer: C++${TWOLAYER_CXX_STANDARD} for Torch ${Torch_VERSION}; ATen on OpenMP: "
               "${TWOLAYER_TORCH_OPENMP}")
