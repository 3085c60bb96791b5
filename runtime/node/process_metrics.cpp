// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

namespace herald::node {

namespace {

double resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  long pages_total = 0;
  long pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) {
    return 0;
  }
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double cpu_seconds() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) {
    return 0;
  }
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  double n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') {
      ++n;
    }
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

std::vector<metrics::sample> one(const char* name, double v, metrics::labels l = {}) {
  return {metrics::sample{name, std::move(l), v}};
}

}  // namespace

process_stats read_process_stats() {
  return {resident_bytes(), cpu_seconds(), open_fds()};
}

std::vector<size_t> register_process_metrics(metrics::registry& r,
                                             std::chrono::system_clock::time_point started) {
  using namespace std::chrono;
  double start_s = duration_cast<duration<double>>(started.time_since_epoch()).count();
  auto steady_start = steady_clock::now();
  std::vector<size_t> ids;
  ids.push_back(
      r.add_collector("process_resident_memory_bytes", "Resident memory size in bytes.",
                      [] { return one("process_resident_memory_bytes", resident_bytes()); }));
  ids.push_back(r.add_collector(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      [] { return one("process_cpu_seconds_total", cpu_seconds()); },
      metrics::registry::collected_type::counter));
  ids.push_back(r.add_collector("process_open_fds", "Number of open file descriptors.",
                                [] { return one("process_open_fds", open_fds()); }));
  ids.push_back(r.add_collector("process_start_time_seconds",
                                "Start time of the process since the Unix epoch in seconds.",
                                [start_s] { return one("process_start_time_seconds", start_s); }));
  ids.push_back(
      r.add_collector("herald_uptime_seconds", "Seconds since this node started.", [steady_start] {
        return one("herald_uptime_seconds",
                   duration_cast<duration<double>>(steady_clock::now() - steady_start).count());
      }));
  ids.push_back(
      r.add_collector("herald_build_info", "Build information; the value is always 1.", [] {
        return one("herald_build_info", 1, {{"version", HERALD_VERSION}});
      }));
  return ids;
}

}  // namespace herald::node
