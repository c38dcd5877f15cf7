#include "harness/sut_launch.h"

#include <fstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/json_limits.h"
#include "harness/data_dirs.h"

namespace rrkit::harness {

namespace fs = std::filesystem;

std::vector<fs::path> default_sut_candidates(const fs::path& bin_dir) {
  return data_candidates(fs::path("sut") / "rr-gateway.yaml", bin_dir);
}

SutChoice choose_sut(const std::string& flag, const char* env_value, const fs::path& bin_dir) {
  SutChoice c;
  if (!flag.empty()) {
    c.path = flag;
    c.from = "--sut";
  } else if (env_value && *env_value) {
    c.path = env_value;
    c.from = "RRKIT_SUT";
  } else {
    c.from = "default";
    std::error_code ec;
    for (const auto& p : default_sut_candidates(bin_dir)) {
      if (fs::is_regular_file(p, ec)) {
        c.path = p;
        break;
      }
    }
    if (c.path.empty()) {
      std::string tried;
      for (const auto& p : default_sut_candidates(bin_dir)) tried += "\n  " + p.string();
      c.load.error = "no --sut given, RRKIT_SUT unset, and no default sut/rr-gateway.yaml found; looked at:" + tried;
      c.load.key = "sut";
      return c;
    }
  }
  c.load = load_sut(c.path);
  if (!c.load.ok() && c.from != "--sut") c.load.error = c.from + ": " + c.load.error;
  return c;
}

fs::path self_bin_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path(ec) : exe.parent_path();
}

std::string describe_sut(const Sut& sut, const fs::path& bin_dir) {
  SutInstanceVars v;
  v.instance = 1;
  v.port = 18080;
  v.app_port = 18081;
  v.dapr_http_port = 13500;
  v.dapr_grpc_port = 15000;
  v.pubsub = "rr-pubsub";
  v.request_topic = "rr.requests";
  v.reply_topic = "rr.replies";
  v.sut_dir = sut.dir;
  v.bin_dir = bin_dir;
  v.run_dir = "runs/<scenario>-seed<N>";
  const SutInstance inst = expand_instance(sut, v, {});
  std::string out = fmt::format("{}: valid SUT \"{}\"{}\n", sut.file.string(), sut.name,
                                sut.description.empty() ? "" : " (" + sut.description + ")");
  out += "instance 1 (example ports: client 18080, app 18081, daprd HTTP 13500 / gRPC 15000; timeout 1s):\n";
  out += fmt::format("  app id:   {}{}\n", inst.app_id,
                     app_id_shared(sut) ? "  (shared by every instance: one consumer group)" : "");
  out += fmt::format("  app port: {}\n  cwd:      {}\n  argv:\n", inst.app_port, inst.cwd.string());
  for (const auto& a : inst.argv) out += "    " + a + "\n";
  if (!inst.env.empty()) out += "  env:\n";
  for (const auto& [k, val] : inst.env) out += fmt::format("    {}={}\n", k, val);
  out += "  ready:    ";
  if (sut.ready.http) out += fmt::format("GET {} answers {}", sut.ready.http->path, sut.ready.http->status);
  if (sut.ready.http && sut.ready.subscription) out += " and ";
  if (sut.ready.subscription) out += "daprd lists the reply subscription";
  out += fmt::format(" (within {} s)\n", std::chrono::duration_cast<std::chrono::seconds>(sut.ready.timeout).count());
  if (sut.ready.warmup.count() > 0) {
    out += fmt::format("  warm-up:  a closed loop for {} ms before a closed-loop scenario\n", sut.ready.warmup.count() / 1000);
  }
  out += fmt::format("  request:  {} {}\n", sut.request.method, sut.request.path);
  out += fmt::format("  answer:   ok {}, timeout {}\n", sut.answer.ok_status, sut.answer.timeout_status);
  out += "  metrics:  " + std::string(sut.metrics ? std::to_string(sut.metrics->series.size()) + " series named"
                                                  : "none (checks that need them are not applicable)") + "\n";
  out += "  contract: " + std::string(sut.contract_yaml.empty() ? "none (the simulator's defaults)" : "given") + "\n";
  return out;
}

std::optional<std::string> profile_with_contract(const std::string& profile_yaml, const std::string& contract_yaml,
                                                 std::string& error) {
  if (contract_yaml.empty()) return profile_yaml;
  try {
    YAML::Node profile = YAML::Load(profile_yaml.empty() ? std::string("{}") : profile_yaml);
    if (profile.IsNull()) profile = YAML::Node(YAML::NodeType::Map);
    if (!profile.IsMap()) {
      error = "the simulator profile is not a YAML mapping";
      return std::nullopt;
    }
    if (profile["contract"]) return profile_yaml;
    const YAML::Node contract = YAML::Load(contract_yaml);
    if (!contract.IsMap()) {
      error = "the SUT's contract is not a YAML mapping";
      return std::nullopt;
    }
    profile["contract"] = contract;
    YAML::Emitter out;
    out << profile;
    return std::string(out.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports by exception; this is its edge, the caller gets a value.
    error = std::string("cannot merge the SUT's contract into the simulator profile: ") + e.what();
    return std::nullopt;
  }
}

bool metadata_has_subscription(std::string_view metadata_json, const std::string& topic) {
  const auto parsed = parse_bounded(metadata_json);
  if (!parsed.ok() || !parsed.value.is_object()) return false;
  const auto it = parsed.value.find("subscriptions");
  if (it == parsed.value.end() || !it->is_array()) return false;
  for (const auto& s : *it) {
    if (s.is_object() && s.value("topic", std::string()) == topic) return true;
  }
  return false;
}

std::string last_lines(std::string_view text, std::size_t n) {
  if (n == 0) return {};
  std::size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  std::size_t pos = end;
  std::size_t lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == n) break;
    --pos;
  }
  return std::string(text.substr(pos, end - pos));
}

std::string log_tail(const fs::path& file, std::size_t n) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  // 20 lines of a log fit in far less; a process that printed megabytes is not read whole.
  constexpr std::streamoff kMaxRead = 16 * 1024;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > kMaxRead ? size - kMaxRead : 0;
  in.seekg(start);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return last_lines(text, n);
}

}  // namespace rrkit::harness
