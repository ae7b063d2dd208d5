# Every dependency is a Debian package installed by scripts/install-deps. Nothing is downloaded.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(fmt REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED COMPONENTS core)
find_package(PkgConfig REQUIRED)
pkg_check_modules(POCKETSPHINX REQUIRED IMPORTED_TARGET pocketsphinx sphinxbase)
pkg_check_modules(ESPEAKNG REQUIRED IMPORTED_TARGET espeak-ng)
pkg_check_modules(WEBRTCAP REQUIRED IMPORTED_TARGET webrtc-audio-processing)
pkg_check_modules(SPEEXDSP REQUIRED IMPORTED_TARGET speexdsp)

# pocketsphinx.pc lists -I/usr/include/sphinxbase, which Debian does not ship (the headers are in
# the multiarch directory, also listed); CMake refuses imported targets with missing include
# directories, so drop the ones that do not exist.
get_target_property(_ps_includes PkgConfig::POCKETSPHINX INTERFACE_INCLUDE_DIRECTORIES)
set(_ps_existing "")
foreach(_dir IN LISTS _ps_includes)
  if(EXISTS "${_dir}")
    list(APPEND _ps_existing "${_dir}")
  endif()
endforeach()
set_target_properties(PkgConfig::POCKETSPHINX PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_ps_existing}")

# flite ships no .pc file: static libraries in the default path, headers in /usr/include/flite.
find_path(FLITE_INCLUDE_DIR flite.h PATH_SUFFIXES flite REQUIRED)
set(_flite_libs flite_cmu_us_slt flite_cmu_us_kal16 flite_cmu_us_rms flite_cmu_us_awb flite_cmu_us_kal
    flite_usenglish flite_cmulex flite)
set(FLITE_LIBRARIES "")
foreach(_lib IN LISTS _flite_libs)
  find_library(FLITE_${_lib}_LIBRARY ${_lib} REQUIRED)
  list(APPEND FLITE_LIBRARIES ${FLITE_${_lib}_LIBRARY})
endforeach()
add_library(artagent_flite INTERFACE)
target_include_directories(artagent_flite SYSTEM INTERFACE ${FLITE_INCLUDE_DIR})
target_link_libraries(artagent_flite INTERFACE ${FLITE_LIBRARIES} m)

if(ARTAGENT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(ARTAGENT_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# Boost.Asio: C++20 coroutines, no deprecated API, separate compilation is not needed.
add_library(artagent_asio INTERFACE)
target_link_libraries(artagent_asio INTERFACE Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(artagent_asio INTERFACE BOOST_ASIO_NO_DEPRECATED)
