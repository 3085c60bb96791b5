// SPDX-License-Identifier: Apache-2.0
#pragma once
// The link round-trip probe, shared by the two actors that hold a node's cluster links (static
// membership's membership actor, etcd membership's link actor). With every heartbeat interval
// the holder pings each linked peer with (ping_atom, its own steady-clock time in ns); the
// peer's holder echoes the number; the sender records now minus the echo in
// herald_cluster_link_rtt_seconds{peer="<name>"}. Built-in types only (an atom and an
// integer): no announced wire type, and only the sender's clock is ever read. A ping
// unanswered within the timeout records nothing (failure detection is not this probe's job).
// A link_rtt belongs to its actor's state; it is not shared between threads.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace herald::metrics {
class histogram;
}

namespace herald::cluster {

/// (ping_atom, uint64_t sent_ns) → uint64_t sent_ns: answer with the number received.
using ping_atom = caf::atom_constant<caf::atom("cl_ping")>;

/// This process's steady clock in nanoseconds (the ping's stamp).
uint64_t steady_ns();

/// herald_cluster_link_rtt_seconds, one histogram per peer, registered at its first sample.
class link_rtt {
public:
  /// One echo of the ping stamped `sent_ns` from `node_id` (`peer_name` labels its series).
  void observe(uint16_t node_id, const std::string& peer_name, uint64_t sent_ns);

private:
  std::map<uint16_t, metrics::histogram*> by_node_;
};

/// Pings `peer`; its echo (within `timeout`) calls `on_echo(sent_ns)`, silence calls nothing.
template <class Self, class OnEcho>
void ping_peer(Self* self, const caf::actor& peer, std::chrono::milliseconds timeout,
               OnEcho on_echo) {
  self->request(peer, timeout, ping_atom::value, steady_ns())
      .then([on_echo](uint64_t sent_ns) mutable { on_echo(sent_ns); }, [](caf::error&) {});
}

}  // namespace herald::cluster
