// rr-harness: drives rrkit scenarios end to end against the real stack.
#include <signal.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "harness/stack_cli.h"

int main(int argc, char** argv) {
  // SIGINT/SIGTERM are taken synchronously (sigtimedwait) so that Ctrl-C tears the stack down cleanly;
  // children unblock them again before exec.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{"rr-harness: run request/reply scenarios end to end on a real Kafka + daprd stack"};
  app.require_subcommand(1);
  int exit_code = 0;
  rrkit::harness::add_stack_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 3;  // usage errors exit 3
  } catch (const std::exception& e) {
    std::cerr << "rr-harness: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
