# Included before find_package(Torch), by CMakeLists.txt and by the installed
# TwoLayerConfig.cmake; cmake/TwoLayerTorchLinkDirs.cmake checks the outcome afterwards.
#
# Torch's CMake files load the targets that hold libtorch, libtorch_cpu and libc10 with
# find_dependency(Caffe2 PATHS <their own folder>), and CMake searches the system's prefixes
# before such PATHS. Given only Torch_DIR of a pip torch on a machine where Debian's libtorch-dev
# is installed too, the wheel's TorchConfig.cmake therefore loaded Debian's Caffe2 package: a
# program compiled against 2.15's headers was linked with 1.13's libtorch.so and failed ("DSO
# missing from command line"). The only right Caffe2 is the one beside the Torch asked for; a
# Caffe2_DIR left in the cache by an earlier configure against another Torch is replaced too.
if(Torch_DIR AND EXISTS "${Torch_DIR}/../Caffe2/Caffe2Config.cmake")
  get_filename_component(_twolayer_caffe2_dir "${Torch_DIR}/../Caffe2" ABSOLUTE)
  set(Caffe2_DIR "${_twolayer_caffe2_dir}" CACHE PATH
      "The Caffe2 package of the Torch in Torch_DIR (set by twolayer)" FORCE)
  unset(_twolayer_caffe2_dir)
endif()
