// SPDX-License-Identifier: Apache-2.0
// herald-bench fanout: real guild, relay and session actors in one process.
// Sessions are opened and subscribed through the normal path (READY, then
// GUILD_CREATE through the guild), in waves, then (--connected 1, default)
// attached to a stand-in connection that collects their initial frames; a
// delivery is the finished frame with its seq written into a session's
// outbound buffer. Prints (a public contract):
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
#include "actors/domain/permission_bits.hpp"
#include "actors/outbound/chunk_pool.hpp"
#include "actors/outbound/shared_tail.hpp"
#include "actors/relay/delivery_observer.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/store/postgres_store.hpp"
#include "actors/store/sqlite_store.hpp"
#include "runtime/node/scheduler_tuning.hpp"
#include "tools/herald-bench/bench_postgres.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/benches.hpp"

namespace herald::bench {

namespace {

using clock_type = std::chrono::steady_clock;

struct fanout_options {
  size_t sessions = 100000;
  size_t events = 50;
  size_t payload = 200;
  std::string mode = "burst";
  size_t guilds = 1;
  size_t timeout_s = 600;
  std::string scheduler = "stealing";
  size_t wave = 1000;
  bool connected = true;
  bool warm = true;
  bool latencies = false;
  std::string store = "sqlite";  ///< sqlite | postgres
  std::string postgres_url;      ///< --store postgres: empty = a throwaway local server
  std::string sync = "full";     ///< sqlite's store.sync: what users run (its default)
};

// Stands in for a gateway connection that has written the session's frames
// out: attached to every session's buffer, it is told when frames are ready
// and ignores it (the bench collects by itself).
struct bench_connection final : session::outbound_listener {
  void on_frames_ready() noexcept override {}
  void on_overflow() noexcept override {}
};
bench_connection connection;

// A MESSAGE_CREATE tail of this bench without its content (ids, author, member, timestamps).
constexpr std::size_t message_tail_fixed_bytes = 720;

// Guild g (0-based) has id (g + 1) << 22, so the index is recoverable from
// the id in the delivery observer without a map.
uint64_t guild_id_of(size_t g) {
  return static_cast<uint64_t>(g + 1) << 22;
}
uint64_t channel_id_of(size_t g) {
  return guild_id_of(g) | 1;
}
uint64_t owner_id_of(size_t g) {
  return guild_id_of(g) | 2;
}
uint64_t user_id_of(size_t i) {
  return (uint64_t{1} << 60) | i;
}

// Per event: deliveries so far and when the last expected one landed.
struct completion_tracker {
  size_t guilds = 1;
  std::vector<uint64_t> expected_per_guild;
  std::unique_ptr<std::atomic<uint64_t>[]> delivered;
  std::unique_ptr<std::atomic<int64_t>[]> done_ns;
  std::vector<int64_t> start_ns;
  std::vector<int64_t> ack_ns;  // serial mode: the producer's publish_ack arrived
  std::atomic<size_t> completed{0};
  size_t events = 0;

