// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/detail/dynamic_supervisor_actor.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <caf/exit_reason.hpp>

#include "runtime/metrics/actor_metrics.hpp"

namespace herald::supervision::detail {

namespace {

metrics::counter& handled_messages() {
  static auto& c = metrics::messages_handled("dynamic_supervisor");
  return c;
}

}  // namespace

namespace {

/// (stop_all_atom, seq): the longest shutdown timeout of a full stop elapsed.
using stop_all_atom = caf::atom_constant<caf::atom("sup_stopal")>;

/// Children signalled concurrently during a full stop.
constexpr size_t stop_window = 1024;

}  // namespace

dynamic_supervisor_actor::dynamic_supervisor_actor(caf::actor_config& cfg,
                                                   dynamic_supervisor_spec spec)
    : caf::event_based_actor(cfg),
      spec_(std::move(spec)),
      window_(spec_.intensity),
      metrics_(spec_.name, spec_.parent, "dynamic") {}

const char* dynamic_supervisor_actor::name() const {
  return "herald.dynamic_supervisor";
}

caf::behavior dynamic_supervisor_actor::make_behavior() {
  set_down_handler([this](caf::down_msg& dm) {
    handled_messages().inc();
    on_down(dm);
  });
  set_exit_handler([this](caf::exit_msg& em) {
    if (em.reason) {
      begin_stop(std::move(em.reason));
    }
  });
  delayed_send(this, spec_.mailbox_sample_period, sample_atom::value);
  return {
      [this](start_child_atom, child_spec_ptr& spec, child_key& key) {
        handled_messages().inc();
        return start(std::move(spec), std::move(key));
      },
      [this](terminate_child_atom, const caf::actor& who) {
        handled_messages().inc();
        return terminate(who);
      },
      [this](which_children_atom) {
        handled_messages().inc();
        metrics_.sample_mailbox(this);
        return which();
      },
      [this](count_children_atom) {
        handled_messages().inc();
        metrics_.sample_mailbox(this);
        return count();
      },
      // Ready as soon as it runs: it has no initial children.
      [this](ready_atom) -> caf::result<caf::ok_atom> {
        handled_messages().inc();
        if (stopping_) {
          return make_error(supervision_errc::shutting_down, spec_.name);
        }
        return caf::ok_atom::value;
      },
      [this](stop_timeout_atom, caf::actor_id id, uint64_t) {
        handled_messages().inc();
        auto i = terminating_.find(id);
        if (i != terminating_.end()) {
          spdlog::warn("supervisor '{}': child '{}' did not stop within {} ms; killing it",
                       spec_.name, i->second.c.spec->id, i->second.c.spec->shutdown.wait.count());
          send_exit(i->second.c.handle, caf::exit_reason::kill);
        }
      },
      [this](stop_all_atom) {
        handled_messages().inc();
        for (auto& kv : terminating_) {
          send_exit(kv.second.c.handle, caf::exit_reason::kill);
        }
        for (auto& c : stop_queue_) {
          auto id = c.handle.id();
          send_exit(c.handle, caf::exit_reason::kill);
          terminating_[id].c = std::move(c);
        }
        stop_queue_.clear();
      },
      [this](sample_atom) {
        handled_messages().inc();
        metrics_.sample_mailbox(this);
        delayed_send(this, spec_.mailbox_sample_period, sample_atom::value);
      },
  };
}

void dynamic_supervisor_actor::on_exit() {
  // Children never outlive their supervisor (see static_supervisor::on_exit).
  for (auto& kv : children_) {
    send_exit(kv.second.handle, caf::exit_reason::kill);
  }
  auto err = make_error(supervision_errc::shutting_down, spec_.name);
  for (auto& kv : terminating_) {
    send_exit(kv.second.c.handle, caf::exit_reason::kill);
    for (auto& rp : kv.second.waiters) {
      rp.deliver(err);
    }
  }
  for (auto& c : stop_queue_) {
    send_exit(c.handle, caf::exit_reason::kill);
  }
  stop_queue_.clear();
  for (auto& kv : pending_ready_) {
    kv.second.deliver(err);
  }
  children_.clear();
  terminating_.clear();
  pending_ready_.clear();
  metrics_.close();
}

caf::response_promise dynamic_supervisor_actor::start(child_spec_ptr spec, child_key key) {
  auto rp = make_response_promise();
  if (stopping_) {
    rp.deliver(make_error(supervision_errc::shutting_down, spec_.name));
    return rp;
  }
  if (!spec) {
    rp.deliver(make_error(supervision_errc::invalid_start, "start_child without a spec"));
    return rp;
  }
  auto res = start_one(this, *spec, key, spec_.name);
  if (!res) {
    rp.deliver(std::move(res.error()));
    return rp;
  }
  auto handle = *res;
  auto id = handle.id();
  bool is_sup = spec->type == child_type::supervisor;
  insert_child(child{handle, std::move(spec), std::move(key)});
  if (!is_sup) {
    rp.deliver(std::move(handle));
    return rp;
  }
  // A child supervisor is started once it says so; if its own start fails
  // it stops itself, and it must not be restarted as if it had crashed.
  pending_ready_.emplace(id, rp);
  request(handle, caf::infinite, ready_atom::value)
      .then(
          [this, handle, id](caf::ok_atom) {
            auto i = pending_ready_.find(id);
            if (i != pending_ready_.end()) {
              i->second.deliver(handle);
              pending_ready_.erase(i);
            }
          },
          [this, id](caf::error& err) {
            // request_receiver_down: the down message brings the real reason.
            auto i = pending_ready_.find(id);
            if (i == pending_ready_.end() || err == caf::sec::request_receiver_down) {
              return;
            }
            auto c = children_.find(id);
            if (c != children_.end()) {
              take_child(c);
            }
            i->second.deliver(std::move(err));
            pending_ready_.erase(i);
          });
  return rp;
}

caf::response_promise dynamic_supervisor_actor::terminate(const caf::actor& who) {
  auto rp = make_response_promise();
  auto id = who ? who.id() : 0;
  auto i = children_.find(id);
  if (i != children_.end()) {
    stop_child(take_child(i), &rp);
    return rp;
  }
  auto t = terminating_.find(id);
  if (t != terminating_.end()) {
    t->second.waiters.push_back(rp);
    return rp;
  }
  rp.deliver(make_error(supervision_errc::no_such_child,
                        fmt::format("supervisor '{}': actor {} is not a child", spec_.name, id)));
  return rp;
}

void dynamic_supervisor_actor::stop_child(child c, caf::response_promise* waiter) {
  auto id = c.handle.id();
  bool timer = send_stop(this, c.handle, c.spec->shutdown);
  auto wait = c.spec->shutdown.wait;
  auto& t = terminating_[id];
  t.c = std::move(c);
  if (waiter != nullptr) {
    t.waiters.push_back(*waiter);
  }
  if (timer && !stopping_) {
    delayed_send(this, wait, stop_timeout_atom::value, id, uint64_t{0});
  }
}

void dynamic_supervisor_actor::on_down(caf::down_msg& dm) {
  auto id = dm.source.id();
  auto t = terminating_.find(id);
  if (t != terminating_.end()) {
    for (auto& rp : t->second.waiters) {
      rp.deliver(caf::ok_atom::value);
    }
    terminating_.erase(t);
    // A child supervisor terminated before it was ready never started.
    auto pending = pending_ready_.find(id);
    if (pending != pending_ready_.end()) {
      pending->second.deliver(
          make_error(supervision_errc::shutting_down, "child terminated before it was ready"));
      pending_ready_.erase(pending);
    }
    signal_stop_queue();
    maybe_quit();
    return;
  }
  auto i = children_.find(id);
  if (i == children_.end()) {
    return;
  }
  auto c = take_child(i);
  log_child_exit(spec_.name, *c.spec, c.key, dm.reason);
  auto pending = pending_ready_.find(id);
  if (pending != pending_ready_.end()) {
    // Died before it was ready: a failed start_child, not a crash.
    pending->second.deliver(
        dm.reason ? dm.reason
                  : make_error(supervision_errc::invalid_start, "child exited before ready"));
    pending_ready_.erase(pending);
    return;
  }
  if (!stopping_ && should_restart(c.spec->restart, dm.reason)) {
    restart(std::move(c), dm.reason);
  }
}

// Restarts one child; a failed restart counts as another restart (OTP) and
// is retried until the intensity is exceeded, which bounds the loop.
void dynamic_supervisor_actor::restart(child c, const caf::error& reason) {
  caf::error last = reason;
  for (;;) {
    if (!window_.record(clock().now())) {
      escalate(c, last);
      return;
    }
    metrics_.restarted();
    auto res = start_one(this, *c.spec, c.key, spec_.name);
    if (res) {
      c.handle = std::move(*res);
      insert_child(std::move(c));
      return;
    }
    last = res.error();
    spdlog::error("supervisor '{}': restarting child '{}' key={} failed: {}", spec_.name,
                  c.spec->id, c.key.to_string(), describe(last));
  }
}

void dynamic_supervisor_actor::escalate(const child& c, const caf::error& reason) {
  auto err = make_error(
      supervision_errc::max_restarts_exceeded,
      fmt::format("supervisor '{}' exceeded {} restart(s) in {} ms; last exit: "
                  "child '{}' key={}: {}",
                  spec_.name, spec_.intensity.max_restarts, spec_.intensity.period.count(),
                  c.spec->id, c.key.to_string(), describe(reason)));
  spdlog::error("{}", describe(err));
  begin_stop(std::move(err));
}

// Dynamic children have no order: they get their stop signals concurrently
// (stop_window at a time), and after the longest bounded timeout among them
// the remaining ones are killed.
void dynamic_supervisor_actor::begin_stop(caf::error reason) {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  exit_reason_ = std::move(reason);
  std::chrono::milliseconds longest{0};
  bool any_timer = false;
  stop_queue_.reserve(children_.size());
  for (auto& kv : children_) {
    const auto& p = kv.second.spec->shutdown;
    if (!p.brutal && !p.unbounded) {
      any_timer = true;
      longest = std::max(longest, p.wait);
    }
    stop_queue_.push_back(std::move(kv.second));
  }
  children_.clear();
  supervisors_ = 0;
  update_count();
  if (any_timer) {
    delayed_send(this, longest, stop_all_atom::value);
  }
  signal_stop_queue();
  maybe_quit();
}

void dynamic_supervisor_actor::signal_stop_queue() {
  while (!stop_queue_.empty() && terminating_.size() < stop_window) {
    auto c = std::move(stop_queue_.back());
    stop_queue_.pop_back();
    stop_child(std::move(c), nullptr);
  }
}

void dynamic_supervisor_actor::maybe_quit() {
  if (stopping_ && terminating_.empty() && stop_queue_.empty()) {
    quit(exit_reason_);
  }
}

void dynamic_supervisor_actor::update_count() {
  metrics_.set_children(children_.size());
}

std::vector<child_info> dynamic_supervisor_actor::which() const {
  std::vector<child_info> result;
  result.reserve(children_.size());
  for (auto& kv : children_) {
    const auto& c = kv.second;
    result.push_back(
        child_info{c.spec->id, c.key, c.handle, c.spec->type, c.spec->restart, c.spec->kind});
  }
  return result;
}

child_counts dynamic_supervisor_actor::count() const {
  child_counts n;
  n.specs = children_.size();
  n.active = children_.size();
  n.supervisors = supervisors_;
  n.workers = children_.size() - supervisors_;
  return n;
}

void dynamic_supervisor_actor::insert_child(child c) {
  auto id = c.handle.id();
  supervisors_ += c.spec->type == child_type::supervisor ? 1 : 0;
  children_.emplace(id, std::move(c));
  update_count();
}

dynamic_supervisor_actor::child dynamic_supervisor_actor::take_child(
    std::unordered_map<caf::actor_id, child>::iterator i) {
  auto c = std::move(i->second);
  supervisors_ -= c.spec->type == child_type::supervisor ? 1 : 0;
  children_.erase(i);
  update_count();
  return c;
}

}  // namespace herald::supervision::detail
