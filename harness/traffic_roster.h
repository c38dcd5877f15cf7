#pragma once
// Which gateway instances the traffic may send to, while the timeline adds and stops instances
// (add_gateway, stop_gateway). The traffic thread picks an instance per request at send time; the
// timeline thread adds an instance once it is ready and retires one before stopping it, then waits
// until no request it had already picked is still being written to it.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rrkit::harness {

class GatewayRoster {
 public:
  explicit GatewayRoster(std::vector<std::uint16_t> ports);

  // A request's claim on one instance, from the pick until its bytes are written (or it failed):
  // while any claim on an instance is held, stopping it would cut a request off half-sent.
  class Lease {
   public:
    Lease() = default;
    Lease(GatewayRoster* roster, std::size_t slot, std::uint16_t port) : roster_(roster), slot_(slot), port_(port) {}
    Lease(Lease&& o) noexcept : roster_(o.roster_), slot_(o.slot_), port_(o.port_) { o.roster_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    explicit operator bool() const { return port_ != 0; }
    std::size_t slot() const { return slot_; }
    std::uint16_t port() const { return port_; }
    void release();

   private:
    GatewayRoster* roster_ = nullptr;
    std::size_t slot_ = 0;
    std::uint16_t port_ = 0;
  };

  // The instance for request `index`: round robin over the live instances, so that with no change
  // request i goes to instance i % n as it always did. An empty lease when no instance is live.
  Lease pick(std::uint64_t index);
  // A new live instance (ready to serve); returns its slot, the instance's 0-based index.
  std::size_t add(std::uint16_t port);
  // No request is sent to `slot` after this; false when there is no such slot or it was retired.
  bool retire(std::size_t slot);

  std::size_t size() const;
  bool live(std::size_t slot) const;
  std::size_t live_count() const;
  // Requests that picked `slot` and are not written yet.
  std::size_t unsent(std::size_t slot) const;
  std::vector<std::uint16_t> ports() const;  // every instance's, live or not, by slot

  // A retired instance's last /metrics reading (text, or why it could not be read), taken before it was
  // stopped; the runner reads it instead of a port nobody listens on any more.
  struct Reading {
    std::string text, error;
  };
  void keep_last_reading(std::size_t slot, Reading r);
  std::optional<Reading> last_reading(std::size_t slot) const;

 private:
  struct Slot {
    std::uint16_t port = 0;
    bool live = true;
    std::size_t unsent = 0;
    std::optional<Reading> last;
  };
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
};

}  // namespace rrkit::harness
