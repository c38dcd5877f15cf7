// Fuzz target: the bytes of an HTTP message as a connection brings them in, read the way rr-gateway
// reads them with gateway/http_message.h parse_buffered: as a request, the way its session reads
// one (Beast's request parser, the header under a 16 KiB limit, then the body under a 1 MiB limit),
// and as daprd's answer to a publish, the way its Dapr client reads one (Beast's response parser, the
// body under 4 MiB), from whatever has arrived. Input: the first byte says where the rest is cut
// into two arrivals. Cut or whole, a message read complete must be read complete, with the same
// start line, fields and body and the same bytes left behind it; nothing may crash or leak.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <cstring>
#include <string>

#include "gateway/http_message.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace http = boost::beast::http;

constexpr std::uint64_t kBodyLimit = 1 << 20;

enum class End { complete, need_more, refused };

struct Read {
  End end = End::need_more;
  std::string method, target, body, left;  // a response's status code and reason in method and target
  std::size_t fields = 0;
  bool operator==(const Read&) const = default;
};

void append(boost::beast::flat_buffer& buffer, std::string_view part) {
  auto room = buffer.prepare(part.size());
  if (!part.empty()) std::memcpy(room.data(), part.data(), part.size());
  buffer.commit(part.size());
}

template <bool isRequest>
Read read_in_two(std::string_view bytes, std::size_t cut) {
  http::parser<isRequest, http::string_body> parser;
  if constexpr (isRequest) {
    parser.header_limit(16 * 1024);
    parser.body_limit(boost::none);
  } else {
    parser.body_limit(4 * 1024 * 1024);
    parser.eager(true);
  }
  boost::beast::flat_buffer buffer;
  const auto step = [&]() -> boost::system::error_code {
    if (isRequest && !parser.is_header_done()) {
      if (auto ec = rrkit::gateway::parse_buffered(parser, buffer)) return ec;
      // As the session does: a declared length over the route's limit is refused before any body is
      // read (the string body would reserve it), and the limit counts a chunked body as it comes.
      if (const auto declared = parser.content_length(); declared && *declared > kBodyLimit) {
        return http::error::body_limit;
      }
      parser.body_limit(kBodyLimit);
      parser.eager(true);
    }
    return rrkit::gateway::parse_buffered(parser, buffer);
  };
  append(buffer, bytes.substr(0, cut));
  auto ec = step();
  bool arrived = false;  // the second part
  if (ec == http::error::need_more) {
    append(buffer, bytes.substr(cut));
    arrived = true;
    ec = step();
  }
  Read out;
  if (ec == http::error::need_more) return out;
  if (ec) {
    out.end = End::refused;
    return out;
  }
  out.end = End::complete;
  const auto& msg = parser.get();
  if constexpr (isRequest) {
    out.method = std::string(msg.method_string());
    out.target = std::string(msg.target());
  } else {
    out.method = std::to_string(msg.result_int());
    out.target = std::string(msg.reason());
  }
  out.body = msg.body();
  for (const auto& f : msg) {
    (void)f;
    ++out.fields;
  }
  out.left.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  if (!arrived) out.left += bytes.substr(cut);  // what follows the request, whether it arrived yet or not
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes = rrkit::fuzz::as_text(data + 1, size - 1);
  const std::size_t cut = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
  const std::pair<Read, Read> readings[] = {{read_in_two<true>(bytes, bytes.size()), read_in_two<true>(bytes, cut)},
                                            {read_in_two<false>(bytes, bytes.size()), read_in_two<false>(bytes, cut)}};
  for (const auto& [whole, split] : readings) {
    // Beast refuses some malformed headers before they are complete, depending on how much has
    // arrived: a refusal may come with the first bytes or only with the rest. A complete message must
    // be complete however it arrived, and the same.
    if ((whole.end == End::complete) != (split.end == End::complete)) __builtin_trap();
    if (whole.end == End::complete && !(whole == split)) __builtin_trap();
  }
  return 0;
}
