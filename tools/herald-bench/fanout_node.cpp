// SPDX-License-Identifier: Apache-2.0
// herald-bench fanout-node: one node process of `herald-bench fanout --nodes N` (protocol and
// roles in fanout_cluster.hpp). The node is composed exactly as heraldd composes it
// (app::make_node_options: store, dispatch services with the cluster view and router, front
// door, admin API, static membership); the bench joins it as a feature module, the node's one
// extension point, whose build hands out the dispatch services the node started.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "actors/app/app.hpp"
#include "actors/app/app_config.hpp"
#include "actors/feature/feature_module.hpp"
#include "actors/relay/delivery_observer.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "runtime/config/config.hpp"
#include "runtime/log/log.hpp"
#include "runtime/node/node.hpp"
#include "tools/herald-bench/bench_node.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/fanout_cluster.hpp"

namespace herald::bench {

namespace {

using clock_type = std::chrono::steady_clock;

/// The feature name the bench's module is enabled under.
const std::string bench_feature = "fanout_bench";

/// Lines from stdin with a deadline (poll, then read): the orchestrator's commands.
class line_input {
public:
  /// The next line without its newline; nullopt at EOF, on an error or at `deadline`.
  std::optional<std::string> next(clock_type::time_point deadline) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      pollfd p{0, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000))) <= 0) {
        continue;
      }
      char chunk[256];
      auto n = ::read(0, chunk, sizeof chunk);
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  /// Skips lines until `word`; false at EOF or the deadline.
  bool expect(const std::string& word, clock_type::time_point deadline) {
    while (auto line = next(deadline)) {
      if (*line == word) {
        return true;
      }
    }
    return false;
  }

private:
  std::string buffer_;
};

clock_type::time_point after(size_t seconds) {
  return clock_type::now() + std::chrono::seconds{seconds};
}

/// heraldd's config for this node: loopback listeners on free ports (admin and gateway on port
/// 0), plaintext static membership (cluster.allow_plaintext: loopback only), the shared
/// PostgreSQL store and token secret, the bench's feature enabled.
std::string node_toml(const fanout_node_options& o) {
  std::string seeds;
  for (const auto& s : o.seeds) {
    seeds += (seeds.empty() ? "\"" : ", \"") + s + "\"";
  }
  const auto& self = o.seeds.at(o.index - 1);
  return "[node]\nname = \"n" + std::to_string(o.index) + "\"\ndata_dir = \"" + o.data_dir +
         "\"\nroles = [\"" + (o.index == 1 ? "guild" : "gateway") +
         "\"]\n[admin]\nlisten = \"127.0.0.1:0\"\n[gateway]\nlisten = \"127.0.0.1:0\"\n"
         "[cluster]\nlisten = \"" +
         self + "\"\nnode_id = " + std::to_string(o.index) + "\nseeds = [" + seeds +
         "]\nallow_plaintext = true\n[store]\nbackend = \"postgres\"\npostgres_url = \"" +
         o.postgres_url + "\"\n[identity]\nsecret_file = \"" + o.secret_file +
         "\"\n[features]\nenabled = [\"" + bench_feature + "\"]\n[log]\nlevel = \"warn\"\n";
}

/// The module whose build keeps the node's dispatch services in `slot`; it adds nothing.
feature::feature_module services_tap(std::shared_ptr<dispatch::services_ptr> slot) {
  feature::feature_module m;
  m.name = bench_feature;
  m.summary = "herald-bench: hands the dispatch services to the bench (no services, no routes)";
  m.build =
      [slot](const feature::feature_context& ctx) -> caf::expected<feature::feature_instance> {
    *slot = ctx.svc;
    return feature::feature_instance{};
  };
  return m;
}

/// Node 1: publishes the events on "go" and reports what its exporters sent on "report".
int publish_node(const fanout_node_options& o, caf::actor_system& sys,
                 const dispatch::services_ptr& svc, line_input& in) {
  const auto& run = o.run;
  std::cout << "ready 0 0" << std::endl;
  if (!in.expect("go", after(3 * run.timeout_s))) {
    return 1;
  }
  auto guilds = bench_guild_actors(svc, run);
  if (guilds.empty()) {
    return 1;
  }
  tracker.init(run.events, run.guilds, std::vector<uint64_t>(run.guilds, 0));
  const auto relay_before = relay::relay_sent_totals();
  const auto writer_before = svc->writer->totals();
  caf::scoped_actor self{sys};
  const auto deadline = after(run.timeout_s);
  const size_t failed =
      publish_bench_events(self, guilds, run, [&](size_t) { return in.expect("next", deadline); });
  for (size_t k = 0; k < run.events; ++k) {
    std::cout << "start " << k << ' ' << tracker.start_ns[k] << '\n';
  }
  std::cout << "published failed=" << failed << std::endl;
  if (!in.expect("report", after(run.timeout_s + 60))) {
    return 1;
  }
  const auto relay_after = relay::relay_sent_totals();
  const auto writer_after = svc->writer->totals();
  std::cout << "relay messages=" << relay_after.messages - relay_before.messages
            << " bytes=" << relay_after.bytes - relay_before.bytes
            << " events=" << relay_after.events - relay_before.events
            << " commits=" << writer_after.commits - writer_before.commits
            << " committed_events=" << writer_after.events - writer_before.events << std::endl;
  return failed == 0 ? 0 : 1;
}

