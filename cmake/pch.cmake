# Precompiled headers. Most of a translation unit's compile time here is parsing the same third-party
# headers again (the standard library, nlohmann/json, fmt/spdlog, the Beast/Asio declarations, Catch2).
# Two headers are precompiled once per build tree and reused by every rrkit target (REUSE_FROM): one for
# the libraries and programs, and one for the Catch2 binaries under tests/ (the same set plus Catch2, which
# defines macros such as CHECK and INFO that product code must never see).
#
# Reuse needs every consumer compiled with the same flags and the definitions the headers depend on:
# rrkit_common's public definitions (e.g. BOOST_ASIO_SEPARATE_COMPILATION) reach every rrkit target, and
# the pch targets copy them. A consumer whose flags do not match gets -Winvalid-pch (an error in CI),
# not a silent slow build.
# The fuzz build (clang) keeps plain compiles: clang's stricter header/flag checks are not exercised there.
if(RRKIT_FUZZ)
  set(_pch_default OFF)
else()
  set(_pch_default ON)
endif()
option(RRKIT_PCH "Precompile the heavy third-party headers (cmake/pch.cmake)" ${_pch_default})

set(RRKIT_PCH_HEADERS
  <algorithm> <array> <atomic> <chrono> <cstdint> <filesystem> <fstream> <functional> <map> <memory>
  <mutex> <optional> <set> <sstream> <string> <string_view> <thread> <unordered_map> <utility> <variant>
  <vector>
  <nlohmann/json.hpp>
  <fmt/format.h> <spdlog/spdlog.h>
  <boost/asio/as_tuple.hpp> <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp> <boost/asio/detached.hpp>
  <boost/asio/io_context.hpp> <boost/asio/ip/tcp.hpp> <boost/asio/steady_timer.hpp>
  <boost/asio/use_awaitable.hpp>
  <boost/beast/core.hpp> <boost/beast/http.hpp>)

# rrkit_use_pch(target): called by rrkit_target_defaults. Targets defined under tests/ (RRKIT_PCH_KIND is
# "test" there) reuse the Catch2 header, all others the product one.
function(rrkit_use_pch target)
  if(NOT RRKIT_PCH OR target MATCHES "^rrkit_pch_")
    return()
  endif()
  if(RRKIT_PCH_KIND STREQUAL "test")
    target_precompile_headers(${target} REUSE_FROM rrkit_pch_test)
  else()
    target_precompile_headers(${target} REUSE_FROM rrkit_pch_lib)
  endif()
endfunction()

# Called before the first rrkit target is defined; the definitions are read from rrkit_common when
# the build is generated.
function(rrkit_add_pch_targets)
  if(NOT RRKIT_PCH)
    return()
  endif()
  foreach(_kind IN ITEMS lib test)
    set(_t rrkit_pch_${_kind})
    # Built only when a consumer needs it (the test one is not in a build without tests).
    add_library(${_t} OBJECT EXCLUDE_FROM_ALL ${RRKIT_REPO_DIR}/cmake/pch.cpp)
    target_link_libraries(${_t} PRIVATE Boost::headers Threads::Threads PkgConfig::RDKAFKA
                          nlohmann_json::nlohmann_json fmt::fmt spdlog::spdlog)
    target_compile_definitions(${_t} PRIVATE $<TARGET_PROPERTY:rrkit_common,INTERFACE_COMPILE_DEFINITIONS>)
    rrkit_target_defaults(${_t})
    if(_kind STREQUAL "test")
      target_link_libraries(${_t} PRIVATE Catch2::Catch2)
      target_precompile_headers(${_t} PRIVATE ${RRKIT_PCH_HEADERS} <catch2/catch.hpp>)
    else()
      target_precompile_headers(${_t} PRIVATE ${RRKIT_PCH_HEADERS})
    endif()
  endforeach()
endfunction()
