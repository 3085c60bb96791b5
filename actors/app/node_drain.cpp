// SPDX-License-Identifier: Apache-2.0
#include "actors/app/node_drain.hpp"

#include <limits>

#include <caf/send.hpp>

#include "actors/session/session_actor.hpp"
#include "runtime/log/log.hpp"

namespace herald::app {

namespace {

metrics::registry& reg() {
  return metrics::registry::global();
}

}  // namespace

node_drain::node_drain(drain_options o)
    : opts_(std::move(o)),
      draining_gauge_(reg().get_gauge("herald_node_draining",
                                      "1 while this node drains (heraldctl drain), else 0")),
      migrated_(session::sessions_migrated("told")),
      detached_closed_(reg().get_counter(
          "herald_drain_detached_sessions_closed_total",
          "Sessions a drain closed because no client resumed them on another node within "
          "cluster.drain_detached_wait_ms after the window (their clients identify again)")) {}

node_drain::~node_drain() {
  stop();
}

std::optional<std::string> node_drain::start(bool exit) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopping_) {
    return std::string{"the node is stopping"};
  }
  if (exit) {
    exit_ = true;
  }
  if (started_.load()) {
    wake_.notify_all();
    return std::nullopt;
  }
  if (auto refusal = opts_.cluster->drain()) {
    return refusal;
  }
  started_ = true;
  initial_ = opts_.gateway ? opts_.gateway->connections() : 0;
  draining_gauge_.set(1);
  log::get("app")->warn(
      "drain: this node leaves the guild ring; {} gateway connections are told to reconnect over "
      "{} ms{}",
      opts_.gateway ? opts_.gateway->connections() : 0, opts_.window.count(),
      exit ? "; the node exits once drained" : "");
  pacer_ = std::thread{[this] { run(); }};
  return std::nullopt;
}

void node_drain::stop() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (pacer_.joinable()) {
    pacer_.join();
  }
}

bool node_drain::pace(std::chrono::steady_clock::duration elapsed) {
  if (!opts_.gateway) {
    return true;
  }
  size_t n = 0;
  const bool over = elapsed >= opts_.window || opts_.window.count() == 0;
  if (over) {
    // Everyone left, also a connection whose upgrade passed the front door just before the
    // drain began (this runs on every step after the window).
    n = opts_.gateway->drain_some(std::numeric_limits<size_t>::max());
  } else {
    // Spread evenly: by elapsed/window, that share of the connections open at the start has
    // been told (rounded up).
    const auto e = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
    const auto w = static_cast<uint64_t>(opts_.window.count());
    const uint64_t due = (initial_ * e + w - 1) / w;
    if (due > told_.load()) {
      n = opts_.gateway->drain_some(static_cast<size_t>(due - told_.load()));
    }
  }
  told_ += n;
  migrated_.inc(static_cast<double>(n));
  return over;
}

void node_drain::stop_moved_guilds() {
  auto ring = opts_.cluster->view()->current_ring();
  for (auto guild_id : opts_.svc->guilds.keys()) {
    auto owner = ring->owner(guild_id);
    if (owner && *owner == opts_.node_id) {
      continue;
    }
    if (auto g = opts_.svc->guilds.lookup(guild_id)) {
      log::get("app")->info("drain: stopping guild {} (its owner is now node {})", guild_id,
                            owner ? std::to_string(*owner) : std::string{"none"});
      caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
    }
  }
}

void node_drain::close_detached_sessions() {
  size_t closed = 0;
  for (auto session_id : opts_.svc->sessions.keys()) {
    if (auto s = opts_.svc->sessions.lookup(session_id)) {
      caf::anon_send(s, session::close_atom::value);
      ++closed;
    }
  }
  if (closed > 0) {
    detached_closed_.inc(static_cast<double>(closed));
    log::get("app")->warn(
        "drain: closing {} sessions nobody resumed within cluster.drain_detached_wait_ms ({} ms) "
        "after the window; their clients identify again",
        closed, opts_.detached_wait.count());
  }
}

bool node_drain::complete() const {
  return opts_.svc->guilds.size() == 0 && (!opts_.gateway || opts_.gateway->connections() == 0) &&
         opts_.svc->sessions.size() == 0;
}

void node_drain::run() {
  const auto started = std::chrono::steady_clock::now();
  bool paced = false;
  bool guilds_stopped = false;
  bool detached_closed = false;
  std::optional<std::chrono::steady_clock::time_point> drained_at;
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    lock.unlock();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (pace(elapsed)) {
      paced = true;
      paced_ = true;
    }
    if (paced && !guilds_stopped && elapsed >= opts_.window + opts_.grace) {
      stop_moved_guilds();
      guilds_stopped = true;
    }
    if (paced && !detached_closed && elapsed >= opts_.window + opts_.detached_wait) {
      close_detached_sessions();
      detached_closed = true;
    }
    const bool done = paced && complete();
    if (done && !drained_at) {
      log::get("app")->warn("drain: drained: no guild, gateway connection or session left here");
      drained_at = std::chrono::steady_clock::now();
    }
    const bool exit_due =
        done && std::chrono::steady_clock::now() - *drained_at >= opts_.exit_delay;
    lock.lock();
    if (exit_due && exit_.load() && !stopping_) {
      lock.unlock();
      log::get("app")->warn("drain: exiting as asked (heraldctl drain --exit)");
      if (opts_.exit) {
        opts_.exit();
      }
      return;
    }
    wake_.wait_for(lock, opts_.step);
  }
}

drain_status node_drain::status() const {
  drain_status s;
  s.window_ms = opts_.window.count();
  s.guilds_owned = opts_.svc->guilds.size();
  s.sessions = opts_.gateway ? opts_.gateway->connections() : 0;
  const size_t held = opts_.svc->sessions.size();
  s.sessions_detached = held > s.sessions ? held - s.sessions : 0;
  s.sessions_migrated = told_.load();
  s.exit = exit_.load();
  if (started_.load()) {
    // Drained needs the window over (every session told) as well as nothing left.
    s.state = paced_.load() && complete() ? "drained" : "draining";
  }
  return s;
}

}  // namespace herald::app
