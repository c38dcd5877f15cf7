#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"rr-gateway: synchronous HTTP request/reply over Kafka through a Dapr sidecar"};
  CLI11_PARSE(app, argc, argv);
  return 0;
}
