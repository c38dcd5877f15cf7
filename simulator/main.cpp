#include "simulator/app.h"

int main(int argc, char** argv) {
  rrkit::simulator::Config config;
  if (auto done = rrkit::simulator::parse_command_line(argc, argv, config)) return *done;
  return rrkit::simulator::run(config);
}
