// SPDX-License-Identifier: Apache-2.0
// herald-bench spawn: N idle supervised workers under a partition supervisor.
// Prints spawn_per_s=<n> and bytes_per_actor=<n> (RSS growth / N), plus
// detail keys. Goal for N = 1,000,000: bytes_per_actor <= 1500.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/partition_supervisor.hpp"
#include "runtime/supervision/supervision_tree.hpp"
#include "runtime/supervision/worker.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/benches.hpp"

namespace herald::bench {

namespace {

namespace sup = herald::supervision;

struct spawn_options {
  uint64_t actors = 1'000'000;
  size_t partitions = 0;     // 0 = scheduler threads
  uint64_t window = 20'000;  // start requests in flight before waiting
  bool eager = false;        // initialise workers at spawn instead of lazily
};

// An idle worker: one handler, no state. Its behaviour is what a guild or
// session actor costs before it holds any domain data.
caf::behavior idle_worker(caf::event_based_actor*) {
  return {
      [](caf::ok_atom) {},
  };
}

sup::child_spec_ptr worker_spec(bool eager) {
  sup::child_spec spec;
  spec.id = "bench_worker";
  spec.kind = "bench_worker";
  spec.restart = sup::restart_type::permanent;
  if (eager) {
    spec.start = [](const sup::start_context& ctx) -> caf::expected<caf::actor> {
      return sup::spawn_worker(ctx.system, idle_worker);
    };
  } else {
    spec.start = [](const sup::start_context& ctx) -> caf::expected<caf::actor> {
      return sup::spawn_worker<caf::lazy_init>(ctx.system, idle_worker);
    };
  }
  return std::make_shared<const sup::child_spec>(std::move(spec));
}

// Every partition has handled all earlier start requests once it answers
// a ready request (mailboxes are FIFO per sender).
bool drain(caf::actor_system& sys, const sup::partition_supervisor& parts) {
  caf::scoped_actor self{sys};
  bool ok = true;
  for (size_t i = 0; i < parts.partitions(); ++i) {
    self->request(parts.partition(i), std::chrono::seconds{120}, sup::ready_atom::value)
        .receive([](caf::ok_atom) {}, [&](caf::error&) { ok = false; });
  }
  return ok;
}

int run_spawn_bench(const spawn_options& opts) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  sup::partition_spec pspec;
  pspec.name = "bench_partitions";
  pspec.partitions = opts.partitions;
  sup::partition_supervisor parts{pspec};
  auto owner = parts.start(sys);
  if (!owner) {
    std::cerr << "partition supervisor failed: " << sup::describe(owner.error()) << "\n";
    return 1;
  }
  auto spec = worker_spec(opts.eager);
  auto& alive = sup::alive_gauge("bench_worker");
  auto alive_before = alive.value();
  auto rss_before = rss_bytes();
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < opts.actors; ++i) {
    parts.cast_start_child(spec, sup::child_key{i});
    if ((i + 1) % opts.window == 0 && !drain(sys, parts)) {
      std::cerr << "a partition stopped answering\n";
      return 1;
    }
  }
  if (!drain(sys, parts)) {
    std::cerr << "a partition stopped answering\n";
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  auto rss_after = rss_bytes();
  auto counts = parts.count_children(sys, std::chrono::seconds{120});
  auto secs = std::chrono::duration<double>(t1 - t0).count();
  auto n = static_cast<double>(opts.actors);
  std::cout << "spawn_per_s=" << static_cast<uint64_t>(n / secs) << "\n";
  std::cout << "bytes_per_actor=" << static_cast<int64_t>((rss_after - rss_before) / n) << "\n";
  std::cout << "actors=" << opts.actors << "\n";
  std::cout << "children_counted=" << (counts ? counts->active : 0) << "\n";
  std::cout << "actors_alive_gauge=" << alive.value() - alive_before << "\n";
  std::cout << "partitions=" << parts.partitions() << "\n";
  std::cout << "lazy_init=" << (opts.eager ? 0 : 1) << "\n";
  std::cout << "spawn_ms=" << static_cast<int64_t>(secs * 1000) << "\n";
  std::cout << "rss_before_bytes=" << rss_before << "\n";
  std::cout << "rss_after_bytes=" << rss_after << "\n";
  std::cout << "sizeof_event_based_actor=" << sizeof(caf::event_based_actor) << "\n";
  auto s0 = std::chrono::steady_clock::now();
  auto stopped = sup::stop_supervisor(sys, *owner, std::chrono::seconds{300});
  auto s1 = std::chrono::steady_clock::now();
  std::cout << "shutdown_ms="
            << std::chrono::duration_cast<std::chrono::milliseconds>(s1 - s0).count() << "\n";
  std::cout << "shutdown_clean=" << (stopped ? 0 : 1) << "\n";
  return counts && counts->active == opts.actors ? 0 : 1;
}

}  // namespace

void add_spawn_bench(CLI::App& app) {
  auto opts = std::make_shared<spawn_options>();
  auto* cmd = app.add_subcommand("spawn", "spawn N idle supervised workers (partition supervisor)");
  cmd->add_option("--actors", opts->actors, "number of workers (default 1000000)");
  cmd->add_option("--partitions", opts->partitions, "dynamic supervisors (0 = scheduler threads)");
  cmd->add_option("--window", opts->window, "start requests in flight (default 20000)");
  cmd->add_flag("--eager", opts->eager, "initialise workers at spawn (no caf::lazy_init)");
  cmd->callback([opts] {
    if (opts->actors == 0 || opts->window == 0) {
      throw CLI::ValidationError("--actors and --window must be positive");
    }
    auto rc = run_spawn_bench(*opts);
    if (rc != 0) {
      throw CLI::RuntimeError(rc);
    }
  });
}

}  // namespace herald::bench
