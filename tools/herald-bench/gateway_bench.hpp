// SPDX-License-Identifier: Apache-2.0
#pragma once
// herald-bench gateway: shared pieces of the orchestrator (gateway_bench.cpp, which
// starts heraldd, seeds it and posts through REST) and its client worker processes
// (gateway_bench_worker.cpp, each holding up to ~9,000 WebSocket sessions).
// Invariant: workers and orchestrator agree on this line protocol over the worker's
// stdout; times are CLOCK_MONOTONIC nanoseconds, comparable across processes.

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace herald::bench {

/// What a worker process is told on its command line.
struct gateway_worker_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;            ///< the node's gateway port
  std::string token;            ///< every session identifies as this user
  size_t connections = 0;       ///< sessions this worker opens
  size_t messages = 0;          ///< MESSAGE_CREATE frames each session must receive
  size_t timeout_s = 300;       ///< the worker gives up (and reports) after this
  size_t connect_window = 256;  ///< connections being opened at once
  std::string ca_file;          ///< set: connect with TLS (wss), trusting this CA (PEM)
};

// Worker → orchestrator lines on stdout:
//   "ready <identified> <failed>"        every session got READY and its GUILD_CREATE
//   "recv <index> <last_ns> <count>"     per message index: the latest receive time over
//                                        this worker's sessions and how many received it
//   "done frames=<n> gaps=<n> closed=<n>"  totals; the worker exits after this line
// Orchestrator → worker on stdin: a line "go" after the idle measurement (the worker
// reads no other input); EOF on stdin makes the worker stop early.

/// Runs a worker until its sessions have every message or the timeout; returns the exit code.
int run_gateway_worker(const gateway_worker_options& opts);

/// The message content the orchestrator posts for index `i`; workers parse the index back.
std::string bench_content(size_t i);

}  // namespace herald::bench
