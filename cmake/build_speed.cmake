# Compile and link flags that keep a cold build short (issue: a fresh CI machine builds everything).
# Measured per file in CPU seconds (user+sys, g++ 12) on this 2-core machine; most of a file's time
# is spent after parsing, in optimising and in writing DWARF for the Beast/Asio/nlohmann templates:
#   tests/harness/checker_test.cpp  -O2 -g 20.3 s, -O2 -g1 14.9 s, -O0 -g1 7.5 s (parsing alone 3.8 s)
#   gateway/routes.cpp              -O2 -g  8.9 s, -O2 -g1  6.8 s
#   tests/catch_main.cpp            -O2 -g 36.1 s (Catch2's runner), far less unoptimised
#
# RRKIT_FULL_DEBUG_INFO=OFF (default): an optimised build with debug info (RelWithDebInfo) writes line
# tables and function names only (-g1). Backtraces, sanitizer reports and perf profiles keep file:line;
# what is lost is variables and types in a debugger, which a local -DRRKIT_FULL_DEBUG_INFO=ON brings back.
# A Debug build (the sanitizer stage) keeps full -g.
option(RRKIT_FULL_DEBUG_INFO "Full debug info (-g) in RelWithDebInfo builds instead of line tables (-g1)" OFF)
# Catch2 test binaries under tests/ are compiled unoptimised in an optimised build: they are glue around
# the libraries, which stay -O2, and -O0 is how the sanitizer stage already builds and runs them (so they
# compile cleanly under rrkit's warning set without the optimiser's extra warnings). The benches under
# tests/ (gateway_bench, simulator_bench) are not Catch2 binaries and keep the build's optimisation.
option(RRKIT_OPTIMISE_TESTS "Compile the Catch2 test binaries with the build's optimisation level" OFF)

# gold links the debug-info-heavy binaries faster than the default bfd linker; it comes with binutils,
# so it is there wherever g++ is. The fuzz build (clang) keeps its default linker.
if(NOT RRKIT_FUZZ AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  find_program(RRKIT_LD_GOLD ld.gold)
  if(RRKIT_LD_GOLD)
    add_link_options(-fuse-ld=gold)
  endif()
endif()

# rrkit_build_speed_flags(target): called by rrkit_target_defaults for every rrkit target.
function(rrkit_build_speed_flags target)
  if(CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo" AND NOT RRKIT_FULL_DEBUG_INFO AND NOT RRKIT_FUZZ)
    # Comes after CMAKE_CXX_FLAGS_RELWITHDEBINFO's -g on the command line, so it wins.
    target_compile_options(${target} PRIVATE -g1)
  endif()
  rrkit_unity(${target})
endfunction()

# rrkit_test_code_flags(target): for the Catch2 binaries and their main (tests/CMakeLists.txt).
function(rrkit_test_code_flags target)
  if(CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo" AND NOT RRKIT_OPTIMISE_TESTS AND NOT RRKIT_FUZZ)
    target_compile_options(${target} PRIVATE -O0)
  endif()
  rrkit_build_speed_flags(${target})
endfunction()

# Unity builds: each target's sources are compiled in a few batches (one generated file per batch that
# #includes them) instead of one compile per file. Most of a file's compile time is the same third-party
# headers parsed again (the standard library, nlohmann/json, fmt/spdlog, Beast/Asio, Catch2) and the same
# inline templates instantiated and optimised again; a batch does that once.
# What this asks of the sources: names with internal linkage (anonymous namespaces, static functions,
# namespace-scope constants) must differ between the files of one target, since a batch is one
# translation unit. The test files keep their helpers and cases in a namespace named after the file
# (tests/README.md), so a helper of one file can never be picked by another file's overload resolution.
# RRKIT_UNITY=OFF compiles file by file, which is also how to check that every file includes what it uses.
option(RRKIT_UNITY "Compile each target's sources in unity batches" ON)
set(RRKIT_UNITY_BATCH_SIZE 8 CACHE STRING "Files per unity batch of a target that does not choose its own")

# rrkit_unity(target [batch size]): called for every rrkit target by rrkit_target_defaults; a target's
# CMakeLists may call it again with a size of its own (the batch size is read when the build is generated).
function(rrkit_unity target)
  if(NOT RRKIT_UNITY)
    return()
  endif()
  set(_size ${RRKIT_UNITY_BATCH_SIZE})
  if(ARGC GREATER 1)
    set(_size ${ARGV1})
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE BATCH UNITY_BUILD_BATCH_SIZE ${_size})
  # g++ warns when a class with external linkage that is defined outside the main file has a member of an
  # anonymous-namespace type: in a header that would be an ODR violation between translation units. It
  # tells a header by "not the main file", and in a batch every .cpp is included, so it fires on each
  # pimpl (DaprClient::Impl) and coroutine frame that holds its own file's private types, although each
  # .cpp is still in exactly one translation unit. RRKIT_UNITY=OFF keeps the check.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()

# rrkit_runtime_dependencies(target program...): target starts these programs when it runs (a test that
# execs rr-gateway, rr-bench that starts rr-simulator) but does not compile against them. add_dependencies
# would hold back every compile of target until the programs are linked (Ninja orders a target's objects
# after its target-level dependencies), which chained rr-gateway's link, rr-bench's compile and
# install_test's compile on the critical path of a cold build. With Ninja the programs become inputs of
# target's link step only, so `--target target` still builds them and target's compiles run at once.
function(rrkit_runtime_dependencies target)
  if(NOT CMAKE_GENERATOR MATCHES "Ninja")
    add_dependencies(${target} ${ARGN})
    return()
  endif()
  foreach(_program IN LISTS ARGN)
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS $<TARGET_FILE:${_program}>)
  endforeach()
endfunction()
