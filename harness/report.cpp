// Reports of a suite run. Everything here is a pure function of a SuiteResult: the writers only add the file
// handling. The HTML page is self-contained on purpose (CI artefacts are often opened offline or behind a proxy),
// so it carries its CSS and its plots (SVG generated here) inline and never names an external URL.
#include "harness/report.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>

namespace rrkit::harness {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// Text hygiene. Results carry text from the outside world (error messages, gateway answers), which may hold
// invalid UTF-8 or control characters; both make XML ill-formed, so every report decodes text once, here.

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

std::string xml(std::string_view s) { return escape(s, escape_for::xml_text); }
std::string xml_attr(std::string_view s) { return escape(s, escape_for::xml_attribute); }
std::string html(std::string_view s) { return escape(s, escape_for::html); }

// ---------------------------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------------------------
// JUnit XML.

std::string junit(const SuiteResult& suite) {
  std::size_t failures = 0;
  std::size_t errors = 0;
  std::size_t skipped = 0;
  for (const auto& s : suite.scenarios) {
    if (s.status == ScenarioStatus::fail) ++failures;
    else if (s.status != ScenarioStatus::pass) ++errors;
    skipped += not_applicable_checks(s).size();
  }
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fmt::format_to(o,
                 "<testsuite name=\"rrkit\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
                 "time=\"{:.3f}\" timestamp=\"{}\" hostname=\"{}\">\n",
                 suite.scenarios.size() + skipped, failures, errors, skipped, suite.duration_s, xml_attr(suite.started_at),
                 xml_attr(suite.machine));
  if (!suite.versions.empty()) {
    out += "  <properties>\n";
    for (const auto& [k, v] : suite.versions) {
      fmt::format_to(o, "    <property name=\"{}\" value=\"{}\"/>\n", xml_attr(k), xml_attr(v));
    }
    out += "  </properties>\n";
  }
  for (const auto& s : suite.scenarios) {
    fmt::format_to(o, "  <testcase classname=\"rrkit.scenarios\" name=\"{}\" file=\"{}\" time=\"{:.3f}\">\n",
                   xml_attr(s.name), xml_attr(s.path), s.duration_s);
    const auto failed = failing_checks(s);
    if (s.status == ScenarioStatus::fail) {
      // The first failing check is the headline CI tools show; the body lists them all.
      std::string message = failed.empty() ? std::string("scenario failed") : failed.front()->message;
      if (!failed.empty() && message.empty()) message = failed.front()->name;
      std::string body;
      for (const auto* c : failed) {
        body += c->message.empty() ? c->name : fmt::format("{}: {}", c->name, c->message);
        body += '\n';
      }
      fmt::format_to(o, "    <failure message=\"{}\" type=\"check\">{}</failure>\n", xml_attr(message), xml(body));
    } else if (s.status != ScenarioStatus::pass) {
      const std::string message = s.error.empty() ? fmt::format("status {}", to_string(s.status)) : s.error;
      std::string body = s.error;
      for (const auto* c : failed) body += fmt::format("\n{}: {}", c->name, c->message);
      fmt::format_to(o, "    <error message=\"{}\" type=\"infrastructure\">{}</error>\n", xml_attr(message),
                     xml(body));
    }
    std::string sysout = fmt::format("reproduce: {}\nrun folder: {}\nseed: {}\n", s.repro, s.run_dir, s.seed);
    for (std::size_t k = 0; k < s.repro_requests.size() && k < s.failing_requests.size(); ++k) {
      sysout += fmt::format("reproduce request #{}: {}\n", s.failing_requests[k], s.repro_requests[k]);
    }
    for (const auto& e : s.events) sysout += fmt::format("event: {}\n", e);
    fmt::format_to(o, "    <system-out>{}</system-out>\n", xml(sysout));
    out += "  </testcase>\n";
    // A check that cannot apply to this system under test is a skipped testcase of its own: CI shows it
    // as skipped, neither passed nor hidden inside the scenario's pass.
    for (const auto* c : not_applicable_checks(s)) {
      fmt::format_to(o, "  <testcase classname=\"rrkit.scenarios.{}\" name=\"{}\" time=\"0\">\n", xml_attr(s.name),
                     xml_attr(c->name));
      fmt::format_to(o, "    <skipped message=\"{}\"/>\n", xml_attr("not applicable: " + c->message));
      out += "  </testcase>\n";
    }
  }
  out += "</testsuite>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// SVG plots for the HTML page.

struct outcome_style {
  const char* outcome;
  const char* colour;  // Okabe-Ito palette: tells outcomes apart for colour-blind readers too
  const char* label;
};
constexpr std::array<outcome_style, 6> outcome_styles{{
    {"ok", "#009E73", "ok (200)"},
    {"timeout", "#E69F00", "timeout (504)"},
    {"rejected", "#CC79A7", "rejected (503)"},
    {"error", "#D55E00", "error"},
    {"disconnected", "#56B4E9", "disconnected"},
    {"no_answer", "#222222", "no answer"},
}};
constexpr const char* other_colour = "#8C8C8C";

const char* colour_of(std::string_view outcome) {
  for (const auto& s : outcome_styles) {
    if (outcome == s.outcome) return s.colour;
  }
  return other_colour;
}

std::string label_of(std::string_view outcome) {
  for (const auto& s : outcome_styles) {
    if (outcome == s.outcome) return s.label;
  }
  return outcome.empty() ? std::string("(none)") : std::string(outcome);
}

// Rank used for legends and drawing order: known outcomes in palette order, unknown ones after.
std::size_t rank_of(std::string_view outcome) {
  for (std::size_t i = 0; i < outcome_styles.size(); ++i) {
    if (outcome == outcome_styles[i].outcome) return i;
  }
  return outcome_styles.size();
}

std::string outcome_key(const RequestRecord& r) {
  if (r.outcome != Outcome::none) return to_string(r.outcome);
  return r.done_us > 0 ? std::string("(none)") : std::string("no_answer");
}

// Tick label without trailing zeros beyond what the step needs.
std::string tick_label(double v, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (std::abs(v) < step * 1e-6) v = 0;
  return fmt::format("{:.{}f}", v, std::max(0, decimals));
}

double nice_step(double range, int target) {
  if (range <= 0 || !std::isfinite(range)) return 1;
  const double raw = range / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * mag;
}

// A linear or logarithmic axis mapping data values onto [px0, px1].
struct axis {
  double lo = 0, hi = 1;
  bool log = false;
  double px0 = 0, px1 = 1;
  double map(double v) const {
    double t;
    if (log) {
      v = std::max(v, lo);
      t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
      t = (v - lo) / (hi - lo);
    }
    t = std::clamp(t, 0.0, 1.0);
    return px0 + t * (px1 - px0);
  }
  struct tick {
    double value;
    std::string label;
    bool major;
  };
  std::vector<tick> ticks() const {
    std::vector<tick> out;
    if (log) {
      const int d0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
      const int d1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
      const bool label_minor = d1 - d0 <= 3;
      for (int d = d0; d <= d1; ++d) {
        for (const double m : {1.0, 2.0, 5.0}) {
          const double v = m * std::pow(10.0, d);
          if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
          const bool major = m == 1.0;
          std::string label;
          if (major || label_minor) label = tick_label(v, v >= 1 ? 1 : v);
          out.push_back({v, std::move(label), major});
        }
      }
    } else {
      const double step = nice_step(hi - lo, 6);
      for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
        out.push_back({v, tick_label(v, step), true});
      }
    }
    return out;
  }
};

// Seconds since the scenario started, from an event text like "t=2.5s kill daprd-1" or "t=750ms ...".
std::optional<double> event_time(std::string_view e) {
  if (e.substr(0, 2) != "t=") return std::nullopt;
  const std::string rest(e.substr(2));
  char* end = nullptr;
  const double v = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str() || !std::isfinite(v)) return std::nullopt;
  const std::string_view unit(end);
  if (unit.substr(0, 2) == "ms") return v / 1000.0;
  if (unit.substr(0, 1) == "s") return v;
  return std::nullopt;
}

