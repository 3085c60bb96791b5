// SPDX-License-Identifier: Apache-2.0
#pragma once
// herald-bench soak: misbehaving clients run against the node's gateway port while the
// good sessions are held. Each case is one connection bounded by a timeout; it passes
// when the node answers with the documented close code (docs/gateway.md) or drops it.
// Any thread; blocking.

#include <cstdint>
#include <memory>
#include <string>

namespace herald::bench {

struct bad_client_target {
  uint16_t port = 0;
  std::string token;  ///< a valid user token, for cases that must identify first
};

/// Number of short cases; case `i % bad_client_cases()` is run by run_bad_client.
size_t bad_client_cases();
/// Name of case `i` (e.g. "malformed_json"), for error lines.
std::string bad_client_name(size_t i);
/// Runs case `i`; true when the node reacted as documented.
bool run_bad_client(const bad_client_target& t, size_t i);

/// Connections held for the whole run: a slowloris HTTP request (headers never end) and a
/// session that never reads (slow consumer). `finish` reports whether the node closed each.
class held_bad_clients {
public:
  explicit held_bad_clients(const bad_client_target& t);
  ~held_bad_clients();
  struct outcome {
    bool slowloris_dropped = false;
    bool slow_consumer_closed = false;
    int slow_consumer_code = 0;  ///< close code seen after draining, 0 if dropped without one
  };
  /// Checks and closes both connections.
  outcome finish();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace herald::bench
