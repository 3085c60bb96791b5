// SPDX-License-Identifier: Apache-2.0
#include "tools/herald-bench/bench_node.hpp"

#include <signal.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "runtime/net/http_client.hpp"
#include "tools/herald-bench/bench_util.hpp"

namespace herald::bench {

using namespace std::chrono_literals;

bench_node::bench_node(std::string heraldd, const std::string& data_dir,
                       const std::string& temp_prefix)
    : heraldd_(heraldd.empty() ? self_dir() + "/heraldd" : std::move(heraldd)),
      dir_(data_dir),
      own_dir_(data_dir.empty()),
      admin_port_(free_port()),
      gateway_port_(free_port()) {
  if (own_dir_) {
    std::string tmpl = "/tmp/" + temp_prefix + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("cannot make a temp dir " + tmpl);
    }
    dir_ = tmpl;
  }
}

void bench_node::start(const std::string& log_level, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {heraldd_,
                                   "--node.data_dir",
                                   dir_,
                                   "--admin.listen",
                                   "127.0.0.1:" + std::to_string(admin_port_),
                                   "--gateway.listen",
                                   "127.0.0.1:" + std::to_string(gateway_port_),
                                   "--log.level",
                                   log_level};
  args.insert(args.end(), extra.begin(), extra.end());
  server_ = child::spawn(args, false);
}

void bench_node::wait_ready() {
  bool up = false;
  for (int i = 0; i < 300 && !(up = ready()); ++i) {
    std::this_thread::sleep_for(100ms);
  }
  if (!up) {
    throw std::runtime_error("heraldd did not become ready within 30 s");
  }
  std::ifstream(dir_ + "/admin.token") >> admin_token_;
}

bool bench_node::ready() const {
  auto r = net::http_fetch("127.0.0.1", admin_port_, "GET", "/readyz", {}, 2s);
  return r.ok() && r.status == 200;
}

nlohmann::json bench_node::admin(const std::string& path, const nlohmann::json& body) const {
  return admin_post(admin_port_, admin_token_, path, body);
}

void bench_node::stop() {
  if (server_.pid > 0) {
    kill(server_.pid, SIGTERM);
    server_.wait_exit(30s);
    server_.pid = -1;
  }
  if (own_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    own_dir_ = false;
  }
}

size_t share_of(size_t total, size_t parts, size_t index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

bool worker_status::take_ready_line(const char* line) {
  size_t a = 0;
  size_t b = 0;
  if (std::sscanf(line, "ready %zu %zu", &a, &b) != 2) {
    return false;
  }
  ready = true;
  identified = a;
  failed = b;
  return true;
}

worker_pool::~worker_pool() {
  join(5s);
}

void worker_pool::spawn(const std::vector<std::string>& argv, worker_status& status,
                        line_fn on_line) {
  workers_.push_back(child::spawn(argv, true));
  FILE* in = workers_.back().from_child;
  readers_.emplace_back([this, in, &status, on_line = std::move(on_line)] {
    char line[512];
    while (std::fgets(line, sizeof line, in) != nullptr) {
      std::lock_guard<std::mutex> lock{m_};
      if (!status.take_ready_line(line)) {
        on_line(line);
      }
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock{m_};
    status.ready = true;
    status.done = true;  // the worker is gone either way
    cv_.notify_all();
  });
}

void worker_pool::wait_for(std::chrono::seconds timeout, const std::function<bool()>& pred) {
  std::unique_lock<std::mutex> lock{m_};
  cv_.wait_for(lock, timeout, pred);
}

void worker_pool::tell_all(const std::string& line) const {
  for (const auto& w : workers_) {
    w.tell(line);
  }
}

double worker_pool::cpu_seconds() const {
  double sum = 0;
  for (const auto& w : workers_) {
    sum += cpu_seconds_of(w.pid);
  }
  return sum;
}

void worker_pool::join(std::chrono::seconds timeout) {
  if (joined_) {
    return;  // a reaped pid may be reused: never wait for (or kill) it twice
  }
  for (auto& w : workers_) {
    w.wait_exit(timeout);
  }
  for (auto& t : readers_) {
    t.join();
  }
  joined_ = true;
}

}  // namespace herald::bench
