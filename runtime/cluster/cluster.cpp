// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/cluster.hpp"

#include <atomic>
#include <future>
#include <memory>
#include <random>

#include <fmt/format.h>

#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/cluster/etcd_membership.hpp"
#include "runtime/cluster/link_actor.hpp"
#include "runtime/cluster/membership_actor.hpp"
#include "runtime/cluster/transport.hpp"
#include "runtime/config/validators.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::cluster {

namespace {

uint64_t random_instance() {
  std::random_device rd;
  uint64_t x = (uint64_t{rd()} << 32) ^ rd();
  return x == 0 ? 1 : x;
}

net::http_response json_answer(std::string body) {
  return net::http_response{200, "application/json", body + "\n", {{"Cache-Control", "no-store"}}};
}

}  // namespace

cluster_node::cluster_node(settings s) : settings_(std::move(s)) {
  node_row self;
  self.id = settings_.node_id;
  self.name = settings_.name;
  self.address = settings_.listen;
  self.roles = settings_.roles;
  self.incarnation = 1;
  self.up = true;
  self.self = true;
  view_ = std::make_shared<cluster_view>(self);
  // Unclustered (or before the first publish): the ring holds this node if it runs guilds.
  std::vector<uint16_t> guild_nodes;
  for (const auto& role : settings_.roles) {
    if (role == "guild") {
      guild_nodes.push_back(settings_.node_id);
    }
  }
  view_->publish({self}, std::make_shared<const ring>(guild_nodes, settings_.vnodes, 1));
}

cluster_node::~cluster_node() {
  stop();
}

std::optional<std::string> cluster_node::start(caf::actor_system& sys) {
  system_ = &sys;
  middleman_ = spawn_guarded_middleman(sys, settings_);
  if (settings_.etcd) {
    return start_etcd(sys);
  }
  auto lg = log::get("cluster");
  auto promise = std::make_shared<std::promise<std::optional<std::string>>>();
  auto outcome = promise->get_future();
  membership_options mo;
  mo.config = settings_;
  mo.instance = random_instance();
  mo.view = view_;
  mo.middleman = middleman_;
  mo.first_round_done = [promise](std::optional<std::string> refusal) {
    promise->set_value(std::move(refusal));
  };
  // Published before it can answer anything: the actor only dials out until peers reach it.
  {
    std::lock_guard<std::mutex> guard{drain_mutex_};  // drain() may run on the admin thread
    published_ = spawn_membership(sys, std::move(mo));
  }
  if (auto failure = open_port(sys)) {
    stop();
    return failure;
  }
  add_view_collectors();
  lg->info("cluster: node id {} listening on {} (port {}), seeds [{}]", settings_.node_id,
           settings_.listen, port_, fmt::join(settings_.seeds, ", "));
  auto wait = 2 * settings_.failure_timeout + settings_.heartbeat_interval;
  if (outcome.wait_for(wait) != std::future_status::ready) {
    lg->warn("cluster: not every seed answered within {} ms; joining them in the background",
             wait.count());
    return std::nullopt;
  }
  if (auto refusal = outcome.get()) {
    stop();
    return refusal;
  }
  return std::nullopt;
}

std::optional<std::string> cluster_node::open_port(caf::actor_system& sys) {
  auto ep = config::parse_endpoint(settings_.listen);
  caf::scoped_actor self{sys};
  std::optional<std::string> failure;
  // SO_REUSEADDR: a node restarted right after a crash binds its port although connections of
  // its predecessor linger in TIME_WAIT; a port another process listens on is still refused.
  const bool reuse_address = true;
  self->request(middleman_, std::chrono::seconds{10}, caf::publish_atom::value, ep->port,
                caf::actor_cast<caf::strong_actor_ptr>(published_), std::set<std::string>{},
                ep->host, reuse_address)
      .receive([&](uint16_t port) { port_ = port; },
               [&](caf::error& err) {
                 failure = "cluster.listen: cannot listen on " + settings_.listen + ": " +
                           sys.render(err);
               });
  if (failure) {
    return failure;
  }
  collector_ids_.push_back(metrics::registry::global().add_collector(
      "herald_cluster_connections_refused_total",
      "Connections to cluster.listen dropped before a cluster handshake (garbage, plain TCP, "
      "failed TLS handshake, handshake timeout).",
      [] {
        return std::vector<metrics::sample>{{"herald_cluster_connections_refused_total",
                                             {},
                                             static_cast<double>(refused_connections())}};
      },
      metrics::registry::collected_type::counter));
  return std::nullopt;
}

