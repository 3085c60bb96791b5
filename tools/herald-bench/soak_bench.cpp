// SPDX-License-Identifier: Apache-2.0
// herald-bench soak: a real heraldd on loopback holding N sessions (in soak-worker client
// processes) for D seconds while REST posts flow at a steady rate to a few channels (one
// private: its messages must reach no session), sessions drop and resume (exact replay)
// or re-identify, and bad clients come and go. Prints key=value lines (a public contract;
// add keys, never rename) and exits 1 if a good session saw a gap, missed or got a
// forbidden frame, a resume was not exact, a bad client was not handled as documented,
// the node died, or its fd count did not come back after the clients closed.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "tools/herald-bench/bench_node.hpp"
#include "tools/herald-bench/bench_process.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/soak_bad_clients.hpp"
#include "tools/herald-bench/soak_bench.hpp"

namespace herald::bench {

void add_soak_worker_command(CLI::App& app);

namespace {

using namespace std::chrono_literals;

struct soak_options {
  size_t sessions = 15000;
  size_t duration_s = 600;
  double post_rate = 10;       // REST posts per second (every 5th to the private channel)
  double reconnect_rate = 10;  // sessions dropped and resumed per second
  double reidentify_rate = 2;  // sessions closed (1000) and identified anew per second
  double bad_client_rate = 1;  // short bad-client cases per second
  size_t workers = 0;          // client processes; 0 = one per 8,000 sessions
  uint64_t seed = 1;
  size_t fd_slack = 16;  // fds_end may exceed fds_start by this much
  std::string heraldd;
  std::string data_dir;
};

constexpr size_t sessions_per_worker = 8000;
constexpr size_t public_channels = 3;

/// Open file descriptors of `pid` (entries of /proc/<pid>/fd); -1 if unreadable.
long fd_count_of(pid_t pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) {
    return -1;
  }
  long n = 0;
  while (auto* e = readdir(d)) {
    n += e->d_name[0] != '.';
  }
  closedir(d);
  return n;
}

struct worker_report : worker_status {
  size_t frames = 0, gaps = 0, missing = 0, leaked = 0, resumes_ok = 0, resumes_failed = 0,
         reidentifies = 0, closed = 0, duplicates = 0;
  std::vector<int64_t> last_ns;

  /// Takes a "recv" or "done" line of the worker (soak_bench.hpp).
  void take_line(const char* line) {
    size_t index = 0;
    long long t = 0;
    if (std::sscanf(line, "recv %zu %lld", &index, &t) == 2) {
      if (index >= last_ns.size()) {
        last_ns.resize(index + 1, 0);
      }
      last_ns[index] = t;
    } else if (std::sscanf(line,
                           "done frames=%zu gaps=%zu missing=%zu leaked=%zu resumes_ok=%zu "
                           "resumes_failed=%zu reidentifies=%zu closed=%zu duplicates=%zu",
                           &frames, &gaps, &missing, &leaked, &resumes_ok, &resumes_failed,
                           &reidentifies, &closed, &duplicates) == 9) {
      done = true;
    }
  }
};

bool post_message(uint16_t port, const std::string& token, const std::string& channel,
                  const std::string& content) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto r =
        net::http_fetch("127.0.0.1", port, "POST", "/api/v10/channels/" + channel + "/messages",
                        nlohmann::json{{"content", content}}.dump(), 10s,
                        {{"Authorization", "Bot " + token}, {"Content-Type", "application/json"}});
    if (r.ok() && r.status == 200) {
      return true;
    }
    if (r.ok() && r.status == 429) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    std::cerr << "herald-bench soak: POST failed: "
              << (r.ok() ? std::to_string(r.status) + " " + r.body : net::describe(r.error))
              << "\n";
    return false;
  }
  return false;
}

