// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/node.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "runtime/config/validators.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/limit_refusals.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/node/admin_guard.hpp"
#include "runtime/node/admin_token.hpp"
#include "runtime/node/memory_tuning.hpp"
#include "runtime/node/private_files.hpp"
#include "runtime/node/process_metrics.hpp"
#include "runtime/node/scheduler_tuning.hpp"
#include "runtime/supervision/errors.hpp"
#include "runtime/supervision/supervision_tree.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace herald::node {

namespace {

/// How long start() waits for the root tree to start its children.
constexpr std::chrono::seconds root_start_timeout{30};
/// Extra time the run_node watchdog allows past runtime.shutdown_timeout_ms for the
/// kill path and the actor system's own teardown before it forces exit code 1.
constexpr std::chrono::milliseconds watchdog_grace{2000};

// Restarts per supervisor are counted by supervision itself
// (herald_supervisor_restarts_total); children per live supervisor come from its table.
std::vector<metrics::sample> supervisor_children_samples() {
  std::vector<metrics::sample> out;
  for (const auto& s : supervision::live_supervisors()) {
    out.push_back(
        {"herald_supervisor_children", {{"supervisor", s.name}}, static_cast<double>(s.children)});
  }
  return out;
}

supervision::supervisor_spec make_spec(std::string name, supervision::strategy s,
                                       std::vector<supervision::child_spec> children) {
  supervision::supervisor_spec spec;
  spec.name = std::move(name);
  spec.restart_strategy = s;
  spec.children = std::move(children);
  return spec;
}

}  // namespace

std::string to_string(start_errc e) {
  switch (e) {
    case start_errc::data_dir:
      return "data_dir";
    case start_errc::admin_listen:
      return "admin_listen";
    case start_errc::admin_auth:
      return "admin_auth";
    case start_errc::supervision:
      return "supervision";
    case start_errc::hook:
      return "hook";
  }
  return "unknown";
}

node::node(config::config cfg, node_options opts)
    : cfg_(std::move(cfg)), opts_(std::move(opts)), name_(cfg_.get_string("node.name")) {
  scheduler_tuning tuning;
  tuning.threads = cfg_.get_int("runtime.scheduler_threads");
  tuning.idle_poll_us = cfg_.get_int("runtime.scheduler_idle_poll_us");
  tuning.idle_wake_us = cfg_.get_int("runtime.scheduler_idle_wake_us");
  apply(tuning, caf_cfg_);
  if (!tune_malloc(cfg_.get_int("runtime.malloc_retain_mb"))) {
    log::get("node")->warn("runtime.malloc_retain_mb: glibc refused a malloc setting");
  }
  if (opts_.configure_actor_system) {
    opts_.configure_actor_system(caf_cfg_);
  }
  system_ = std::make_unique<caf::actor_system>(caf_cfg_);
  admin_ctx_.status = [this] { return status(); };
  admin_ctx_.not_ready_reason = opts_.not_ready_reason;
}

node::~node() {
  shutdown();
  for (auto id : collector_ids_) {
    metrics::registry::global().remove_collector(id);
  }
}

std::optional<start_error> node::start() {
  started_at_ = std::chrono::steady_clock::now();
  auto lg = log::get("node");
  auto own_files = opts_.data_files;
  own_files.emplace_back(admin_token_file_name);
  auto dir = make_private_dir(cfg_.get_string("node.data_dir"), "node.data_dir", own_files);
  if (dir.error) {
    return start_error{start_errc::data_dir, *dir.error};
  }
  for (const auto& w : dir.warnings) {
    lg->warn("{}", w);
  }
  if (auto err = load_admin_auth()) {
    return err;
  }
  auto& reg = metrics::registry::global();
  collector_ids_ = register_process_metrics(reg, std::chrono::system_clock::now());
  collector_ids_.push_back(reg.add_collector("herald_supervisor_children",
                                             "Children of each live supervisor.",
                                             [] { return supervisor_children_samples(); }));
  if (auto err = start_tree()) {
    return err;
  }
  if (opts_.on_start) {
    if (auto line = opts_.on_start(*system_)) {
      shutdown();
      return start_error{start_errc::hook, *line};
    }
  }
  if (auto err = start_admin()) {
    shutdown();
    return err;
  }
  *admin_ctx_.ready = !*root_failed_;
  lg->info("node {} ready: admin API on http://{}:{}", name_, admin_->options().host,
           admin_->port());
  return std::nullopt;
}