/// Nodes 2..N: open this node's sessions, then report each event's completion here.
int session_node(const fanout_node_options& o, const dispatch::services_ptr& svc, line_input& in) {
  const auto& run = o.run;
  auto [from, to] = sessions_of_node(run.sessions, o.seeds.size(), o.index);
  auto setup_start = clock_type::now();
  auto rss_before = rss_bytes();
  auto opened = open_bench_sessions(svc, run, from, to);
  if (!opened.ok) {
    return 1;
  }
  auto rss_after = rss_bytes();
  double setup_s = std::chrono::duration<double>(clock_type::now() - setup_start).count();
  const uint64_t prefault = run.warm ? prefault_burst_memory(run, to - from) : 0;
  std::vector<uint64_t> expected(run.guilds, 0);
  for (size_t i = from; i < to; ++i) {
    ++expected[i % run.guilds];
  }
  tracker.init(run.events, run.guilds, expected);
  relay::set_delivery_observer(&on_delivered);
  std::cout << "setup setup_s=" << setup_s << " rss_delta=" << rss_after - rss_before
            << " initial_frames_bytes=" << opened.initial_bytes << " idle_held_bytes="
            << (opened.outputs.empty() ? 0 : opened.outputs[0]->buffer().held_bytes())
            << " prefaulted_bytes=" << prefault << "\n";
  std::cout << "ready " << to - from << " 0" << std::endl;
  if (!in.expect("go", after(3 * run.timeout_s))) {
    return 1;
  }
  // In k order: serial mode needs each event's line as soon as it completes here.
  const auto deadline = after(run.timeout_s);
  bool complete = true;
  for (size_t k = 0; k < run.events; ++k) {
    if (expected[k % run.guilds] == 0) {
      continue;
    }
    if (tracker.done_ns[k] == 0 && clock_type::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - clock_type::now());
      wait_until([&] { return tracker.done_ns[k] != 0; }, static_cast<size_t>(left.count()) + 1);
    }
    complete = complete && tracker.done_ns[k] != 0;
    std::cout << "done " << k << ' ' << tracker.done_ns[k] << ' ' << tracker.delivered[k] << '\n';
    if (run.mode == "serial") {
      std::cout.flush();
    }
  }
  std::cout << "finished complete=" << (complete ? 1 : 0) << std::endl;
  in.expect("stop", after(run.timeout_s + 60));
  relay::set_delivery_observer(nullptr);
  close_bench_sessions(opened, run);
  return complete ? 0 : 1;
}

int run_fanout_node(const fanout_node_options& o) {
  signal(SIGPIPE, SIG_IGN);  // an orchestrator that died must not kill the shutdown
  if (o.index < 1 || o.index > o.seeds.size()) {
    std::cerr << "herald-bench fanout-node: --index must be 1.." << o.seeds.size() << "\n";
    return 2;
  }
  auto slot = std::make_shared<dispatch::services_ptr>();
  auto schema = app::full_schema({bench_feature});
  auto loaded = config::load_from_string(schema, node_toml(o), "fanout-node");
  if (!loaded) {
    std::cerr << "herald-bench fanout-node: config: " << loaded.err().to_string() << "\n";
    return 2;
  }
  if (auto err = app::check_config(loaded.value())) {
    std::cerr << "herald-bench fanout-node: config: " << *err << "\n";
    return 2;
  }
  const auto& cfg = loaded.value();
  log::setup(cfg);
  node::node n{cfg, app::make_node_options(cfg, {services_tap(slot)})};
  if (auto err = n.start()) {
    std::cerr << "herald-bench fanout-node " << o.index << ": start failed: " << err->message
              << "\n";
    return 1;
  }
  auto svc = *slot;
  // Every node up in this node's view: node 1 owns every guild from here on.
  const size_t nodes = o.seeds.size();
  int rc = 1;
  line_input in;
  if (!wait_until([&] { return svc->config.cluster->up_count() == nodes; }, o.run.timeout_s)) {
    std::cerr << "herald-bench fanout-node " << o.index << ": the cluster did not form\n";
  } else {
    rc = o.index == 1 ? publish_node(o, n.system(), svc, in) : session_node(o, svc, in);
    if (o.index == 1) {
      in.expect("stop", after(o.run.timeout_s + 60));
    }
  }
  n.shutdown();
  return rc;
}

}  // namespace

std::pair<size_t, size_t> sessions_of_node(size_t sessions, size_t nodes, size_t index) {
  size_t from = 0;
  for (size_t part = 0; part + 2 < index; ++part) {
    from += share_of(sessions, nodes - 1, part);
  }
  return {from, from + share_of(sessions, nodes - 1, index - 2)};
}

void add_fanout_node_command(CLI::App& app) {
  auto o = std::make_shared<fanout_node_options>();
  auto* cmd = app.add_subcommand("fanout-node", "one node of herald-bench fanout --nodes N");
  cmd->group("");  // internal: hidden from --help
  cmd->add_option("--index", o->index)->required();
  cmd->add_option("--seeds", o->seeds)->required()->delimiter(',');
  cmd->add_option("--postgres-url", o->postgres_url)->required();
  cmd->add_option("--secret-file", o->secret_file)->required();
  cmd->add_option("--data-dir", o->data_dir)->required();
  cmd->add_option("--sessions", o->run.sessions);
  cmd->add_option("--guilds", o->run.guilds);
  cmd->add_option("--events", o->run.events);
  cmd->add_option("--payload", o->run.payload);
  cmd->add_option("--mode", o->run.mode);
  cmd->add_option("--window", o->run.window);
  cmd->add_option("--timeout", o->run.timeout_s);
  cmd->add_option("--wave", o->run.wave);
  cmd->add_option("--warm", o->run.warm);
  cmd->add_option("--connected", o->run.connected);
  cmd->callback([o] { std::exit(run_fanout_node(*o)); });
}

}  // namespace herald::bench
