// SPDX-License-Identifier: Apache-2.0
// herald-bench fanout --nodes N: the orchestrator (roles, line protocol and keys in
// fanout_cluster.hpp). Prints the one-process bench's keys, computed over the node processes,
// plus
//   network_messages_per_event=…   relay batches node 1's exporters sent in the events phase
//                                  per event (one per subscribed node at most; fewer when
//                                  events queue behind an unacknowledged batch)
//   cross_node_bytes_per_event=…   their payload bytes per event (relay_stream.hpp
//                                  payload_bytes: strings and fields, not CAF/BASP framing)
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/herald-bench/bench_node.hpp"
#include "tools/herald-bench/bench_postgres.hpp"
#include "tools/herald-bench/bench_process.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/fanout_cluster.hpp"

namespace herald::bench {

namespace {

using namespace std::chrono_literals;

/// What one node process reported (written by its reader thread under the pool's mutex).
struct node_report : worker_status {
  std::vector<int64_t> start_ns;    // node 1
  std::vector<int64_t> done_ns;     // session nodes; 0: not reported or not complete here
  std::vector<uint64_t> delivered;  // session nodes
  std::string setup;                // the "setup" line's key=value pairs
  bool published = false;
  size_t failed = 0;
  bool finished = false;
  bool complete = false;
  bool reported = false;
  uint64_t relay_messages = 0;
  uint64_t relay_bytes = 0;
  uint64_t relay_events = 0;
  uint64_t commits = 0;
  uint64_t committed_events = 0;

