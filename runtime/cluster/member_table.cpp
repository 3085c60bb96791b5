// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/member_table.hpp"

#include <algorithm>

namespace herald::cluster {

namespace {

std::string describe(const wire::member_info& m) {
  return "node " + m.name + " (" + m.address + ")";
}

}  // namespace

member_table::member_table(settings s, uint64_t instance, steady::time_point now,
                           wall::time_point wall_now)
    : settings_(std::move(s)) {
  member self;
  self.info.node_id = settings_.node_id;
  self.info.name = settings_.name;
  self.info.address = settings_.listen;
  self.info.roles = settings_.roles;
  self.info.incarnation = 1;
  self.info.instance = instance;
  self.since = wall_now;
  self.heard = now;
  self.self = true;
  members_.push_back(std::move(self));
}

wire::join_request member_table::make_join_request() const {
  wire::join_request req;
  req.protocol = settings_.protocol;
  req.from = self();
  for (const auto& item : settings_.consistency) {
    req.consistency_keys.push_back(item.key);
    req.consistency_values.push_back(item.value);
  }
  return req;
}

std::optional<std::string> member_table::check_join(const wire::join_request& req) const {
  const auto& me = self();
  if (req.protocol != settings_.protocol) {
    return "protocol_version: " + describe(req.from) + " speaks cluster protocol " +
           std::to_string(req.protocol) + ", " + describe(me) + " speaks " +
           std::to_string(settings_.protocol) + ": run the same herald release on every node";
  }
  if (req.from.node_id == me.node_id) {
    return "cluster.node_id: " + std::to_string(req.from.node_id) + " of " + describe(req.from) +
           " is already used by " + describe(me) + ": every node needs its own id";
  }
  for (const auto& m : members_) {
    // A member up with the same id but another process: a duplicate. A restarted node's
    // predecessor is down already when it crashed (its connection closed); a frozen one holds
    // the id until it is declared down.
    if (!m.self && m.info.node_id == req.from.node_id && m.info.instance != req.from.instance &&
        m.up) {
      return "cluster.node_id: " + std::to_string(req.from.node_id) + " of " + describe(req.from) +
             " is already used by " + describe(m.info) + ": every node needs its own id";
    }
  }
  for (const auto& item : settings_.consistency) {
    std::string theirs = "(none)";
    for (size_t i = 0; i < req.consistency_keys.size() && i < req.consistency_values.size(); ++i) {
      if (req.consistency_keys[i] == item.key) {
        theirs = req.consistency_values[i];
      }
    }
    if (theirs != item.value) {
      return item.key + ": " + describe(req.from) + " has fingerprint " + theirs + ", " +
             describe(me) + " has " + item.value + ": every node of a cluster needs the same";
    }
  }
  return std::nullopt;
}

void member_table::set_up(member& m, uint64_t incarnation, steady::time_point now,
                          wall::time_point wall_now) {
  m.up = true;
  m.info.incarnation = incarnation;
  m.since = wall_now;
  m.heard = now;
  ++generation_;
}

member_table::verdict member_table::on_join(const wire::join_request& req, steady::time_point now,
                                            wall::time_point wall_now) {
  verdict v;
  if (auto refusal = check_join(req)) {
    v.refusal = std::move(*refusal);
    return v;
  }
  v.accepted = true;
  return on_accepted(req.from, now, wall_now);
}

member_table::verdict member_table::on_accepted(const wire::member_info& peer,
                                                steady::time_point now, wall::time_point wall_now) {
  verdict v;
  v.accepted = true;
  auto* m = find_mut(peer.node_id);
  if (m == nullptr) {
    member fresh;
    fresh.info = peer;
    members_.push_back(std::move(fresh));
    set_up(members_.back(), peer.incarnation, now, wall_now);
    v.changed = true;
    return v;
  }
  if (m->self) {
    return v;  // refused in check_join; a reply from ourselves is not possible
  }
  if (m->info.instance != peer.instance) {
    // A restarted process of a node that was down (or silent): a new member, not draining.
    m->info = peer;
    m->draining = false;
    set_up(*m, peer.incarnation, now, wall_now);
    v.changed = true;
    return v;
  }
  m->heard = now;
  if (m->up) {
    if (peer.incarnation > m->info.incarnation) {
      set_up(*m, peer.incarnation, now, wall_now);
      v.changed = true;
    }
    return v;
  }
  if (peer.incarnation > m->info.incarnation) {
    set_up(*m, peer.incarnation, now, wall_now);
    v.changed = true;
  } else {
    v.send_declared_down = true;  // comes back only as a new incarnation
  }
  return v;
}

member_table::heard member_table::on_heartbeat(const wire::heartbeat& hb, steady::time_point now,
                                               wall::time_point wall_now, bool& changed) {
  changed = false;
  auto* m = find_mut(hb.node_id);
  if (m == nullptr || m->self || m->info.instance != hb.instance) {
    return heard::unknown;
  }
  if (m->up) {
    m->heard = now;
    if (hb.incarnation > m->info.incarnation) {
      set_up(*m, hb.incarnation, now, wall_now);  // declared down elsewhere: a new incarnation
      changed = true;
    }
    return heard::ok;
  }
  if (hb.incarnation <= m->info.incarnation) {
    return heard::stale;
  }
  set_up(*m, hb.incarnation, now, wall_now);
  changed = true;
  return heard::ok;
}

bool member_table::on_declared_down(const wire::declared_down& d) {
  auto& me = members_.front().info;
  if (d.node_id != me.node_id || d.instance != me.instance || d.incarnation < me.incarnation) {
    return false;
  }
  me.incarnation = d.incarnation + 1;
  return true;
}

bool member_table::set_self_draining() {
  auto& me = members_.front();
  if (me.draining) {
    return false;
  }
  me.draining = true;
  ++generation_;
  return true;
}

bool member_table::on_drain_notice(const wire::drain_notice& n) {
  auto* m = find_mut(n.node_id);
  if (m == nullptr || m->self || m->info.instance != n.instance || m->draining == n.draining) {
    return false;
  }
  m->draining = n.draining;
  ++generation_;
  return true;
}

bool member_table::on_connection_lost(uint16_t node_id, uint64_t instance,
                                      wall::time_point wall_now) {
  auto* m = find_mut(node_id);
  if (m == nullptr || m->self || !m->up || m->info.instance != instance) {
    return false;
  }
  m->up = false;
  m->since = wall_now;
  ++generation_;
  return true;
}

member_table::tick_result member_table::tick(steady::time_point now, wall::time_point wall_now) {
  tick_result r;
  auto previous = last_tick_;
  last_tick_ = now;
  if (previous && now - *previous > settings_.failure_timeout) {
    // Frozen ourselves: nobody could have been heard. Give every peer a fresh timeout.
    r.paused = std::chrono::duration_cast<std::chrono::milliseconds>(now - *previous);
    for (auto& m : members_) {
      m.heard = now;
    }
    return r;
  }
  for (auto& m : members_) {
    if (!m.self && m.up && now - m.heard > settings_.failure_timeout) {
      m.up = false;
      m.since = wall_now;
      ++generation_;
      r.declared_down.push_back(m.info.node_id);
    }
  }
  return r;
}

std::vector<member> member_table::members() const {
  auto out = members_;
  std::sort(out.begin(), out.end(),
            [](const member& a, const member& b) { return a.info.node_id < b.info.node_id; });
  return out;
}

const member* member_table::find(uint16_t node_id) const {
  for (const auto& m : members_) {
    if (m.info.node_id == node_id) {
      return &m;
    }
  }
  return nullptr;
}

member* member_table::find_mut(uint16_t node_id) {
  return const_cast<member*>(find(node_id));
}

std::vector<std::string> member_table::up_peer_addresses() const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    if (!m.self && m.up) {
      out.push_back(m.info.address);
    }
  }
  return out;
}

std::vector<uint16_t> member_table::up_with_role(const std::string& role) const {
  std::vector<uint16_t> out;
  for (const auto& m : members_) {
    if (m.up && std::find(m.info.roles.begin(), m.info.roles.end(), role) != m.info.roles.end()) {
      out.push_back(m.info.node_id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint16_t> member_table::ring_nodes() const {
  std::vector<uint16_t> out;
  for (const auto& m : members_) {
    if (m.up && !m.draining &&
        std::find(m.info.roles.begin(), m.info.roles.end(), "guild") != m.info.roles.end()) {
      out.push_back(m.info.node_id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> join_refusal(const settings& s, uint64_t instance,
                                        const wire::join_request& req) {
  member_table fresh{s, instance, steady::now(), wall::now()};
  auto v = fresh.on_join(req, steady::now(), wall::now());
  if (!v.accepted) {
    return v.refusal;
  }
  return std::nullopt;
}

}  // namespace herald::cluster
