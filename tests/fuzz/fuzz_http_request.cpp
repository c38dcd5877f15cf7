// Fuzz target: the bytes of an HTTP request as a connection brings them in, read the way
// rr-gateway's session reads them (gateway/http_message.h parse_buffered over Beast's request
// parser): the header under a 16 KiB limit, then the body under a 1 MiB limit, from whatever has
// arrived. Input: the first byte says where the rest is cut into two arrivals. Cut or whole, a
// request read complete must be read complete, with the same method, target, fields and body and
// the same bytes left behind it (a pipelined request); nothing may crash or leak.
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
  std::string method, target, body, left;
  std::size_t fields = 0;
};

void append(boost::beast::flat_buffer& buffer, std::string_view part) {
  auto room = buffer.prepare(part.size());
  if (!part.empty()) std::memcpy(room.data(), part.data(), part.size());
  buffer.commit(part.size());
}

Read read_in_two(std::string_view bytes, std::size_t cut) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(boost::none);
  boost::beast::flat_buffer buffer;
  const auto step = [&]() -> boost::system::error_code {
    if (!parser.is_header_done()) {
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
  const auto& req = parser.get();
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.body = req.body();
  for (const auto& f : req) {
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
  const Read whole = read_in_two(bytes, bytes.size());
  const Read split = read_in_two(bytes, cut);
  // Beast refuses some malformed headers before they are complete, depending on how much has
  // arrived: a refusal may come with the first bytes or only with the rest. A complete request must
  // be complete however it arrived, and the same.
  if ((whole.end == End::complete) != (split.end == End::complete)) __builtin_trap();
  if (whole.end == End::complete &&
      (whole.method != split.method || whole.target != split.target || whole.body != split.body ||
       whole.fields != split.fields || whole.left != split.left)) {
    __builtin_trap();
  }
  return 0;
}
