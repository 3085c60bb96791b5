// SPDX-License-Identifier: Apache-2.0
#include "actors/services/services.hpp"

namespace herald::dispatch {

void staged_sessions::put(uint64_t session_id, std::shared_ptr<entry> staged) {
  std::lock_guard<std::mutex> guard{mutex_};
  entries_[session_id] = std::move(staged);
}

std::shared_ptr<staged_sessions::entry> staged_sessions::take(uint64_t session_id) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = entries_.find(session_id);
  if (it == entries_.end()) {
    return nullptr;
  }
  auto out = std::move(it->second);
  entries_.erase(it);
  return out;
}

void guild_handoff::put(uint64_t guild_id, item x) {
  std::lock_guard<std::mutex> guard{mutex_};
  items_[guild_id].push_back(std::move(x));
}

std::vector<guild_handoff::item> guild_handoff::take(uint64_t guild_id) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = items_.find(guild_id);
  if (it == items_.end()) {
    return {};
  }
  auto out = std::move(it->second);
  items_.erase(it);
  return out;
}

namespace {

supervision::partition_spec partition_spec_named(const char* name) {
  supervision::partition_spec spec;
  spec.name = name;
  return spec;
}

}  // namespace

services::services(caf::actor_system& sys, dispatch_config cfg, std::shared_ptr<store::store> st)
    : system(sys),
      config(std::move(cfg)),
      ids(domain::snowflake_generator::for_node(config.node_id)),
      store(std::move(st)),
      writer(std::make_shared<store::store_writer>(store, config.writer)),
      guild_supervisor(partition_spec_named("guilds")),
      relay_supervisor(partition_spec_named("relays")),
      session_supervisor(partition_spec_named("sessions")) {}

}  // namespace herald::dispatch
