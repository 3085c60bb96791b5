// SPDX-License-Identifier: Apache-2.0
#pragma once
// herald-bench soak: the orchestrator (soak_bench.cpp: starts heraldd, seeds it, posts,
// runs bad clients) and its client worker processes (soak_worker.cpp: hold sessions,
// drop-and-resume some, re-identify others, check every session's frames).
// Invariant: both agree on this line protocol; times are CLOCK_MONOTONIC nanoseconds.
//
// Orchestrator → worker (stdin): "churn <resumes> <reidentifies>" asks the worker to drop
// that many ready sessions and resume them, and to close (1000) and identify anew that
// many others; "stop <public_posted>" ends the run: the worker checks each session got
// every public message up to that count and reports.
// Worker → orchestrator (stdout): "ready <identified> <failed>" once, then at stop one
// "recv <index> <last_ns>" per public message and a final line
// "done frames=.. gaps=.. missing=.. leaked=.. resumes_ok=.. resumes_failed=.. reidentifies=..
// closed=.."

#include <cstdint>
#include <string>

namespace herald::bench {

struct soak_worker_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string token;
  size_t connections = 0;
  size_t timeout_s = 900;
  size_t connect_window = 256;
  uint64_t seed = 1;
};

int run_soak_worker(const soak_worker_options& opts);

/// Content of public message `i` (every session must get it) and private message `i`
/// (posted in a channel the sessions' user cannot view: no session may get it).
std::string soak_public_content(size_t i);
std::string soak_private_content(size_t i);

}  // namespace herald::bench
