// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the throwaway local servers (tools/local-postgres, tools/local-etcd) and the tests'
// child processes share: a clean posix_spawn, a private temp dir, a loopback port that was free a
// moment ago and reserved for this process, a bounded wait for a child process and the retry of a
// start that lost its port to another process. Any thread.

#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace herald::tools {

/// A fresh directory `<tmp>/<prefix>-XXXXXX` (mode 0700, mkdtemp); throws runtime_error naming
/// `who` on failure.
std::filesystem::path make_private_dir(const std::string& prefix, const std::string& who);

/// A loopback TCP port no other process on this machine gets from this function while this
/// process lives, and that the kernel never hands out as a client's source port: it lies below
/// the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`) and this process holds
/// an flock on `<tmp>/herald-ports/<port>` until it exits. That closes the check-then-use race
/// of "bind port 0, close, hand the number to a child" between tests running in parallel: two
/// parallel tests never get the same port, and an outgoing connection cannot take it meanwhile.
/// Falls back to a port bound to 0 and closed when the ephemeral range leaves no room below it.
/// Throws runtime_error naming `who` when no port is free. Thread-safe.
std::uint16_t free_loopback_port(const std::string& who);

/// posix_spawn of `argv[0]` with `argv` and this process's environment, the child's signal
/// dispositions reset to their defaults and its signal mask emptied (whatever the caller
/// blocked: a test runner or an actor system's threads), its descriptors set by `actions`.
/// Returns posix_spawn's error number (0 on success) and sets `pid`.
int spawn_with_default_signals(pid_t& pid, const std::vector<std::string>& argv,
                               const posix_spawn_file_actions_t& actions);

/// Waits for the child `pid` up to `timeout`; true when it exited (and was reaped).
bool reap(pid_t pid, std::chrono::milliseconds timeout);

/// Calls `start` (which picks its ports with free_loopback_port and throws runtime_error when
/// the server does not come up) up to `attempts` times: a port is free a moment before the
/// server binds it, and another process may take it in between. Rethrows the last error.
template <typename Start>
void start_with_port_retries(Start&& start, int attempts = 3) {
  std::string last_error;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    try {
      start();
      return;
    } catch (const std::runtime_error& e) {
      last_error = e.what();
    }
  }
  throw std::runtime_error(last_error);
}

}  // namespace herald::tools
