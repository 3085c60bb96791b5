// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/etcd_members.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runtime/cluster/member_table.hpp"

namespace herald::cluster {

namespace {

using json = nlohmann::json;

std::string describe(const wire::member_info& m) {
  return "node " + m.name + " (" + m.address + ")";
}

node_row row_of(const wire::member_info& info, bool up, bool self,
                std::chrono::system_clock::time_point since) {
  node_row r;
  r.id = info.node_id;
  r.name = info.name;
  r.address = info.address;
  r.roles = info.roles;
  r.incarnation = info.incarnation;
  r.up = up;
  r.self = self;
  r.since_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch()).count();
  return r;
}

}  // namespace

std::string etcd_member_key(const std::string& prefix, uint16_t node_id) {
  return prefix + std::to_string(node_id);
}

std::string encode_etcd_member(const wire::join_request& req, bool draining) {
  json consistency = json::object();
  for (size_t i = 0; i < req.consistency_keys.size() && i < req.consistency_values.size(); ++i) {
    consistency[req.consistency_keys[i]] = req.consistency_values[i];
  }
  json out{{"protocol", req.protocol},  {"node_id", req.from.node_id},
           {"name", req.from.name},     {"address", req.from.address},
           {"roles", req.from.roles},   {"instance", std::to_string(req.from.instance)},
           {"consistency", consistency}};
  if (draining) {
    out["draining"] = true;  // absent otherwise: the value of a serving node is unchanged
  }
  return out.dump();
}

bool etcd_member_draining(const etcd_kv& kv) {
  auto j = json::parse(kv.value, nullptr, false);
  return j.is_object() && j.contains("draining") && j["draining"].is_boolean() &&
         j["draining"].get<bool>();
}

