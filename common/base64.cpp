#include "common/base64.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>

namespace rrkit {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view input) {
  // Line breaks and spaces (MIME-style wrapping) are not part of the data. Most texts have
  // none, and are decoded where they are.
  const auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  std::string stripped;
  std::string_view text = input;
  if (std::any_of(input.begin(), input.end(), blank)) {
    stripped.reserve(input.size());
    std::copy_if(input.begin(), input.end(), std::back_inserter(stripped), [&](char c) { return !blank(c); });
    text = stripped;
  }
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(3 * (text.size() / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  std::size_t len = static_cast<std::size_t>(n);
  if (text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace rrkit
