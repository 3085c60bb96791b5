// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/keyed_service.hpp"

#include <mutex>
#include <unordered_map>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "runtime/supervision/dynamic_supervisor.hpp"
#include "runtime/supervision/messages.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "runtime/supervision/worker.hpp"

namespace herald::feature {

namespace {

supervision::partition_spec partitions_of(const keyed_service_spec& spec) {
  supervision::partition_spec out;
  out.name = spec.name;
  out.intensity = spec.intensity;
  return out;
}

}  // namespace

struct keyed_service::live_actors {
  std::mutex mutex;
  std::unordered_map<uint64_t, caf::actor> by_key;  ///< an entry leaves when its actor exits
};

keyed_service::keyed_service(keyed_service_spec spec)
    : spec_(std::move(spec)),
      registry_(spec_.name),
      supervisor_(partitions_of(spec_)),
      live_(std::make_shared<live_actors>()) {
  auto tracked = [live = live_, spawn = spec_.spawn](caf::actor_system& sys,
                                                     uint64_t key) -> caf::expected<caf::actor> {
    auto a = spawn(sys, key);
    if (!a || !*a) {
      return a;
    }
    {
      std::lock_guard<std::mutex> guard{live->mutex};
      live->by_key[key] = *a;
    }
    caf::actor_cast<caf::abstract_actor*>(*a)->attach_functor(
        [weak = std::weak_ptr<live_actors>(live), key, addr = a->address()] {
          if (auto l = weak.lock()) {
            std::lock_guard<std::mutex> guard{l->mutex};
            auto it = l->by_key.find(key);
            if (it != l->by_key.end() && it->second.address() == addr) {
              l->by_key.erase(it);
            }
          }
        });
    return a;
  };
  auto start = registry::registered_start(registry_, std::move(tracked));
  child_ = std::make_shared<const supervision::child_spec>(
      supervision::worker_spec(spec_.kind, std::move(start), spec_.restart, spec_.kind));
}

keyed_service::~keyed_service() = default;

caf::error keyed_service::start(caf::actor_system& sys, std::chrono::milliseconds timeout,
                                const caf::actor& parent) {
  system_.store(&sys, std::memory_order_release);
  if (!parent) {
    auto owner = supervisor_.start(sys, timeout);
    if (!owner) {
      return std::move(owner.error());
    }
    return {};
  }
  parent_ = parent;
  auto spec = std::make_shared<const supervision::child_spec>(supervisor_.as_child());
  auto owner = supervision::start_child(sys, parent, std::move(spec), {}, timeout);
  if (!owner) {
    return std::move(owner.error());
  }
  // As a root start does: wait until the owner has started its partitions.
  caf::scoped_actor self{sys};
  caf::error failure;
  self->request(*owner, timeout, supervision::ready_atom::value)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { failure = std::move(err); });
  return failure;
}

void keyed_service::stop(std::chrono::milliseconds timeout) {
  auto* sys = system_.exchange(nullptr);
  if (sys == nullptr) {
    return;
  }
  auto owner = supervisor_.owner();
  if (!owner) {
    return;
  }
  if (parent_) {
    (void)supervision::terminate_child(*sys, parent_, owner, timeout);
  } else {
    supervision::stop_supervisor(*sys, owner, timeout);
  }
}

size_t keyed_service::stop_actors() {
  std::vector<std::pair<uint64_t, caf::actor>> actors;
  {
    std::lock_guard<std::mutex> guard{live_->mutex};
    actors.assign(live_->by_key.begin(), live_->by_key.end());
  }
  size_t asked = 0;
  for (const auto& [key, actor] : actors) {
    // Unregistered first: the key's next use starts a fresh actor, never this one.
    registry_.unregister(key, actor);
    if (auto partition = supervisor_.partition_for(supervision::child_key{key})) {
      caf::anon_send(partition, supervision::terminate_child_atom::value, actor);
      ++asked;
    }
  }
  return asked;
}

caf::expected<caf::actor> keyed_service::ensure_started(uint64_t key,
                                                        std::chrono::milliseconds timeout) {
  auto* sys = system();
  if (sys == nullptr) {
    return caf::make_error(caf::sec::invalid_argument, spec_.name + " not started");
  }
  return registry::ensure_started(*sys, registry_, supervisor_, child_, key, timeout);
}

}  // namespace herald::feature
