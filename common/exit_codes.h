#pragma once
// Exit codes of rrkit's programs, named once. Scripts, CI and the harness's stack launcher read them,
// so a code never changes meaning.
namespace rrkit::exit_code {

// rr-gateway and rr-simulator.
inline constexpr int ok = 0;               // clean shutdown (SIGTERM/SIGINT) or --help/--print-config
inline constexpr int runtime_failure = 1;  // a fatal error after startup (e.g. Kafka fatal, listener lost)
inline constexpr int usage = 2;            // bad flags, configuration or profile: nothing was started
inline constexpr int crash_fault = 70;     // the simulator's scripted crash fault (EX_SOFTWARE)

// rr-harness: its verdict is the contract with CI, so its codes differ from the programs' above.
namespace harness {
inline constexpr int pass = 0;
inline constexpr int check_failed = 1;
inline constexpr int infrastructure = 2;  // the stack or a run folder could not be used
inline constexpr int usage = 3;
// A run stopped by a signal exits 128 + the signal number (130 for SIGINT), as shells do.
inline constexpr int interrupted_base = 128;
}  // namespace harness

}  // namespace rrkit::exit_code
