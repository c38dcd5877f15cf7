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
endfunction()

# rrkit_test_code_flags(target): for the Catch2 binaries and their main (tests/CMakeLists.txt).
function(rrkit_test_code_flags target)
  if(CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo" AND NOT RRKIT_OPTIMISE_TESTS AND NOT RRKIT_FUZZ)
    target_compile_options(${target} PRIVATE -O0)
  endif()
  rrkit_build_speed_flags(${target})
endfunction()
