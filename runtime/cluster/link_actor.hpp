// SPDX-License-Identifier: Apache-2.0
#pragma once
// The link actor: one per node with etcd membership, published on cluster.listen through the
// guarded middleman (transport.hpp) as static membership's actor is, so the port takes only
// peers of the cluster CA (mutual TLS) or refuses and counts what it takes. etcd
// (etcd_membership.hpp) says who is up; this actor dials every up peer at the address of its
// etcd value, checks it with a link handshake (the static join's request and checks:
// join_refusal), and hands the cluster_view the peer's link actor (cluster_view::set_peers),
// which answers lookups of named services as a static membership actor does. It never declares
// a node up or down: etcd alone does. Runs on the actor scheduler; its state is its own.
// Invariant: the view's peers are the linked peers of its link_table, each the instance etcd
// lists up.

#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman_actor.hpp>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/cluster/wire.hpp"

namespace herald::cluster {

/// (link_peers_atom, std::vector<wire::member_info> up): etcd's up members other than this
/// node, sent after every change of the view (local only); no reply. Links to peers no longer
/// listed, or listed as another instance, are forgotten; new ones are dialled.
using link_peers_atom = caf::atom_constant<caf::atom("cl_peers")>;

struct link_options {
  settings config;
  uint64_t instance = 0;  ///< this process's, as in its etcd value
  std::shared_ptr<cluster_view> view;
  caf::io::middleman_actor middleman;  ///< spawn_guarded_middleman()
};

/// Spawns the actor. Besides link_peers_atom it answers
///   wire::join_request (a peer's link handshake) with a wire::join_reply: accepted, or refused
///     with the one-line error of a static join (another protocol, this node's id, another
///     secret fingerprint or cluster.vnodes);
///   (lookup_service_atom, caf::atom_value) with the registered actor or null (peer_dial.hpp);
///   (ping_atom, uint64_t) with the number (link_rtt.hpp). It pings every linked peer once per
///   cluster.heartbeat_interval_ms (herald_cluster_link_rtt_seconds{peer}).
/// Stop it with an exit message.
caf::actor spawn_link_actor(caf::actor_system& sys, link_options opts);

}  // namespace herald::cluster
