// SPDX-License-Identifier: Apache-2.0
#pragma once
// The orchestrator side shared by the benches that drive a real heraldd with client worker
// processes (herald-bench gateway, herald-bench soak): the node (its data dir, ports, start,
// readiness, admin seeding, stop) and the pool of worker processes whose stdout lines are read
// on one thread each. Used from the orchestrator's main thread; the pool's line callbacks run on
// the reader threads under the pool's mutex.
// Invariant: a pool's callbacks for one worker run one at a time and after the last one the
// worker counts as ready and done, so every wait on the pool ends (at the latest by its timeout).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/herald-bench/bench_process.hpp"

namespace herald::bench {

/// A heraldd on loopback for one bench run: a data dir (a fresh temp dir unless one is
/// given; a fresh one is removed by stop()), free admin and gateway ports.
class bench_node {
public:
  /// `temp_prefix`: the temp dir's name before its random part ("herald-bench-gw").
  bench_node(std::string heraldd, const std::string& data_dir, const std::string& temp_prefix);
  /// stop(): an exception that leaves the bench never leaves a node behind.
  ~bench_node() { stop(); }
  bench_node(const bench_node&) = delete;
  bench_node& operator=(const bench_node&) = delete;

  const std::string& dir() const { return dir_; }
  uint16_t admin_port() const { return admin_port_; }
  uint16_t gateway_port() const { return gateway_port_; }
  pid_t pid() const { return server_.pid; }

  /// heraldd with the data dir, both listeners and `log_level`, followed by `extra` flags.
  void start(const std::string& log_level, const std::vector<std::string>& extra);
  /// Waits up to 30 s for /readyz (throws after that) and reads the admin token.
  void wait_ready();
  /// GET /readyz answers 200.
  bool ready() const;
  /// POST on the admin API (bench_process.hpp admin_post) with the node's admin token.
  nlohmann::json admin(const std::string& path, const nlohmann::json& body) const;
  /// SIGTERM, waits for the exit (30 s), removes a fresh data dir; once.
  void stop();

private:
  std::string heraldd_;
  std::string dir_;
  bool own_dir_ = false;
  uint16_t admin_port_ = 0;
  uint16_t gateway_port_ = 0;
  std::string admin_token_;
  child server_;
};

/// `total` split over `parts` as evenly as possible: the share of part `index`.
size_t share_of(size_t total, size_t parts, size_t index);

/// What every worker reports: "ready <identified> <failed>" once, a "done …" line at the end.
struct worker_status {
  bool ready = false;
  bool done = false;
  size_t identified = 0;
  size_t failed = 0;

  /// Takes a "ready" line; false for any other line.
  bool take_ready_line(const char* line);
};

/// The client worker processes of a bench run.
class worker_pool {
public:
  using line_fn = std::function<void(const char* line)>;

  worker_pool() = default;
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  /// Ends every worker still running (SIGKILL after 5 s) and joins the readers.
  ~worker_pool();

  /// Starts a worker with `argv` and a reader of its stdout: `on_line` gets each line (up to
  /// 511 characters), `status` is marked ready and done when the stream ends. Both are the
  /// caller's and must outlive the pool's readers (until join()).
  void spawn(const std::vector<std::string>& argv, worker_status& status, line_fn on_line);

  /// Waits up to `timeout` until `pred()` holds (checked under the pool's mutex).
  void wait_for(std::chrono::seconds timeout, const std::function<bool()>& pred);
  /// Writes `line` to every worker's stdin.
  void tell_all(const std::string& line) const;
  /// Writes `line` to the stdin of the `index`-th worker spawned (0-based).
  void tell(size_t index, const std::string& line) const { workers_.at(index).tell(line); }
  /// User + system CPU seconds of every worker so far.
  double cpu_seconds() const;
  /// Waits for every worker's exit (`timeout` each, then SIGKILL) and joins the readers; once.
  void join(std::chrono::seconds timeout);
  size_t size() const { return workers_.size(); }

private:
  std::vector<child> workers_;
  std::vector<std::thread> readers_;
  std::mutex m_;
  std::condition_variable cv_;
  bool joined_ = false;
};

}  // namespace herald::bench
