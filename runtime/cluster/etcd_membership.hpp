// SPDX-License-Identifier: Apache-2.0
#pragma once
// Membership through etcd (cluster.membership = "etcd"): the node registers its member_info
// under cluster.etcd_prefix + node id with a lease of cluster.etcd_lease_ttl_s, renews the lease
// every third of the TTL and reads the whole prefix at the same pace and whenever its watch
// stream of the prefix reports a change (etcd_watch.hpp: the stream only triggers the read, the
// range read is the truth), publishing every change, with the ring rebuilt, to the
// cluster_view. A key
// that disappears (lease expired: the node crashed, froze or was cut off; or revoked: it
// stopped) is a member down.
//
// Threads: start() and stop() run on the caller's thread (the node's start-up/shutdown thread);
// everything after start() runs on one private thread ("etcd membership thread"), never on a CAF
// scheduler thread, because every etcd request is a blocking HTTP round trip; the watch stream
// has its own thread, which only wakes this one.
// unreachable_reason(), requests() and failures() may be called from any thread. The peers
// callback runs on the thread that publishes: start()'s caller for the first publish, then the
// etcd membership thread.
// Invariant: while etcd cannot be reached the view keeps its last state (nobody is declared
// down for etcd's silence); /readyz carries unreachable_reason().

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/cluster/wire.hpp"

namespace herald::cluster {

class etcd_client;
class etcd_member_set;
class etcd_watch;

class etcd_membership {
public:
  /// Called with every publish: the members up other than this node (what the link actor
  /// connects to). Must not block.
  using peers_callback = std::function<void(std::vector<wire::member_info>)>;

  etcd_membership(settings s, uint64_t instance, std::shared_ptr<cluster_view> view,
                  peers_callback on_peers = {});
  ~etcd_membership();  ///< stop()
  etcd_membership(const etcd_membership&) = delete;
  etcd_membership& operator=(const etcd_membership&) = delete;

  /// Registers this node (waiting up to one lease TTL for a predecessor's key of the same
  /// node id to expire), reads the members once, publishes them and starts the thread.
  /// Returns the one-line error when etcd cannot be reached for a whole TTL, another live
  /// process holds this node id, or a registered node has another protocol or consistency item.
  std::optional<std::string> start();
  /// Stops the thread and revokes the lease (the others see this node down at once). Idempotent.
  void stop();

  /// This node drains: the thread is woken, takes it off its own ring and writes
  /// `"draining": true` into its key's value, so every node's watch (or next read)
  /// drops it from their rings too. Idempotent; any thread.
  void drain();

  /// Set while etcd is unreachable: "etcd unreachable since …: <error>; keeping the last
  /// cluster view".
  std::optional<std::string> unreachable_reason() const;
  uint64_t requests() const;
  uint64_t failures() const;
  /// Registrations after the first (lease lost while frozen or cut off), for tests and logs.
  uint64_t reregistrations() const noexcept { return reregistrations_.load(); }
  /// Change messages of the watch stream (herald_cluster_etcd_watch_events_total).
  uint64_t watch_events() const;
  /// Watch streams opened again after one ended or failed
  /// (herald_cluster_etcd_watch_restarts_total).
  uint64_t watch_restarts() const;

private:
  enum class registered { yes, held_by_other, not_yet };
  registered try_register(std::string& refusal);
  /// Renews the lease (registering again if it expired), then read_members().
  void poll_once();
  /// Reads the prefix and publishes what changed.
  void read_members();
  void run();
  void publish();
  void note_failure(const std::string& what);
  void note_success();

  settings settings_;
  std::shared_ptr<cluster_view> view_;
  peers_callback on_peers_;
  std::unique_ptr<etcd_client> client_;
  std::unique_ptr<etcd_member_set> members_;
  std::unique_ptr<etcd_watch> watch_;  // set by start()
  int64_t lease_ = 0;                  // 0: not registered
  std::chrono::steady_clock::time_point last_failure_log_{};
  std::atomic<uint64_t> reregistrations_{0};
  std::atomic<bool> drain_requested_{false};
  bool draining_written_ = false;  // the key's value says draining (the thread's)

  mutable std::mutex mutex_;  // guards unreachable_, stopping_ and poked_
  std::optional<std::string> unreachable_;
  bool stopping_ = false;
  bool poked_ = false;  // the watch saw a change: read now
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace herald::cluster
