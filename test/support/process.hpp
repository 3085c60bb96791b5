// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers for multi-process tests: spawn a binary with arguments, capture its stdout and
// stderr, wait with a timeout, signal or kill it; free loopback ports.
// Used from the test's main thread; a child_process owns its pid and kills it if still running.
// Invariant: every wait is bounded by the timeout given, and no child outlives its handle.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test/support/temp_dir.hpp"

namespace herald::testing {

/// A spawned child. stdout and stderr are redirected to files in a private temp dir.
class child_process {
public:
  /// Starts `path` with `args` (argv[0] is `path`). Throws std::runtime_error on failure.
  /// `open_files_limit`: the child's soft RLIMIT_NOFILE (it inherits the rest); set in this
  /// process around the spawn, so the child has it from its first instruction on.
  child_process(const std::string& path, const std::vector<std::string>& args,
                std::optional<uint64_t> open_files_limit = std::nullopt);
  ~child_process();  ///< SIGKILLs and reaps the child if it still runs; removes the temp files
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Waits up to `timeout` for exit. Returns the exit code (128 + signal number if it
  /// died from a signal), or nullopt if it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  /// True until the child has been reaped.
  bool running();
  void send_signal(int sig);
  /// SIGKILL, then reap (bounded).
  void kill();

  /// Everything the child wrote so far.
  std::string out() const;
  std::string err() const;

private:
  temp_dir dir_;  // holds the stdout and stderr files
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct run_result {
  std::optional<int> exit_code;  ///< nullopt: timed out (the child was killed)
  std::string out;
  std::string err;
};

/// Runs `path args...` to completion, at most `timeout`.
run_result run_process(const std::string& path, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds{30});

/// The `key=value` tokens of a program's output (herald-bench's lines, several per line), by
/// key; a later token of the same key wins.
std::map<std::string, std::string> key_values(const std::string& out);

/// A loopback TCP port reserved for this test process: no parallel test gets it and no client
/// socket takes it (tools::free_loopback_port).
uint16_t free_port();

/// `$HERALD_BIN_DIR/<name>`; throws if HERALD_BIN_DIR is unset.
std::string bin_path(const std::string& name);

}  // namespace herald::testing