std::optional<start_error> node::start_tree() {
  // root is rest_for_one: if system_sup restarts, the services built on it restart too.
  auto root_spec =
      make_spec("root", supervision::strategy::rest_for_one,
                {supervision::supervisor_child(make_spec(
                     "system_sup", supervision::strategy::one_for_one, opts_.system_children)),
                 supervision::supervisor_child(make_spec(
                     "service_sup", supervision::strategy::one_for_one, opts_.service_children))});
  auto root = supervision::start_supervisor(*system_, std::move(root_spec), root_start_timeout);
  if (!root) {
    return start_error{start_errc::supervision, "root supervision tree failed to start: " +
                                                    supervision::describe(root.error())};
  }
  root_ = *root;
  started_ = true;
  // Runs on the root's thread when it exits; only an exit shutdown() did not ask for is a failure.
  root_->attach_functor([failed = root_failed_, stopping = stopping_, ready = admin_ctx_.ready,
                         name = name_](const caf::error& reason) {
    if (!*stopping) {
      *ready = false;
      *failed = true;
      log::get("node")->critical("node {}: root supervisor exited: {}", name,
                                 supervision::describe(reason));
    }
  });
  return std::nullopt;
}

std::optional<start_error> node::load_admin_auth() {
  auto lg = log::get("node");
  const auto& listen = cfg_.get_string("admin.listen");
  auto host = config::parse_endpoint(listen)->host;
  bool loopback = is_loopback_host(host);
  if (!cfg_.get_bool("admin.require_token")) {
    if (!loopback && !cfg_.get_bool("admin.allow_insecure")) {
      return start_error{start_errc::admin_auth,
                         "admin.require_token: false on the non-loopback admin.listen " + listen +
                             " lets anyone who reaches it control the node; set "
                             "admin.allow_insecure = true to accept that"};
    }
    if (loopback) {
      lg->warn("admin.require_token = false: every local user may use the admin API on {}", listen);
    } else {
      lg->error(
          "admin.require_token = false and admin.allow_insecure = true: the admin API on "
          "{} is open to anyone who reaches it",
          listen);
    }
  }
  auto token = load_admin_token(cfg_.get_string("admin.token_file"),
                                std::filesystem::path{cfg_.get_string("node.data_dir")});
  if (token.index() == 1) {
    return start_error{start_errc::admin_auth, std::get<1>(token)};
  }
  auto& t = std::get<0>(token);
  for (const auto& w : t.warnings) {
    lg->warn("{}", w);
  }
  lg->info("admin token {} {}", t.generated ? "generated into" : "read from", t.path.string());
  admin_token_ = std::move(t.value);
  return std::nullopt;
}

std::optional<start_error> node::start_admin() {
  auto ep = config::parse_endpoint(cfg_.get_string("admin.listen"));
  net::server_options sopts;
  sopts.name = "admin";
  sopts.host = ep->host;
  sopts.port = ep->port;
  // Out of descriptors, the admin API serves one waiting client on its spare descriptor:
  // /healthz, /readyz and /metrics stay reachable to say what is wrong.
  sopts.serve_on_spare_descriptor = true;
  admin_ = std::make_unique<net::http_server>(sopts);
  admin_guard_options guard;
  guard.token = admin_token_;
  guard.require_token = cfg_.get_bool("admin.require_token");
  guard.listen_host = ep->host;
  guard.bound_port = [server = admin_.get()] { return server->port(); };
  guard.allowed_hosts = cfg_.get_list("admin.allowed_hosts");
  guard.open_paths = cfg_.get_list("admin.open_endpoints");
  admin_->set_filter(make_admin_guard(std::move(guard)));
  add_admin_routes(*admin_, admin_ctx_);
  if (opts_.admin_routes) {
    opts_.admin_routes(*admin_, *system_);
  }
  if (auto err = admin_->start()) {
    return start_error{
        start_errc::admin_listen,
        "admin.listen: cannot listen on " + cfg_.get_string("admin.listen") + ": " + err.message()};
  }
  return std::nullopt;
}

