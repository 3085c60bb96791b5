// SPDX-License-Identifier: Apache-2.0
#pragma once
// The client side shared by the benches' worker processes (gateway_bench_worker.cpp,
// soak_worker.cpp): the Gateway v10 frames a bench session sends, the cheap scans of the
// frames it receives, and the worker process loop (stdin commands, deadline, exit). Frame
// helpers are pure functions, any thread; run_worker_loop owns the process's main thread.
// Invariant: a worker's stdout carries only its line protocol (gateway_bench.hpp,
// soak_bench.hpp), written on the io thread; diagnostics go to stderr.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace herald::bench {

/// GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT: what a typical bot asks for.
inline constexpr uint64_t bot_intents = (1u << 0) | (1u << 9) | (1u << 15);

/// Reads the unsigned integer after `key` (e.g. "\"s\":") in `text`; false if absent/null.
bool find_uint(std::string_view text, std::string_view key, uint64_t& out);

/// Op 2 Identify with bot_intents; `client` names the browser and device properties.
std::string identify_frame(const std::string& token, const std::string& client);
/// Op 6 Resume of `session_id` after `seq`.
std::string resume_frame(const std::string& token, const std::string& session_id, uint64_t seq);
/// Op 1 Heartbeat carrying `seq`.
std::string heartbeat_frame(uint64_t seq);
/// Hello's d.heartbeat_interval in ms, or `fallback` when the frame has none.
uint64_t heartbeat_interval_of(std::string_view hello, uint64_t fallback);
/// Follows a dispatch's `s`: counts a gap in `gaps` when it is not `last_s` + 1.
void follow_seq(std::string_view dispatch, uint64_t& last_s, size_t& gaps);
/// True when the dispatch's `t` is `type` ("MESSAGE_CREATE", "READY", ...).
bool is_dispatch(std::string_view dispatch, std::string_view type);

/// What a worker process does besides its sessions, all run on the io thread unless said.
struct worker_loop {
  std::string name;      ///< for the stderr line at the deadline ("gateway-worker")
  size_t timeout_s = 0;  ///< the run gives up after this
  /// Runs first: open the sessions.
  std::function<void()> begin;
  /// Each stdin line, on the stdin reader thread (post to the io_context to touch state);
  /// false stops reading stdin.
  std::function<bool(const std::string& line)> on_line;
  /// Stdin ended (EOF or on_line said stop).
  std::function<void()> on_stdin_end;
  /// The deadline passed (after the stderr line).
  std::function<void()> on_timeout;
};

/// The worker process: ignores SIGPIPE, raises the open-file limit to its hard limit, runs
/// `loop` on `io` until something stops `io`, flushes stdout and exits 0 (the stdin reader may
/// still block in getline, so the process ends without unwinding).
[[noreturn]] void run_worker_loop(boost::asio::io_context& io, const worker_loop& loop);

}  // namespace herald::bench
