// SPDX-License-Identifier: Apache-2.0
#pragma once
// Process plumbing shared by the benches that start a real heraldd and client processes
// (herald-bench gateway, herald-bench soak): child processes with pipes, a free loopback
// port, the admin API as seeding client. Any thread; blocking calls.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace herald::bench {

/// The directory holding this executable (heraldd is expected beside herald-bench).
std::string self_dir();

/// A loopback port free at the moment of the call.
uint16_t free_port();

/// A child process with pipes to its stdin and from its stdout (stderr inherited).
struct child {
  pid_t pid = -1;
  int to_child = -1;
  FILE* from_child = nullptr;

  /// fork + exec; the child gets SIGKILL if this process dies first (PR_SET_PDEATHSIG),
  /// so an interrupted bench never leaves a node or client processes behind.
  static child spawn(const std::vector<std::string>& argv, bool pipes);
  /// Writes `line` and a newline to the child's stdin (ignored without pipes).
  void tell(const std::string& line) const;
  /// Waits for the exit; SIGKILL after `timeout`. Returns the exit code, 128+signal, or -1.
  int wait_exit(std::chrono::seconds timeout);
};

/// A JSON id that may be a string or a number, as a decimal string.
std::string id_of(const nlohmann::json& j);

/// POST on the admin API with the admin token heraldd generated into its data dir.
nlohmann::json admin_post(uint16_t admin_port, const std::string& admin_token,
                          const std::string& path, const nlohmann::json& body);

}  // namespace herald::bench
