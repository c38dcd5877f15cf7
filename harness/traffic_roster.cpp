#include "harness/traffic_roster.h"

namespace rrkit::harness {

GatewayRoster::GatewayRoster(std::vector<std::uint16_t> ports) {
  for (const auto p : ports) slots_.push_back(Slot{p, true, 0, std::nullopt});
}

GatewayRoster::Lease& GatewayRoster::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    roster_ = o.roster_;
    slot_ = o.slot_;
    port_ = o.port_;
    o.roster_ = nullptr;
  }
  return *this;
}

void GatewayRoster::Lease::release() {
  if (!roster_) return;
  const std::lock_guard lock(roster_->mu_);
  auto& s = roster_->slots_.at(slot_);
  if (s.unsent > 0) --s.unsent;
  roster_ = nullptr;
}

GatewayRoster::Lease GatewayRoster::pick(std::uint64_t index) {
  const std::lock_guard lock(mu_);
  std::size_t live = 0;
  for (const auto& s : slots_) live += s.live ? 1 : 0;
  if (live == 0) return {};
  std::size_t k = static_cast<std::size_t>(index % live);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].live) continue;
    if (k-- == 0) {
      ++slots_[i].unsent;
      return Lease(this, i, slots_[i].port);
    }
  }
  return {};
}

std::size_t GatewayRoster::add(std::uint16_t port) {
  const std::lock_guard lock(mu_);
  slots_.push_back(Slot{port, true, 0, std::nullopt});
  return slots_.size() - 1;
}

bool GatewayRoster::retire(std::size_t slot) {
  const std::lock_guard lock(mu_);
  if (slot >= slots_.size() || !slots_[slot].live) return false;
  slots_[slot].live = false;
  return true;
}

std::size_t GatewayRoster::size() const {
  const std::lock_guard lock(mu_);
  return slots_.size();
}

bool GatewayRoster::live(std::size_t slot) const {
  const std::lock_guard lock(mu_);
  return slot < slots_.size() && slots_[slot].live;
}

std::size_t GatewayRoster::live_count() const {
  const std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& s : slots_) n += s.live ? 1 : 0;
  return n;
}

std::size_t GatewayRoster::unsent(std::size_t slot) const {
  const std::lock_guard lock(mu_);
  return slot < slots_.size() ? slots_[slot].unsent : 0;
}

std::vector<std::uint16_t> GatewayRoster::ports() const {
  const std::lock_guard lock(mu_);
  std::vector<std::uint16_t> out;
  for (const auto& s : slots_) out.push_back(s.port);
  return out;
}

void GatewayRoster::keep_last_reading(std::size_t slot, Reading r) {
  const std::lock_guard lock(mu_);
  if (slot < slots_.size()) slots_[slot].last = std::move(r);
}

std::optional<GatewayRoster::Reading> GatewayRoster::last_reading(std::size_t slot) const {
  const std::lock_guard lock(mu_);
  return slot < slots_.size() ? slots_[slot].last : std::nullopt;
}

}  // namespace rrkit::harness
