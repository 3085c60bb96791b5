// SPDX-License-Identifier: Apache-2.0
#include "actors/app/app.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include <openssl/sha.h>
#include <signal.h>
#include <unistd.h>

#include <caf/send.hpp>

#include "actors/admin/ctl_routes.hpp"
#include "actors/app/app_config.hpp"
#include "actors/app/cluster_status.hpp"
#include "actors/app/drain_route.hpp"
#include "actors/app/node_drain.hpp"
#include "actors/app/where_route.hpp"
#include "actors/dispatch/route_wire.hpp"
#include "actors/dispatch/start_services.hpp"
#include "actors/feature/feature_set.hpp"
#include "actors/feature/feature_wire.hpp"
#include "actors/gateway/gateway_server.hpp"
#include "actors/identity/revoke_notifier.hpp"
#include "actors/identity/revoke_wire.hpp"
#include "actors/identity/secret.hpp"
#include "actors/identity/token_authority.hpp"
#include "actors/outbound/outbound_limits.hpp"
#include "actors/relay/relay_wire.hpp"
#include "actors/rest/rest_api.hpp"
#include "actors/session/migrate_wire.hpp"
#include "actors/store/postgres_store.hpp"
#include "actors/store/sqlite_store.hpp"
#include "runtime/cluster/cluster.hpp"
#include "runtime/config/validators.hpp"
#include "runtime/log/log.hpp"
#include "runtime/net/fd_budget.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/supervision/dynamic_supervisor.hpp"

namespace herald::app {

namespace {

/// The store's file in node.data_dir; SQLite keeps its WAL and index beside it.
const std::string store_file = "herald.db";
/// Retry-After (seconds) of the 503s the front door answers while draining.
constexpr int drain_retry_after_s = 5;
/// How long stop waits for gateway connections to go after op 7, beyond the gateway's own
/// close delay.
constexpr std::chrono::milliseconds drain_margin{2000};
/// Per supervisor when stopping the dispatch services (and each feature service).
constexpr std::chrono::milliseconds services_stop_timeout{3000};
/// Per feature service when starting it.
constexpr std::chrono::milliseconds feature_start_timeout{5000};

/// Everything the hooks share; lives until the last hook copy is gone. Declaration order is
/// teardown order reversed: the front door goes first (its handlers read the rest).
/// The node tree's `features` supervisor (service_sup > features), parent of every feature
/// service's supervisor: its current handle, set by its start function on each (re)start (the
/// supervisor's thread), read when the features start (the node's start thread).
struct features_parent {
  std::mutex mutex;
  caf::actor handle;
};

/// The child spec of `features`: a dynamic supervisor recording its handle in `slot`.
supervision::child_spec features_supervisor(std::shared_ptr<features_parent> slot) {
  supervision::dynamic_supervisor_spec spec;
  spec.name = "features";
  auto child = supervision::dynamic_supervisor_child(spec);
  child.start = [start = child.start, slot](const supervision::start_context& ctx) {
    auto sup = start(ctx);
    if (sup) {
      std::lock_guard<std::mutex> guard{slot->mutex};
      slot->handle = *sup;
    }
    return sup;
  };
  return child;
}

/// How long `where` waits for the owner node to say whether the guild actor runs.
constexpr std::chrono::milliseconds where_owner_timeout{2000};

struct app_state {
  app_state(config::config c, std::vector<feature::feature_module> f)
      : cfg(std::move(c)), available_features(std::move(f)) {}

