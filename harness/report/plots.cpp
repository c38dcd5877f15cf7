// The HTML report's SVG plots, generated as text (no library, no script): a per-request timeline and a latency
// histogram, coloured by outcome with a palette colour-blind readers can tell apart.
#include "harness/report/plots.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/report.h"
#include "harness/report/text.h"

namespace rrkit::harness::report_detail {
namespace {

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

}  // namespace


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
  // The report's own list may already be a sample (bound_request_list): the run's total counts.
  const std::size_t total = s.requests.size() + s.requests_omitted;
  if (points.size() < total) {
    fmt::format_to(o,
                   "<text class=\"note\" x=\"{:.1f}\" y=\"38\" text-anchor=\"end\">showing {} of {} requests "
                   "(even sample per outcome; rare outcomes kept whole)</text>",
                   plot_w - margin_r, points.size(), total);
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

}  // namespace rrkit::harness::report_detail
