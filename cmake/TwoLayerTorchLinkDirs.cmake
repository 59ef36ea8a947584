# Included after find_package(Torch), by CMakeLists.txt and by the installed TwoLayerConfig.cmake.
#
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
