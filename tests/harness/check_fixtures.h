#pragma once
// Building blocks of a CheckInput for the checker's unit tests: a scenario and request records with
// fixed times, so each test states only what it is about.
#include <chrono>
#include <cstdint>
#include <string>

#include "harness/checker.h"

namespace rrkit::harness::test {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;  // epoch µs of the first request

inline Scenario base_scenario() {
  Scenario s;
  s.path = "test.yaml";
  s.name = "test";
  s.gateway_timeout = std::chrono::seconds(1);
  return s;
}

// Request i, sent 1 ms after request i-1 and answered 200 5 ms later; no answer body yet.
inline RequestRecord ok_record(std::uint64_t i, const std::string& id, const std::string& nonce,
                               const std::string& request_body) {
  RequestRecord r;
  r.index = i;
  r.nonce = nonce;
  r.correlation_id = id;
  r.sent_us = r.intended_us = kT0 + static_cast<std::int64_t>(i) * 1000;
  r.done_us = r.sent_us + 5000;
  r.http_status = 200;
  r.outcome = Outcome::ok;
  r.request_body = request_body;
  return r;
}

}  // namespace rrkit::harness::test
