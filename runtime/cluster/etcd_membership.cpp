// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/etcd_membership.hpp"

#include <fmt/format.h>

#include "runtime/cluster/etcd_client.hpp"
#include "runtime/cluster/etcd_members.hpp"
#include "runtime/cluster/etcd_watch.hpp"
#include "runtime/log/log.hpp"

namespace herald::cluster {

namespace {

using steady_clock = std::chrono::steady_clock;
using system_clock = std::chrono::system_clock;

/// Lease renewal and prefix reads: a third of the TTL, so two renewals may fail before expiry.
std::chrono::milliseconds poll_interval(const settings& s) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(s.etcd_lease_ttl) / 3;
}

/// While etcd stays unreachable, one warning per this interval.
constexpr auto failure_log_interval = std::chrono::seconds{30};

std::string now_iso() {
  return format_utc_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

etcd_membership::etcd_membership(settings s, uint64_t instance, std::shared_ptr<cluster_view> view,
                                 peers_callback on_peers)
    : settings_(std::move(s)),
      view_(std::move(view)),
      on_peers_(std::move(on_peers)),
      client_(std::make_unique<etcd_client>(
          settings_.etcd_endpoints,
          std::max(std::chrono::milliseconds{200}, poll_interval(settings_)))),
      members_(std::make_unique<etcd_member_set>(settings_, instance, system_clock::now())) {}

etcd_membership::~etcd_membership() {
  stop();
}

etcd_membership::registered etcd_membership::try_register(std::string& refusal) {
  const auto key = etcd_member_key(settings_.etcd_prefix, settings_.node_id);
  // Another node's key with another protocol or secret: this node does not belong here.
  for (const auto& kv : client_->range_prefix(settings_.etcd_prefix).kvs) {
    auto peer = decode_etcd_member(kv);
    if (peer && peer->from.node_id != settings_.node_id) {
      if (auto why = members_->refusal(*peer, kv.key)) {
        refusal = *why;
        return registered::held_by_other;
      }
    }
  }
  if (lease_ == 0) {
    lease_ = client_->grant(settings_.etcd_lease_ttl);
  }
  auto r = client_->create(
      key, encode_etcd_member(members_->self_request(), members_->self_draining()), lease_);
  if (r.created) {
    members_->set_self_incarnation(static_cast<uint64_t>(r.revision));
    return registered::yes;
  }
  if (r.existing) {
    if (auto peer = decode_etcd_member(*r.existing)) {
      if (auto why = members_->refusal(*peer, key)) {
        refusal = *why;
        return registered::held_by_other;
      }
      // This process's own key: a repeated create whose first answer was lost. Adopt it.
      lease_ = r.existing->lease;
      members_->set_self_incarnation(static_cast<uint64_t>(r.existing->create_revision));
      return registered::yes;
    }
    refusal = "cluster.node_id: etcd key " + key + " is held by a value that is no herald member";
    return registered::held_by_other;
  }
  return registered::not_yet;  // expired between the compare and the read: try again
}

std::optional<std::string> etcd_membership::start() {
  auto lg = log::get("cluster");
  // A refused start leaves no lease behind (it may have expired already: errors are ignored).
  auto refuse = [this](std::string line) -> std::optional<std::string> {
    if (lease_ != 0) {
      try {
        client_->revoke(lease_);
      } catch (const etcd_error&) {
      }
      lease_ = 0;
    }
    return line;
  };
  const auto deadline = steady_clock::now() + settings_.etcd_lease_ttl + std::chrono::seconds{1};
  std::string last_error;
  std::string refusal;
  for (;;) {
    try {
      auto r = try_register(refusal);
      if (r == registered::yes) {
        break;
      }
      if (r == registered::held_by_other && refusal.rfind("cluster.node_id: ", 0) != 0) {
        return refuse(refusal);  // protocol or consistency: waiting changes nothing
      }
      // The id is held: a crashed predecessor's key lives until its lease expires.
    } catch (const etcd_error& e) {
      last_error = e.what();
      lease_ = 0;
    }
    if (steady_clock::now() >= deadline) {
      if (!refusal.empty()) {
        return refuse(refusal);
      }
      return refuse("cluster.etcd_endpoints: cannot register with etcd within " +
                    std::to_string(settings_.etcd_lease_ttl.count() + 1) + " s: " + last_error);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  lg->info("cluster: registered in etcd as {}{} (incarnation {}, lease {:x}, ttl {} s)",
           settings_.etcd_prefix, settings_.node_id, members_->self().incarnation, lease_,
           settings_.etcd_lease_ttl.count());
  try {
    poll_once();
  } catch (const etcd_error& e) {
    note_failure(e.what());
  }
  publish();
  // Started after the first read: its first message (the stream created) reads once more, so
  // a change between that read and the stream is not missed.
  watch_ = std::make_unique<etcd_watch>(
      settings_.etcd_endpoints, settings_.etcd_prefix,
      [this] {
        {
          std::lock_guard<std::mutex> lock{mutex_};
          poked_ = true;
        }
        wake_.notify_all();
      },
      poll_interval(settings_));
  watch_->start();
  thread_ = std::thread([this] { run(); });
  return std::nullopt;
}

void etcd_membership::drain() {
  drain_requested_ = true;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    poked_ = true;  // the thread acts at once (read_members), not at its next periodic round
  }
  wake_.notify_all();
}

void etcd_membership::stop() {
  if (watch_) {
    watch_->stop();  // first: it wakes the thread stopped next
  }
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (lease_ != 0) {
    try {
      client_->revoke(lease_);  // the key goes now, not at expiry
    } catch (const etcd_error& e) {
      log::get("cluster")->warn("cluster: cannot revoke the etcd lease ({}); it expires", e.what());
    }
    lease_ = 0;
  }
}

void etcd_membership::publish() {
  view_->publish(members_->rows(), members_->build_ring());
  if (on_peers_) {
    on_peers_(members_->up_peers());
  }
}

void etcd_membership::poll_once() {
  auto lg = log::get("cluster");
  if (lease_ != 0 && !client_->keep_alive(lease_)) {
    lg->warn(
        "cluster: the etcd lease of this node expired (frozen or cut off for more than {} s); "
        "registering again as a new incarnation",
        settings_.etcd_lease_ttl.count());
    lease_ = 0;
  }
  if (lease_ == 0) {
    std::string refusal;
    if (try_register(refusal) == registered::yes) {
      reregistrations_.fetch_add(1);
      lg->info("cluster: registered again in etcd, incarnation {}", members_->self().incarnation);
      publish();
    } else if (!refusal.empty()) {
      lg->error("cluster: cannot register again in etcd: {}", refusal);
    }
  }
  read_members();
}

void etcd_membership::read_members() {
  auto lg = log::get("cluster");
  if (drain_requested_.load() && members_->set_self_draining()) {
    lg->warn(
        "cluster: this node is draining: it leaves the guild ring and says so in its etcd key");
    publish();
  }
  if (members_->self_draining() && !draining_written_ && lease_ != 0) {
    client_->put(etcd_member_key(settings_.etcd_prefix, settings_.node_id),
                 encode_etcd_member(members_->self_request(), true), lease_);
    draining_written_ = true;
  }
  auto range = client_->range_prefix(settings_.etcd_prefix);
  auto r = members_->apply(range.kvs, system_clock::now());
  for (const auto& line : r.rejected) {
    lg->error("cluster: etcd member ignored: {}", line);
  }
  if (r.undecodable > 0) {
    lg->warn("cluster: {} keys under {} are no herald member registration", r.undecodable,
             settings_.etcd_prefix);
  }
  for (auto id : r.up) {
    const auto* m = members_->find(id);
    lg->info("cluster: node {} (id {}, {}) is up, incarnation {} (etcd revision {})", m->name, id,
             m->address, m->incarnation, range.revision);
  }
  for (auto id : r.draining) {
    lg->info("cluster: node {} (id {}) is draining: it leaves the guild ring",
             members_->find(id)->name, id);
  }
  for (auto id : r.down) {
    lg->warn("cluster: node {} (id {}) is down: its etcd key is gone (etcd revision {})",
             members_->find(id)->name, id, range.revision);
  }
  if (r.changed) {
    publish();
  }
}

void etcd_membership::note_failure(const std::string& what) {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    first = !unreachable_;
    if (first) {
      unreachable_ =
          "etcd unreachable since " + now_iso() + ": " + what + "; keeping the last cluster view";
    }
  }
  auto now = steady_clock::now();
  if (first || now - last_failure_log_ >= failure_log_interval) {
    last_failure_log_ = now;
    log::get("cluster")->warn("cluster: {} (next endpoint {})", what, client_->endpoint());
  }
}

void etcd_membership::note_success() {
  std::lock_guard<std::mutex> lock{mutex_};
  if (unreachable_) {
    unreachable_.reset();
    log::get("cluster")->info("cluster: etcd reachable again");
  }
}

void etcd_membership::run() {
  const auto interval = poll_interval(settings_);
  auto next_poll = steady_clock::now() + interval;
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    wake_.wait_until(lock, next_poll, [this] { return stopping_ || poked_; });
    if (stopping_) {
      break;
    }
    poked_ = false;
    // The lease is renewed on its own schedule however often the watch wakes this thread.
    const bool due = steady_clock::now() >= next_poll;
    lock.unlock();
    try {
      if (due) {
        poll_once();
      } else {
        read_members();
      }
      note_success();
    } catch (const etcd_error& e) {
      note_failure(e.what());
      watch_->kick();  // its connection may be as dead as this one, silently
    }
    lock.lock();
    if (due) {
      next_poll = steady_clock::now() + interval;
    }
  }
}

uint64_t etcd_membership::watch_events() const {
  return watch_ ? watch_->events() : 0;
}

uint64_t etcd_membership::watch_restarts() const {
  return watch_ ? watch_->restarts() : 0;
}

std::optional<std::string> etcd_membership::unreachable_reason() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return unreachable_;
}

uint64_t etcd_membership::requests() const {
  return client_->requests();
}

uint64_t etcd_membership::failures() const {
  return client_->failures();
}

}  // namespace herald::cluster
