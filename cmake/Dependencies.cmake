# All dependencies come from Debian 12 packages (scripts/setup.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(simdjson REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(fmt REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
# EVTX chunk CRC32s (PCLMUL-accelerated; the same CRC-32 as zlib).
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
pkg_check_modules(HTTPLIB IMPORTED_TARGET cpp-httplib)
# Intel Hyperscan (libhyperscan-dev): the literal matcher of Sigma fields
# (src/detect/literal_set.h). Debian's Vectorscan 5.4.9 installs the same
# libhs.pc but misses matches at vector edges (docs/perf/sigma.md), hence
# the version bound.
pkg_check_modules(HS REQUIRED IMPORTED_TARGET "libhs<=5.4.0")
# zstd drop files read by the daemon's directory source.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# librelp (rsyslog's RELP library): the relp source's server. Not linked:
# src/source/relp_library.cc loads it with dlopen when a relp source starts,
# so its headers are needed here and its soname (librelp.so.N) for the loader.
pkg_check_modules(RELP REQUIRED relp)
find_library(ES_RELP_LIBRARY relp HINTS ${RELP_LIBRARY_DIRS} REQUIRED)
file(REAL_PATH "${ES_RELP_LIBRARY}" es_relp_real)
get_filename_component(es_relp_real "${es_relp_real}" NAME)
string(REGEX MATCH "^librelp\\.so\\.[0-9]+" ES_RELP_SONAME "${es_relp_real}")
if(NOT ES_RELP_SONAME)
  message(FATAL_ERROR "cannot tell librelp's soname from ${ES_RELP_LIBRARY}")
endif()
if(ES_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(ES_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
