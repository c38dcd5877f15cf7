#pragma once
// What every room of the gateway shares: the configuration, the logger, the correlation core,
// the metrics and the counters that shutdown and /metrics read.
// Ownership: one per Gateway (gateway.cpp), created before and destroyed after every room and
// session that refers to it; every member is safe from any io thread (atomics, or internally locked).
#include <atomic>
#include <cstddef>

#include "common/log.h"
#include "gateway/config.h"
#include "gateway/limits.h"
#include "gateway/metrics.h"
#include "gateway/pending_table.h"
#include "gateway/read_reaper.h"

namespace rrkit::gateway {

struct State {
  State(Config c, log::Logger l)
      : cfg(std::move(c)),
        keep_alive(keep_alive_value(cfg.idle_timeout)),
        logger(std::move(l)),
        table({cfg.max_pending, cfg.late_window, cfg.late_window_max}) {}

  const Config cfg;
  const std::string keep_alive;  // the Keep-Alive value promised with every answer on a kept-alive connection
  log::Logger logger;
  PendingTable table;
  Metrics metrics;
  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};                 // requests between "headers read" and "answer written"
  std::atomic<std::size_t> client_open{0};    // connections of the client (or shared) listener
  std::atomic<std::size_t> callback_open{0};  // connections of a separate callback listener
  // The deadlines of the reads that start a request, with one I/O thread only (attached by the
  // Gateway then; the one member not safe from any thread). Here because session frames that the
  // io_context destroys unlink their reads from it.
  ReadReaper reaper;
};

}  // namespace rrkit::gateway