  /// Takes one line of the protocol; returns the event index of a "done" line, else -1.
  long take_line(const char* line) {
    size_t k = 0;
    long long ns = 0;
    unsigned long long n = 0;
    if (std::sscanf(line, "done %zu %lld %llu", &k, &ns, &n) == 3 && k < done_ns.size()) {
      done_ns[k] = ns;
      delivered[k] = n;
      return static_cast<long>(k);
    }
    if (std::sscanf(line, "start %zu %lld", &k, &ns) == 2 && k < start_ns.size()) {
      start_ns[k] = ns;
    } else if (std::sscanf(line, "published failed=%zu", &failed) == 1) {
      published = true;
    } else if (int c = 0; std::sscanf(line, "finished complete=%d", &c) == 1) {
      finished = true;
      complete = c == 1;
    } else if (std::sscanf(line,
                           "relay messages=%" SCNu64 " bytes=%" SCNu64 " events=%" SCNu64
                           " commits=%" SCNu64 " committed_events=%" SCNu64,
                           &relay_messages, &relay_bytes, &relay_events, &commits,
                           &committed_events) == 5) {
      reported = true;
    } else if (std::string_view{line}.rfind("setup ", 0) == 0) {
      setup = std::string{line + 6};
      if (!setup.empty() && setup.back() == '\n') {
        setup.pop_back();
      }
    }
    return -1;
  }
};

/// A temp dir for the run (secret, node data dirs), removed with this object.
struct run_dir {
  std::string path;
  run_dir() {
    std::string tmpl = "/tmp/herald-fanout-nodes-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("cannot make a temp dir " + tmpl);
    }
    path = tmpl;
  }
  ~run_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// Per guild: how many session nodes hold sessions of it (what a serial event waits for).
std::vector<size_t> nodes_per_guild(const fanout_options& o) {
  std::vector<size_t> count(o.guilds, 0);
  for (size_t index = 2; index <= o.nodes; ++index) {
    auto [from, to] = sessions_of_node(o.sessions, o.nodes, index);
    std::vector<bool> seen(o.guilds, false);
    for (size_t i = from; i < to && i < from + o.guilds; ++i) {
      seen[i % o.guilds] = true;
    }
    for (size_t g = 0; g < o.guilds; ++g) {
      count[g] += seen[g] ? 1 : 0;
    }
  }
  return count;
}

std::vector<std::string> node_argv(const fanout_options& o, size_t index,
                                   const std::vector<std::string>& seeds, const std::string& url,
                                   const run_dir& dir) {
  std::string seed_list;
  for (const auto& s : seeds) {
    seed_list += (seed_list.empty() ? "" : ",") + s;
  }
  return {self_dir() + "/herald-bench",
          "fanout-node",
          "--index",
          std::to_string(index),
          "--seeds",
          seed_list,
          "--postgres-url",
          url,
          "--secret-file",
          dir.path + "/cluster.secret",
          "--data-dir",
          dir.path + "/node" + std::to_string(index),
          "--sessions",
          std::to_string(o.sessions),
          "--guilds",
          std::to_string(o.guilds),
          "--events",
          std::to_string(o.events),
          "--payload",
          std::to_string(o.payload),
          "--mode",
          o.mode,
          "--window",
          std::to_string(o.window),
          "--timeout",
          std::to_string(o.timeout_s),
          "--wave",
          std::to_string(o.wave),
          "--warm",
          o.warm ? "1" : "0",
          "--connected",
          o.connected ? "1" : "0"};
}

/// The sum of `key=` over the session nodes' setup lines.
double setup_sum(const std::vector<node_report>& r, const std::string& key) {
  double sum = 0;
  for (const auto& n : r) {
    auto pos = (" " + n.setup).find(" " + key + "=");
    if (pos != std::string::npos) {
      sum += std::atof(n.setup.c_str() + pos + key.size() + 1);
    }
  }
  return sum;
}

/// Prints the run's keys from the reports; returns whether every expected delivery landed.
bool print_results(const fanout_options& o, const std::vector<node_report>& r,
                   const std::vector<size_t>& expecting, double cpu_s, double postgres_cpu_s,
                   bool postgres_local) {
  const auto& publisher = r[0];
  uint64_t deliveries = 0;
  uint64_t expected_deliveries = 0;
  std::vector<uint64_t> per_guild(o.guilds, 0);
  for (size_t i = 0; i < o.sessions; ++i) {
    ++per_guild[i % o.guilds];
  }
  int64_t first_start = publisher.start_ns.empty() ? 0 : publisher.start_ns[0];
  int64_t last_done = first_start;
  size_t completed = 0;
  std::vector<double> latencies_ms;
  for (size_t k = 0; k < o.events; ++k) {
    expected_deliveries += per_guild[k % o.guilds];
    int64_t done = 0;
    size_t nodes_done = 0;
    for (size_t n = 1; n < r.size(); ++n) {
      deliveries += r[n].delivered[k];
      if (r[n].done_ns[k] > 0) {
        done = std::max(done, r[n].done_ns[k]);
        ++nodes_done;
      }
    }
    if (nodes_done == expecting[k % o.guilds] && done > 0) {
      ++completed;
      last_done = std::max(last_done, done);
      latencies_ms.push_back(static_cast<double>(done - publisher.start_ns[k]) / 1e6);
    }
  }
  const bool complete = completed == o.events && deliveries == expected_deliveries &&
                        publisher.failed == 0 && publisher.published;
  const double elapsed_s = std::max(1e-9, static_cast<double>(last_done - first_start) / 1e9);
  const double events = static_cast<double>(std::max<size_t>(1, o.events));
  std::cout << "mode=" << o.mode << " sessions=" << o.sessions << " events=" << o.events
            << " payload=" << o.payload << " guilds=" << o.guilds << " nodes=" << o.nodes
            << " window=" << o.window << "\n";
  std::cout << "deliveries_per_s="
            << static_cast<uint64_t>(static_cast<double>(deliveries) / elapsed_s) << "\n";
  std::cout << "event_completion_p50_ms=" << percentile(latencies_ms, 50)
            << " event_completion_p99_ms=" << percentile(latencies_ms, 99) << "\n";
  std::cout << "bytes_per_session="
            << static_cast<int64_t>(setup_sum(r, "rss_delta") /
                                    static_cast<double>(std::max<size_t>(1, o.sessions)))
            << "\n";
  std::cout << "events_per_s=" << static_cast<uint64_t>(static_cast<double>(completed) / elapsed_s)
            << "\n";
  std::cout << "deliveries=" << deliveries << " expected_deliveries=" << expected_deliveries
            << " failed_publishes=" << publisher.failed << " complete=" << (complete ? 1 : 0)
            << "\n";
  // The session nodes opened their blocks at the same time: the slower one's setup.
  double setup_s = 0;
  for (const auto& n : r) {
    auto pos = (" " + n.setup).find(" setup_s=");
    if (pos != std::string::npos) {
      setup_s = std::max(setup_s, std::atof(n.setup.c_str() + pos + 8));
    }
  }
  std::cout << "setup_s=" << setup_s
            << " prefaulted_bytes=" << static_cast<uint64_t>(setup_sum(r, "prefaulted_bytes"))
            << "\n";
  std::cout << "network_messages_per_event="
            << static_cast<double>(publisher.relay_messages) / events
            << " cross_node_bytes_per_event=" << static_cast<double>(publisher.relay_bytes) / events
            << "\n";
  std::cout << "relay_messages=" << publisher.relay_messages
            << " relay_bytes=" << publisher.relay_bytes
            << " relay_events=" << publisher.relay_events << " relay_events_per_message="
            << (publisher.relay_messages == 0 ? 0.0
                                              : static_cast<double>(publisher.relay_events) /
                                                    static_cast<double>(publisher.relay_messages))
            << "\n";
  // CLOCK_MONOTONIC seconds of the events phase, to cut a whole-run profile:
  // perf record -k CLOCK_MONOTONIC … ; perf report --time <start>,<end>
  std::cout << std::fixed << std::setprecision(6)
            << "events_window_mono_s=" << static_cast<double>(first_start) / 1e9 << ","
            << static_cast<double>(last_done) / 1e9 << std::defaultfloat << "\n";
  // CPU of every node process over the events phase (the machine's cores are shared by all).
  std::cout << "events_cpu_s=" << cpu_s << " events_cpu_us=" << cpu_s * 1e6 / events << "\n";
  std::cout << "store=postgres commits=" << publisher.commits << " commits_per_s="
            << static_cast<uint64_t>(static_cast<double>(publisher.commits) / elapsed_s)
            << " events_per_commit="
            << (publisher.commits == 0 ? 0.0
                                       : static_cast<double>(publisher.committed_events) /
                                             static_cast<double>(publisher.commits))
            << "\n";
  if (postgres_local) {
    std::cout << "postgres_cpu_s=" << postgres_cpu_s
              << " postgres_events_cpu_us=" << postgres_cpu_s * 1e6 / events << "\n";
  }
  return complete;
}

/// Seeds the run's database once, before any node starts (the nodes load guilds from it).
bool seed_database(const fanout_options& o, const std::string& url, const run_dir& dir) {
  fanout_options seed = o;
  seed.store = "postgres";
  return seed_store(seed, dir.path, url) != nullptr;
}

int run_cluster(const fanout_options& o, bench_postgres& postgres, const run_dir& dir) {
  if (!seed_database(o, postgres.url(), dir)) {
    return 1;
  }
  const auto secret = dir.path + "/cluster.secret";
  std::ofstream(secret) << "a-bench-cluster-secret-of-32-chars\n";
  // heraldd warns about a token secret other users may read.
  std::filesystem::permissions(
      secret, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::vector<std::string> seeds;
  for (size_t i = 0; i < o.nodes; ++i) {
    seeds.push_back("127.0.0.1:" + std::to_string(free_port()));
  }
  const auto expecting = nodes_per_guild(o);
  // Written by the readers until join(): sized once, before any spawn.
  std::vector<node_report> reports(o.nodes);
  std::vector<size_t> reached(o.events, 0);  // serial: session nodes that reported event k
  worker_pool nodes;
  for (size_t i = 0; i < o.nodes; ++i) {
    auto& r = reports[i];
    if (i == 0) {
      r.start_ns.assign(o.events, 0);
    } else {
      r.done_ns.assign(o.events, 0);
      r.delivered.assign(o.events, 0);
    }
    nodes.spawn(node_argv(o, i + 1, seeds, postgres.url(), dir), r,
                [&r, &reached, &expecting, &nodes, guilds = o.guilds,
                 serial = o.mode == "serial"](const char* line) {
                  long k = r.take_line(line);
                  if (serial && k >= 0 && ++reached[k] == expecting[k % guilds]) {
                    nodes.tell(0, "next");
                  }
                });
  }
  auto all = [&](auto pred) {
    return [&reports, pred] { return std::all_of(reports.begin(), reports.end(), pred); };
  };
  nodes.wait_for(std::chrono::seconds{2 * o.timeout_s},
                 all([](const node_report& r) { return r.ready; }));
  bool ok = std::none_of(reports.begin(), reports.end(),
                         [](const node_report& r) { return !r.ready || r.done; });
  if (!ok) {
    std::cerr << "herald-bench: not every node joined and subscribed its sessions in time\n";
    nodes.tell_all("stop");
    nodes.join(30s);
    return 1;
  }
  const double cpu_before = nodes.cpu_seconds();
  const double postgres_before = postgres.server_cpu_s();
  nodes.tell_all("go");
  // A node that exits ends its stream: done, so every wait here ends.
  auto events_over = [&] {
    bool publisher = reports[0].published || reports[0].done;
    return publisher && std::all_of(reports.begin() + 1, reports.end(),
                                    [](const node_report& r) { return r.finished || r.done; });
  };
  nodes.wait_for(std::chrono::seconds{o.timeout_s + 60}, events_over);
  const double cpu_after = nodes.cpu_seconds();
  const double postgres_after = postgres.server_cpu_s();
  nodes.tell(0, "report");
  nodes.wait_for(60s, [&] { return reports[0].reported || reports[0].done; });
  // Session nodes first: their relays would log node 1's exporters going away.
  for (size_t i = 1; i < o.nodes; ++i) {
    nodes.tell(i, "stop");
  }
  nodes.wait_for(60s, [&] {
    return std::all_of(reports.begin() + 1, reports.end(),
                       [](const node_report& r) { return r.done; });
  });
  nodes.tell(0, "stop");
  nodes.join(60s);
  bool complete = print_results(o, reports, expecting, cpu_after - cpu_before,
                                postgres_after - postgres_before, postgres.local());
  return complete ? 0 : 1;
}

}  // namespace

int run_fanout_cluster(const fanout_options& o) {
  signal(SIGPIPE, SIG_IGN);  // a node that already exited must not kill the orchestrator
  if (o.sessions == 0 || o.events == 0 || o.guilds == 0) {
    std::cerr << "herald-bench: --sessions, --events and --guilds must be positive\n";
    return 2;
  }
  // Declared first: the server outlives the nodes that use it (they are joined before).
  auto postgres = start_bench_postgres(o.postgres_url);
  if (!postgres) {
    return 1;
  }
  try {
    run_dir dir;
    return run_cluster(o, *postgres, dir);
  } catch (const std::exception& e) {
    std::cerr << "herald-bench: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace herald::bench