std::optional<wire::join_request> decode_etcd_member(const etcd_kv& kv) {
  auto j = json::parse(kv.value, nullptr, false);
  if (!j.is_object()) {
    return std::nullopt;
  }
  try {
    wire::join_request req;
    req.protocol = j.at("protocol").get<uint32_t>();
    req.from.node_id = j.at("node_id").get<uint16_t>();
    req.from.name = j.at("name").get<std::string>();
    req.from.address = j.at("address").get<std::string>();
    req.from.roles = j.at("roles").get<std::vector<std::string>>();
    req.from.instance = std::stoull(j.at("instance").get<std::string>());
    req.from.incarnation = static_cast<uint64_t>(kv.create_revision);
    for (const auto& [k, v] : j.at("consistency").items()) {
      req.consistency_keys.push_back(k);
      req.consistency_values.push_back(v.get<std::string>());
    }
    return req;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

etcd_member_set::etcd_member_set(settings s, uint64_t instance,
                                 std::chrono::system_clock::time_point wall_now)
    : settings_(std::move(s)) {
  self_.info.node_id = settings_.node_id;
  self_.info.name = settings_.name;
  self_.info.address = settings_.listen;
  self_.info.roles = settings_.roles;
  self_.info.incarnation = 0;  // not registered yet
  self_.info.instance = instance;
  self_.up = true;
  self_.self = true;
  self_.since = wall_now;
}

wire::join_request etcd_member_set::self_request() const {
  wire::join_request req;
  req.protocol = settings_.protocol;
  req.from = self_.info;
  for (const auto& item : settings_.consistency) {
    req.consistency_keys.push_back(item.key);
    req.consistency_values.push_back(item.value);
  }
  return req;
}

void etcd_member_set::set_self_incarnation(uint64_t revision) {
  if (revision != self_.info.incarnation) {
    self_.info.incarnation = revision;
    ++generation_;
  }
}

std::optional<std::string> etcd_member_set::refusal(const wire::join_request& peer,
                                                    const std::string& key) const {
  if (peer.from.node_id == self_.info.node_id) {
    if (peer.from.instance == self_.info.instance) {
      return std::nullopt;  // this process's own key
    }
    return "cluster.node_id: " + std::to_string(peer.from.node_id) + " of " + describe(self_.info) +
           " is already used by " + describe(peer.from) + " (live etcd key " + key +
           "): every node needs its own id";
  }
  return join_refusal(settings_, self_.info.instance, peer);  // the static join's checks
}

etcd_member_set::apply_result etcd_member_set::apply(
    const std::vector<etcd_kv>& kvs, std::chrono::system_clock::time_point wall_now) {
  apply_result r;
  std::map<uint16_t, wire::member_info> live;
  std::map<uint16_t, bool> draining;
  for (const auto& kv : kvs) {
    auto req = decode_etcd_member(kv);
    if (!req || kv.key != etcd_member_key(settings_.etcd_prefix, req->from.node_id)) {
      ++r.undecodable;
      continue;
    }
    if (req->from.node_id == self_.info.node_id) {
      continue;  // this node is up in its own view; its key is the membership thread's concern
    }
    if (auto why = refusal(*req, kv.key)) {
      r.rejected.push_back(*why);
      continue;
    }
    live[req->from.node_id] = req->from;
    draining[req->from.node_id] = etcd_member_draining(kv);
  }
  for (auto& [id, info] : live) {
    auto it = peers_.find(id);
    if (it == peers_.end()) {
      entry e;
      e.info = info;
      e.up = true;
      e.draining = draining[id];
      e.since = wall_now;
      peers_.emplace(id, std::move(e));
    } else if (!it->second.up || it->second.info.instance != info.instance ||
               it->second.info.incarnation != info.incarnation) {
      it->second.info = info;
      it->second.up = true;
      it->second.draining = draining[id];
      it->second.since = wall_now;
    } else {
      if (it->second.draining != draining[id]) {
        it->second.draining = draining[id];  // the same process: still up, leaves the ring
        r.draining.push_back(id);
      }
      continue;
    }
    r.up.push_back(id);
  }
  for (auto& [id, e] : peers_) {
    if (e.up && live.count(id) == 0) {
      e.up = false;
      e.since = wall_now;
      r.down.push_back(id);
    }
  }
  r.changed = !r.up.empty() || !r.down.empty() || !r.draining.empty();
  if (r.changed) {
    ++generation_;
  }
  return r;
}

std::vector<node_row> etcd_member_set::rows() const {
  std::vector<node_row> out;
  out.push_back(row_of(self_.info, true, true, self_.since));
  out.back().draining = self_.draining;
  for (const auto& [id, e] : peers_) {
    out.push_back(row_of(e.info, e.up, false, e.since));
    out.back().draining = e.draining;
  }
  std::sort(out.begin(), out.end(),
            [](const node_row& a, const node_row& b) { return a.id < b.id; });
  return out;
}

std::shared_ptr<const ring> etcd_member_set::build_ring() const {
  auto has_guild = [](const wire::member_info& m) {
    return std::find(m.roles.begin(), m.roles.end(), "guild") != m.roles.end();
  };
  std::vector<uint16_t> nodes;
  if (has_guild(self_.info) && !self_.draining) {
    nodes.push_back(self_.info.node_id);
  }
  for (const auto& [id, e] : peers_) {
    if (e.up && !e.draining && has_guild(e.info)) {
      nodes.push_back(id);
    }
  }
  std::sort(nodes.begin(), nodes.end());
  return std::make_shared<const ring>(nodes, settings_.vnodes, generation_);
}

bool etcd_member_set::set_self_draining() {
  if (self_.draining) {
    return false;
  }
  self_.draining = true;
  ++generation_;
  return true;
}

std::vector<wire::member_info> etcd_member_set::up_peers() const {
  std::vector<wire::member_info> out;
  for (const auto& [id, e] : peers_) {
    if (e.up) {
      out.push_back(e.info);
    }
  }
  return out;
}

const wire::member_info* etcd_member_set::find(uint16_t node_id) const {
  if (node_id == self_.info.node_id) {
    return &self_.info;
  }
  auto it = peers_.find(node_id);
  return it == peers_.end() ? nullptr : &it->second.info;
}

bool etcd_member_set::is_up(uint16_t node_id) const {
  if (node_id == self_.info.node_id) {
    return true;
  }
  auto it = peers_.find(node_id);
  return it != peers_.end() && it->second.up;
}

}  // namespace herald::cluster
