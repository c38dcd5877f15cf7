#include "harness/run_folder.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/json_limits.h"
#include "harness/decision_logs.h"
#include "harness/jsonl_file.h"
#include "harness/report.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string run_files::metrics(std::size_t gateway) { return fmt::format("metrics-gw-{}.txt", gateway + 1); }
std::string run_files::baseline(std::size_t gateway) { return fmt::format("metrics-gw-{}.baseline.txt", gateway + 1); }

namespace {

// Reads a whole file; false when it cannot be opened.
bool read_text(const fs::path& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// A history line: the report's record plus the bodies, which replay needs and reports leave out.
Json history_line(const RequestRecord& r, const StoredRun& run) {
  Json j = to_json(r);
  if (r.id_from_log) j["correlation_id"] = "";
  j["request_body"] = r.request_body.empty() && run.request_body_of ? run.request_body_of(r) : r.request_body.str();
  j["response_body"] = r.response_text();
  if (r.answer_verified) j["answer_verified"] = true;
  return j;
}

Json to_json(const RunRecord& r) {
  Json j = {{"gateways", r.gateways},
          {"shared_consumer_group", r.shared_consumer_group},
          {"reply_mode", r.reply_mode},
          {"pending", r.pending ? Json(*r.pending) : Json(nullptr)},
          {"pending_detail", r.pending_detail},
          {"metrics_errors", r.metrics_errors},
          {"baseline_errors", r.baseline_errors},
          {"unexpected_deaths", r.unexpected_deaths},
          {"events", r.events},
          {"infra_errors", r.infra_errors},
          {"decisions", r.decisions},
          {"decisions_offset", r.decisions_offset},
          {"only", r.only},
          {"started_us", r.started_us},
          {"interrupted", r.interrupted}};
  if (r.seed) j["seed"] = *r.seed;
  j["sut"] = to_json(r.sut);
  if (!r.further_decisions_offsets.empty()) j["further_decisions_offsets"] = r.further_decisions_offsets;
  for (const auto life : r.gateway_life) j["gateway_life"].push_back(to_string(life));
  if (!r.memory.empty()) {
    Json samples = Json::array();
    for (const auto& s : r.memory) samples.push_back(to_json(s));
    j["memory"] = std::move(samples);
  }
  return j;
}

// run.json's per-gateway scrape errors ("" for a scrape that was read): an array of `count` strings.
bool read_scrape_errors(const Json& meta, const char* key, std::size_t min_count, std::size_t max_count,
                        std::vector<std::string>& out, std::string& error) {
  const auto it = meta.find(key);
  if (it == meta.end() || !it->is_array() || it->size() < min_count || it->size() > max_count ||
      !std::all_of(it->begin(), it->end(), [](const Json& e) { return e.is_string(); })) {
    error = fmt::format("\"{}\" must be a list of {} string(s), one per gateway (\"\" when its /metrics was read)", key,
                        min_count == max_count ? std::to_string(min_count) : fmt::format("0 or {}", max_count));
    return false;
  }
  out.clear();
  for (const auto& e : *it) out.push_back(e.get<std::string>());
  return true;
}

// run.json, checked member by member: a member the checker relies on must be there with its type.
std::optional<RunRecord> record_from_json(const Json& meta, std::string& error) {
  RunRecord r;
  if (const auto seed = meta.find("seed"); seed != meta.end() && seed->is_number_unsigned()) {
    r.seed = seed->get<std::uint64_t>();
  }
  if (const auto only = meta.find("only"); only != meta.end() && only->is_string()) r.only = only->get<std::string>();
  // One metrics file is read per gateway: a corrupt count must not become millions of reads (nor a
  // float converted to int, which is undefined behaviour).
  const auto gateways = meta.find("gateways");
  if (gateways == meta.end() || !gateways->is_number_integer() || gateways->get<std::int64_t>() < 1 ||
      gateways->get<std::int64_t>() > 8) {
    error = "gateways must be an integer between 1 and 8, got " +
            (gateways == meta.end() ? std::string("nothing") : gateways->dump(-1, ' ', false, Json::error_handler_t::replace));
    return std::nullopt;
  }
  r.gateways = gateways->get<int>();
  const auto decisions = meta.find("decisions");
  if (decisions == meta.end() || !decisions->is_string()) {
    error = "\"decisions\" must name the decision log (\"\" for a run that had none)";
    return std::nullopt;
  }
  r.decisions = decisions->get<std::string>();
  // Only an unsigned integer is an offset: converting a float like 1e20 to size_t is undefined behaviour.
  if (const auto offset = meta.find("decisions_offset"); offset != meta.end() && offset->is_number_unsigned()) {
    r.decisions_offset = offset->get<std::size_t>();
  }
  if (const auto more = meta.find("further_decisions_offsets"); more != meta.end()) {
    if (!more->is_array() || more->size() > 64 ||
        !std::all_of(more->begin(), more->end(), [](const Json& e) { return e.is_number_unsigned(); })) {
      error = "\"further_decisions_offsets\" must be a list of line counts, one per further simulator instance";
      return std::nullopt;
    }
    for (const auto& e : *more) r.further_decisions_offsets.push_back(e.get<std::size_t>());
  }
  const auto n = static_cast<std::size_t>(r.gateways);
  if (const auto life = meta.find("gateway_life"); life != meta.end()) {
    for (std::size_t i = 0; life->is_array() && life->size() == n && i < n; ++i) {
      const auto l = (*life)[i].is_string() ? parse_gateway_life((*life)[i].get<std::string>()) : std::nullopt;
      if (l) r.gateway_life.push_back(*l);
    }
    if (r.gateway_life.size() != n) {
      error = fmt::format("\"gateway_life\" must list {} of throughout, joined, left, joined_and_left", n);
      return std::nullopt;
    }
  }
  if (!read_scrape_errors(meta, "metrics_errors", n, n, r.metrics_errors, error)) return std::nullopt;
  if (!read_scrape_errors(meta, "baseline_errors", 0, n, r.baseline_errors, error)) return std::nullopt;
  if (!r.baseline_errors.empty() && r.baseline_errors.size() != n) {
    error = fmt::format("\"baseline_errors\" must be a list of 0 or {} string(s)", n);
    return std::nullopt;
  }
  const auto pending = meta.find("pending");
  if (pending == meta.end() || !(pending->is_number() || pending->is_null())) {
    error = "\"pending\" must be the requests left pending after the settle time (null: not read)";
    return std::nullopt;
  }
  if (pending->is_number()) r.pending = pending->get<double>();
  try {
    r.shared_consumer_group = meta.value("shared_consumer_group", false);
    r.reply_mode = meta.value("reply_mode", std::string("broadcast"));
    r.pending_detail = meta.value("pending_detail", std::string());
    r.unexpected_deaths = meta.value("unexpected_deaths", std::vector<std::string>{});
    r.events = meta.value("events", std::vector<std::string>{});
    r.infra_errors = meta.value("infra_errors", std::vector<std::string>{});
    r.interrupted = meta.value("interrupted", false);
  } catch (const nlohmann::json::exception& e) {
    error = std::string("a member has the wrong type: ") + e.what();
    return std::nullopt;
  }
  if (const auto started = meta.find("started_us"); started != meta.end() && started->is_number_integer()) {
    r.started_us = started->get<std::int64_t>();
  }
  if (const auto memory = meta.find("memory"); memory != meta.end()) {
    if (!memory->is_array()) {
      error = "\"memory\" must be the list of memory samples";
      return std::nullopt;
    }
    for (std::size_t i = 0; i < memory->size(); ++i) {
      auto s = memory_sample_from_json((*memory)[i]);
      if (!s) {
        error = fmt::format("\"memory\"[{}] is not a memory sample (round, requests_so_far, timed_out_so_far, rss)", i);
        return std::nullopt;
      }
      r.memory.push_back(std::move(*s));
    }
  }
  // A run folder written before SUT files were judged names none: it was rr-gateway.
  if (const auto sut = meta.find("sut"); sut != meta.end()) {
    auto judging = sut_judging_from_json(*sut, error);
    if (!judging) return std::nullopt;
    r.sut = std::move(*judging);
  }
  return r;
}

bool load_history(const fs::path& file, std::vector<RequestRecord>& out, std::string& error) {
  if (!jsonl_exists(file)) {
    error = file.string() + ": missing (the run's HTTP history)";
    return false;
  }
  const fs::path stored = stored_jsonl(file);
  // Counted first, so that the records are allocated once: a vector that doubles while a million records
  // are read holds three copies' worth at its last growth.
  std::size_t lines = 0;
  if (!for_each_jsonl_line(file, [&](std::string&) { ++lines; }, error)) return false;
  out.reserve(out.size() + lines);
  std::size_t n = 0;
  std::string bad;  // the first bad line's message: the rest of the file is not read into records
  const bool read = for_each_jsonl_line(
      file,
      [&](std::string& line) {
        ++n;
        if (line.empty() || !bad.empty()) return;
        auto j = parse_bounded(line);
        if (!j.ok()) {
          bad = fmt::format("{}:{}: not a JSON line", stored.string(), n);
          return;
        }
        try {
          out.push_back(request_from_json(j.value));
          // Only a 200 not verified as it arrived has its request body read (by run_checks); it is written to no
          // report, so no other record holds it.
          if (out.back().answer_verified || out.back().outcome != Outcome::ok) out.back().request_body.clear();
        } catch (const std::runtime_error& e) {
          bad = fmt::format("{}:{}: {}", stored.string(), n, e.what());
        }
      },
      error);
  if (!read) return false;
  if (!bad.empty()) {
    error = bad;
    return false;
  }
  return true;
}

// One gateway's scrape: its recorded error, or the file's text (which must then exist).
bool load_scrape(const std::string& scrape_error, const fs::path& file, std::vector<MetricsScrape>& out,
                 std::string& error) {
  MetricsScrape m;
  m.error = scrape_error;
  if (m.error.empty() && !read_text(file, m.text)) {
    error = file.string() + ": missing (run.json says this /metrics was read)";
    return false;
  }
  out.push_back(std::move(m));
  return true;
}

}  // namespace

bool run_folder_for(const fs::path& out_dir, const std::string& name, std::uint64_t seed, fs::path& folder,
                    std::string& error) {
  const fs::path out = fs::absolute(out_dir).lexically_normal();
  folder = (out / fmt::format("{}-seed{}", name, seed)).lexically_normal();
  if (folder.parent_path() != out || folder.filename().string().front() == '.' || name.empty()) {
    error = fmt::format("scenario name \"{}\" would put its run folder outside {}", name, out.string());
    return false;
  }
  return true;
}

bool create_run_folder(const fs::path& out_dir, const std::string& name, std::uint64_t seed,
                       const std::string& scenario_path, fs::path& folder, std::string& error) {
  if (!run_folder_for(out_dir, name, seed, folder, error)) return false;
  std::error_code ec;
  fs::remove_all(folder, ec);
  fs::create_directories(folder, ec);
  if (ec) {
    error = "cannot create the run folder " + folder.string() + ": " + ec.message();
    return false;
  }
  // A copy that fails leaves a folder that cannot be replayed, not a run that cannot be made.
  fs::copy_file(scenario_path, folder / run_files::kScenario, fs::copy_options::overwrite_existing, ec);
  std::ofstream(folder / run_files::kSeed) << seed << "\n";
  return true;
}

void save_run(const fs::path& dir, const StoredRun& run) {
  for (std::size_t i = 0; i < run.metrics.size(); ++i) {
    if (run.metrics[i].error.empty()) std::ofstream(dir / run_files::metrics(i)) << run.metrics[i].text;
  }
  for (std::size_t i = 0; i < run.baseline.size(); ++i) {
    if (run.baseline[i].error.empty()) std::ofstream(dir / run_files::baseline(i)) << run.baseline[i].text;
  }
  // safe_dump: an answer is outside input and may carry bytes that are not UTF-8 (a proxy's Latin-1
  // error page); the strict handler would throw on it and lose the whole history.
  std::ofstream hist(dir / run_files::kHistory);
  for (const auto& r : run.history) hist << safe_dump(history_line(r, run)) << "\n";
  std::ofstream(dir / run_files::kRunJson) << safe_dump(to_json(run.record), 2) << "\n";
}

std::optional<StoredRun> load_run(const fs::path& dir, std::string& error) {
  const fs::path meta_file = dir / run_files::kRunJson;
  std::string text;
  if (!read_text(meta_file, text)) {
    error = meta_file.string() + ": not a run folder (no run.json)";
    return std::nullopt;
  }
  const auto meta = parse_bounded(text);
  if (!meta.ok() || !meta.value.is_object()) {
    error = meta_file.string() + ": unreadable (not a JSON object)";
    return std::nullopt;
  }
  StoredRun run;
  std::string why;
  auto record = record_from_json(meta.value, why);
  if (!record) {
    error = meta_file.string() + ": " + why;
    return std::nullopt;
  }
  run.record = std::move(*record);
  if (!load_history(dir / run_files::kHistory, run.history, error)) return std::nullopt;
  // The run folder's own copy first (a moved folder still replays); else the file the run read.
  const fs::path own_copy = dir / run_files::kDecisions;
  if (jsonl_exists(own_copy)) {
    // A scaled-out simulator left one log per instance beside it.
    run.decisions = read_run_decisions(own_copy, run.record.decisions_offset, dir, run.record.further_decisions_offsets);
  } else if (!run.record.decisions.empty()) {
    if (!fs::exists(run.record.decisions)) {
      error = fmt::format("{}: missing (the simulator's decision log; run.json names {})", own_copy.string(),
                          run.record.decisions);
      return std::nullopt;
    }
    run.decisions = read_decisions(run.record.decisions, run.record.decisions_offset);
  }
  for (std::size_t i = 0; i < run.record.metrics_errors.size(); ++i) {
    if (!load_scrape(run.record.metrics_errors[i], dir / run_files::metrics(i), run.metrics, error)) return std::nullopt;
  }
  for (std::size_t i = 0; i < run.record.baseline_errors.size(); ++i) {
    if (!load_scrape(run.record.baseline_errors[i], dir / run_files::baseline(i), run.baseline, error)) {
      return std::nullopt;
    }
  }
  return run;
}

std::vector<Json> read_jsonl(const fs::path& file) {
  std::vector<Json> lines;
  // A file that is not there (yet) has no lines: the simulator may not have written its log.
  if (!jsonl_exists(file)) return lines;
  std::string ignored;
  for_each_jsonl_line(
      file,
      [&](std::string& line) {
        if (line.empty()) return;
        // Another program's file: bounded, so that a line nested too deep cannot crash the checker.
        auto j = parse_bounded(line);
        if (j.ok()) lines.push_back(std::move(j.value));
      },
      ignored);
  return lines;
}

bool compress_run_folder(const fs::path& dir, std::string& error) {
  std::vector<fs::path> files{dir / run_files::kHistory, dir / run_files::kDecisions};
  for (auto& f : further_decision_logs(dir)) files.push_back(std::move(f));
  std::error_code ec;
  for (const auto& f : files) {
    if (fs::exists(f, ec) && !compress_jsonl(f, error)) return false;
  }
  return true;
}

bool for_each_stored_decision(const fs::path& dir, const RunRecord& record,
                              const std::function<void(const DecisionRecord&)>& line, std::string& error) {
  std::vector<std::pair<fs::path, std::size_t>> logs;
  const fs::path own_copy = dir / run_files::kDecisions;
  if (jsonl_exists(own_copy)) {
    logs.emplace_back(own_copy, record.decisions_offset);
    const auto further = further_decision_logs(dir);
    for (std::size_t k = 0; k < further.size(); ++k) {
      logs.emplace_back(further[k], k < record.further_decisions_offsets.size() ? record.further_decisions_offsets[k] : 0);
    }
  } else if (!record.decisions.empty()) {
    logs.emplace_back(record.decisions, record.decisions_offset);
  }
  for (const auto& log : logs) {
    // Plain names, not a structured binding: a lambda may not capture a binding before C++20's P1091 (clang 14).
    const auto& file = log.first;
    const auto offset = log.second;
    std::size_t seen = 0;
    const bool read = for_each_jsonl_line(
        file,
        [&](std::string& text) {
          if (text.empty()) return;
          const auto j = parse_bounded(text);
          if (!j.ok() || seen++ < offset) return;
          const auto parsed = parse_decision_record(j.value);
          if (parsed.ok()) line(parsed.record);
        },
        error);
    if (!read) return false;
  }
  return true;
}

std::size_t count_jsonl(const fs::path& file) {
  std::size_t n = 0;
  if (!jsonl_exists(file)) return n;
  std::string ignored;
  for_each_jsonl_line(
      file, [&](std::string& line) { n += !line.empty() && parse_bounded(line).ok(); }, ignored);
  return n;
}

DecisionLines read_decisions(const fs::path& file, std::size_t offset, std::size_t* lines_read) {
  DecisionLines out;
  if (lines_read != nullptr) *lines_read = 0;
  if (!jsonl_exists(file)) return out;
  std::size_t seen = 0, lines = 0;
  std::string ignored;
  // Counted first, so that the lines are allocated once (see load_history).
  for_each_jsonl_line(file, [&](std::string&) { ++lines; }, ignored);
  out.reserve(lines > offset ? lines - offset : 0);
  // Each line is parsed on its own and kept compact: the log of a long run is never held as JSON.
  for_each_jsonl_line(
      file,
      [&](std::string& line) {
        if (line.empty()) return;
        const auto j = parse_bounded(line);
        if (!j.ok() || seen++ < offset) return;
        out.push_back(j.value);
      },
      ignored);
  if (lines_read != nullptr) *lines_read = seen;
  return out;
}

}  // namespace rrkit::harness
