# The target `torch` for setup.py's build, from what the running torch says of itself instead of
# find_package(Torch). A CUDA build of LibTorch (PyPI's default wheel) makes find_package(Torch)
# look for the CUDA toolkit and stop without it, though the library compiles no CUDA code and
# links only LibTorch's CPU libraries: pip users without the toolkit could not install the package.
# TWOLAYER_TORCH_FROM_PYTHON is "<version>|<include dirs>|<library dirs>|<CXX11 ABI 0/1>", the
# lists separated by ';' (torch.utils.cpp_extension.include_paths() and library_paths()).
# Applications built against the installed package still find Torch with find_package(Torch):
# the exported TwoLayer::twolayer names the target `torch`, which that defines.

string(REPLACE "|" ";" _parts "${TWOLAYER_TORCH_FROM_PYTHON}")
list(LENGTH _parts _count)
if(NOT _count EQUAL 4)
  message(FATAL_ERROR "twolayer: TWOLAYER_TORCH_FROM_PYTHON must be "
                      "'<version>|<include dirs>|<library dirs>|<0 or 1>', got "
                      "'${TWOLAYER_TORCH_FROM_PYTHON}'")
endif()
list(GET _parts 0 Torch_VERSION)
list(GET _parts 1 _includes)
list(GET _parts 2 _library_dirs)
list(GET _parts 3 _cxx11_abi)
string(REPLACE "," ";" TORCH_INCLUDE_DIRS "${_includes}")
string(REPLACE "," ";" _library_dirs "${_library_dirs}")

set(_libraries "")
foreach(_name c10 torch_cpu torch)
  find_library(TWOLAYER_TORCH_${_name} ${_name} PATHS ${_library_dirs} NO_DEFAULT_PATH)
  if(NOT TWOLAYER_TORCH_${_name})
    message(FATAL_ERROR "twolayer: lib${_name}.so not found in torch's library folders "
                        "(${_library_dirs})")
  endif()
  list(APPEND _libraries "${TWOLAYER_TORCH_${_name}}")
endforeach()

add_library(torch INTERFACE IMPORTED)
set_target_properties(torch PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${TORCH_INCLUDE_DIRS}"
  INTERFACE_LINK_LIBRARIES "${_libraries}"
  INTERFACE_COMPILE_DEFINITIONS "_GLIBCXX_USE_CXX11_ABI=${_cxx11_abi}")
message(STATUS "twolayer: Torch ${Torch_VERSION} as the running Python describes it "
               "(${_library_dirs})")