// Which requests the timeline draws: all of them up to the cap, else an even sample per outcome in which the rare
// outcomes (the interesting ones) are kept whole and the budget left is shared by the others. Deterministic, so
// two renderings of the same run are identical.
std::vector<const RequestRecord*> plotted_requests(const ScenarioResult& s, std::size_t cap) {
  std::map<std::string, std::vector<const RequestRecord*>> by_outcome;
  for (const auto& r : s.requests) by_outcome[outcome_key(r)].push_back(&r);
  std::vector<std::pair<std::string, std::vector<const RequestRecord*>*>> groups;
  for (auto& [k, v] : by_outcome) groups.emplace_back(k, &v);
  std::vector<const RequestRecord*> out;
  if (s.requests.size() <= cap) {
    for (const auto& r : s.requests) out.push_back(&r);
  } else {
    std::sort(groups.begin(), groups.end(),
              [](const auto& a, const auto& b) { return a.second->size() < b.second->size(); });
    std::size_t budget = cap;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& members = *groups[g].second;
      const std::size_t quota = std::min(members.size(), budget / (groups.size() - g));
      budget -= quota;
      for (std::size_t i = 0; i < quota; ++i) out.push_back(members[i * members.size() / quota]);
    }
  }
  // Common outcomes first, so that the rare ones are drawn on top and stay visible.
  std::map<std::string, std::size_t> frequency;
  for (const auto& [k, v] : by_outcome) frequency[k] = v.size();
  std::stable_sort(out.begin(), out.end(), [&](const RequestRecord* a, const RequestRecord* b) {
    return frequency[outcome_key(*a)] > frequency[outcome_key(*b)];
  });
  return out;
}

std::int64_t scenario_origin_us(const ScenarioResult& s) {
  if (s.started_us > 0) return s.started_us;
  std::int64_t t0 = 0;
  for (const auto& r : s.requests) {
    if (r.sent_us > 0 && (t0 == 0 || r.sent_us < t0)) t0 = r.sent_us;
  }
  return t0;
}

constexpr double plot_w = 1060, plot_h = 380;
constexpr double margin_l = 72, margin_r = 24, margin_t = 48, margin_b = 56;

