#include "gateway/envelope_scan.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <boost/json/basic_parser_impl.hpp>
// The parser's few compiled parts (its stack, its error codes): rr-gateway uses no other part of Boost.JSON.
#include <boost/json/detail/impl/default_resource.ipp>
#include <boost/json/detail/impl/except.ipp>
#include <boost/json/detail/impl/shared_resource.ipp>
#include <boost/json/detail/impl/stack.ipp>
#include <boost/json/impl/error.ipp>

#include "common/json_limits.h"

namespace rrkit::gateway {

namespace {

namespace bj = boost::json;

// Events of boost::json::basic_parser. Only values directly inside the top-level object are looked at.
class MemberFinder {
 public:
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

  explicit MemberFinder(std::span<const std::string_view> keys) : keys_(keys), at_(keys.size()) {
    found_.members.resize(keys.size());
  }

  bool on_document_begin(bj::error_code& /*ec*/) { return true; }
  bool on_document_end(bj::error_code& /*ec*/) { return true; }
  bool on_object_begin(bj::error_code& /*ec*/) {
    if (depth_ == 0) found_.object = true;
    return open();
  }
  bool on_array_begin(bj::error_code& /*ec*/) { return open(); }
  bool on_object_end(std::size_t /*n*/, bj::error_code& /*ec*/) { return close(); }
  bool on_array_end(std::size_t /*n*/, bj::error_code& /*ec*/) { return close(); }
  bool on_key_part(bj::string_view s, std::size_t /*n*/, bj::error_code& /*ec*/) {
    if (depth_ == 1) part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(bj::string_view s, std::size_t /*n*/, bj::error_code& /*ec*/) {
    if (depth_ == 1) {
      part_.append(s.data(), s.size());
      at_ = keys_.size();
      for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (part_ == keys_[i]) at_ = i;
      }
      part_.clear();
    }
    return true;
  }
  bool on_string_part(bj::string_view s, std::size_t /*n*/, bj::error_code& /*ec*/) {
    if (watched()) part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(bj::string_view s, std::size_t /*n*/, bj::error_code& /*ec*/) {
    if (watched()) {
      part_.append(s.data(), s.size());
      found_.members[at_] = ScannedMember{ScannedMember::Kind::string, std::move(part_), false};
      part_.clear();
    }
    return true;
  }
  bool on_number_part(bj::string_view /*s*/, bj::error_code& /*ec*/) { return true; }
  bool on_int64(std::int64_t /*v*/, bj::string_view /*s*/, bj::error_code& /*ec*/) { return other(); }
  bool on_uint64(std::uint64_t /*v*/, bj::string_view /*s*/, bj::error_code& /*ec*/) { return other(); }
  // nlohmann refuses a number too large for a double ("number overflow"); so does this scan, whose
  // accepting a text must mean nlohmann accepts it too.
  bool on_double(double v, bj::string_view /*s*/, bj::error_code& /*ec*/) { return std::isfinite(v) && other(); }
  bool on_bool(bool v, bj::error_code& /*ec*/) {
    if (watched()) found_.members[at_] = ScannedMember{ScannedMember::Kind::boolean, {}, v};
    return true;
  }
  bool on_null(bj::error_code& /*ec*/) { return other(); }
  bool on_comment_part(bj::string_view /*s*/, bj::error_code& /*ec*/) { return false; }
  bool on_comment(bj::string_view /*s*/, bj::error_code& /*ec*/) { return false; }

  ScannedObject take() { return std::move(found_); }

 private:
  // A value directly in the top-level object, of a member asked for (the last one counts, as in a
  // parsed document).
  bool watched() const { return depth_ == 1 && at_ < keys_.size(); }
  bool other() {
    if (watched()) found_.members[at_] = ScannedMember{};
    return true;
  }
  bool open() {
    other();
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }

  std::span<const std::string_view> keys_;
  std::size_t at_;  // index of the member being read in keys_, keys_.size() for another
  std::size_t depth_ = 0;
  std::string part_;
  ScannedObject found_;
};

}  // namespace

std::optional<ScannedObject> scan_members(std::string_view text, std::span<const std::string_view> keys) {
  bj::parse_options options;
  options.max_depth = rrkit::kMaxJsonDepth;  // refuses depth kMaxJsonDepth + 1, as parse_bounded does
  bj::basic_parser<MemberFinder> parser(options, keys);
  bj::error_code ec;
  const std::size_t used = parser.write_some(/*more=*/false, text.data(), text.size(), ec);
  if (ec || used != text.size()) return std::nullopt;
  ScannedObject found = parser.handler().take();
  if (!found.object) found.members.assign(keys.size(), std::nullopt);
  return found;
}

}  // namespace rrkit::gateway
