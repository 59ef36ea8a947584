# Included after find_package(Torch), by CMakeLists.txt and by the installed TwoLayerConfig.cmake.
#
# The Torch found and the Caffe2 package it loaded (the targets torch, torch_cpu, c10) must be one
# installation (cmake/TwoLayerFindTorch.cmake): otherwise every program would be compiled against
# one LibTorch's headers and linked with another's libraries. Stop here, naming both, rather than
# at a link error.
if(Torch_DIR AND Caffe2_DIR AND EXISTS "${Torch_DIR}/../Caffe2/Caffe2Config.cmake")
  get_filename_component(_twolayer_own_caffe2 "${Torch_DIR}/../Caffe2" REALPATH)
  get_filename_component(_twolayer_caffe2 "${Caffe2_DIR}" REALPATH)
  if(NOT _twolayer_own_caffe2 STREQUAL _twolayer_caffe2)
    message(FATAL_ERROR "twolayer: Torch from ${Torch_DIR} loaded the Caffe2 package of another "
                        "LibTorch, ${Caffe2_DIR}; configure with -DCaffe2_DIR=${_twolayer_own_caffe2}")
  endif()
  unset(_twolayer_own_caffe2)
  unset(_twolayer_caffe2)
endif()

# PyPI's CUDA LibTorch finds its CUDA libraries (the nvidia-* packages beside torch) through its
# RPATH when a program runs. When an executable links, GNU ld looks for them on the system's paths
# first: a CUDA toolkit's own, older libnccl.so.2 there made every executable linked against the
# wheel fail (libtorch_cuda.so: undefined reference to `ncclCommGrow'). -rpath-link points ld at
# the libraries that torch runs with. Elsewhere (Debian's torch, a LibTorch zip) there is no
# nvidia folder beside torch and nothing changes.
if(TARGET torch AND DEFINED TORCH_INSTALL_PREFIX)
  file(GLOB _twolayer_nvidia_dirs LIST_DIRECTORIES true "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
  if(_twolayer_nvidia_dirs)
    string(REPLACE ";" ":" _twolayer_nvidia_dirs "${_twolayer_nvidia_dirs}")
    set_property(TARGET torch APPEND PROPERTY
      INTERFACE_LINK_OPTIONS "LINKER:-rpath-link,${_twolayer_nvidia_dirs}")
  endif()
  unset(_twolayer_nvidia_dirs)
endif()
