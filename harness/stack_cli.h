#pragma once
// `rr-harness stack up|down`: bring the real stack up for manual use, and take it down again.
#include <CLI/CLI.hpp>

namespace rrkit::harness {

// Adds the `stack` subcommand; the returned callback result is stored in exit_code.
void add_stack_command(CLI::App& app, int& exit_code);

}  // namespace rrkit::harness
