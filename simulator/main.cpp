#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"rr-simulator: the legacy A system with seeded per-message faults"};
  CLI11_PARSE(app, argc, argv);
  return 0;
}
