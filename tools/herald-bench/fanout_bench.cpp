// SPDX-License-Identifier: Apache-2.0
// herald-bench fanout: real guild, relay and session actors in one process.
// Sessions are opened and subscribed through the normal path (READY, then
// GUILD_CREATE through the guild), in waves, then (--connected 1, default)
// attached to a stand-in connection that collects their initial frames; a
// delivery is the finished frame with its seq written into a session's
// outbound buffer. With --nodes N >= 2 the cluster form runs instead (fanout_cluster.hpp).
// Prints (a public contract):
//   deliveries_per_s=…
//   event_completion_p50_ms=… event_completion_p99_ms=…
//   bytes_per_session=…
//   events_per_s=…
//   commits_per_s=… events_per_commit=… events_cpu_us=…
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/outbound/chunk_pool.hpp"
#include "actors/relay/delivery_observer.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/node/memory_tuning.hpp"
#include "runtime/node/scheduler_tuning.hpp"
#include "tools/herald-bench/bench_postgres.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/benches.hpp"
#include "tools/herald-bench/fanout_cluster.hpp"
#include "tools/herald-bench/fanout_common.hpp"

namespace herald::bench {

namespace {

using clock_type = std::chrono::steady_clock;

int run_fanout(const fanout_options& o) {
  auto dir =
      std::filesystem::temp_directory_path() / ("herald-fanout-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  caf::actor_system_config cfg;
  // The scheduler heraldd runs (its config keys' defaults), one thread per core; `sharing`
  // (one queue, condition-variable wake-ups) for comparison.
  node::apply(node::scheduler_tuning{}, cfg);
  node::tune_malloc(512);  // runtime.malloc_retain_mb's default, as heraldd
  if (o.scheduler == "sharing") {
    cfg.set("scheduler.policy", caf::atom("sharing"));
  }
  // Declared before the actor system: the server outlives every actor that uses it.
  std::unique_ptr<bench_postgres> postgres;
  if (o.store == "postgres" && !(postgres = start_bench_postgres(o.postgres_url))) {
    return 1;
  }
  caf::actor_system sys{cfg};
  auto st = seed_store(o, dir, postgres ? postgres->url() : std::string{});
  if (!st) {
    return 1;
  }
  dispatch::dispatch_config dc;
  auto started = dispatch::start_services(sys, dc, st);
  if (!started) {
    std::cerr << "herald-bench: services: " << dispatch::describe(started.error()) << "\n";
    return 1;
  }
  auto svc = *started;
  // Sessions: identified and subscribed through the normal path, in waves
  // as clients would connect. With --connected 1 (default) each is then
  // attached to a stand-in connection that collects READY and GUILD_CREATE,
  // as the gateway writes them to the socket, so an idle session holds what
  // it holds in production (snapshot frames are released once collected).
  auto setup_start = clock_type::now();
  auto rss_before = rss_bytes();
  auto opened = open_bench_sessions(svc, o, 0, o.sessions);
  if (!opened.ok) {
    return 1;
  }
  auto& outputs = opened.outputs;
  const uint64_t initial_bytes = opened.initial_bytes;
  auto rss_after = rss_bytes();
  std::cout << "initial_frames_bytes=" << initial_bytes
            << " idle_held_bytes=" << outputs[0]->buffer().held_bytes()
            << " connected=" << (o.connected ? 1 : 0) << "\n";
  double setup_s = std::chrono::duration<double>(clock_type::now() - setup_start).count();

  // A node that has been up for a while reuses chunk memory its sessions'
  // resume buffers released; a fresh process touches every page of a burst
  // for the first time. --warm 1 (default) faults in the burst's frame memory
  // before the timed phase (as the ceiling fanout_limit.cpp does); --warm 0
  // measures the cold first touch inside it.
  uint64_t prefault = 0;
  if (o.warm) {
    prefault = prefault_burst_memory(o, o.sessions);
  }
  std::cout << "prefaulted_bytes=" << prefault << "\n";

  // Events.
  std::vector<uint64_t> expected(o.guilds, 0);
  for (size_t i = 0; i < o.sessions; ++i) {
    ++expected[i % o.guilds];
  }
  tracker.init(o.events, o.guilds, expected);
  relay::set_delivery_observer(&on_delivered);
  auto guild_actors = bench_guild_actors(svc, o);
  if (guild_actors.empty()) {
    return 1;
  }
  caf::scoped_actor self{sys};
  const auto writer_before = svc->writer->totals();
  const auto rss_events_before = rss_bytes();
  auto usage_before = usage_now();
  const double postgres_cpu_before = postgres ? postgres->server_cpu_s() : 0.0;
  auto publish_started = monotonic_ns();
  const size_t failed = publish_bench_events(self, guild_actors, o, [&](size_t k) {
    return wait_until([&] { return tracker.completed.load() >= k + 1; }, o.timeout_s);
  });
  bool all_done = wait_until([&] { return tracker.completed.load() >= o.events; }, o.timeout_s);
  auto usage_after = usage_now();
  const double postgres_cpu_after = postgres ? postgres->server_cpu_s() : 0.0;
  const auto rss_events_after = rss_bytes();
  const auto writer_after = svc->writer->totals();
  relay::set_delivery_observer(nullptr);
  int64_t last_done = 0;
  std::vector<double> latencies_ms;
  for (size_t k = 0; k < o.events; ++k) {
    last_done = std::max<int64_t>(last_done, tracker.done_ns[k]);
    if (tracker.done_ns[k] > 0) {
      latencies_ms.push_back(static_cast<double>(tracker.done_ns[k] - tracker.start_ns[k]) / 1e6);
    }
  }
  double elapsed_s = static_cast<double>(last_done - publish_started) / 1e9;
  uint64_t deliveries = 0;
  for (size_t k = 0; k < o.events; ++k) {
    deliveries += tracker.delivered[k];
  }
  std::cout << "mode=" << o.mode << " sessions=" << o.sessions << " events=" << o.events
            << " payload=" << o.payload << " guilds=" << o.guilds << " window=" << o.window << "\n";
  std::cout << "deliveries_per_s="
            << static_cast<uint64_t>(static_cast<double>(deliveries) / elapsed_s) << "\n";
  std::cout << "event_completion_p50_ms=" << percentile(latencies_ms, 50)
            << " event_completion_p99_ms=" << percentile(latencies_ms, 99) << "\n";
  if (o.latencies) {
    // Per event, in publish order: where a tail comes from (first event, a
    // periodic stall) is visible here and not in p50/p99.
    std::cout << "event_latencies_ms=";
    for (size_t k = 0; k < o.events; ++k) {
      double ms = tracker.done_ns[k] > 0
                      ? static_cast<double>(tracker.done_ns[k] - tracker.start_ns[k]) / 1e6
                      : -1.0;
      std::cout << (k == 0 ? "" : ",") << std::setprecision(3) << ms;
    }
    std::cout << std::setprecision(6) << "\n";
    if (o.mode == "serial") {
      // publish → ack: validated, committed to the store and sent to the
      // partitions (the guild acks after sending); the rest is fan-out.
      std::cout << "event_ack_ms=";
      for (size_t k = 0; k < o.events; ++k) {
        double ms = tracker.ack_ns[k] > 0
                        ? static_cast<double>(tracker.ack_ns[k] - tracker.start_ns[k]) / 1e6
                        : -1.0;
        std::cout << (k == 0 ? "" : ",") << std::setprecision(3) << ms;
      }
      std::cout << std::setprecision(6) << "\n";
    }
  }
  std::cout << "bytes_per_session="
            << static_cast<int64_t>((rss_after - rss_before) / static_cast<int64_t>(o.sessions))
            << "\n";
  std::cout << "events_per_s=" << static_cast<uint64_t>(static_cast<double>(o.events) / elapsed_s)
            << "\n";
  std::cout << "deliveries=" << deliveries
            << " expected_deliveries=" << o.sessions * o.events / o.guilds
            << " failed_publishes=" << failed << " complete=" << (all_done ? 1 : 0) << "\n";
  std::cout << "setup_s=" << setup_s << "\n";
  if (auto frames = outputs[0]->buffer().held_frames()) {
    std::cout << "event_frame_bytes=" << outputs[0]->buffer().held_bytes() / frames << "\n";
  }
  auto pool = session::detail::chunk_pool_usage();
  std::cout << "chunk_pool_mapped_bytes=" << pool.mapped_bytes
            << " chunk_pool_free_bytes=" << pool.free_bytes << "\n";
  // CLOCK_MONOTONIC seconds of the events phase, to cut a whole-run profile:
  // perf record -k CLOCK_MONOTONIC … ; perf report --time <start>,<end>
  std::cout << std::fixed << std::setprecision(6)
            << "events_window_mono_s=" << static_cast<double>(publish_started) / 1e9 << ","
            << static_cast<double>(last_done) / 1e9 << std::defaultfloat << "\n";
  std::cout << "events_cpu_s=" << usage_after.cpu_s - usage_before.cpu_s
            << " events_minor_faults=" << usage_after.minor_faults - usage_before.minor_faults
            << " events_voluntary_switches="
            << usage_after.voluntary_switches - usage_before.voluntary_switches
            << " events_involuntary_switches="
            << usage_after.involuntary_switches - usage_before.involuntary_switches << "\n";
  // Memory the events phase added (what stays referenced, e.g. tails held by resume buffers,
  // and what the allocators kept of the transient), beyond what --warm prefaulted.
  std::cout << "events_rss_bytes_per_event="
            << (rss_events_after - rss_events_before) / static_cast<int64_t>(o.events)
            << " rss_bytes=" << rss_events_after << "\n";
  // The store writer's group commits during the events phase (one transaction, one fsync each).
  const auto commits = writer_after.commits - writer_before.commits;
  const auto committed_events = writer_after.events - writer_before.events;
  std::cout << "store=" << o.store << " sync=" << o.sync << " commits=" << commits
            << " commits_per_s=" << static_cast<uint64_t>(static_cast<double>(commits) / elapsed_s)
            << " events_per_commit="
            << (commits == 0 ? 0.0
                             : static_cast<double>(committed_events) / static_cast<double>(commits))
            << " events_cpu_us="
            << (usage_after.cpu_s - usage_before.cpu_s) * 1e6 / static_cast<double>(o.events)
            << "\n";
  if (postgres && postgres->local()) {
    // The local server's own CPU in the events phase (postmaster and its live children).
    std::cout << "postgres_cpu_s=" << postgres_cpu_after - postgres_cpu_before
              << " postgres_events_cpu_us="
              << (postgres_cpu_after - postgres_cpu_before) * 1e6 / static_cast<double>(o.events)
              << "\n";
  }
  close_bench_sessions(opened, o);
  dispatch::stop_services(svc);
  std::filesystem::remove_all(dir);
  return all_done && failed == 0 ? 0 : 1;
}

}  // namespace

void add_fanout_bench(CLI::App& app) {
  auto opts = std::make_shared<fanout_options>();
  auto* cmd = app.add_subcommand("fanout", "guild -> relay -> session fan-out in one process");
  cmd->add_option("--sessions", opts->sessions, "sessions (one user each)");
  cmd->add_option("--events", opts->events, "MESSAGE_CREATE events to publish");
  cmd->add_option("--payload", opts->payload, "content bytes per message");
  cmd->add_option("--mode", opts->mode, "burst | serial")
      ->check(CLI::IsMember({"burst", "serial"}));
  cmd->add_option("--guilds", opts->guilds, "guilds; sessions and events round-robin over them");
  cmd->add_option("--window", opts->window,
                  "burst mode: publishes in flight at once (0: all events at once)");
  cmd->add_option("--timeout", opts->timeout_s, "seconds to wait for each phase");
  cmd->add_option("--wave", opts->wave, "sessions opened at a time during setup");
  cmd->add_option("--warm", opts->warm,
                  "fault in the burst's chunk memory before timing (1) or not (0)");
  cmd->add_option("--connected", opts->connected,
                  "attach a stand-in connection that collects READY/GUILD_CREATE (1) or not (0)");
  cmd->add_option("--latencies", opts->latencies,
                  "print every event's completion latency in publish order (1) or not (0)");
  cmd->add_option("--scheduler", opts->scheduler,
                  "stealing (default: heraldd's scheduler and settings) | sharing")
      ->check(CLI::IsMember({"sharing", "stealing"}));
  cmd->add_option("--store", opts->store,
                  "sqlite (default: a temp file) | postgres (the server at --postgres-url, or "
                  "a throwaway local PostgreSQL 15 without it)")
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  cmd->add_option("--postgres-url", opts->postgres_url,
                  "libpq URL of a scratch database for --store postgres (each run adds its "
                  "guilds, users and messages); without it the bench starts its own server");
  cmd->add_option("--sync", opts->sync,
                  "store.sync of the bench's SQLite store: full (default, what users run) | normal")
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--nodes", opts->nodes,
                  "1 (default): one process. N >= 2: N node processes on loopback in one cluster "
                  "on PostgreSQL (--postgres-url, or a throwaway local server), guilds on node 1, "
                  "sessions split over the others (3 is the issue's target)")
      ->check(CLI::Range(1, 16));
  cmd->callback(
      [opts] { std::exit(opts->nodes >= 2 ? run_fanout_cluster(*opts) : run_fanout(*opts)); });
  add_fanout_node_command(app);
}

}  // namespace herald::bench