int run_soak(const soak_options& o) {
  signal(SIGPIPE, SIG_IGN);
  if (o.sessions == 0 || o.duration_s == 0) {
    std::cerr << "herald-bench soak: --sessions and --duration must be positive\n";
    return 2;
  }
  bench_node node{o.heraldd, o.data_dir, "herald-bench-soak"};
  node.start("error",
             {// One user holds every session and re-identifies all run long:
              // the per-user identify limits are for real clients.
              "--gateway.identify_max_concurrency", "0", "--gateway.identify_daily_limit", "0",
              // Every client is on 127.0.0.1.
              "--gateway.max_connections_per_ip", "0"});
  uint16_t gw_port = node.gateway_port();
  // The reports outlive the pool: its reader threads write them until join().
  std::vector<worker_report> reports;
  worker_pool workers;
  try {
    node.wait_ready();
    auto owner = node.admin("/v1/users", {{"name", "soak-owner"}, {"bot", true}});
    auto member = node.admin("/v1/users", {{"name", "soak-member"}, {"bot", true}});
    std::string owner_token = owner.at("token").get<std::string>();
    std::string member_token = member.at("token").get<std::string>();
    auto guild = node.admin("/v1/guilds", {{"name", "soak"}, {"owner", id_of(owner)}});
    node.admin("/v1/members", {{"guild", id_of(guild)}, {"user", id_of(member)}});
    std::vector<std::string> channels;
    for (size_t c = 0; c < public_channels; ++c) {
      channels.push_back(id_of(node.admin(
          "/v1/channels",
          {{"guild", id_of(guild)}, {"name", "soak-" + std::to_string(c)}, {"private", false}})));
    }
    std::string private_channel = id_of(node.admin(
        "/v1/channels", {{"guild", id_of(guild)}, {"name", "soak-staff"}, {"private", true}}));

    int64_t rss_start = rss_bytes_of(node.pid());
    long fds_start = fd_count_of(node.pid());
    size_t n_workers =
        o.workers > 0 ? o.workers : (o.sessions + sessions_per_worker - 1) / sessions_per_worker;
    n_workers = std::max<size_t>(1, std::min(n_workers, o.sessions));
    reports.resize(n_workers);  // never again: the readers hold references into it
    std::string self = self_dir() + "/herald-bench";
    size_t timeout_s = o.duration_s + 300;
    for (size_t w = 0; w < n_workers; ++w) {
      auto& r = reports[w];
      workers.spawn(
          {self, "soak-worker", "--port", std::to_string(gw_port), "--token", member_token,
           "--connections", std::to_string(share_of(o.sessions, n_workers, w)), "--timeout",
           std::to_string(timeout_s), "--seed", std::to_string(o.seed + w)},
          r, [&r](const char* line) { r.take_line(line); });
    }
    auto all = [&](auto pred) {
      return [&reports, pred] { return std::all_of(reports.begin(), reports.end(), pred); };
    };
    workers.wait_for(300s, all([](const worker_report& r) { return r.ready; }));
    size_t identified = 0;
    for (const auto& r : reports) {
      identified += r.identified;
    }
    std::cerr << "herald-bench soak: " << identified << " sessions identified\n";
    std::this_thread::sleep_for(2s);
    int64_t rss_warm = rss_bytes_of(node.pid());

    // The run: posts, churn and bad clients on their own threads until the deadline.
    bad_client_target target{gw_port, member_token};
    held_bad_clients held{target};
    std::atomic<bool> running{true};
    int64_t start_ns = monotonic_ns();
    int64_t end_ns = start_ns + static_cast<int64_t>(o.duration_s) * 1'000'000'000LL;
    std::vector<int64_t> sent;  // per public message: when its POST was sent
    size_t private_posted = 0;
    size_t post_failures = 0;
    std::thread poster{[&] {
      for (size_t i = 0; monotonic_ns() < end_ns; ++i) {
        auto due = start_ns + static_cast<int64_t>(static_cast<double>(i) * 1e9 / o.post_rate);
        if (due > end_ns) {
          break;
        }
        if (auto wait = due - monotonic_ns(); wait > 0) {
          std::this_thread::sleep_for(std::chrono::nanoseconds{wait});
        }
        if (i % 5 == 4) {
          post_failures += !post_message(gw_port, owner_token, private_channel,
                                         soak_private_content(private_posted++));
        } else {
          size_t index = sent.size();
          sent.push_back(monotonic_ns());
          if (!post_message(gw_port, owner_token, channels[index % channels.size()],
                            soak_public_content(index))) {
            ++post_failures;
          }
        }
      }
    }};
    // Churn stops 10 s before the end so every resume settles before the final check.
    std::thread churner{[&] {
      double resumes = 0, reids = 0;
      while (monotonic_ns() < end_ns - 10'000'000'000LL && running) {
        std::this_thread::sleep_for(1s);
        resumes += o.reconnect_rate / static_cast<double>(n_workers);
        reids += o.reidentify_rate / static_cast<double>(n_workers);
        auto a = static_cast<size_t>(resumes), b = static_cast<size_t>(reids);
        resumes -= static_cast<double>(a);
        reids -= static_cast<double>(b);
        workers.tell_all("churn " + std::to_string(a) + " " + std::to_string(b));
      }
    }};
    std::atomic<size_t> bad_clients{0};
    std::atomic<size_t> bad_unexpected{0};
    std::thread bad{[&] {
      if (o.bad_client_rate <= 0) {
        return;
      }
      for (size_t i = 0; monotonic_ns() < end_ns - 5'000'000'000LL; ++i) {
        auto due =
            start_ns + static_cast<int64_t>(static_cast<double>(i) * 1e9 / o.bad_client_rate);
        if (auto wait = due - monotonic_ns(); wait > 0) {
          std::this_thread::sleep_for(std::chrono::nanoseconds{wait});
        }
        ++bad_clients;
        if (!run_bad_client(target, i)) {
          ++bad_unexpected;
          std::cerr << "herald-bench soak: bad client " << bad_client_name(i)
                    << " not handled as documented\n";
        }
      }
    }};
    // RSS at 25, 50 and 75 % of the run (100 % is rss_end): growth that slows down and levels
    // off is buffers filling to their bounds (docs/benchmarks.md, "Soak (issue #10)"), steady
    // growth a leak.
    int64_t rss_quarters[3] = {0, 0, 0};
    std::thread sampler{[&] {
      for (int q = 0; q < 3; ++q) {
        int64_t due = start_ns + (end_ns - start_ns) * (q + 1) / 4;
        while (running && monotonic_ns() < due) {
          std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
              std::chrono::nanoseconds{due - monotonic_ns()}, 200ms));
        }
        if (!running) {
          return;
        }
        rss_quarters[q] = rss_bytes_of(node.pid());
      }
    }};
    poster.join();
    running = false;
    sampler.join();
    churner.join();
    bad.join();
    int64_t rss_end = rss_bytes_of(node.pid());
    bool alive = kill(node.pid(), 0) == 0 && node.ready();
    auto held_outcome = held.finish();
    workers.tell_all("stop " + std::to_string(sent.size()));
    workers.wait_for(60s, all([](const worker_report& r) { return r.done; }));
    workers.join(30s);
    // Every client is gone: the node's fds must come back near the start.
    long fds_end = fd_count_of(node.pid());
    for (int i = 0; i < 150 && fds_end > fds_start + static_cast<long>(o.fd_slack); ++i) {
      std::this_thread::sleep_for(200ms);
      fds_end = fd_count_of(node.pid());
    }
    alive = alive && kill(node.pid(), 0) == 0 && node.ready();

    worker_report sum;
    for (const auto& r : reports) {
      sum.frames += r.frames;
      sum.gaps += r.gaps;
      sum.missing += r.missing;
      sum.leaked += r.leaked;
      sum.resumes_ok += r.resumes_ok;
      sum.resumes_failed += r.resumes_failed;
      sum.reidentifies += r.reidentifies;
      sum.closed += r.closed;
      sum.duplicates += r.duplicates;
      sum.done = sum.done || !r.done;  // any worker that never reported
    }
    std::vector<double> e2e_ms;
    for (size_t i = 0; i < sent.size(); ++i) {
      int64_t latest = 0;
      for (const auto& r : reports) {
        latest = std::max(latest, i < r.last_ns.size() ? r.last_ns[i] : 0);
      }
      if (latest > 0) {
        e2e_ms.push_back(static_cast<double>(latest - sent[i]) / 1e6);
      }
    }
    size_t posts = sent.size() + private_posted;
    std::cout << "sessions=" << o.sessions << "\n"
              << "identified=" << identified << "\n"
              << "duration_s=" << o.duration_s << "\n"
              << "posts=" << posts << "\n"
              << "public_posts=" << sent.size() << "\n"
              << "private_posts=" << private_posted << "\n"
              << "post_failures=" << post_failures << "\n"
              << "deliveries=" << sum.frames << "\n"
              << "seq_gaps=" << sum.gaps << "\n"
              << "missing_frames=" << sum.missing << "\n"
              << "leaked_frames=" << sum.leaked << "\n"
              << "duplicate_frames=" << sum.duplicates << "\n"
              << "resumes_ok=" << sum.resumes_ok << "\n"
              << "resumes_failed=" << sum.resumes_failed << "\n"
              << "reidentifies=" << sum.reidentifies << "\n"
              << "sessions_closed=" << sum.closed << "\n"
              << "bad_clients=" << bad_clients << "\n"
              << "bad_clients_unexpected=" << bad_unexpected << "\n"
              << "slowloris_dropped=" << held_outcome.slowloris_dropped << "\n"
              << "slow_consumer_closed=" << held_outcome.slow_consumer_closed << "\n"
              << "slow_consumer_close_code=" << held_outcome.slow_consumer_code << "\n"
              << "e2e_p50_ms=" << percentile(e2e_ms, 50) << "\n"
              << "e2e_p99_ms=" << percentile(e2e_ms, 99) << "\n"
              << "rss_start_bytes=" << rss_start << "\n"
              << "rss_warm_bytes=" << rss_warm << "\n"
              << "rss_25pct_bytes=" << rss_quarters[0] << "\n"
              << "rss_50pct_bytes=" << rss_quarters[1] << "\n"
              << "rss_75pct_bytes=" << rss_quarters[2] << "\n"
              << "rss_end_bytes=" << rss_end << "\n"
              << "rss_drift_bytes=" << (rss_end - rss_warm) << "\n"
              << "fds_start=" << fds_start << "\n"
              << "fds_end=" << fds_end << "\n"
              << "node_alive=" << (alive ? 1 : 0) << "\n";
    // Every failed condition is named on stderr so a red run says why.
    std::vector<std::string> failures;
    auto require = [&](bool cond, const char* what) {
      if (!cond) {
        failures.emplace_back(what);
      }
    };
    require(alive, "node_alive");
    require(!sum.done, "worker_reported");
    require(identified == o.sessions, "identified");
    require(sum.gaps == 0, "seq_gaps");
    require(sum.missing == 0, "missing_frames");
    require(sum.leaked == 0, "leaked_frames");
    require(sum.duplicates == 0, "duplicate_frames");
    require(sum.resumes_failed == 0, "resumes_failed");
    require(sum.closed == 0, "sessions_closed");
    require(post_failures == 0, "post_failures");
    require(bad_unexpected == 0, "bad_clients_unexpected");
    require(fds_end <= fds_start + static_cast<long>(o.fd_slack), "fds_end");
    for (const auto& f : failures) {
      std::cerr << "herald-bench soak: FAILED " << f << "\n";
    }
    bool ok = failures.empty();
    node.stop();
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "herald-bench soak: " << e.what() << "\n";
    workers.tell_all("stop 0");
    workers.join(5s);
    node.stop();
    return 1;
  }
}

}  // namespace