  config::config cfg;
  /// The features this build links; those in features.enabled run.
  std::vector<feature::feature_module> available_features;
  /// Read by the front door's filter and the REST routes.
  std::atomic<bool> draining{false};
  std::shared_ptr<store::store> store;
  /// "sqlite <file>" or "postgres <host:port/db as user>", for the start log line.
  std::string store_description;
  std::shared_ptr<identity::token_authority> tokens;
  /// Carries revokes to the other nodes and theirs to this one (clustered nodes only; null
  /// otherwise). Spawned once the gateway is up, stopped first.
  caf::actor revoke_notifier;
  caf::actor_system* system = nullptr;
  dispatch::services_ptr svc;
  /// The running features (none when features.enabled is empty); their routes read it.
  std::unique_ptr<feature::feature_set> features;
  /// Under the node's tree; its handle is set once the tree started (before on_start).
  std::shared_ptr<features_parent> features_sup = std::make_shared<features_parent>();
  std::shared_ptr<gateway::gateway_server> gateway;
  /// The front door's certificate (null without TLS); reloaded on SIGHUP.
  net::tls_context_ptr tls;
  std::unique_ptr<net::http_server> front;
  /// This node's cluster view (set by make_node_options before the node starts). `clustered`:
  /// seeds or etcd membership; either way publishes go to each guild's owner (dispatch router)
  /// over the cluster links.
  std::shared_ptr<const cluster::cluster_view> cluster_view;
  std::shared_ptr<cluster::cluster_node> cluster;
  /// `heraldctl drain` (node_drain.hpp); set at start once the gateway runs, read by the front
  /// door's filter, /readyz and the admin routes.
  std::shared_ptr<node_drain> drain;
  bool clustered = false;
  membership_kind membership = membership_kind::none;
};

std::optional<std::string> open_sqlite_store(app_state& st) {
  store::sqlite_options o;
  o.data_dir_ = st.cfg.get_string("node.data_dir");
  o.file_name_ = store_file;
  o.sync_ = st.cfg.get_string("store.sync") == "normal" ? store::sync_mode::normal
                                                        : store::sync_mode::full;
  auto opened = store::sqlite_store::open(o);
  if (!opened) {
    return "node.data_dir: cannot open the store: " +
           std::string{store::to_string(opened.error().code_)} + ": " + opened.error().message_;
  }
  st.store = std::shared_ptr<store::store>(std::move(opened).value());
  st.store_description = "sqlite " + st.cfg.get_string("node.data_dir") + "/" + store_file;
  return std::nullopt;
}

std::optional<std::string> open_postgres_store(app_state& st) {
  store::postgres_options o;
  o.url_ = st.cfg.get_string("store.postgres_url");
  o.readers_ = static_cast<int>(st.cfg.get_int("store.postgres_readers"));
  const auto password_file = st.cfg.get_string("store.postgres_password_file");
  if (!password_file.empty()) {
    std::ifstream in{password_file};
    if (!in || !std::getline(in, o.password_)) {
      return "store.postgres_password_file: cannot read \"" + password_file + "\"";
    }
    if (!o.password_.empty() && o.password_.back() == '\r') {
      o.password_.pop_back();
    }
  }
  auto opened = store::postgres_store::open(o);
  if (!opened) {
    return "store.postgres_url: cannot open the store: " +
           std::string{store::to_string(opened.error().code_)} + ": " + opened.error().message_;
  }
  st.store_description = "postgres " + opened.value()->description();
  st.store = std::shared_ptr<store::store>(std::move(opened).value());
  return std::nullopt;
}

// The per-session queue and resume bounds (gateway.queue_* / gateway.resume_*). The writer's
// frames plus the queue are at most twice the queue bound; a resume bound below that could
// evict frames a slow consumer was never handed, and its Resume after the 4000 close would
// not be exact (docs/gateway.md, "Limits"): refused.
std::optional<std::string> read_session_limits(const config::config& cfg,
                                               session::outbound_limits& out) {
  out.queue_max_frames = static_cast<uint32_t>(cfg.get_int("gateway.queue_max_frames"));
  out.queue_max_bytes = static_cast<uint32_t>(cfg.get_int("gateway.queue_max_bytes"));
  out.resume_max_frames = static_cast<uint32_t>(cfg.get_int("gateway.resume_max_frames"));
  out.resume_max_bytes = static_cast<uint32_t>(cfg.get_int("gateway.resume_max_bytes"));
  if (uint64_t{out.resume_max_frames} < 2 * uint64_t{out.queue_max_frames}) {
    return "gateway.resume_max_frames (" + std::to_string(out.resume_max_frames) +
           ") must be at least twice gateway.queue_max_frames (" +
           std::to_string(out.queue_max_frames) + ")";
  }
  if (uint64_t{out.resume_max_bytes} < 2 * uint64_t{out.queue_max_bytes}) {
    return "gateway.resume_max_bytes (" + std::to_string(out.resume_max_bytes) +
           ") must be at least twice gateway.queue_max_bytes (" +
           std::to_string(out.queue_max_bytes) + ")";
  }
  return std::nullopt;
}

std::optional<std::string> open_store(app_state& st) {
  return st.cfg.get_string("store.backend") == "postgres" ? open_postgres_store(st)
                                                          : open_sqlite_store(st);
}

// One line at start with the limits in force; a warning when they leave the store, the
// cluster and the admin API less than net::fd_headroom descriptors.
void log_connection_budget(const net::server_options& so) {
  auto lg = log::get("app");
  uint64_t nofile = net::open_files_limit();
  lg->info(
      "gateway.max_connections={} gateway.max_connections_per_ip={} (RLIMIT_NOFILE {}, "
      "headroom {})",
      so.max_connections, so.max_connections_per_ip, nofile, net::fd_headroom);
  if (so.max_connections == 0 || so.max_connections + net::fd_headroom > nofile) {
    lg->warn(
        "gateway.max_connections={} leaves fewer than {} of the {} descriptors "
        "(RLIMIT_NOFILE) to the store, the cluster and the admin API",
        so.max_connections, net::fd_headroom, nofile);
  }
}

// Why the node should get no new clients although it runs; read by /readyz.
std::optional<std::string> front_door_not_ready(const net::http_server& front) {
  auto h = front.health();
  if (h.at_max_connections) {
    return std::string{"gateway at max_connections"};
  }
  if (!h.accept_failing.empty()) {
    return "gateway accept failing: " + h.accept_failing;
  }
  return std::nullopt;
}

std::optional<std::string> start_front_door(app_state& st) {
  auto ep = config::parse_endpoint(st.cfg.get_string("gateway.listen"));
  net::server_options so;
  so.name = "gateway";
  so.host = ep->host;
  so.port = ep->port;
  so.threads = static_cast<size_t>(st.cfg.get_int("gateway.threads"));
  so.max_connections = static_cast<size_t>(st.cfg.get_int("gateway.max_connections"));
  so.max_connections_per_ip = static_cast<size_t>(st.cfg.get_int("gateway.max_connections_per_ip"));
  log_connection_budget(so);
  if (!st.cfg.get_string("gateway.tls_cert_file").empty()) {
    auto loaded = net::tls_context::load(tls_options(st.cfg), so.name);
    if (loaded.index() == 1) {
      return std::get<1>(loaded);
    }
    st.tls = std::get<0>(loaded);
    so.tls = st.tls;
  }
  st.front = std::make_unique<net::http_server>(so);
  auto tokens = st.tokens;
  auto authenticate = [tokens](std::string_view t) { return tokens->authenticate(t); };
  // While stopping, plain HTTP gets 503 + Retry-After; upgrades still reach the gateway,
  // which answers them with op 7 Reconnect. While the node drains (heraldctl drain) REST is
  // served (it routes to the guilds' owners) and new gateway connections get the 503: the
  // client goes to another node.
  st.front->set_filter([draining = &st.draining,
                        &st](const net::http_request& req) -> std::optional<net::http_response> {
    const bool upgrade = !req.header("Upgrade").empty();
    const bool refused = draining->load() ? !upgrade : upgrade && st.drain && st.drain->draining();
    if (!refused) {
      return std::nullopt;
    }
    return net::http_response{503,
                              "application/json",
                              "{\"message\": \"503: Service Unavailable\", \"code\": 0}",
                              {{"Retry-After", std::to_string(drain_retry_after_s)}}};
  });
  gateway::gateway_options go;
  go.heartbeat_interval_ms = static_cast<uint32_t>(st.cfg.get_int("gateway.heartbeat_interval_ms"));
  go.public_url = st.cfg.get_string("gateway.public_url");
  go.flush_delay = std::chrono::microseconds{st.cfg.get_int("gateway.flush_delay_us")};
  go.io_threads = so.threads;
  go.identify_limits.max_concurrency =
      static_cast<uint32_t>(st.cfg.get_int("gateway.identify_max_concurrency"));
  go.identify_limits.daily_total =
      static_cast<uint32_t>(st.cfg.get_int("gateway.identify_daily_limit"));
  st.gateway = std::make_shared<gateway::gateway_server>(st.svc, go, authenticate);
  st.front->on_websocket(
      [gw = st.gateway](net::ws_connection_ptr conn) { gw->accept(std::move(conn)); });
  auto rest_ctx = std::make_shared<rest::rest_context>();
  rest_ctx->svc = st.svc;
  rest_ctx->authenticate = authenticate;
  rest_ctx->gateway_url = st.cfg.get_string("gateway.public_url");
  rest_ctx->identify_budget =
      [gw = std::weak_ptr<gateway::gateway_server>(st.gateway)](uint64_t user_id) {
        rest::session_start_limit out;
        if (auto g = gw.lock()) {
          auto b = g->identify_budget_of(user_id);
          out = {b.total, b.remaining, b.reset_after_ms, b.max_concurrency};
        }
        return out;
      };
  rest_ctx->draining = &st.draining;
  rest_ctx->drain_retry_after_s = drain_retry_after_s;
  rest::mount_routes(*st.front, rest_ctx);
  // Same context, so the same rate-limit buckets, auth and draining as the core routes.
  st.features->mount(*st.front, rest_ctx);
  // Before the front door starts: its filter reads st.drain from the io threads.
  drain_options dopts;
  dopts.cluster = st.cluster;
  dopts.gateway = st.gateway;
  dopts.svc = st.svc;
  dopts.node_id = static_cast<uint16_t>(st.cfg.get_int("cluster.node_id"));
  dopts.window = std::chrono::milliseconds{st.cfg.get_int("cluster.drain_window_ms")};
  dopts.detached_wait = std::chrono::milliseconds{st.cfg.get_int("cluster.drain_detached_wait_ms")};
  // `heraldctl drain --exit`: the same path as an operator's SIGTERM (node.hpp's signal wait).
  dopts.exit = [] { ::kill(::getpid(), SIGTERM); };
  st.drain = std::make_shared<node_drain>(std::move(dopts));
  if (auto err = st.front->start()) {
    return "gateway.listen: cannot listen on " + st.cfg.get_string("gateway.listen") + ": " +
           err.message();
  }
  return std::nullopt;
}

// Revokes reach the other nodes over the static membership's connections (docs/cluster.md,
// "Token revocation"); a notice from a peer closes this node's connections of the user.
void start_revoke_notifier(app_state& st, caf::actor_system& sys) {
  identity::revoke_notifier_options o;
  o.node_id = static_cast<uint16_t>(st.cfg.get_int("cluster.node_id"));
  o.view = st.cluster_view;
  o.tokens = st.tokens;
  o.close_connections = [gw = std::weak_ptr<gateway::gateway_server>(st.gateway)](uint64_t user) {
    if (auto g = gw.lock()) {
      g->revoke_user(user);
    }
  };
  st.system = &sys;
  st.revoke_notifier = identity::spawn_revoke_notifier(sys, std::move(o));
}

std::optional<std::string> start(app_state& st, caf::actor_system& sys) {
  auto secret = identity::load_secret({st.cfg.get_string("identity.secret"),
                                       st.cfg.get_string("identity.secret_file"),
                                       st.cfg.get_string("node.data_dir")});
  if (!secret.ok()) {
    return secret.error;
  }
  if (auto err = open_store(st)) {
    return err;
  }
  st.tokens = std::make_shared<identity::token_authority>(
      secret.secret, st.store, *config::parse_duration(st.cfg.get_string("identity.token_max_age")),
      std::chrono::duration_cast<std::chrono::milliseconds>(
          *config::parse_duration(st.cfg.get_string("identity.epoch_cache_ttl"))));
  dispatch::dispatch_config dc;
  dc.resume_gateway_url = st.cfg.get_string("gateway.resume_url");
  if (auto err = read_session_limits(st.cfg, dc.session_limits)) {
    return err;
  }
  dc.node_id = static_cast<uint16_t>(st.cfg.get_int("cluster.node_id"));
  if (st.clustered) {
    dc.cluster = st.cluster_view;
    dc.relay_recent_events = 64;  // continues sessions migrated from other nodes
  }
  dc.event_tail_orders = static_cast<uint32_t>(st.cfg.get_int("dispatch.event_tail_orders"));
  dc.writer.max_batches = static_cast<size_t>(st.cfg.get_int("store.writer_max_batches"));
  dc.writer.max_wait = std::chrono::microseconds{st.cfg.get_int("store.writer_max_wait_us")};
  dc.writer.queue_batches = static_cast<size_t>(st.cfg.get_int("store.writer_queue_batches"));
  dc.writer.queue_bytes = static_cast<size_t>(st.cfg.get_int("store.writer_queue_bytes"));
  auto svc = dispatch::start_services(sys, dc, st.store);
  if (!svc) {
    return "dispatch services failed to start: " + caf::to_string(svc.error());
  }
  st.svc = *svc;
  caf::actor parent;
  {
    std::lock_guard<std::mutex> guard{st.features_sup->mutex};
    parent = st.features_sup->handle;
  }
  auto features = feature::feature_set::start(
      st.available_features, st.cfg.get_list("features.enabled"),
      feature::feature_context{st.svc, &st.cfg}, feature_start_timeout, parent);
  if (features.index() == 1) {
    return std::get<1>(features);
  }
  st.features = std::move(std::get<0>(features));
  if (auto err = start_front_door(st)) {
    return err;
  }
  if (st.clustered) {
    start_revoke_notifier(st, sys);
  }
  log::get("app")->info("gateway and REST on {}://{} (public {}), store {}",
                        st.tls ? "https" : "http", st.cfg.get_string("gateway.listen"),
                        st.cfg.get_string("gateway.public_url"), st.store_description);
  if (st.tls) {
    log::get("app")->info("gateway TLS on: tls_mode={} tls_min_version={} cert_sha256={}",
                          net::tls_write_mode(), st.cfg.get_string("gateway.tls_min_version"),
                          st.tls->fingerprint());
  }
  return std::nullopt;
}

// SIGHUP: new handshakes use the re-read certificate; a bad file keeps the current one.
void reload(app_state& st) {
  auto lg = log::get("app");
  if (!st.tls) {
    lg->info("SIGHUP: nothing to reload (gateway TLS is off)");
    return;
  }
  if (auto err = st.tls->reload()) {
    lg->error("SIGHUP: TLS reload failed, keeping the current certificate: {}", *err);
    return;
  }
  lg->info("SIGHUP: TLS certificate reloaded: cert_sha256={}", st.tls->fingerprint());
}

/// A clustered node stopping (SIGTERM, SIGINT) while other nodes are in its ring first leaves the
/// ring as a drain does, so that the others take its guilds over by orderly handoff (the guild
/// actors here commit what they staged and stop; the new owners claim) instead of by failure
/// detection and failover. Waits until no guild actor runs here or cluster.leave_handoff_ms
/// passed (0: no handoff); the guilds still running then stop with the node.
void hand_off_guilds(app_state& st) {
  const std::chrono::milliseconds budget{st.cfg.get_int("cluster.leave_handoff_ms")};
  if (!st.clustered || !st.drain || !st.svc || budget.count() == 0 || st.drain->draining() ||
      st.svc->guilds.size() == 0) {
    return;
  }
  const auto self = static_cast<uint16_t>(st.cfg.get_int("cluster.node_id"));
  // Whether another node is in the ring now: when every node stops at once they all leave the
  // ring, nobody takes the guilds, and waiting would only delay the stop.
  auto others_in_ring = [&] {
    const auto ring = st.cluster_view->current_ring();
    return std::any_of(ring->nodes().begin(), ring->nodes().end(),
                       [&](uint16_t n) { return n != self; });
  };
  if (!others_in_ring()) {
    return;
  }
  auto lg = log::get("app");
  if (auto err = st.drain->start(false)) {
    lg->warn("stop: cannot leave the guild ring before stopping: {}", *err);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const size_t running = st.svc->guilds.size();
  lg->info("stop: left the guild ring; handing {} guilds off (up to {} ms)", running,
           budget.count());
  while (st.svc->guilds.size() > 0 && std::chrono::steady_clock::now() - started < budget &&
         others_in_ring()) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  lg->info("stop: guild handoff took {} ms; {} of {} guilds still here stop with the node",
           took.count(), st.svc->guilds.size(), running);
}

void stop(app_state& st) {
  auto lg = log::get("app");
  hand_off_guilds(st);
  if (st.drain) {
    st.drain->stop();  // no more pacing: the shutdown below tells every connection left
  }
  st.draining = true;
  if (st.system != nullptr) {
    identity::stop_revoke_notifier(*st.system, st.revoke_notifier);
  }
  if (st.gateway) {
    lg->info("draining {} gateway connections (op 7 Reconnect)", st.gateway->connections());
    st.gateway->drain();
    auto deadline =
        std::chrono::steady_clock::now() + st.gateway->options().drain_close_delay + drain_margin;
    while (st.gateway->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }
  if (st.front) {
    st.front->stop();
  }
  if (st.features) {
    st.features->stop(services_stop_timeout);
  }
  if (st.svc) {
    dispatch::stop_services(st.svc, services_stop_timeout);
  }
  lg->info("front door, features and dispatch services stopped");
}

/// The first 16 hex digits of SHA-256 of the token secret: what nodes compare at join (the
/// secret itself never leaves the node). Empty when the secret cannot be read (start reports it).
std::string secret_fingerprint(const config::config& cfg) {
  auto secret = identity::load_secret({cfg.get_string("identity.secret"),
                                       cfg.get_string("identity.secret_file"),
                                       cfg.get_string("node.data_dir")});
  if (!secret.ok()) {
    return {};
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.secret.data()), secret.secret.size(),
         digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace

node::node_options make_node_options(const config::config& cfg,
                                     std::vector<feature::feature_module> features) {
  auto st = std::make_shared<app_state>(cfg, std::move(features));
  node::node_options opts;
  // What this app keeps in node.data_dir: the store with its WAL and index, the token secret.
  opts.data_files = {store_file, store_file + "-wal", store_file + "-shm",
                     identity::generated_secret_path("").filename().string()};
  if (!cfg.get_list("features.enabled").empty()) {
    // The features' supervisors hang under the node's tree, not beside it as roots.
    opts.service_children.push_back(features_supervisor(st->features_sup));
  }
  opts.on_start = [st](caf::actor_system& sys) { return start(*st, sys); };
  opts.on_stop = [st] { stop(*st); };
  opts.not_ready_reason = [st]() -> std::optional<std::string> {
    if (st->drain && st->drain->draining()) {
      return std::string{"draining"};
    }
    return st->front ? front_door_not_ready(*st->front) : std::nullopt;
  };
  opts.on_reload = [st] { reload(*st); };
  auto cs = cluster::settings_from(cfg);
  if (cs.clustered()) {
    cs.consistency.push_back({"identity.secret_file", secret_fingerprint(cfg)});
  }
  opts.admin_routes = [st](net::http_server& server, caf::actor_system&) {
    if (!st->svc) {
      return;
    }
    auto ctx = std::make_shared<admin::ctl_context>();
    ctx->svc = st->svc;
    ctx->tokens = st->tokens;
    ctx->ids = st->svc->ids;
    ctx->tokens_revoked = [gateway = st->gateway, notifier = st->revoke_notifier](uint64_t user_id,
                                                                                  uint64_t epoch) {
      if (gateway) {
        gateway->revoke_user(user_id);
      }
      if (notifier) {  // the other nodes of the cluster
        caf::anon_send(notifier, identity::revoke_atom::value, user_id, epoch);
      }
    };
    admin::mount_ctl_routes(server, ctx);
    // Shorter than heraldctl's default request timeout (5 s), so a frozen owner shows as
    // `reachable: false` instead of a timed-out command.
    mount_where_route(server, st->svc, st->cluster_view, st->clustered, where_owner_timeout);
    mount_cluster_status_route(server, st->cluster_view, st->membership);
    if (st->drain) {
      mount_drain_routes(server, st->drain);
    }
  };
  st->clustered = cs.clustered();
  st->membership = !cs.clustered() ? membership_kind::none
                   : cs.etcd       ? membership_kind::etcd
                                   : membership_kind::static_seeds;
  // After the app's hooks: the cluster starts before them and stops after them.
  st->cluster = cluster::attach(opts, std::move(cs));
  st->cluster_view = st->cluster->view();
  if (st->clustered) {
    // The dispatch routers', relays', revoke notifiers' and feature front doors' wire types
    // travel beside the cluster's own.
    opts.configure_actor_system =
        [next = std::move(opts.configure_actor_system)](caf::actor_system_config& cfg) {
          if (next) {
            next(cfg);
          }
          dispatch::route_wire::announce_route_wire_types(cfg);
          relay::relay_wire::announce_relay_wire_types(cfg);
          session::migrate_wire::announce_migrate_wire_types(cfg);
          identity::revoke_wire::announce_revoke_wire_types(cfg);
          feature::feature_wire::announce_feature_wire_types(cfg);
        };
  }
  return opts;
}

int run(const config::config& cfg, std::vector<feature::feature_module> features) {
  return node::run_node(cfg, make_node_options(cfg, std::move(features)));
}

}  // namespace herald::app
