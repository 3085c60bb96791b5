// SPDX-License-Identifier: Apache-2.0
#pragma once
// herald-bench fanout --nodes N (N >= 2): the fan-out benchmark across a cluster of N node
// processes on loopback. The orchestrator (fanout_cluster.cpp, the process the user started)
// seeds one PostgreSQL database and spawns N copies of herald-bench's hidden `fanout-node`
// subcommand (fanout_node.cpp), each a heraldd-equivalent node (app::make_node_options: the
// store, the dispatch services with the cluster view, static membership over plaintext
// loopback). Node 1 has the only `guild` role, so the ring puts every guild on it, and
// publishes the events; sessions are opened in-process on nodes 2..N, each node a contiguous
// block of them, and receive the events through their node's relay from node 1's exporters.
// The orchestrator coordinates the nodes with lines on their stdin and stdout and prints the
// one-process bench's keys plus network_messages_per_event= and cross_node_bytes_per_event=.
// Every wait of either side is bounded (--timeout); nodes die with the orchestrator
// (PR_SET_PDEATHSIG) and are killed on its every exit path.
//
// Invariant: times are CLOCK_MONOTONIC nanoseconds (the same clock in every process of the
// machine), so node 1's publish times and the session nodes' completion times compare directly.
//
// Node → orchestrator, on the node's stdout:
//   "setup setup_s=<s> rss_delta=<bytes> initial_frames_bytes=<n> idle_held_bytes=<n>
//    prefaulted_bytes=<n>"              session nodes, after their sessions subscribed
//   "ready <sessions> 0"               joined (every node up) and, session nodes, subscribed
//   "start <k> <ns>"                   node 1, per event k: when it was published
//   "published failed=<n>"             node 1: every publish acked (or refused, or timed out)
//   "done <k> <ns> <delivered>"        session nodes, per event k of a guild with sessions
//                                      there, in k order: when its last delivery there landed
//                                      (0: not within --timeout) and the deliveries there
//   "finished complete=<0|1>"          session nodes: after the last "done"
//   "relay messages=<n> bytes=<n> events=<n> commits=<n> committed_events=<n>"
//                                      node 1, asked "report": what its exporters sent and its
//                                      store writer committed during the events phase
// Orchestrator → node, on its stdin: "go" (start the events phase), "next" (serial mode,
// node 1: the event just published reached every session), "report" (node 1), "stop" (shut
// down and exit). EOF on stdin stops a node too.

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/herald-bench/fanout_common.hpp"

namespace herald::bench {

/// What a node process is told on its command line.
struct fanout_node_options {
  fanout_options run;              ///< the run's sizes, mode, timeout, wave, warm, connected
  size_t index = 1;                ///< 1-based: cluster.node_id; node 1 owns every guild
  std::vector<std::string> seeds;  ///< every node's cluster address, node 1 first
  std::string postgres_url;        ///< the seeded database every node shares
  std::string secret_file;         ///< the cluster's token secret
  std::string data_dir;            ///< this node's node.data_dir
};

/// The sessions [first, second) that node `index` (1-based, >= 2) of `nodes` holds: the run's
/// sessions split in contiguous, even blocks over nodes 2..N (node 1 holds none).
std::pair<size_t, size_t> sessions_of_node(size_t sessions, size_t nodes, size_t index);

/// The orchestrator; returns the exit code (0 only when every expected delivery landed).
int run_fanout_cluster(const fanout_options& o);

/// Registers the hidden `fanout-node` subcommand.
void add_fanout_node_command(CLI::App& app);

}  // namespace herald::bench