void add_soak_bench(CLI::App& app) {
  auto o = std::make_shared<soak_options>();
  auto* cmd = app.add_subcommand(
      "soak",
      "Real heraldd holding N sessions for D s with posts, resumes, re-identifies and bad clients");
  cmd->add_option("--sessions", o->sessions, "Sessions held (default 15000)");
  cmd->add_option("--duration", o->duration_s,
                  "Seconds of load after the sessions are up (default 600)");
  cmd->add_option("--post-rate", o->post_rate,
                  "REST posts per second, every 5th private (default 10)");
  cmd->add_option("--reconnect-rate", o->reconnect_rate,
                  "Sessions dropped and resumed per second (default 10)");
  cmd->add_option("--reidentify-rate", o->reidentify_rate,
                  "Sessions closed and identified anew per second (default 2)");
  cmd->add_option("--bad-client-rate", o->bad_client_rate,
                  "Bad-client cases per second (default 1)");
  cmd->add_option("--workers", o->workers, "Client processes (default: one per 8,000 sessions)");
  cmd->add_option("--seed", o->seed, "Seed of the churn's session choice (default 1)");
  cmd->add_option("--fd-slack", o->fd_slack,
                  "fds_end may exceed fds_start by this much (default 16)");
  cmd->add_option("--heraldd", o->heraldd, "heraldd binary (default: beside herald-bench)");
  cmd->add_option("--data-dir", o->data_dir, "Node data dir (default: a fresh temp dir)");
  cmd->callback([o] { std::exit(run_soak(*o)); });
  add_soak_worker_command(app);
}

}  // namespace herald::bench
