#include "common/ids.h"

#include <sys/random.h>

#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

namespace rrkit {

namespace {

// The kernel's random bytes (getrandom, the same source boost's random_generator reads), fetched
// 4 KiB at a time per thread: 256 ids per system call instead of one. Each id is still 122 bits
// the kernel's generator chose, so ids stay unguessable.
class RandomBytes {
 public:
  void take(unsigned char* out, std::size_t n) {
    if (left_ < n) refill();
    std::memcpy(out, pool_.data() + (pool_.size() - left_), n);
    // Bytes handed out are not kept where a later reader could see them again.
    std::memset(pool_.data() + (pool_.size() - left_), 0, n);
    left_ -= n;
  }

 private:
  void refill() {
    std::size_t got = 0;
    while (got < pool_.size()) {
      const ssize_t n = getrandom(pool_.data() + got, pool_.size() - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
      }
      got += static_cast<std::size_t>(n);
    }
    left_ = pool_.size();
  }

  std::array<unsigned char, 4096> pool_{};
  std::size_t left_ = 0;
};

}  // namespace

std::string new_uuid_v4() {
  thread_local RandomBytes random;  // one per thread: no lock
  boost::uuids::uuid id{};
  random.take(id.data, id.size());
  id.data[6] = static_cast<std::uint8_t>((id.data[6] & 0x0F) | 0x40);  // version 4
  id.data[8] = static_cast<std::uint8_t>((id.data[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return boost::uuids::to_string(id);
}

CorrelationId::CorrelationId(std::string_view value) : CorrelationId(value, std::hash<std::string_view>{}(value)) {}

CorrelationId::CorrelationId(std::string_view value, std::size_t hash) : hash_(hash) {
  if (value.size() > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("correlation id too long");
  size_ = static_cast<std::uint32_t>(value.size());
  if (size_ <= kInline) {
    if (size_ != 0) std::memcpy(text_.inline_, value.data(), size_);
  } else {
    text_.heap_ = new char[size_];
    std::memcpy(text_.heap_, value.data(), size_);
  }
}

CorrelationId::CorrelationId(CorrelationId&& other) noexcept : hash_(other.hash_), size_(other.size_), text_(other.text_) {
  other.size_ = 0;  // a heap text now belongs to this one
  other.hash_ = std::hash<std::string_view>{}(std::string_view());
}

CorrelationId& CorrelationId::operator=(const CorrelationId& other) {
  if (this != &other) *this = CorrelationId(other);
  return *this;
}

CorrelationId& CorrelationId::operator=(CorrelationId&& other) noexcept {
  if (this != &other) {
    release();
    hash_ = other.hash_;
    size_ = other.size_;
    text_ = other.text_;
    other.size_ = 0;
    other.hash_ = std::hash<std::string_view>{}(std::string_view());
  }
  return *this;
}

void CorrelationId::release() noexcept {
  if (size_ > kInline) delete[] text_.heap_;
  size_ = 0;
}

CorrelationId new_correlation_id() { return CorrelationId(new_uuid_v4()); }

bool looks_like_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace rrkit