bool node::shutdown() {
  if (!started_ || stopped_) {
    return true;
  }
  stopped_ = true;
  *stopping_ = true;
  auto lg = log::get("node");
  *admin_ctx_.ready = false;
  if (opts_.on_stop) {
    lg->info("node {} draining: stopping client-facing modules", name_);
    opts_.on_stop();
  }
  std::chrono::milliseconds timeout{cfg_.get_int("runtime.shutdown_timeout_ms")};
  lg->info("node {} draining: stopping the supervision tree (deadline {} ms)", name_,
           timeout.count());
  auto err = supervision::stop_supervisor(*system_, root_, timeout);
  root_ = nullptr;
  bool clean = true;
  // is_error() reads err.category(), which CAF 0.17 only allows on a non-empty error.
  if (err && supervision::is_error(err, supervision::supervision_errc::timeout)) {
    lg->error("node {}: supervision tree did not stop within {} ms; it was killed", name_,
              timeout.count());
    clean = false;
  } else if (err) {
    lg->warn("node {}: root supervisor exited with {}", name_, supervision::describe(err));
  }
  if (admin_) {
    admin_->stop();
  }
  lg->info("node {} stopped", name_);
  return clean;
}

uint16_t node::admin_port() const noexcept {
  return admin_ ? admin_->port() : 0;
}

node_status node::status() const {
  node_status s;
  s.node = name_;
  s.version = HERALD_VERSION;
  s.uptime_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  for (const auto& k : supervision::actors_alive_by_kind()) {
    s.actors_by_kind[k.kind] = static_cast<uint64_t>(std::max<int64_t>(0, k.alive));
  }
  for (const auto& sup : supervision::live_supervisors()) {
    s.supervisors.push_back({sup.name, sup.parent, sup.strategy, sup.children, sup.restarts});
  }
  s.limit_refusals = metrics::limit_refusals();
  return s;
}

namespace {

const char* signal_name(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal";
}

// Waits on the calling thread for the first SIGTERM/SIGINT (blocked everywhere else) or for
// the root supervisor to fail; returns the signal, or 0 for a root failure. Each SIGHUP runs
// `reload` on this thread and waits on.
int wait_for_signal_or_failure(const sigset_t& set, const node& n,
                               const std::function<void()>& reload) {
  for (;;) {
    timespec poll{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &poll);
    if (sig == SIGHUP) {
      log::get("node")->info("received SIGHUP; reloading");
      if (reload) {
        reload();
      }
      continue;
    }
    if (sig > 0) {
      return sig;
    }
    if (n.root_failed()) {
      return 0;
    }
  }
}

// Runs during shutdown: a second signal, or the deadline passing, ends the process
// with exit code 1 so a stuck actor can never keep the node alive.
void watchdog(const sigset_t& set, std::chrono::steady_clock::time_point deadline,
              const std::atomic<bool>& done) {
  auto lg = log::get("node");
  while (!done) {
    timespec poll{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &poll);
    if (sig == SIGHUP) {
      continue;  // no reload while stopping, and not a reason to exit
    }
    if (sig > 0) {
      lg->error("received {} during shutdown; exiting now", signal_name(sig));
    } else if (std::chrono::steady_clock::now() > deadline) {
      lg->error("shutdown deadline exceeded; exiting now");
    } else {
      continue;
    }
    lg->flush();
    _exit(1);
  }
}

}  // namespace

int run_node(const config::config& cfg, node_options opts) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // Blocked before any thread starts, so every thread inherits the mask and only
  // sigwait/sigtimedwait below ever see these signals.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Every file the daemon creates (store, WAL, secrets, admin token) is owner-only, whatever
  // the caller's umask; files also get explicit modes where they are created.
  ::umask(077);
  log::setup(cfg);
  auto lg = log::get("node");
  auto reload = opts.on_reload;
  auto n = std::make_unique<node>(cfg, std::move(opts));
  if (auto err = n->start()) {
    lg->error("start failed: {}", err->message);
    return 1;
  }
  int sig = wait_for_signal_or_failure(set, *n, reload);
  std::chrono::milliseconds timeout{cfg.get_int("runtime.shutdown_timeout_ms")};
  if (sig > 0) {
    lg->info("received {}; shutting down", signal_name(sig));
  } else {
    lg->critical("root supervisor failed; shutting down with exit code 1");
  }
  std::atomic<bool> done{false};
  std::thread guard{
      [&] { watchdog(set, std::chrono::steady_clock::now() + timeout + watchdog_grace, done); }};
  bool clean = n->shutdown() && sig > 0;
  n.reset();  // joins the actor system's threads, still under the watchdog
  done = true;
  guard.join();
  lg->info("exit code {}", clean ? 0 : 1);
  lg->flush();
  return clean ? 0 : 1;
}

}  // namespace herald::node