std::optional<std::string> cluster_node::start_etcd(caf::actor_system& sys) {
  auto lg = log::get("cluster");
  const auto instance = random_instance();
  // The port opens before the node registers: peers dial the address as soon as etcd lists it.
  link_options lo;
  lo.config = settings_;
  lo.instance = instance;
  lo.view = view_;
  lo.middleman = middleman_;
  published_ = spawn_link_actor(sys, std::move(lo));
  if (auto failure = open_port(sys)) {
    stop();
    return failure;
  }
  auto etcd = std::make_shared<etcd_membership>(
      settings_, instance, view_, [links = published_](std::vector<wire::member_info> up) {
        caf::anon_send(links, link_peers_atom::value, std::move(up));
      });
  if (auto err = etcd->start()) {
    stop();
    return err;
  }
  std::atomic_store(&etcd_, etcd);  // not_ready_reason() reads it on the admin thread
  add_view_collectors();
  auto& reg = metrics::registry::global();
  // Counters read from the membership on every scrape.
  auto etcd_counter = [&](const char* name, const char* help,
                          uint64_t (etcd_membership::*read)() const) {
    collector_ids_.push_back(reg.add_collector(
        name, help,
        [etcd, name, read] {
          return std::vector<metrics::sample>{{name, {}, static_cast<double>(((*etcd).*read)())}};
        },
        metrics::registry::collected_type::counter));
  };
  etcd_counter("herald_cluster_etcd_requests_total",
               "Requests this node sent to etcd (membership).", &etcd_membership::requests);
  etcd_counter("herald_cluster_etcd_failures_total",
               "etcd requests that failed (unreachable, timed out, HTTP error, bad answer).",
               &etcd_membership::failures);
  etcd_counter("herald_cluster_etcd_watch_events_total",
               "Change messages of the etcd watch stream of the member prefix (each one reads "
               "the prefix at once).",
               &etcd_membership::watch_events);
  etcd_counter("herald_cluster_etcd_watch_restarts_total",
               "etcd watch streams opened again after one ended or failed (the periodic read "
               "covers the gap).",
               &etcd_membership::watch_restarts);
  lg->info(
      "cluster: node id {} listening on {} (port {}) in etcd membership, endpoints [{}], "
      "prefix {}",
      settings_.node_id, settings_.listen, port_, fmt::join(settings_.etcd_endpoints, ", "),
      settings_.etcd_prefix);
  return std::nullopt;
}

void cluster_node::add_view_collectors() {
  auto& reg = metrics::registry::global();
  auto view = view_;
  collector_ids_.push_back(reg.add_collector(
      "herald_cluster_nodes_up", "Cluster members this node sees up (itself included).", [view] {
        return std::vector<metrics::sample>{
            {"herald_cluster_nodes_up", {}, static_cast<double>(view->up_count())}};
      }));
  collector_ids_.push_back(reg.add_collector(
      "herald_cluster_ring_generation",
      "Generation of this node's guild ring (raised on every membership change).", [view] {
        return std::vector<metrics::sample>{
            {"herald_cluster_ring_generation",
             {},
             static_cast<double>(view->current_ring()->generation())}};
      }));
}

void cluster_node::stop() {
  for (auto id : collector_ids_) {
    metrics::registry::global().remove_collector(id);
  }
  collector_ids_.clear();
  if (auto etcd = std::atomic_exchange(&etcd_, std::shared_ptr<etcd_membership>{})) {
    etcd->stop();
  }
  if (system_ == nullptr) {
    return;
  }
  {
    std::lock_guard<std::mutex> guard{drain_mutex_};
    if (published_) {
      caf::anon_send_exit(published_, caf::exit_reason::user_shutdown);
      published_ = nullptr;
    }
  }
  if (middleman_) {
    if (port_ != 0) {
      caf::anon_send(middleman_, caf::close_atom::value, port_);
    }
    caf::anon_send_exit(middleman_, caf::exit_reason::user_shutdown);
    middleman_ = nullptr;
  }
  port_ = 0;
  system_ = nullptr;
}

std::optional<std::string> cluster_node::drain() {
  if (!settings_.clustered()) {
    return std::string{
        "this node is not clustered: no other node can take its guilds (stop it with SIGTERM)"};
  }
  if (settings_.etcd) {
    auto etcd = std::atomic_load(&etcd_);
    if (!etcd) {
      return std::string{"cluster membership is not running"};
    }
    draining_ = true;
    etcd->drain();
    return std::nullopt;
  }
  std::lock_guard<std::mutex> guard{drain_mutex_};
  if (!published_) {
    return std::string{"cluster membership is not running"};
  }
  draining_ = true;
  caf::anon_send(published_, drain_atom::value);
  return std::nullopt;
}

std::optional<std::string> cluster_node::not_ready_reason() const {
  auto etcd = std::atomic_load(&etcd_);
  return etcd ? etcd->unreachable_reason() : std::nullopt;
}

void cluster_node::mount_admin_routes(net::http_server& server) const {
  auto view = view_;
  server.route("GET", "/v1/cluster/nodes",
               [view](const net::http_request&) { return json_answer(view->nodes_json()); });
  server.route("GET", "/v1/cluster/ring",
               [view](const net::http_request&) { return json_answer(view->ring_json()); });
}

std::shared_ptr<cluster_node> attach(node::node_options& opts, settings s) {
  auto cluster = std::make_shared<cluster_node>(std::move(s));
  opts.admin_routes = [cluster, previous = std::move(opts.admin_routes)](net::http_server& server,
                                                                         caf::actor_system& sys) {
    if (previous) {
      previous(server, sys);
    }
    cluster->mount_admin_routes(server);
  };
  if (!cluster->config().clustered()) {
    return cluster;  // no transport, no port: the routes show this node alone
  }
  opts.configure_actor_system = [cluster](caf::actor_system_config& cfg) {
    configure_actor_system(cfg, cluster->config());
  };
  opts.on_start = [cluster, next = std::move(opts.on_start)](
                      caf::actor_system& sys) -> std::optional<std::string> {
    if (auto err = cluster->start(sys)) {
      return err;
    }
    return next ? next(sys) : std::nullopt;
  };
  opts.not_ready_reason =
      [cluster, previous = std::move(opts.not_ready_reason)]() -> std::optional<std::string> {
    if (auto reason = cluster->not_ready_reason()) {
      return reason;
    }
    return previous ? previous() : std::nullopt;
  };
  opts.on_stop = [cluster, previous = std::move(opts.on_stop)] {
    if (previous) {
      previous();
    }
    cluster->stop();
  };
  return cluster;
}

}  // namespace herald::cluster
