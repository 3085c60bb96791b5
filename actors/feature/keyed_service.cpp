// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/keyed_service.hpp"

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

keyed_service::keyed_service(keyed_service_spec spec)
    : spec_(std::move(spec)), registry_(spec_.name), supervisor_(partitions_of(spec_)) {
  auto start = registry::registered_start(registry_, spec_.spawn);
  child_ = std::make_shared<const supervision::child_spec>(
      supervision::worker_spec(spec_.kind, std::move(start), spec_.restart, spec_.kind));
}

keyed_service::~keyed_service() = default;

caf::error keyed_service::start(caf::actor_system& sys, std::chrono::milliseconds timeout) {
  system_ = &sys;
  auto owner = supervisor_.start(sys, timeout);
  if (!owner) {
    return std::move(owner.error());
  }
  return {};
}

void keyed_service::stop(std::chrono::milliseconds timeout) {
  if (system_ == nullptr) {
    return;
  }
  if (auto owner = supervisor_.owner()) {
    supervision::stop_supervisor(*system_, owner, timeout);
  }
}

caf::expected<caf::actor> keyed_service::ensure_started(uint64_t key,
                                                        std::chrono::milliseconds timeout) {
  if (system_ == nullptr) {
    return caf::make_error(caf::sec::invalid_argument, spec_.name + " not started");
  }
  return registry::ensure_started(*system_, registry_, supervisor_, child_, key, timeout);
}

}  // namespace herald::feature