  void init(size_t n_events, size_t n_guilds, std::vector<uint64_t> expected) {
    events = n_events;
    guilds = n_guilds;
    expected_per_guild = std::move(expected);
    delivered.reset(new std::atomic<uint64_t>[n_events]);
    done_ns.reset(new std::atomic<int64_t>[n_events]);
    for (size_t i = 0; i < n_events; ++i) {
      delivered[i] = 0;
      done_ns[i] = 0;
    }
    start_ns.assign(n_events, 0);
    ack_ns.assign(n_events, 0);
  }
};

completion_tracker tracker;

void on_delivered(uint64_t guild_id, uint64_t guild_order, size_t count) {
  size_t g = (guild_id >> 22) - 1;
  size_t index = (guild_order - 1) * tracker.guilds + g;
  if (g >= tracker.guilds || index >= tracker.events) {
    return;
  }
  auto total = tracker.delivered[index].fetch_add(count) + count;
  if (count > 0 && total == tracker.expected_per_guild[g]) {
    tracker.done_ns[index] = monotonic_ns();
    tracker.completed.fetch_add(1);
  }
}

/// The seeded store, or null (the error printed). Never exits: the caller's local PostgreSQL
/// server must be stopped on every path.
std::shared_ptr<store::store> seed_store(const fanout_options& o, const std::filesystem::path& dir,
                                         const std::string& postgres_url) {
  std::shared_ptr<store::store> st;
  store::postgres_store* pg = nullptr;
  if (o.store == "postgres") {
    store::postgres_options opts;
    opts.url_ = postgres_url;
    auto opened = store::postgres_store::open(opts);
    if (!opened) {
      std::cerr << "herald-bench: cannot open store: " << opened.error().message_ << "\n";
      return nullptr;
    }
    pg = opened.value().get();
    st = std::move(opened).value();
  } else {
    store::sqlite_options opts;
    opts.data_dir_ = dir;
    opts.sync_ = o.sync == "normal" ? store::sync_mode::normal : store::sync_mode::full;
    auto opened = store::sqlite_store::open(opts);
    if (!opened) {
      std::cerr << "herald-bench: cannot open store: " << opened.error().message_ << "\n";
      return nullptr;
    }
    st = std::move(opened).value();
  }
  store::write_batch batch;
  for (size_t g = 0; g < o.guilds; ++g) {
    batch.add(store::write_op::upsert_user{{owner_id_of(g), "owner" + std::to_string(g), true}});
    batch.add(store::write_op::upsert_guild{
        {guild_id_of(g), "guild" + std::to_string(g), owner_id_of(g)}});
    domain::role everyone;
    everyone.id_ = guild_id_of(g);
    everyone.name_ = "@everyone";
    everyone.permissions_ = permissions::default_everyone;
    batch.add(store::write_op::upsert_role{guild_id_of(g), everyone});
    domain::channel general;
    general.id_ = channel_id_of(g);
    general.guild_id_ = guild_id_of(g);
    general.name_ = "general";
    batch.add(store::write_op::upsert_channel{general});
    batch.add(store::write_op::upsert_member{guild_id_of(g), {owner_id_of(g), {}, 1}});
  }
  for (size_t i = 0; i < o.sessions; ++i) {
    batch.add(store::write_op::upsert_user{{user_id_of(i), "user" + std::to_string(i), false}});
    batch.add(store::write_op::upsert_member{guild_id_of(i % o.guilds), {user_id_of(i), {}, 1}});
  }
  if (auto ok = st->apply(batch); !ok) {
    std::cerr << "herald-bench: seeding failed: " << ok.error().message_ << "\n";
    return nullptr;
  }
  // As a node finds a database that autovacuum has analyzed; right after a bulk seed the
  // planner would scan every user for each guild load (postgres_store::analyze).
  if (pg != nullptr) {
    if (auto ok = pg->analyze(); !ok) {
      std::cerr << "herald-bench: analyze failed: " << ok.error().message_ << "\n";
      return nullptr;
    }
  }
  return st;
}

proto::event message_event(size_t g, size_t k, const std::string& content) {
  proto::event ev;
  ev.set_guild_id(guild_id_of(g));
  auto* m = ev.mutable_message_create();
  m->set_id((uint64_t{1} << 59) | k);
  m->set_guild_id(guild_id_of(g));
  m->set_channel_id(channel_id_of(g));
  m->set_author_id(owner_id_of(g));
  m->set_content(content);
  return ev;
}

bool wait_until(const std::function<bool()>& done, size_t timeout_s) {
  auto deadline = clock_type::now() + std::chrono::seconds{timeout_s};
  while (!done()) {
    if (clock_type::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

int run_fanout(const fanout_options& o) {
  auto dir =
      std::filesystem::temp_directory_path() / ("herald-fanout-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  caf::actor_system_config cfg;
  // The scheduler heraldd runs (its config keys' defaults), one thread per core; `sharing`
  // (one queue, condition-variable wake-ups) for comparison.
  node::apply(node::scheduler_tuning{}, cfg);
  if (o.scheduler == "sharing") {
    cfg.set("scheduler.policy", caf::atom("sharing"));
  }
  // Declared before the actor system: the server outlives every actor that uses it.
  std::unique_ptr<bench_postgres> postgres;
  if (o.store == "postgres") {
    try {
      postgres = std::make_unique<bench_postgres>(o.postgres_url);
    } catch (const std::exception& e) {
      std::cerr << "herald-bench: cannot start a local PostgreSQL: " << e.what() << "\n";
      return 1;
    }
    if (postgres->local()) {
      std::cout << "postgres=local url=" << postgres->url() << "\n";
    }
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
  const session::intents granted =
      session::guilds_intent | session::guild_messages_intent | session::message_content_intent;

  // Sessions: identified and subscribed through the normal path, in waves
  // as clients would connect. With --connected 1 (default) each is then
  // attached to a stand-in connection that collects READY and GUILD_CREATE,
  // as the gateway writes them to the socket, so an idle session holds what
  // it holds in production (snapshot frames are released once collected).
  auto setup_start = clock_type::now();
  auto rss_before = rss_bytes();
  std::vector<session::session_output_ptr> outputs;
  outputs.reserve(o.sessions);
  session::outbound_batch initial;
  uint64_t initial_bytes = 0;
  for (size_t from = 0; from < o.sessions; from += o.wave) {
    size_t to = std::min(o.sessions, from + std::max<size_t>(1, o.wave));
    for (size_t i = from; i < to; ++i) {
      session::session_params p;
      p.user = {user_id_of(i), "user" + std::to_string(i), false};
      p.granted = granted;
      p.guild_ids = {guild_id_of(i % o.guilds)};
      outputs.push_back(dispatch::open_session_async(svc, std::move(p)));
    }
    size_t ready_from = from;
    bool ready = wait_until(
        [&] {
          while (ready_from < to && outputs[ready_from]->buffer().last_seq() >= 2) {
            ++ready_from;
          }
          return ready_from == to;
        },
        o.timeout_s);
    if (!ready) {
      std::cerr << "herald-bench: only " << ready_from << " of " << o.sessions
                << " sessions subscribed in time\n";
      return 1;
    }
    if (from == 0) {
      initial_bytes = outputs[0]->buffer().held_bytes();
    }
    if (o.connected) {
      for (size_t i = from; i < to; ++i) {
        outputs[i]->buffer().attach(&connection);
        outputs[i]->buffer().collect(initial);
        initial.clear();
      }
    }
  }
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
    // Buffers hold 8-byte references to the shared event tails (outbound_buffer.hpp):
    // each session needs one entry ring of a power of two >= 512 bytes.
    // A session sees the events of its own guild only (round-robin).
    uint64_t per_session = (o.events + o.guilds - 1) / o.guilds;
    uint64_t ring = 512;
    while (ring < (per_session + 4) * 8) {
      ring *= 2;
    }
    prefault = static_cast<uint64_t>(o.sessions / o.guilds * o.guilds) * ring * 3 / 2;
    // The events' tails stay referenced by the resume buffers: one pooled block per event
    // (shared_tail.cpp) when its size suits the pool. A bench message's tail is about
    // message_tail_fixed_bytes plus its content.
    const std::size_t tail_bytes = message_tail_fixed_bytes + o.payload;
    if (session::tail_block_pooled(tail_bytes)) {
      prefault += static_cast<uint64_t>(o.events) *
                  session::detail::chunk_block_size(
                      static_cast<uint32_t>(sizeof(session::tail_block) + tail_bytes));
    }
    session::detail::chunk_pool_prefault(prefault);
  }
  std::cout << "prefaulted_bytes=" << prefault << "\n";

  // Events.
  std::vector<uint64_t> expected(o.guilds, 0);
  for (size_t i = 0; i < o.sessions; ++i) {
    ++expected[i % o.guilds];
  }
  tracker.init(o.events, o.guilds, expected);
  relay::set_delivery_observer(&on_delivered);
  std::vector<caf::actor> guild_actors;
  for (size_t g = 0; g < o.guilds; ++g) {
    auto ga = dispatch::guild_actor_of(svc, guild_id_of(g), std::chrono::seconds{30});
    if (!ga) {
      std::cerr << "herald-bench: guild: " << dispatch::describe(ga.error()) << "\n";
      return 1;
    }
    guild_actors.push_back(*ga);
  }
  std::string content(o.payload, 'x');
  caf::scoped_actor self{sys};
  size_t failed = 0;
  const auto writer_before = svc->writer->totals();
  const auto rss_events_before = rss_bytes();
  auto usage_before = usage_now();
  const double postgres_cpu_before = postgres ? postgres->server_cpu_s() : 0.0;
  auto publish_started = monotonic_ns();
  for (size_t k = 0; k < o.events; ++k) {
    size_t g = k % o.guilds;
    auto ev = message_event(g, k, content);
    tracker.start_ns[k] = monotonic_ns();
    self->send(guild_actors[g], guild::publish_atom::value, std::move(ev));
    if (o.mode == "serial") {
      self->receive([&](const guild::publish_ack&) { tracker.ack_ns[k] = monotonic_ns(); },
                    [&](caf::error&) { ++failed; });
      wait_until([&] { return tracker.completed.load() >= k + 1 || failed > 0; }, o.timeout_s);
    }
  }
  if (o.mode != "serial") {
    size_t replies = 0;
    self->receive_for(replies, o.events)([](const guild::publish_ack&) {},
                                         [&](caf::error&) { ++failed; });
  }
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
            << " payload=" << o.payload << " guilds=" << o.guilds << "\n";
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
  if (o.connected) {
    for (auto& out : outputs) {
      out->buffer().detach();
    }
  }
  outputs.clear();
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
  cmd->callback([opts] { std::exit(run_fanout(*opts)); });
}

}  // namespace herald::bench