void draw_axes_frame(std::string& out, const axis& x, const axis& y, const std::string& x_title,
                     const std::string& y_title) {
  auto o = std::back_inserter(out);
  for (const auto& t : y.ticks()) {
    const double py = y.map(t.value);
    fmt::format_to(o, "<line class=\"{}\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>",
                   t.major ? "grid" : "grid minor", x.px0, x.px1, py, py);
    if (!t.label.empty()) {
      fmt::format_to(o, "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", x.px0 - 6,
                     py + 4, t.label);
    }
  }
  for (const auto& t : x.ticks()) {
    const double px = x.map(t.value);
    fmt::format_to(o, "<line class=\"tickmark\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>", px,
                   y.px0, y.px0 + 5);
    fmt::format_to(o, "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", px,
                   y.px0 + 19, t.label);
  }
  fmt::format_to(o, "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>", x.px0,
                 x.px1, y.px0);
  fmt::format_to(o, "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>", x.px0,
                 y.px0, y.px1);
  fmt::format_to(o, "<text class=\"axis-title\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                 (x.px0 + x.px1) / 2, plot_h - 12, html(x_title));
  fmt::format_to(o,
                 "<text class=\"axis-title\" transform=\"translate(18,{:.1f}) rotate(-90)\" "
                 "text-anchor=\"middle\">{}</text>",
                 (y.px0 + y.px1) / 2, html(y_title));
}

// Legend across the top, one swatch per outcome present, with counts.
void draw_legend(std::string& out, const std::vector<std::pair<std::string, std::uint64_t>>& entries) {
  auto o = std::back_inserter(out);
  double x = margin_l;
  for (const auto& [outcome, n] : entries) {
    const std::string text = fmt::format("{} · {}", label_of(outcome), n);
    fmt::format_to(o, "<circle cx=\"{:.1f}\" cy=\"16\" r=\"5\" fill=\"{}\"/>", x + 5, colour_of(outcome));
    fmt::format_to(o, "<text class=\"legend\" x=\"{:.1f}\" y=\"20\">{}</text>", x + 15, html(text));
    x += 30 + 7.0 * static_cast<double>(text.size());
  }
}

std::vector<std::pair<std::string, std::uint64_t>> legend_entries(const ScenarioResult& s) {
  std::map<std::string, std::uint64_t> n;
  for (const auto& r : s.requests) ++n[outcome_key(r)];
  std::vector<std::pair<std::string, std::uint64_t>> v(n.begin(), n.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return rank_of(a.first) < rank_of(b.first); });
  return v;
}

std::string timeline_svg(const ScenarioResult& s) {
  const std::int64_t t0 = scenario_origin_us(s);
  const auto points = plotted_requests(s, html_max_plotted_requests);
  double x_max = 0, y_min = 0, y_max = 0;
  bool any_answer = false, any_unanswered = false;
  for (const auto* r : points) {
    x_max = std::max(x_max, (static_cast<double>(r->sent_us) - static_cast<double>(t0)) / 1e6);
    const double l = r->latency_ms();
    if (r->done_us > 0) {
      const double lp = std::max(l, 0.01);
      y_min = any_answer ? std::min(y_min, lp) : lp;
      y_max = any_answer ? std::max(y_max, lp) : lp;
      any_answer = true;
    } else {
      any_unanswered = true;
    }
  }
  for (const auto& e : s.events) {
    if (const auto t = event_time(e)) x_max = std::max(x_max, *t);
  }
  if (x_max <= 0) x_max = std::max(1.0, s.duration_s);

  // Unanswered requests get a strip above the plot area: they have no latency but must not vanish.
  const double strip = any_unanswered ? 22 : 0;
  axis x{0, x_max, false, margin_l, plot_w - margin_r};
  axis y{0, 1, false, plot_h - margin_b, margin_t + strip};
  if (!any_answer) {
    y.hi = 1;
  } else if (y_max / y_min > 30) {
    y.log = true;
    y.lo = std::pow(10.0, std::floor(std::log10(y_min)));
    y.hi = std::pow(10.0, std::ceil(std::log10(y_max)));
  } else {
    const double step = nice_step(y_max, 6);
    y.hi = std::ceil(y_max / step) * step;
    if (y.hi <= 0) y.hi = 1;
  }
  x.hi = std::ceil(x_max / nice_step(x_max, 8)) * nice_step(x_max, 8);

  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<svg class=\"plot\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">", plot_w, plot_h,
                 html("per-request timeline of " + s.name));
  draw_axes_frame(out, x, y, "send time since scenario start (s)",
                  y.log ? "latency (ms, log scale)" : "latency (ms)");
  if (any_unanswered) {
    fmt::format_to(o, "<rect class=\"strip\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>", x.px0,
                   margin_t, x.px1 - x.px0, strip - 8);
    fmt::format_to(o, "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">no answer</text>",
                   x.px0 - 6, margin_t + strip / 2);
  }
  // Scripted actions as dashed verticals, numbered like the event list below the plot.
  std::size_t event_no = 0;
  for (const auto& e : s.events) {
    ++event_no;
    const auto t = event_time(e);
    if (!t) continue;
    const double px = x.map(*t);
    fmt::format_to(o, "<line class=\"event\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"><title>{3}</title></line>",
                   px, y.px0, margin_t - 4, html(e));
    fmt::format_to(o, "<text class=\"event-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", px + 3, margin_t + 6,
                   event_no);
  }
  // Bigger dots when there are few, so a short run is still readable.
  const double radius = points.size() < 300 ? 3.5 : 2.2;
  std::string current;
  for (const auto* r : points) {
    const std::string key = outcome_key(*r);
    if (key != current) {
      if (!current.empty()) out += "</g>";
      fmt::format_to(o, "<g fill=\"{}\" class=\"dots\">", colour_of(key));
      current = key;
    }
    const double px = x.map((static_cast<double>(r->sent_us) - static_cast<double>(t0)) / 1e6);
    const double py = r->done_us > 0 ? y.map(std::max(r->latency_ms(), 0.01)) : margin_t + (strip - 8) / 2;
    if (key == "ok") {
      fmt::format_to(o, "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\"/>", px, py, radius);
    } else {
      // Only the unusual dots carry a tooltip: it keeps the page small at 20,000 requests.
      fmt::format_to(o, "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\"><title>{}</title></circle>", px, py, radius + 0.4,
                     html(fmt::format("#{} {} {} {} {}", r->index, key, format_ms(r->latency_ms()), r->classification_text(),
                                      r->simulator_action)));
    }
  }
  if (!current.empty()) out += "</g>";
  draw_legend(out, legend_entries(s));
  if (points.size() < s.requests.size()) {
    fmt::format_to(o,
                   "<text class=\"note\" x=\"{:.1f}\" y=\"38\" text-anchor=\"end\">showing {} of {} requests "
                   "(even sample per outcome; rare outcomes kept whole)</text>",
                   plot_w - margin_r, points.size(), s.requests.size());
  }
  if (s.requests.empty()) {
    fmt::format_to(o, "<text class=\"note\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">no requests</text>",
                   (x.px0 + x.px1) / 2, (y.px0 + y.px1) / 2);
  }
  out += "</svg>";
  return out;
}

