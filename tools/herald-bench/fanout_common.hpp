// SPDX-License-Identifier: Apache-2.0
#pragma once
// The pieces the fan-out benchmark shares between its one-process form (fanout_bench.cpp) and
// its cluster form (fanout_cluster.cpp, the orchestrator, and fanout_node.cpp, each node
// process): the options, the seeded guilds and users, the bench message, opening sessions in
// waves with a stand-in connection, the chunk prefault, and the per-event completion tracker
// the delivery observer feeds. Setup runs on the bench's main thread; on_delivered runs on
// relay partition threads (atomics only).
// Invariant: guild g (0-based) has id (g + 1) << 22 and session i is a member of guild
// i % guilds, in every process of a run, so node processes agree without a map.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/store/store.hpp"
#include "tools/herald-bench/bench_postgres.hpp"

namespace herald::bench {

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
  size_t nodes = 1;              ///< >= 2: the cluster form (fanout_cluster.hpp)
  /// Burst mode: publishes in flight at once (the producer waits for the oldest one's ack
  /// before publishing more); 0 = all of them at once.
  size_t window = 0;
};

uint64_t guild_id_of(size_t g);
uint64_t channel_id_of(size_t g);
uint64_t user_id_of(size_t i);

/// The store with every guild (owner, @everyone, #general) and every session's user as a member
/// of guild i % guilds, or null (the error printed). Never exits: the caller's local PostgreSQL
/// server must be stopped on every path. `dir`: the SQLite file's directory.
std::shared_ptr<store::store> seed_store(const fanout_options& o, const std::filesystem::path& dir,
                                         const std::string& postgres_url);

/// The run's PostgreSQL (bench_postgres.hpp): the server at `url`, or a throwaway local one
/// (its URL printed as `postgres=local url=…`); null when it cannot start (printed).
std::unique_ptr<bench_postgres> start_bench_postgres(const std::string& url);

/// Event k (0-based) of the run: a MESSAGE_CREATE in guild g by its owner.
proto::event message_event(size_t g, size_t k, const std::string& content);

/// Polls `done` every millisecond for at most `timeout_s`; false on timeout.
bool wait_until(const std::function<bool()>& done, size_t timeout_s);

/// Sessions [from, to) opened through the normal path (READY, then GUILD_CREATE through the
/// guild's relay), `o.wave` at a time as clients would connect; with o.connected each is then
/// attached to a stand-in connection that collects READY and GUILD_CREATE as the gateway writes
/// them, so an idle session holds what it holds in production.
struct opened_sessions {
  std::vector<session::session_output_ptr> outputs;
  uint64_t initial_bytes = 0;  ///< the first session's frames before collection
  bool ok = false;             ///< false: not all subscribed within o.timeout_s (printed)
};
opened_sessions open_bench_sessions(const dispatch::services_ptr& svc, const fanout_options& o,
                                    size_t from, size_t to);
/// Detaches the stand-in connection (with o.connected) and drops the outputs.
void close_bench_sessions(opened_sessions& s, const fanout_options& o);

/// --warm: the chunk memory a burst of o.events fills in the buffers of `sessions_here`
/// sessions (and the events' pooled tails), faulted in before timing; returns the bytes.
uint64_t prefault_burst_memory(const fanout_options& o, size_t sessions_here);

/// The actor of every guild of the run, started on demand here; empty on error (printed).
std::vector<caf::actor> bench_guild_actors(const dispatch::services_ptr& svc,
                                           const fanout_options& o);

/// Publishes the run's o.events events from `self`, round-robin over `guilds`, and records
/// tracker.start_ns (and, serial, ack_ns). Burst: back to back, then every ack. Serial: after
/// each ack, `delivered(k)` waits until event k reached every session (false: give up).
/// Every wait is bounded by o.timeout_s. Returns the publishes refused or not acked in time.
size_t publish_bench_events(caf::scoped_actor& self, const std::vector<caf::actor>& guilds,
                            const fanout_options& o, const std::function<bool(size_t)>& delivered);

/// Per event of the run: deliveries so far and when the last expected one landed here.
struct completion_tracker {
  size_t guilds = 1;
  std::vector<uint64_t> expected_per_guild;
  std::unique_ptr<std::atomic<uint64_t>[]> delivered;
  std::unique_ptr<std::atomic<int64_t>[]> done_ns;
  std::vector<int64_t> start_ns;
  std::vector<int64_t> ack_ns;  // serial mode: the producer's publish_ack arrived
  std::atomic<size_t> completed{0};
  size_t events = 0;

  /// `expected`: deliveries per guild in this process (0: none of its sessions here).
  void init(size_t n_events, size_t n_guilds, std::vector<uint64_t> expected);
  /// Events whose guild has sessions in this process: what `completed` reaches when done.
  size_t events_expected() const;
};

/// The one tracker of this process, fed by on_delivered.
extern completion_tracker tracker;

/// The delivery observer (relay::set_delivery_observer) that feeds `tracker`.
void on_delivered(uint64_t guild_id, uint64_t guild_order, size_t count);

}  // namespace herald::bench
