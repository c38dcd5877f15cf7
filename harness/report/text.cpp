// Text utilities and figures shared by every report format (console, JSON, JUnit, HTML): escaping of outside
// text, counts derived from a result, number formatting, and the atomic file write every writer uses.
#include "harness/report/text.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace rrkit::harness::report_detail {

// ---------------------------------------------------------------------------------------------------------------
// Text hygiene. Results carry text from the outside world (error messages, gateway answers), which may hold
// invalid UTF-8 or control characters; both make XML ill-formed, so every report decodes text once, here.

namespace {

// Calls fn(code_point) for each code point of s; an invalid UTF-8 sequence becomes U+FFFD (one per bad byte).
template <typename Fn>
void for_each_code_point(std::string_view s, Fn&& fn) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      fn(static_cast<char32_t>(b0));
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07u, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      fn(char32_t{0xFFFD});
      ++i;
      continue;
    }
    fn(cp);
    i += len;
  }
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Control characters are not allowed in XML 1.0 at all (not even as character references), so they are shown
// as visible \xNN text instead of being dropped: the reader still sees that something odd was there.
bool is_forbidden_control(char32_t cp) {
  return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F || cp == 0xFFFE || cp == 0xFFFF;
}

enum class escape_for { xml_text, xml_attribute, html };

std::string escape(std::string_view s, escape_for where) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for_each_code_point(s, [&](char32_t cp) {
    switch (cp) {
      case '&': out += "&amp;"; return;
      case '<': out += "&lt;"; return;
      case '>': out += "&gt;"; return;
      case '"': out += "&quot;"; return;
      case '\'': out += "&#39;"; return;
      // Attribute values are whitespace-normalised by XML parsers; references keep the line breaks.
      case '\n': out += where == escape_for::xml_attribute ? "&#10;" : "\n"; return;
      case '\r': out += "&#13;"; return;
      case '\t': out += where == escape_for::xml_attribute ? "&#9;" : "\t"; return;
      case ':':
        // The HTML page promises "no external URL": user text (a repro with --gateway-url http://...) must not
        // put one in the file either. The reference renders as ':' so the reader sees the same text.
        out += where == escape_for::html ? "&#58;" : ":";
        return;
      default: break;
    }
    if (is_forbidden_control(cp)) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned>(cp & 0xFF));
      return;
    }
    append_utf8(out, cp);
  });
  return out;
}

}  // namespace

std::string xml(std::string_view s) { return escape(s, escape_for::xml_text); }
std::string xml_attr(std::string_view s) { return escape(s, escape_for::xml_attribute); }
std::string html(std::string_view s) { return escape(s, escape_for::html); }

std::size_t code_point_count(std::string_view s) {
  std::size_t n = 0;
  for_each_code_point(s, [&](char32_t) { ++n; });
  return n;
}

// Shared figures.

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// Counts by outcome plus "sent": the checker's map when it filled one, otherwise derived from the requests
// (a result built by hand or by an older writer still gets a meaningful table).
std::map<std::string, std::uint64_t> outcome_counts(const ScenarioResult& s) {
  if (!s.counts.empty()) return s.counts;
  std::map<std::string, std::uint64_t> m;
  for (const auto& r : s.requests) ++m[r.outcome == Outcome::none ? std::string("no_answer") : std::string(to_string(r.outcome))];
  if (!s.requests.empty()) m["sent"] = s.requests.size();
  return m;
}

std::uint64_t other_outcomes(const std::map<std::string, std::uint64_t>& counts) {
  std::uint64_t n = 0;
  for (const auto& [k, v] : counts) {
    if (k != "sent" && k != "ok" && k != "timeout" && k != "rejected") n += v;
  }
  return n;
}

std::vector<const CheckResult*> failing_checks(const ScenarioResult& s) {
  std::vector<const CheckResult*> out;
  for (const auto& c : s.checks) {
    if (c.failed()) out.push_back(&c);
  }
  return out;
}

// Checks the system under test has no figure for: shown apart, so that nobody reads them as passed.
std::vector<const CheckResult*> not_applicable_checks(const ScenarioResult& s) {
  std::vector<const CheckResult*> out;
  for (const auto& c : s.checks) {
    if (c.state == CheckState::not_applicable) out.push_back(&c);
  }
  return out;
}

std::string format_ms(double ms) {
  if (ms < 0 || !std::isfinite(ms)) return "-";
  if (ms < 10) return fmt::format("{:.2f}ms", ms);
  if (ms < 10000) return fmt::format("{:.1f}ms", ms);
  return fmt::format("{:.2f}s", ms / 1000.0);
}

std::string format_seconds(double s) {
  if (s < 0 || !std::isfinite(s)) return "-";
  if (s < 100) return fmt::format("{:.1f}s", s);
  return fmt::format("{:.0f}s", s);
}

std::vector<std::pair<std::string, std::string>> failover_rows(const FailoverCost& f) {
  if (!f.applies) return {};
  const std::string window = fmt::format("{} .. {} ({} requests sent)", format_ms(f.window_start_ms),
                                         format_ms(f.window_end_ms), f.requests_in_window);
  const std::string back = f.recovery_ms < 0
                               ? "not within the run"
                               : fmt::format("{} after the first fault ({} of sends, each answered 200 within it)",
                                             format_ms(f.recovery_ms), format_ms(f.recovery_window_ms));
  return {{"fault window", window},
          {"failed during it", std::to_string(f.failed_in_window)},
          {"timed out during it", std::to_string(f.timed_out_in_window)},
          {"longest gap without a 200", format_ms(f.longest_gap_ms)},
          {"p99 before / during / after",
           fmt::format("{} / {} / {}", format_ms(f.p99_before_ms), format_ms(f.p99_during_ms), format_ms(f.p99_after_ms))},
          {"duplicate replies counted", f.duplicates_read ? fmt::format("{:.0f}", f.duplicate_replies) : "not read"},
          {"service back", back}};
}

// Writes a sibling temporary file and renames it over the target, so a reader never sees half a report.
// The temporary name is unpredictable and created with O_EXCL (mkstemp), which never follows a symlink:
// a fixed name like <file>.tmp.<pid> lets anyone who can write the folder plant a symlink there and
// have the report overwrite a file of their choice.
void write_file_atomically(const std::filesystem::path& file, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (file.has_parent_path()) {
    fs::create_directories(file.parent_path(), ec);
    if (ec) {
      throw std::runtime_error(
          fmt::format("cannot write report {}: cannot create its folder: {}", file.string(), ec.message()));
    }
  }
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + file.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write report {}: {}", file.string(), std::strerror(errno)));
  const auto fail = [&](const std::string& what) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write report {}: {}", file.string(), what));
  };
  // mkstemp creates 0600; reports are meant to be read by others (CI artefacts, a shared run folder).
  if (::fchmod(fd, 0644) != 0) fail(std::strerror(errno));
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write report {}: {}", file.string(), why));
  }
  // rename replaces a symlink at the target itself; it never writes through it.
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write report {}: {}", file.string(), why));
  }
}

}  // namespace rrkit::harness::report_detail
