// SPDX-License-Identifier: Apache-2.0
// herald-bench fanout-loop: the fan-out loop alone — relay partition cores
// writing into session outbound buffers on T plain threads, no actors, no
// guild, no store. It isolates what the loop costs from what the actor path
// adds (compare with `herald-bench fanout`), and is small enough for
// callgrind. Prints deliveries_per_s=, bytes_per_session= (RSS growth per
// session after the first frames) and the same events_* usage keys as fanout.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/make_counted.hpp>

#include "actors/outbound/chunk_pool.hpp"
#include "actors/relay/partition_core.hpp"
#include "actors/relay/relay_actor.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/benches.hpp"

namespace herald::bench {

namespace {

struct loop_options {
  size_t sessions = 100000;
  size_t events = 50;
  size_t payload = 200;
  size_t threads = 2;
  size_t first_bytes = 2700;  // READY + GUILD_CREATE of a fresh session
  size_t spacer = 1200;       // bytes allocated between sessions (a CAF actor's share)
  bool warm = true;           // fault in the frame memory before timing
};

int run_loop(const loop_options& o) {
  using namespace herald::relay;
  session::outbound_limits limits;
  auto view = caf::make_counted<view_snapshot>(1, 1);
  view->allow(0, 0);
  std::vector<std::unique_ptr<partition_core>> cores;
  for (size_t t = 0; t < o.threads; ++t) {
    cores.push_back(std::make_unique<partition_core>(view));
  }
  const session::intents granted =
      session::guilds_intent | session::guild_messages_intent | session::message_content_intent;
  std::string first = ",\"t\":\"GUILD_CREATE\",\"d\":{\"x\":\"" +
                      std::string(o.first_bytes > 40 ? o.first_bytes - 40 : 0, 'g') + "\"}}";
  auto rss_before = rss_bytes();
  std::vector<session::session_output_ptr> outputs;
  std::vector<std::unique_ptr<char[]>> spacers;
  outputs.reserve(o.sessions);
  for (size_t i = 0; i < o.sessions; ++i) {
    auto out = caf::make_counted<session::session_output>(i + 1, (uint64_t{1} << 60) | i, granted,
                                                          &limits);
    if (o.spacer > 0) {
      spacers.emplace_back(new char[o.spacer]);
      spacers.back()[0] = 1;
    }
    cores[relay::partition_of(i + 1, static_cast<uint32_t>(o.threads))]->add(out, 0, first);
    outputs.push_back(std::move(out));
  }
  auto rss_after = rss_bytes();
  auto ev = caf::make_counted<dispatch_event>();
  ev->guild_id = 1;
  ev->channel_slot = 0;
  ev->required_intents = session::guild_messages_intent;
  ev->full_tail =
      ",\"t\":\"MESSAGE_CREATE\",\"d\":{\"content\":\"" + std::string(o.payload, 'x') + "\"}}";
  if (o.warm) {
    session::detail::chunk_pool_prefault(static_cast<uint64_t>(o.sessions) * o.events *
                                         (o.payload + 80) * 3 / 2);
  }
  auto usage_before = usage_now();
  auto start = std::chrono::steady_clock::now();
  std::vector<size_t> delivered(o.threads, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t e = 0; e < o.events; ++e) {
        delivered[t] += cores[t]->deliver(*ev);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto usage_after = usage_now();
  size_t total = 0;
  for (auto d : delivered) {
    total += d;
  }
  std::cout << "loop threads=" << o.threads << " sessions=" << o.sessions << " events=" << o.events
            << " payload=" << o.payload << "\n";
  std::cout << "deliveries_per_s=" << static_cast<uint64_t>(static_cast<double>(total) / dt)
            << "\n";
  std::cout << "bytes_per_session="
            << (rss_after - rss_before) / static_cast<int64_t>(std::max<size_t>(1, o.sessions))
            << "\n";
  std::cout << "deliveries=" << total << "\n";
  std::cout << "events_cpu_s=" << usage_after.cpu_s - usage_before.cpu_s
            << " events_minor_faults=" << usage_after.minor_faults - usage_before.minor_faults
            << " events_voluntary_switches="
            << usage_after.voluntary_switches - usage_before.voluntary_switches
            << " events_involuntary_switches="
            << usage_after.involuntary_switches - usage_before.involuntary_switches << "\n";
  return total == o.sessions * o.events ? 0 : 1;
}

}  // namespace

void add_fanout_loop_bench(CLI::App& app) {
  auto opts = std::make_shared<loop_options>();
  auto* cmd =
      app.add_subcommand("fanout-loop", "relay partition loop into session buffers, no actors");
  cmd->add_option("--sessions", opts->sessions, "sessions");
  cmd->add_option("--events", opts->events, "events");
  cmd->add_option("--payload", opts->payload, "content bytes per message");
  cmd->add_option("--threads", opts->threads, "partitions, one thread each");
  cmd->add_option("--first-bytes", opts->first_bytes, "bytes of each session's first frame");
  cmd->add_option("--warm", opts->warm, "fault in the frame memory before timing (1) or not (0)");
  cmd->add_option("--spacer", opts->spacer, "bytes allocated between session buffers");
  cmd->callback([opts] { std::exit(run_loop(*opts)); });
}

}  // namespace herald::bench
