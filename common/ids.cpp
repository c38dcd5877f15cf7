#include "common/ids.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace rrkit {

std::string new_uuid_v4() {
  // random_generator seeds from the OS entropy source; one per thread avoids locking.
  thread_local boost::uuids::random_generator gen;
  return boost::uuids::to_string(gen());
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
