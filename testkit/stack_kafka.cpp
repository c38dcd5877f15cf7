// The Kafka part of the launcher: a KRaft cluster of combined broker+controller nodes.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/json_limits.h"
#include "testkit/net.h"
#include "testkit/stack.h"
#include "testkit/stack_detail.h"

namespace rrkit::stack {

namespace {

std::string java_binary() {
  if (const char* home = std::getenv("JAVA_HOME"); home && *home) return std::string(home) + "/bin/java";
  return "java";
}

constexpr const char* kKafkaLog4j = R"(status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
)";

// A KRaft cluster id is a base64url-encoded UUID; every node of one run is formatted with it, and
// every run formats fresh storage, so one fixed id serves all runs.
constexpr const char* kClusterId = "OW64pIRcRgyVBUQk-QjfSQ";

// Internal topics (consumer offsets, transactions, share state) are replicated like the cluster
// allows, independently of the scenario's topic settings: a negative control that thins out the
// request and reply topics must lose replies there, not its consumer groups' coordinator.
int internal_rf(const KafkaConfig& c) { return std::min(c.nodes, 3); }
int internal_min_isr(const KafkaConfig& c) { return internal_rf(c) > 1 ? internal_rf(c) - 1 : 1; }

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int effective_replication_factor(const KafkaConfig& c) {
  return c.replication_factor > 0 ? c.replication_factor : std::min(c.nodes, 3);
}

int effective_min_insync_replicas(const KafkaConfig& c) {
  if (c.min_insync_replicas > 0) return c.min_insync_replicas;
  const int rf = effective_replication_factor(c);
  return rf > 1 ? rf - 1 : 1;
}

std::string kafka_node_properties(const KafkaConfig& c, int id, const std::vector<std::uint16_t>& ports,
                                  const std::vector<std::uint16_t>& controller_ports, const fs::path& data_dir) {
  const auto idx = static_cast<std::size_t>(id - 1);
  std::string voters;
  for (std::size_t i = 0; i < controller_ports.size(); ++i) {
    voters += (i ? "," : "") + std::to_string(i + 1) + "@127.0.0.1:" + std::to_string(controller_ports[i]);
  }
  const std::string port = std::to_string(ports.at(idx));
  std::string props =
      "process.roles=broker,controller\n"
      "node.id=" + std::to_string(id) + "\n"
      "controller.quorum.voters=" + voters + "\n"
      "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" +
      std::to_string(controller_ports.at(idx)) + "\n"
      "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + "\n"
      "controller.listener.names=CONTROLLER\n"
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
      "inter.broker.listener.name=PLAINTEXT\n"
      "log.dirs=" + data_dir.string() + "\n"
      "num.partitions=" + std::to_string(c.default_partitions) + "\n"
      "offsets.topic.replication.factor=" + std::to_string(internal_rf(c)) + "\n"
      "offsets.topic.num.partitions=4\n"
      "transaction.state.log.replication.factor=" + std::to_string(internal_rf(c)) + "\n"
      "transaction.state.log.min.isr=" + std::to_string(internal_min_isr(c)) + "\n"
      "share.coordinator.state.topic.replication.factor=" + std::to_string(internal_rf(c)) + "\n"
      "share.coordinator.state.topic.min.isr=" + std::to_string(internal_min_isr(c)) + "\n"
      "group.initial.rebalance.delay.ms=0\n"
      // Lets test consumers use short session timeouts, so a killed member's partitions move on quickly.
      "group.min.session.timeout.ms=1000\n"
      "auto.create.topics.enable=true\n";
  if (c.nodes > 1) {
    props += "default.replication.factor=" + std::to_string(effective_replication_factor(c)) + "\n" +
             "min.insync.replicas=" + std::to_string(effective_min_insync_replicas(c)) + "\n" +
             // A killed node's partitions get new leaders once the controller fences it, i.e. after
             // this session timeout without a heartbeat (default 9 s). Shorter keeps a failover
             // scenario short; not so short that a node starved of CPU on 2 loaded cores is fenced.
             "broker.session.timeout.ms=6000\n"
             "broker.heartbeat.interval.ms=1000\n";
  }
  return props;
}

Kafka::Kafka(Paths paths, fs::path run_dir, KafkaConfig config)
    : paths_(std::move(paths)), dir_(std::move(run_dir) / "kafka"), config_(std::move(config)) {
  config_.nodes = std::max(config_.nodes, 1);
  for (int id = 1; id <= config_.nodes; ++id) {
    auto n = std::make_unique<KafkaNode>();
    n->id = id;
    n->dir = config_.nodes == 1 ? dir_ : dir_ / ("node-" + std::to_string(id));
    nodes_.push_back(std::move(n));
  }
}

KafkaNode& Kafka::node(int id) {
  if (id < 1 || id > node_count()) throw std::out_of_range("no Kafka node " + std::to_string(id));
  return *nodes_[static_cast<std::size_t>(id - 1)];
}

std::string Kafka::brokers() const {
  std::string out;
  for (const auto& n : nodes_) out += (out.empty() ? "" : ",") + n->bootstrap();
  return out;
}

void Kafka::stop() {
  // Stopped together: a controlled shutdown of one node of a 3-node cluster waits for its leaders
  // to move, and the last voters wait for a quorum that is going away.
  for (auto& n : nodes_) {
    if (n->process.alive()) {
      n->process.resume();
      proc::signal_group(n->process.pid(), SIGTERM);
    }
  }
  for (auto& n : nodes_) n->process.stop(20s);
}

bool Kafka::start(std::string& error) {
  std::vector<std::uint16_t> ports, cports;
  for (auto& n : nodes_) {
    const bool first = n->id == 1;
    n->port = first && config_.port ? config_.port : net::free_port();
    n->controller_port = first && config_.controller_port ? config_.controller_port : net::free_port();
    ports.push_back(n->port);
    cports.push_back(n->controller_port);
  }
  config_.port = ports.front();
  config_.controller_port = cports.front();
  const std::string classpath = (paths_.kafka_libs / "*").string();
  std::vector<std::unique_ptr<Process>> formatters;
  for (auto& n : nodes_) {
    fs::remove_all(n->dir / "data");
    fs::create_directories(n->dir / "data");
    detail::write_file(n->dir / "server.properties", kafka_node_properties(config_, n->id, ports, cports, n->dir / "data"));
    detail::write_file(n->dir / "log4j2.properties", kKafkaLog4j);
    // KRaft storage must be formatted once with the cluster id before the first start; the nodes'
    // formatters run side by side (each is a JVM start).
    formatters.push_back(std::make_unique<Process>(proc::SpawnSpec{
        "kafka-format-" + std::to_string(n->id),
        {java_binary(), "-Xmx256m", "-Dlog4j2.configurationFile=" + (n->dir / "log4j2.properties").string(), "-cp",
         classpath, "kafka.tools.StorageTool", "format", "--cluster-id", kClusterId, "--config",
         (n->dir / "server.properties").string(), "--ignore-formatted"},
        {},
        n->dir / "format.log",
        {}}));
    if (!formatters.back()->start(error)) return false;
  }
  for (std::size_t i = 0; i < formatters.size(); ++i) {
    auto& f = *formatters[i];
    if (!proc::wait_gone(f.pid(), 60s) || f.exit_status() != 0) {
      error = "kafka storage format failed (exit " + std::to_string(f.exit_status()) + "), see " +
              f.log_file().string();
      return false;
    }
  }
  for (auto& n : nodes_) {
    if (!start_node(*n, error)) return false;
  }
  for (auto& n : nodes_) {
    if (!wait_node_serving(*n, error)) return false;
  }
  auto topics = config_.topics;
  for (auto& t : topics) {
    t.replication_factor = effective_replication_factor(config_);
    t.min_insync_replicas = config_.nodes > 1 ? effective_min_insync_replicas(config_) : 0;
  }
  if (!kafka::ensure_topics(brokers(), topics, 30s, error)) {
    error = "creating topics: " + error;
    return false;
  }
  if (config_.nodes > 1 && !wait_replicated(config_.ready_timeout, error)) return false;
  return true;
}

bool Kafka::start_node(KafkaNode& n, std::string& error) {
  // A single node keeps today's heap. Cluster nodes get 256 MiB each: three of them next to the
  // simulator, two gateways and their daprd must fit 2 cores and 24 GiB, and a fixed heap
  // (-Xms = -Xmx) keeps the JVM from spending CPU on resizing; the topics here hold megabytes.
  std::vector<std::string> heap = config_.nodes == 1 ? std::vector<std::string>{"-Xmx512m", "-Xms256m"}
                                                     : std::vector<std::string>{"-Xmx256m", "-Xms256m"};
  std::vector<std::string> argv = {java_binary()};
  argv.insert(argv.end(), heap.begin(), heap.end());
  argv.insert(argv.end(), {"-XX:+UseG1GC", "-Dlog4j2.configurationFile=" + (n.dir / "log4j2.properties").string(),
                           "-cp", (paths_.kafka_libs / "*").string(), "kafka.Kafka",
                           (n.dir / "server.properties").string()});
  n.process = Process(proc::SpawnSpec{config_.nodes == 1 ? "kafka" : "kafka-" + std::to_string(n.id), std::move(argv),
                                      {}, n.dir / "kafka.log", {}});
  n.process.spec().die_with_parent = config_.die_with_parent;
  return n.process.start(error);
}

bool Kafka::wait_node_serving(KafkaNode& n, std::string& error) {
  std::string last;
  const bool ready = proc::wait_until(
      [&] {
        if (!n.process.alive()) return true;
        // Each node on its own: it answers, and its metadata lists every node of the cluster.
        const auto ids = kafka::broker_ids(n.bootstrap(), 1s, last);
        if (ids.empty()) return false;
        if (static_cast<int>(ids.size()) < node_count()) {
          last = "metadata lists " + std::to_string(ids.size()) + " of " + std::to_string(node_count()) + " nodes";
          return false;
        }
        return true;
      },
      config_.ready_timeout, 200ms);
  if (!ready || !n.process.alive()) {
    error = "Kafka node " + std::to_string(n.id) + " did not become ready on " + n.bootstrap() + " (" +
            (n.process.alive() ? last : "process exited") + "), see " + n.process.log_file().string();
    return false;
  }
  return true;
}

bool Kafka::wait_replicated(std::chrono::milliseconds timeout, std::string& error) const {
  const auto rf = static_cast<std::size_t>(effective_replication_factor(config_));
  std::string last;
  const bool ok = proc::wait_until(
      [&] {
        for (const auto& t : config_.topics) {
          const auto parts = kafka::topic_partitions(brokers(), t.name, 2s, last);
          if (parts.empty()) return false;
          for (const auto& p : parts) {
            if (p.leader < 0 || p.isr.size() < rf) {
              last = t.name + "[" + std::to_string(p.partition) + "]: leader " + std::to_string(p.leader) + ", " +
                     std::to_string(p.isr.size()) + " of " + std::to_string(rf) + " replicas in sync";
              return false;
            }
          }
        }
        return true;
      },
      timeout, 250ms);
  if (!ok) error = "topics not fully replicated within " + std::to_string(timeout.count()) + " ms: " + last;
  return ok;
}

bool Kafka::kill_node(int id, std::string& error) {
  if (id < 1 || id > node_count()) {
    error = "no Kafka node " + std::to_string(id) + " (the cluster has " + std::to_string(node_count()) + ")";
    return false;
  }
  auto& n = node(id);
  if (!n.process.alive()) {
    error = "Kafka node " + std::to_string(id) + " is not running";
    return false;
  }
  n.process.kill9();
  return true;
}

bool Kafka::restart_node(int id, std::string& error) {
  if (id < 1 || id > node_count()) {
    error = "no Kafka node " + std::to_string(id) + " (the cluster has " + std::to_string(node_count()) + ")";
    return false;
  }
  auto& n = node(id);
  // A paused node is resumed so that it can stop; a running one is stopped (a restart in place).
  if (n.process.alive()) {
    n.process.resume();
    n.process.stop(20s);
  }
  // The old log stays as it was when the node died; the restarted node writes a fresh kafka.log.
  std::error_code ec;
  ++n.restarts;
  fs::rename(n.dir / "kafka.log", n.dir / ("kafka.log." + std::to_string(n.restarts)), ec);
  if (!start_node(n, error) || !wait_node_serving(n, error)) return false;
  // Back in every ISR before the next fault, so that a rolling restart never takes two replicas
  // away at once; when another node is down the ISR cannot be full, and serving is enough.
  const bool all_up = std::all_of(nodes_.begin(), nodes_.end(), [](const auto& x) { return x->process.alive(); });
  return !all_up || wait_replicated(config_.ready_timeout, error);
}

bool Kafka::pause_node(int id, std::string& error) {
  if (id < 1 || id > node_count()) {
    error = "no Kafka node " + std::to_string(id) + " (the cluster has " + std::to_string(node_count()) + ")";
    return false;
  }
  node(id).process.pause();
  return true;
}

bool Kafka::resume_node(int id, std::string& error) {
  if (id < 1 || id > node_count()) {
    error = "no Kafka node " + std::to_string(id) + " (the cluster has " + std::to_string(node_count()) + ")";
    return false;
  }
  node(id).process.resume();
  return true;
}

int Kafka::active_controller(std::string& error) const {
  // librdkafka 2.0 has no DescribeCluster, and under KRaft the controller id that metadata reports
  // to clients is a random broker. Each voter persists the quorum leader it follows with its epoch
  // (data/__cluster_metadata-0/quorum-state); among the running nodes the highest epoch is current.
  int leader = -1;
  long long best_epoch = -1;
  for (const auto& n : nodes_) {
    if (!n->process.alive()) continue;
    const auto parsed = parse_bounded(read_text(n->dir / "data" / "__cluster_metadata-0" / "quorum-state"));
    if (!parsed.ok() || !parsed.value.is_object()) continue;
    const auto& j = parsed.value;
    const auto id = j.value("leaderId", -1);
    const auto epoch = j.value("leaderEpoch", -1LL);
    if (id >= 1 && epoch > best_epoch) {
      best_epoch = epoch;
      leader = id;
    }
  }
  if (leader < 0) error = "no running node records a quorum leader";
  return leader;
}

}  // namespace rrkit::stack
