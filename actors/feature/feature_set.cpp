// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/feature_set.hpp"

#include <algorithm>
#include <utility>

#include "actors/feature/front_door.hpp"
#include "actors/feature/owner_routing.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::feature {

namespace {

const feature_module* find(const std::vector<feature_module>& available, const std::string& name) {
  auto it = std::find_if(available.begin(), available.end(),
                         [&](const feature_module& m) { return m.name == name; });
  return it == available.end() ? nullptr : &*it;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::variant<std::unique_ptr<feature_set>, std::string> feature_set::start(
    const std::vector<feature_module>& available, const std::vector<std::string>& enabled,
    const feature_context& ctx, std::chrono::milliseconds timeout, const caf::actor& parent) {
  std::unique_ptr<feature_set> set{new feature_set};
  set->system_ = ctx.svc ? &ctx.svc->system : nullptr;
  auto fail = [&set, timeout](std::string why) {
    set->stop(timeout);
    return std::variant<std::unique_ptr<feature_set>, std::string>{std::move(why)};
  };
  for (size_t i = 0; i < enabled.size(); ++i) {
    const auto& name = enabled[i];
    const auto* module = find(available, name);
    if (module == nullptr) {
      return fail("features.enabled: unknown feature \"" + name +
                  "\" (this build has: " + joined(names_of(available)) + ")");
    }
    if (std::find(enabled.begin(), enabled.begin() + static_cast<std::ptrdiff_t>(i), name) !=
        enabled.begin() + static_cast<std::ptrdiff_t>(i)) {
      return fail("features.enabled: \"" + name + "\" is listed twice");
    }
    if (auto why = contract_violation(*module); !why.empty()) {
      return fail(why);
    }
    auto built = module->build(ctx);
    if (!built) {
      return fail("feature " + name + ": build failed: " + caf::to_string(built.error()));
    }
    for (const auto& r : built->routes) {
      if (auto why = contract_violation(name, r); !why.empty()) {
        return fail(why);
      }
    }
    set->running_.push_back(running{*module, std::move(*built)});
    for (const auto& svc : set->running_.back().instance.services) {
      if (auto err = svc->start(ctx.svc->system, timeout, parent)) {
        return fail("feature " + name + ": service " + svc->name() +
                    " failed to start: " + caf::to_string(err));
      }
    }
    const auto& instance = set->running_.back().instance;
    if (!module->observes.empty()) {
      if (!instance.observer) {
        return fail("feature " + name + " observes core events but built no observer");
      }
      dispatch::core_event_mask kinds = 0;
      for (auto k : module->observes) {
        kinds |= dispatch::mask_of(k);
      }
      ctx.svc->observers.add(name, kinds, instance.observer);
    }
    metrics::registry::global()
        .get_gauge("herald_feature_enabled", "Features this node runs (1 per enabled feature)",
                   {{"feature", name}})
        .set(1);
    std::string observed;
    for (auto k : module->observes) {
      observed += std::string{observed.empty() ? "" : ", "} + dispatch::name_of(k);
    }
    log::get("feature")->info("feature {} enabled: {} ({} services, {} routes, observes: {})", name,
                              module->summary, instance.services.size(), instance.routes.size(),
                              observed.empty() ? "none" : observed);
  }
  return std::variant<std::unique_ptr<feature_set>, std::string>{std::move(set)};
}

feature_set::~feature_set() = default;

void feature_set::mount(net::http_server& server, const std::shared_ptr<rest::rest_context>& ctx) {
  if (!ctx->svc->config.cluster) {
    // One node: every guild is this node's, the routes run as written.
    for (const auto& r : running_) {
      for (const auto& rt : r.instance.routes) {
        rest::mount(server, ctx, rt.method, rt.path, rt.needs_auth, rt.work);
      }
      if (r.instance.decorator) {
        ctx->decorators.push_back(r.instance.decorator);
      }
    }
    return;
  }
  if (running_.empty()) {
    return;  // nothing to forward or to answer: peers asking get "no front door there"
  }
  auto table = std::make_shared<front_door_table>();
  std::vector<keyed_service_ptr> services;
  for (const auto& r : running_) {
    for (const auto& rt : r.instance.routes) {
      table->routes[front_door_table::route_key(r.module.name, rt.method, rt.path)] = {rt.work,
                                                                                       rt.guild};
    }
    if (r.instance.decorator) {
      table->decorators[r.module.name] = r.instance.decorator;
    }
    services.insert(services.end(), r.instance.services.begin(), r.instance.services.end());
  }
  auto epoch = std::make_shared<ownership_epoch>(ctx->svc->config.cluster, std::move(services));
  front_door_options opts;
  opts.rest = ctx;
  opts.table = table;
  opts.epoch = epoch;
  front_door_ = spawn_front_door(ctx->svc->system, std::move(opts));
  auto routing = std::make_shared<owner_routing>(
      owner_routing{ctx->svc, std::make_shared<channel_guilds>(ctx->svc), front_door_, epoch});
  for (const auto& r : running_) {
    for (const auto& rt : r.instance.routes) {
      rest::mount(server, ctx, rt.method, rt.path, rt.needs_auth,
                  on_owner(routing, r.module.name, rt));
    }
    if (r.instance.decorator) {
      ctx->decorators.push_back(on_owner(routing, r.module.name, r.instance.decorator));
    }
  }
}

void feature_set::stop(std::chrono::milliseconds timeout) {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (system_ != nullptr) {
    stop_front_door(*system_, front_door_);
    front_door_ = caf::actor{};
  }
  for (auto r = running_.rbegin(); r != running_.rend(); ++r) {
    auto& services = r->instance.services;
    for (auto s = services.rbegin(); s != services.rend(); ++s) {
      (*s)->stop(timeout);
    }
  }
}

std::vector<std::string> feature_set::names() const {
  std::vector<std::string> out;
  for (const auto& r : running_) {
    out.push_back(r.module.name);
  }
  return out;
}

}  // namespace herald::feature
