// SPDX-License-Identifier: Apache-2.0
#pragma once
// Tunables of the gateway (one set per gateway_server), with their defaults.
// Filled by the node composition from config ([gateway] keys) or by tests directly.
// Invariant: immutable once the gateway_server is constructed.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "actors/gateway/identify_limiter.hpp"

namespace herald::gateway {

struct gateway_options {
  /// Sent in Hello. Default 41250 ms (Discord's value).
  uint32_t heartbeat_interval_ms = 41250;
  /// A connection without a heartbeat for interval + grace (before the first
  /// heartbeat, counted from Hello) is closed with 4009.
  /// At interval + grace/2 the server sends op 1 to ask for a heartbeat at
  /// once. Default 10000 ms.
  uint32_t heartbeat_grace_ms = 10000;
  /// Client frames allowed per window before close 4008. Default 120 per 60 s
  /// (a fixed window that starts at the first frame after the previous one ended).
  uint32_t rate_limit_frames = 120;
  std::chrono::milliseconds rate_limit_window{std::chrono::seconds{60}};
  /// Largest inbound message; larger → 4002. Default 4096 bytes.
  std::size_t max_inbound_bytes = 4096;
  /// The public ws:// URL (informational; READY's resume_gateway_url comes
  /// from dispatch_config::resume_gateway_url).
  std::string public_url;
  /// After op 7 Reconnect on drain, how long the server waits for clients to
  /// close before closing the rest itself. Default 1000 ms.
  std::chrono::milliseconds drain_close_delay{1000};
  /// Timeout of session starts and resume lookups. Default 5 s.
  std::chrono::milliseconds session_timeout{std::chrono::seconds{5}};
  /// How long the write of a burst of ready sessions waits after the burst's first frame,
  /// so that more sessions (and more frames per session) share one flush and one writev.
  /// Bounds the added latency. 0 (the default here): flush as soon as the io thread gets to
  /// it; the node uses gateway.flush_delay_us (default 2000 us, see docs/benchmarks.md).
  std::chrono::microseconds flush_delay{0};
  /// The io threads running the connections (http_server's server_options::threads) if
  /// known. Exactly 1 lets a flush write every ready connection directly; any other value
  /// (0: unknown) posts each connection's write to its strand.
  std::size_t io_threads = 0;
  /// Identify budget per user (Discord's session start limit). Default here: unlimited; the
  /// node uses gateway.identify_max_concurrency and gateway.identify_daily_limit.
  identify_limit_options identify_limits;
};

}  // namespace herald::gateway
