// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/partition_supervisor.hpp"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include <caf/exit_reason.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/scoped_actor.hpp>

namespace herald::supervision {

namespace detail {

/// Routing table shared by all copies of one partition_supervisor handle.
/// Holds weak addresses: the owner supervisor's child specs capture this table,
/// so strong handles here would form a cycle (table -> owner -> spec -> table)
/// that keeps every terminated supervisor of the tree alive (LeakSanitizer).
struct partition_table {
  partition_spec spec;
  mutable std::shared_mutex mutex;
  caf::actor_addr owner;               // guarded by mutex
  std::vector<caf::actor_addr> slots;  // guarded by mutex; size fixed at first start
};

}  // namespace detail

namespace {

// Start function of partition i: spawns its dynamic supervisor and
// publishes the handle, so routing follows restarts.
child_spec partition_child(std::shared_ptr<detail::partition_table> table, size_t i) {
  dynamic_supervisor_spec ds;
  ds.name = table->spec.name + "." + std::to_string(i);
  ds.intensity = table->spec.intensity;
  auto spec = dynamic_supervisor_child(ds);
  auto inner = spec.start;
  spec.start = [table, i, inner](const start_context& ctx) -> caf::expected<caf::actor> {
    auto res = inner(ctx);
    if (res) {
      std::unique_lock<std::shared_mutex> guard{table->mutex};
      table->slots[i] = res->address();
    }
    return res;
  };
  return spec;
}

}  // namespace

partition_supervisor::partition_supervisor(partition_spec spec)
    : table_(std::make_shared<detail::partition_table>()) {
  table_->spec = std::move(spec);
}

child_spec partition_supervisor::as_child() const {
  child_spec child;
  child.id = table_->spec.name;
  child.type = child_type::supervisor;
  child.shutdown = shutdown_policy::infinity();
  child.kind = "supervisor";
  auto table = table_;
  child.start = [table](const start_context& ctx) -> caf::expected<caf::actor> {
    size_t n = table->spec.partitions;
    if (n == 0) {
      n = std::max<size_t>(1, ctx.system.scheduler().num_workers());
    }
    {
      std::unique_lock<std::shared_mutex> guard{table->mutex};
      // The count is fixed by the first start so keys never move.
      if (table->slots.empty()) {
        table->slots.resize(n);
      }
      n = table->slots.size();
    }
    supervisor_spec owner;
    owner.name = table->spec.name;
    owner.parent = ctx.supervisor_name;
    owner.restart_strategy = strategy::one_for_one;
    owner.intensity = table->spec.owner_intensity;
    for (size_t i = 0; i < n; ++i) {
      owner.children.push_back(partition_child(table, i));
    }
    auto sup = spawn_supervisor(ctx.system, std::move(owner));
    std::unique_lock<std::shared_mutex> guard{table->mutex};
    table->owner = sup.address();
    return sup;
  };
  return child;
}

caf::expected<caf::actor> partition_supervisor::start(caf::actor_system& sys,
                                                      std::chrono::milliseconds timeout) {
  static const std::string no_parent;
  auto spec = as_child();
  child_key none;
  auto sup = spec.start(start_context{sys, none, no_parent});
  if (!sup) {
    return sup;
  }
  // Wait for the owner's ready reply, as start_supervisor() does.
  caf::scoped_actor self{sys};
  caf::error failure;
  self->request(*sup, timeout, ready_atom::value)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { failure = std::move(err); });
  if (failure) {
    if (failure == caf::sec::request_timeout) {
      self->send_exit(*sup, caf::exit_reason::kill);
      return make_error(supervision_errc::timeout, "partition supervisor start");
    }
    return failure;
  }
  return sup;
}

const std::string& partition_supervisor::name() const noexcept {
  return table_->spec.name;
}

caf::actor partition_supervisor::owner() const {
  std::shared_lock<std::shared_mutex> guard{table_->mutex};
  return caf::actor_cast<caf::actor>(table_->owner);
}

size_t partition_supervisor::partitions() const {
  std::shared_lock<std::shared_mutex> guard{table_->mutex};
  return table_->slots.size();
}

size_t partition_supervisor::partition_index(const child_key& key) const {
  auto n = partitions();
  return n == 0 ? 0 : static_cast<size_t>(key.hash() % n);
}

caf::actor partition_supervisor::partition(size_t index) const {
  std::shared_lock<std::shared_mutex> guard{table_->mutex};
  return index < table_->slots.size() ? caf::actor_cast<caf::actor>(table_->slots[index])
                                      : caf::actor{};
}

caf::actor partition_supervisor::partition_for(const child_key& key) const {
  std::shared_lock<std::shared_mutex> guard{table_->mutex};
  auto n = table_->slots.size();
  return n == 0 ? caf::actor{} : caf::actor_cast<caf::actor>(table_->slots[key.hash() % n]);
}

caf::expected<caf::actor> partition_supervisor::start_child(
    caf::actor_system& sys, child_spec_ptr spec, child_key key,
    std::chrono::milliseconds timeout) const {
  auto target = partition_for(key);
  if (!target) {
    return make_error(supervision_errc::shutting_down, "partition supervisor '" + name() +
                                                           "' has no running partition for key " +
                                                           key.to_string());
  }
  return herald::supervision::start_child(sys, target, std::move(spec), std::move(key), timeout);
}

bool partition_supervisor::cast_start_child(child_spec_ptr spec, child_key key) const {
  auto target = partition_for(key);
  if (!target) {
    return false;
  }
  herald::supervision::cast_start_child(target, std::move(spec), std::move(key));
  return true;
}

caf::expected<child_counts> partition_supervisor::count_children(
    caf::actor_system& sys, std::chrono::milliseconds timeout) const {
  child_counts total;
  auto n = partitions();
  for (size_t i = 0; i < n; ++i) {
    auto p = partition(i);
    if (!p) {
      continue;
    }
    auto c = herald::supervision::count_children(sys, p, timeout);
    if (!c) {
      return c.error();
    }
    total.specs += c->specs;
    total.active += c->active;
    total.supervisors += c->supervisors;
    total.workers += c->workers;
  }
  return total;
}

}  // namespace herald::supervision