// Latency buckets on a 1-2-5 ladder from 0.1 ms to 100 s: one bar per bucket, stacked by outcome.
std::string histogram_svg(const ScenarioResult& s) {
  std::vector<double> edges;
  for (int d = -1; d <= 5; ++d) {
    for (const double m : {1.0, 2.0, 5.0}) edges.push_back(m * std::pow(10.0, d));
  }
  const std::size_t buckets = edges.size() + 1;  // [0, 0.1), [0.1, 0.2), ..., [1e5 .. inf)
  std::map<std::string, std::vector<std::uint64_t>> counts;
  std::uint64_t answered = 0;
  for (const auto& r : s.requests) {
    if (r.done_us <= 0) continue;
    const double l = r.latency_ms();
    const auto b = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), l) - edges.begin());
    auto& v = counts[outcome_key(r)];
    v.resize(buckets);
    ++v[b];
    ++answered;
  }
  std::vector<std::uint64_t> totals(buckets);
  for (const auto& [k, v] : counts) {
    for (std::size_t b = 0; b < buckets; ++b) totals[b] += v[b];
  }
  std::size_t first = buckets, last = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    if (totals[b] > 0) {
      first = std::min(first, b);
      last = b;
    }
  }
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<svg class=\"plot\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">", plot_w, plot_h,
                 html("latency histogram of " + s.name));
  if (answered == 0) {
    fmt::format_to(o, "<text class=\"note\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">no answered requests</text></svg>",
                   plot_w / 2, plot_h / 2);
    return out;
  }
  // Show at least a few buckets either side, so one narrow peak does not fill the whole width.
  first = first >= 1 ? first - 1 : 0;
  last = std::min(buckets - 1, last + 1);
  while (last - first < 7) {
    if (first > 0) --first;
    if (last - first < 7 && last + 1 < buckets) ++last;
    if (first == 0 && last + 1 == buckets) break;
  }
  const std::uint64_t peak = *std::max_element(totals.begin(), totals.end());
  const double step = nice_step(static_cast<double>(peak), 5);
  axis y{0, std::max(step, std::ceil(static_cast<double>(peak) / step) * step), false, plot_h - margin_b,
         margin_t};
  const std::size_t shown = last - first + 1;
  const double x0 = margin_l, x1 = plot_w - margin_r;
  const double bw = (x1 - x0) / static_cast<double>(shown);
  // Reuse the frame drawing with a dummy x axis without ticks: bucket edges are labelled below.
  for (const auto& t : y.ticks()) {
    const double py = y.map(t.value);
    fmt::format_to(o, "<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", x0, x1, py,
                   py);
    fmt::format_to(o, "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", x0 - 6, py + 4,
                   t.label);
  }
  std::vector<std::pair<std::string, const std::vector<std::uint64_t>*>> stack;
  for (const auto& [k, v] : counts) stack.emplace_back(k, &v);
  std::stable_sort(stack.begin(), stack.end(),
                   [](const auto& a, const auto& b) { return rank_of(a.first) < rank_of(b.first); });
  auto edge_label = [&](std::size_t e) {
    const double v = edges[e];
    return v >= 1000 ? fmt::format("{}s", tick_label(v / 1000, 1)) : tick_label(v, v >= 1 ? 1 : v);
  };
  for (std::size_t b = first; b <= last; ++b) {
    const double bx = x0 + static_cast<double>(b - first) * bw;
    double base = 0;
    for (const auto& [k, v] : stack) {
      const auto n = (*v)[b];
      if (n == 0) continue;
      const double ytop = y.map(base + static_cast<double>(n));
      const double ybot = y.map(base);
      const std::string range =
          b == 0 ? fmt::format("< {} ms", edge_label(0))
                 : b == edges.size() ? fmt::format(">= {}", edge_label(b - 1))
                                     : fmt::format("{} – {} ms", edge_label(b - 1), edge_label(b));
      fmt::format_to(o,
                     "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
                     "<title>{}</title></rect>",
                     bx + 2, ytop, bw - 4, std::max(1.5, ybot - ytop), colour_of(k),
                     html(fmt::format("{}: {} {}", range, n, label_of(k))));
      base += static_cast<double>(n);
    }
    if (totals[b] > 0) {
      fmt::format_to(o, "<text class=\"bar-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                     bx + bw / 2, y.map(base) - 5, totals[b]);
    }
    // Label the left edge of each bucket (the ladder value), in ms below 1 s and in s above.
    if (b > 0) {
      fmt::format_to(o, "<line class=\"tickmark\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>", bx,
                     y.px0, y.px0 + 5);
      fmt::format_to(o, "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", bx,
                     y.px0 + 19, edge_label(b - 1));
    }
  }
  fmt::format_to(o, "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>", x0, x1,
                 y.px0);
  fmt::format_to(o, "<line class=\"axis\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>", x0, y.px0,
                 y.px1);
  fmt::format_to(o, "<text class=\"axis-title\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                 (x0 + x1) / 2, plot_h - 12, "latency (ms; buckets on a 1-2-5 log ladder, ms below 1 s)");
  fmt::format_to(o,
                 "<text class=\"axis-title\" transform=\"translate(18,{:.1f}) rotate(-90)\" "
                 "text-anchor=\"middle\">answered requests</text>",
                 (y.px0 + y.px1) / 2);
  std::vector<std::pair<std::string, std::uint64_t>> legend;
  for (const auto& [k, v] : stack) {
    std::uint64_t n = 0;
    for (const auto c : *v) n += c;
    legend.emplace_back(k, n);
  }
  draw_legend(out, legend);
  out += "</svg>";
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// HTML page.

constexpr const char* page_css = R"css(
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dee7; --bg:#f6f7f9; --card:#fff;
        --pass:#0a7d4f; --pass-bg:#e3f5ec; --fail:#b42318; --fail-bg:#fde8e6; --err:#7a2e9c; --err-bg:#f3e8fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0; }
h3 { font-size: 15px; margin: 22px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
a { color: #1f5fbf; text-decoration: none; } a:hover { text-decoration: underline; }
.meta { color: var(--muted); margin: 0 0 18px; }
.meta span { margin-right: 18px; white-space: nowrap; }
.totals { display:flex; gap:12px; margin: 14px 0 22px; flex-wrap: wrap; }
.total { background: var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 18px; min-width:120px; }
.total b { display:block; font-size:24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px;
        margin: 0 0 22px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.name { white-space: nowrap; font-weight: 600; }
td.failing { min-width: 190px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:last-child td { border-bottom: none; }
.badge { display:inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700;
         letter-spacing: .04em; }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
.badge.error { color: var(--err); background: var(--err-bg); }
.head { display:flex; align-items:center; gap: 12px; margin-bottom: 6px; }
.desc { margin: 4px 0 10px; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f1f3f6; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 0;
      white-space: pre-wrap; word-break: break-all; }
pre.error { background: var(--err-bg); border-color: #dcc3ea; }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 4px 0 4px 26px; position: relative; border-bottom: 1px dashed var(--line); }
ul.checks li:last-child { border-bottom: none; }
ul.checks li::before { position: absolute; left: 2px; font-weight: 700; }
ul.checks li.pass::before { content: "\2713"; color: var(--pass); }
ul.checks li.fail::before { content: "\2717"; color: var(--fail); }
ul.checks li.not_applicable::before { content: "\2013"; color: var(--muted); }
ul.checks li.not_applicable .msg { color: var(--muted); }
ul.checks .msg { display:block; color: var(--fail); font-size: 14px; }
ul.checks li.pass .msg { color: var(--muted); }
ol.events { margin: 0; padding-left: 28px; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 13px; }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 18px; }
svg.plot { width: 100%; height: auto; display: block; background: #fff; }
svg.plot text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; fill: #333; }
svg.plot .tick { font-size: 12px; fill: #555; }
svg.plot .legend { font-size: 13px; }
svg.plot .note { font-size: 12px; fill: #777; font-style: italic; }
svg.plot .axis-title { font-size: 13px; fill: #333; }
svg.plot .bar-label { font-size: 11px; fill: #444; }
svg.plot .event-label { font-size: 11px; fill: #6a3d9a; font-weight: 700; }
svg.plot .grid { stroke: #e3e6eb; stroke-width: 1; }
svg.plot .grid.minor { stroke: #f0f2f5; }
svg.plot .axis, svg.plot .tickmark { stroke: #555; stroke-width: 1; }
svg.plot .event { stroke: #6a3d9a; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.plot .strip { fill: #f4f4f4; }
svg.plot .dots circle { fill-opacity: .65; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 13px; margin-top: 30px; }
)css";

std::string anchor_of(std::size_t i) { return fmt::format("s{}", i); }

std::string badge(const std::string& status) {
  const std::string cls = status == "pass" ? "pass" : status == "fail" ? "fail" : "error";
  std::string text = status.empty() ? std::string("UNKNOWN") : status;
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return fmt::format("<span class=\"badge {}\">{}</span>", cls, html(text));
}

void summary_table(std::string& out, const SuiteResult& suite) {
  auto o = std::back_inserter(out);
  out += "<div class=\"card\"><table><thead><tr><th>scenario</th><th>status</th><th class=\"num\">duration</th>"
         "<th class=\"num\">requests</th><th class=\"num\">ok</th><th class=\"num\">timeout</th>"
         "<th class=\"num\">rejected</th><th class=\"num\">error</th><th class=\"num\">other</th>"
         "<th class=\"num\">p50</th><th class=\"num\">p99</th><th class=\"num\">max</th>"
         "<th>failing checks</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < suite.scenarios.size(); ++i) {
    const auto& s = suite.scenarios[i];
    const auto c = outcome_counts(s);
    const bool has_latency = s.latency.count > 0;
    std::string failing;
    for (const auto* f : failing_checks(s)) {
      if (!failing.empty()) failing += "<br>";
      failing += html(f->name);
    }
    if (s.status != ScenarioStatus::pass && s.status != ScenarioStatus::fail && !s.error.empty()) {
      if (!failing.empty()) failing += "<br>";
      failing += html(s.error);
    }
    fmt::format_to(o,
                   "<tr><td class=\"name\"><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                   "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                   "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                   "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"failing\">{}</td></tr>\n",
                   anchor_of(i), html(s.name), badge(to_string(s.status)), format_seconds(s.duration_s), count_of(c, "sent"),
                   count_of(c, "ok"), count_of(c, "timeout"), count_of(c, "rejected"), count_of(c, "error"),
                   other_outcomes(c) - count_of(c, "error"), has_latency ? format_ms(s.latency.p50) : "-",
                   has_latency ? format_ms(s.latency.p99) : "-", has_latency ? format_ms(s.latency.max) : "-",
                   failing.empty() ? "<span class=\"muted\">none</span>" : failing);
  }
  out += "</tbody></table></div>\n";
}

void counter_table(std::string& out, const std::string& title, const std::string& value_title,
                   const std::map<std::string, double>& counters) {
  if (counters.empty()) return;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<div><h3>{}</h3><table><thead><tr><th>counter</th><th class=\"num\">{}</th></tr></thead><tbody>",
                 html(title), html(value_title));
  for (const auto& [k, v] : counters) {
    fmt::format_to(o, "<tr><td>{}</td><td class=\"num\">{:g}</td></tr>", html(k), v);
  }
  out += "</tbody></table></div>";
}

void scenario_section(std::string& out, const ScenarioResult& s, std::size_t i) {
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<section class=\"card\" id=\"{}\"><div class=\"head\"><h2>{}</h2>{}</div>\n", anchor_of(i),
                 html(s.name), badge(to_string(s.status)));
  fmt::format_to(o, "<div class=\"meta\"><span>file <code>{}</code></span><span>seed <code>{}</code></span>"
                    "<span>duration {}</span>",
                 html(s.path), s.seed, format_seconds(s.duration_s));
  if (!s.run_dir.empty()) fmt::format_to(o, "<span>run folder <code>{}</code></span>", html(s.run_dir));
  out += "</div>\n";
  if (!s.description.empty()) fmt::format_to(o, "<p class=\"desc\">{}</p>\n", html(s.description));
  if (!s.error.empty()) fmt::format_to(o, "<h3>infrastructure error</h3><pre class=\"error\">{}</pre>\n", html(s.error));
  fmt::format_to(o, "<h3>reproduce</h3><pre>{}</pre>\n", html(s.repro));
  for (std::size_t k = 0; k < s.repro_requests.size() && k < s.failing_requests.size(); ++k) {
    fmt::format_to(o, "<p>request #{} alone:</p><pre>{}</pre>\n", s.failing_requests[k], html(s.repro_requests[k]));
  }

  const std::size_t na = not_applicable_checks(s).size();
  fmt::format_to(o, "<h3>checks ({} of {} passed{})</h3><ul class=\"checks\">",
                 s.checks.size() - failing_checks(s).size() - na, s.checks.size(),
                 na > 0 ? fmt::format(", {} not applicable", na) : std::string());
  // Failures first: they are what the reader came for.
  for (const auto state : {CheckState::fail, CheckState::not_applicable, CheckState::pass}) {
    for (const auto& c : s.checks) {
      if (c.state != state) continue;
      fmt::format_to(o, "<li class=\"{}\">{}", to_string(state), html(c.name));
      if (state == CheckState::not_applicable) out += " <span class=\"muted\">(not applicable)</span>";
      if (!c.message.empty()) fmt::format_to(o, "<span class=\"msg\">{}</span>", html(c.message));
      out += "</li>";
    }
  }
  if (s.checks.empty()) out += "<li class=\"muted\">no checks ran</li>";
  out += "</ul>\n";

  fmt::format_to(o, "<h3>per-request timeline</h3>{}\n", timeline_svg(s));
  if (!s.events.empty()) {
    out += "<h3>timeline events</h3><ol class=\"events\">";
    for (const auto& e : s.events) fmt::format_to(o, "<li>{}</li>", html(e));
    out += "</ol>\n";
  }
  fmt::format_to(o, "<h3>latency histogram</h3>{}\n", histogram_svg(s));
  if (s.latency.count > 0) {
    const auto& l = s.latency;
    fmt::format_to(o, "<p class=\"muted\">over {} answered requests: p50 {} · p90 {} · p99 {} · p99.9 {} · max {} · mean {}</p>\n",
                   l.count, format_ms(l.p50), format_ms(l.p90), format_ms(l.p99), format_ms(l.p999),
                   format_ms(l.max), format_ms(l.mean));
  }

  out += "<div class=\"grid2\">";
  if (!s.classifications.empty()) {
    out += "<div><h3>checker classification</h3><table><thead><tr><th>class</th><th class=\"num\">requests</th></tr></thead><tbody>";
    for (const auto& [k, v] : s.classifications) {
      fmt::format_to(o, "<tr><td>{}</td><td class=\"num\">{}</td></tr>", html(k), v);
    }
    out += "</tbody></table></div>";
  }
  counter_table(out, "simulator (induced)", "count", s.simulator_counters);
  counter_table(out, "gateway (counted, all instances)", "count", s.gateway_counters);
  out += "</div>\n";

  // The first unusual requests in full, so that a failure can be read without opening the run folder.
  std::vector<const RequestRecord*> unusual;
  std::size_t unusual_total = 0;
  for (const auto& r : s.requests) {
    if (r.classification == Classification::ok || (r.classification == Classification::none && r.outcome == Outcome::ok)) {
      continue;
    }
    ++unusual_total;
    if (unusual.size() < 50) unusual.push_back(&r);
  }
  if (!unusual.empty()) {
    fmt::format_to(o, "<h3>requests not classified ok ({} of {} shown)</h3><table><thead><tr>"
                      "<th class=\"num\">#</th><th>nonce</th><th>correlation id</th><th class=\"num\">gw</th>"
                      "<th class=\"num\">HTTP</th><th>outcome</th><th>classification</th><th class=\"num\">latency</th>"
                      "<th>simulator</th></tr></thead><tbody>",
                   unusual.size(), unusual_total);
    for (const auto* r : unusual) {
      std::string sim = r->simulator_rule.empty() ? r->simulator_action
                                                  : fmt::format("{}: {}", r->simulator_rule, r->simulator_action);
      std::string outcome = to_string(r->outcome);
      if (!r->client_error.empty()) outcome += " (" + r->client_error + ")";
      // The gateway's answer as a tooltip: what a mis-correlated or malformed reply actually said.
      std::string answer = r->response_body.size() > 400 ? r->response_body.substr(0, 400) + "..." : r->response_body;
      fmt::format_to(o, "<tr title=\"{}\">", html(answer.empty() ? std::string("no response body") : "response: " + answer));
      fmt::format_to(o,
                     "<td class=\"num\">{}</td><td><code>{}</code></td><td><code>{}</code></td>"
                     "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
                     "<td>{}</td></tr>",
                     r->index, html(r->nonce), html(r->correlation_id), r->gateway, r->http_status, html(outcome),
                     html(r->classification_text()), format_ms(r->latency_ms()), html(sim));
    }
    out += "</tbody></table>\n";
  }
  out += "</section>\n";
}

std::string html_page(const SuiteResult& suite) {
  std::size_t passed = 0, failed = 0, errors = 0;
  std::uint64_t requests = 0;
  for (const auto& s : suite.scenarios) {
    if (s.status == ScenarioStatus::pass) ++passed;
    else if (s.status == ScenarioStatus::fail) ++failed;
    else ++errors;
    requests += count_of(outcome_counts(s), "sent");
  }
  const char* verdict = suite.exit_code() == 0 ? "pass" : suite.exit_code() == 1 ? "fail" : "error";
  std::string out;
  out.reserve(1 << 20);
  auto o = std::back_inserter(out);
  fmt::format_to(o,
                 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<title>rrkit report · {} passed, {} failed{}</title><style>{}</style></head><body><main>\n",
                 passed, failed, errors > 0 ? fmt::format(", {} errors", errors) : std::string(), page_css);
  fmt::format_to(o, "<div class=\"head\"><h1>rrkit scenario report</h1>{}</div>\n", badge(verdict));
  out += "<div class=\"meta\">";
  if (!suite.started_at.empty()) fmt::format_to(o, "<span>started {}</span>", html(suite.started_at));
  fmt::format_to(o, "<span>duration {}</span>", format_seconds(suite.duration_s));
  if (!suite.machine.empty()) fmt::format_to(o, "<span>machine {}</span>", html(suite.machine));
  for (const auto& [k, v] : suite.versions) fmt::format_to(o, "<span>{} {}</span>", html(k), html(v));
  out += "</div>\n";
  fmt::format_to(o,
                 "<div class=\"totals\"><div class=\"total\"><b>{}</b>scenarios</div>"
                 "<div class=\"total\"><b style=\"color:var(--pass)\">{}</b>passed</div>"
                 "<div class=\"total\"><b style=\"color:var(--fail)\">{}</b>failed</div>"
                 "<div class=\"total\"><b style=\"color:var(--err)\">{}</b>errors</div>"
                 "<div class=\"total\"><b>{}</b>requests</div></div>\n",
                 suite.scenarios.size(), passed, failed, errors, requests);
  summary_table(out, suite);
  for (std::size_t i = 0; i < suite.scenarios.size(); ++i) scenario_section(out, suite.scenarios[i], i);
  out += "<footer>Generated by rr-harness. Self-contained: no external resources. Latency is measured from the "
         "intended send time (open loop) or the send time (closed loop).</footer>\n</main></body></html>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Console.

std::string pad(std::string_view s, std::size_t width, bool right) {
  // Width in code points, so that names with non-ASCII letters still line up.
  std::size_t n = 0;
  for_each_code_point(s, [&](char32_t) { ++n; });
  const std::string fill(n < width ? width - n : 0, ' ');
  return right ? fill + std::string(s) : std::string(s) + fill;
}

}  // namespace

std::string render_junit_report(const SuiteResult& suite) { return junit(suite); }
std::string render_html_report(const SuiteResult& suite) { return html_page(suite); }

void write_json_report(const SuiteResult& suite, const std::filesystem::path& file) {
  // Pretty-printed, except that each request is one line: 20,000 requests per scenario stay a file that diff,
  // grep and an editor handle, instead of 260,000 lines per scenario. Invalid UTF-8 in captured text is replaced
  // rather than making the whole report unwritable.
  using nlohmann::json;
  constexpr auto replace = json::error_handler_t::replace;
  json top = to_json(suite);
  json scenarios = std::move(top["scenarios"]);
  top.erase("scenarios");
  std::string out = top.dump(1, ' ', false, replace);
  out.erase(out.size() - 2);  // the closing "\n}"
  out += ",\n \"scenarios\": [";
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    json& sc = scenarios[i];
    json requests = std::move(sc["requests"]);
    sc.erase("requests");
    std::string head = sc.dump(1, ' ', false, replace);
    head.erase(head.size() - 2);
    // Re-indent the scenario object by two spaces so it nests under "scenarios".
    std::string nested;
    for (const char c : head) {
      nested += c;
      if (c == '\n') nested += "  ";
    }
    out += i == 0 ? "\n  " : ",\n  ";
    out += nested;
    out += ",\n   \"requests\": [";
    for (std::size_t k = 0; k < requests.size(); ++k) {
      out += k == 0 ? "\n    " : ",\n    ";
      out += requests[k].dump(-1, ' ', false, replace);
    }
    out += requests.empty() ? "]\n  }" : "\n   ]\n  }";
  }
  out += scenarios.empty() ? "]\n}\n" : "\n ]\n}\n";
  write_file_atomically(file, out);
}

void write_junit_report(const SuiteResult& suite, const std::filesystem::path& file) {
  write_file_atomically(file, junit(suite));
}

void write_html_report(const SuiteResult& suite, const std::filesystem::path& file) {
  write_file_atomically(file, html_page(suite));
}

void print_console_summary(const SuiteResult& suite, std::ostream& out, bool color) {
  const char* reset = color ? "\x1b[0m" : "";
  const char* bold = color ? "\x1b[1m" : "";
  auto status_colour = [&](const std::string& st) -> const char* {
    if (!color) return "";
    return st == "pass" ? "\x1b[32m" : st == "fail" ? "\x1b[31m" : "\x1b[35m";
  };
  struct row {
    std::string name, result, time, sent, ok, t504, t503, other, p50, p99, status;
  };
  std::vector<row> rows;
  for (const auto& s : suite.scenarios) {
    const auto c = outcome_counts(s);
    std::string result = s.status == ScenarioStatus::none ? std::string("UNKNOWN") : to_string(s.status);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    const bool lat = s.latency.count > 0;
    rows.push_back({s.name, result, format_seconds(s.duration_s), std::to_string(count_of(c, "sent")),
                    std::to_string(count_of(c, "ok")), std::to_string(count_of(c, "timeout")),
                    std::to_string(count_of(c, "rejected")), std::to_string(other_outcomes(c)),
                    lat ? format_ms(s.latency.p50) : "-", lat ? format_ms(s.latency.p99) : "-", to_string(s.status)});
  }
  const row header{"scenario", "result", "time", "sent", "ok", "504", "503", "other", "p50", "p99", ""};
  std::array<std::size_t, 10> w{};
  auto widen = [&](const row& r) {
    const std::array<const std::string*, 10> cells{&r.name, &r.result, &r.time, &r.sent, &r.ok,
                                                   &r.t504, &r.t503,   &r.other, &r.p50, &r.p99};
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::size_t n = 0;
      for_each_code_point(*cells[i], [&](char32_t) { ++n; });
      w[i] = std::max(w[i], n);
    }
  };
  widen(header);
  for (const auto& r : rows) widen(r);
  auto line = [&](const row& r, const char* result_colour) {
    out << pad(r.name, w[0], false) << "  " << result_colour << pad(r.result, w[1], false) << (*result_colour ? reset : "")
        << "  " << pad(r.time, w[2], true) << "  " << pad(r.sent, w[3], true) << "  " << pad(r.ok, w[4], true) << "  "
        << pad(r.t504, w[5], true) << "  " << pad(r.t503, w[6], true) << "  " << pad(r.other, w[7], true) << "  "
        << pad(r.p50, w[8], true) << "  " << pad(r.p99, w[9], true) << "\n";
  };
  out << bold;
  line(header, "");
  out << reset;
  for (const auto& r : rows) line(r, status_colour(r.status));

  std::size_t passed = 0, failed = 0, errors = 0;
  for (const auto& s : suite.scenarios) {
    if (s.status == ScenarioStatus::pass) {
      ++passed;
      const auto na = not_applicable_checks(s);
      if (!na.empty()) out << "\n" << bold << s.name << reset << ": " << na.size() << " check(s) not applicable\n";
      for (const auto* c : na) out << "  n/a " << c->name << (c->message.empty() ? "" : ": " + c->message) << "\n";
      continue;
    }
    if (s.status == ScenarioStatus::fail) ++failed;
    else ++errors;
    out << "\n" << status_colour(to_string(s.status)) << (s.status == ScenarioStatus::fail ? "FAILED" : "ERROR") << reset << " " << bold
        << s.name << reset << " (seed " << s.seed << ")\n";
    if (!s.error.empty()) out << "  error: " << s.error << "\n";
    for (const auto* c : failing_checks(s)) {
      out << "  - " << c->name;
      if (!c->message.empty()) out << ": " << c->message;
      out << "\n";
    }
    for (const auto* c : not_applicable_checks(s)) {
      out << "  n/a " << c->name << (c->message.empty() ? "" : ": " + c->message) << "\n";
    }
    if (!s.run_dir.empty()) out << "  run folder: " << s.run_dir << "\n";
    out << "  reproduce: " << s.repro << "\n";
    for (std::size_t k = 0; k < s.repro_requests.size() && k < s.failing_requests.size(); ++k) {
      out << "  reproduce request #" << s.failing_requests[k] << ": " << s.repro_requests[k] << "\n";
    }
  }
  // Plain text even with colours on: CI scripts grep for this exact line.
  out << "\nscenarios: " << passed << " passed, " << failed << " failed";
  if (errors > 0) out << ", " << errors << " errors";
  out << "\n";
}

}  // namespace rrkit::harness
