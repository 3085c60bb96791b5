// SPDX-License-Identifier: Apache-2.0
#include "tools/herald-bench/bench_postgres.hpp"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tools/herald-bench/bench_util.hpp"

namespace herald::bench {

namespace {

/// The parent pid of `pid` (/proc/<pid>/stat field 4), -1 if unreadable.
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 4 > stat.size()) {
    return -1;
  }
  // After "pid (comm) ": the state, then the parent pid.
  return static_cast<pid_t>(std::atol(stat.c_str() + close_paren + 4));
}

}  // namespace

bench_postgres::bench_postgres(const std::string& url) {
  if (!url.empty()) {
    url_ = url;
    return;
  }
  // Blocked here, so in every thread started from now on; the watcher takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  server_ = std::make_unique<tools::local_postgres_server>();
  url_ = server_->url(server_->create_database());
  watcher_ = std::thread([this] { watch_signals(); });
}

bench_postgres::~bench_postgres() {
  if (watcher_.joinable()) {
    done_ = true;
    pthread_kill(watcher_.native_handle(), SIGUSR1);  // wakes the watcher's sigwait
    watcher_.join();
  }
}

void bench_postgres::watch_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) {
      return;
    }
    if (done_) {
      return;
    }
    if (sig == SIGINT || sig == SIGTERM) {
      server_.reset();  // pg_ctl stop -m immediate, the temp dir removed
      _exit(128 + sig);
    }
  }
}

double bench_postgres::server_cpu_s() const {
  if (!server_) {
    return 0;
  }
  const pid_t postmaster = server_->postmaster_pid();
  if (postmaster <= 0) {
    return 0;
  }
  double total = cpu_seconds_of(postmaster);
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return total;
  }
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
    if (pid > 0 && parent_of(pid) == postmaster) {
      total += cpu_seconds_of(pid);
    }
  }
  closedir(proc);
  return total;
}

}  // namespace herald::bench
