// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/detail/static_supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <caf/exit_reason.hpp>

#include "runtime/metrics/actor_metrics.hpp"

namespace herald::supervision::detail {

namespace {

metrics::counter& handled_messages() {
  static auto& c = metrics::messages_handled("supervisor");
  return c;
}

}  // namespace

static_supervisor::static_supervisor(caf::actor_config& cfg, supervisor_spec spec)
    : caf::event_based_actor(cfg),
      spec_(std::move(spec)),
      window_(spec_.intensity),
      metrics_(spec_.name, spec_.parent, to_string(spec_.restart_strategy)) {
  slots_.reserve(spec_.children.size());
  for (auto& c : spec_.children) {
    slots_.push_back(slot{std::make_shared<const child_spec>(std::move(c)), caf::actor{}, false});
  }
  spec_.children.clear();
}

const char* static_supervisor::name() const {
  return "herald.supervisor";
}

caf::behavior static_supervisor::make_behavior() {
  set_down_handler([this](caf::down_msg& dm) {
    handled_messages().inc();
    on_down(dm);
  });
  // Trap exits: a non-normal exit (typically user_shutdown from the parent)
  // means an orderly stop; exit(kill) cannot be trapped and ends in on_exit.
  set_exit_handler([this](caf::exit_msg& em) {
    if (em.reason) {
      begin_stop(std::move(em.reason));
      run_steps();
    }
  });
  for (size_t i = 0; i < slots_.size(); ++i) {
    steps_.push_back(step{true, i});
  }
  run_steps();
  delayed_send(this, spec_.mailbox_sample_period, sample_atom::value);
  return {
      // Replies ok once all initial children run; else, after stopping, the
      // start error (start_failed) or shutting_down.
      [this](ready_atom) -> caf::response_promise {
        handled_messages().inc();
        auto rp = make_response_promise();
        if (phase_ == phase::running) {
          rp.deliver(caf::ok_atom::value);
        } else {
          // Starting: answered when the start completes. Stopping: answered
          // with the reason once the children are stopped, so a failed start
          // is reported only after the started children are gone.
          ready_waiters_.push_back(rp);
        }
        return rp;
      },
      // Children in start order, including stopped transient ones.
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
      [this](stop_timeout_atom, caf::actor_id id, uint64_t seq) {
        handled_messages().inc();
        on_stop_timeout(id, seq);
      },
      [this](sample_atom) {
        handled_messages().inc();
        metrics_.sample_mailbox(this);
        delayed_send(this, spec_.mailbox_sample_period, sample_atom::value);
      },
  };
}

void static_supervisor::on_exit() {
  // OTP: children never outlive their supervisor. On the orderly path all
  // handles are already empty; after exit(kill) or a crash they are not.
  for (auto& s : slots_) {
    if (s.handle) {
      send_exit(s.handle, caf::exit_reason::kill);
      s.handle = nullptr;
    }
  }
  finish_ready_waiters(start_error_ ? start_error_
                                    : make_error(supervision_errc::shutting_down, spec_.name));
  metrics_.close();
}

// Drives the step queue; every other member only edits the queue.
void static_supervisor::run_steps() {
  for (;;) {
    while (waiting_ == wait_kind::none && !steps_.empty()) {
      auto s = steps_.front();
      steps_.pop_front();
      if (s.start) {
        exec_start(s.index);
      } else {
        exec_stop(s.index);
      }
    }
    if (waiting_ != wait_kind::none) {
      return;
    }
    if (phase_ == phase::stopping) {
      finish_ready_waiters(start_error_ ? start_error_
                                        : make_error(supervision_errc::shutting_down, spec_.name));
      quit(exit_reason_);
      return;
    }
    if (phase_ == phase::starting) {
      phase_ = phase::running;
      finish_ready_waiters(caf::error{});
    }
    if (deferred_.empty()) {
      return;
    }
    auto ev = std::move(deferred_.front());
    deferred_.pop_front();
    // Skip exits of children that a later step already restarted.
    if (!slots_[ev.index].handle && !slots_[ev.index].removed) {
      on_child_exit(ev.index, ev.reason);
    }
  }
}

void static_supervisor::exec_start(size_t i) {
  auto& s = slots_[i];
  if (s.removed || s.handle) {
    return;
  }
  auto res = start_one(this, *s.spec, child_key{}, spec_.name);
  if (!res) {
    start_failed(i, res.error());
    return;
  }
  s.handle = std::move(*res);
  update_count();
  if (s.spec->type == child_type::supervisor) {
    await_ready(i);
  }
}

// A child supervisor counts as started once it replies ready, so its own
// start failure fails ours (OTP start_link is synchronous the same way).
void static_supervisor::await_ready(size_t i) {
  waiting_ = wait_kind::ready;
  waiting_for_ = slots_[i].handle.id();
  auto seq = ++wait_seq_;
  request(slots_[i].handle, caf::infinite, ready_atom::value)
      .then(
          [this, seq](caf::ok_atom) {
            if (waiting_ == wait_kind::ready && wait_seq_ == seq) {
              waiting_ = wait_kind::none;
              run_steps();
            }
          },
          [this, seq, i](caf::error& err) {
            // A child that already exited answers request_receiver_down; its down
            // message carries the real reason, so wait for that instead.
            if (err == caf::sec::request_receiver_down) {
              return;
            }
            if (waiting_ == wait_kind::ready && wait_seq_ == seq) {
              // The failed child supervisor stops itself; its down is ignored.
              slots_[i].handle = nullptr;
              update_count();
              waiting_ = wait_kind::none;
              start_failed(i, err);
              run_steps();
            }
          });
}

void static_supervisor::exec_stop(size_t i) {
  auto& s = slots_[i];
  if (!s.handle) {
    return;
  }
  waiting_ = wait_kind::stopped;
  waiting_for_ = s.handle.id();
  auto seq = ++wait_seq_;
  if (send_stop(this, s.handle, s.spec->shutdown)) {
    delayed_send(this, s.spec->shutdown.wait, stop_timeout_atom::value, waiting_for_, seq);
  }
}

void static_supervisor::on_stop_timeout(caf::actor_id id, uint64_t seq) {
  if (waiting_ != wait_kind::stopped || waiting_for_ != id || wait_seq_ != seq) {
    return;
  }
  auto i = find(id);
  if (i < 0) {
    return;
  }
  auto& s = slots_[static_cast<size_t>(i)];
  spdlog::warn("supervisor '{}': child '{}' did not stop within {} ms; killing it", spec_.name,
               s.spec->id, s.spec->shutdown.wait.count());
  send_exit(s.handle, caf::exit_reason::kill);
}

void static_supervisor::on_down(caf::down_msg& dm) {
  auto found = find(dm.source.id());
  if (found < 0) {
    return;
  }
  auto i = static_cast<size_t>(found);
  auto& s = slots_[i];
  auto id = s.handle.id();
  s.handle = nullptr;
  update_count();
  if (waiting_ == wait_kind::stopped && waiting_for_ == id) {
    s.removed = s.spec->restart == restart_type::temporary;
    waiting_ = wait_kind::none;
    run_steps();
    return;
  }
  log_child_exit(spec_.name, *s.spec, child_key{}, dm.reason);
  if (waiting_ == wait_kind::ready && waiting_for_ == id) {
    waiting_ = wait_kind::none;
    start_failed(i, dm.reason);
    run_steps();
    return;
  }
  if (phase_ == phase::stopping) {
    s.removed = s.spec->restart == restart_type::temporary;
    return;
  }
  deferred_.push_back(exit_event{i, std::move(dm.reason)});
  if (waiting_ == wait_kind::none && steps_.empty()) {
    run_steps();
  }
}

void static_supervisor::on_child_exit(size_t i, const caf::error& reason) {
  auto& s = slots_[i];
  if (!should_restart(s.spec->restart, reason)) {
    s.removed = s.spec->restart == restart_type::temporary;
    return;
  }
  if (!window_.record(clock().now())) {
    auto err =
        make_error(supervision_errc::max_restarts_exceeded,
                   fmt::format("supervisor '{}' exceeded {} restart(s) in {} ms; last "
                               "exit: child '{}': {}",
                               spec_.name, spec_.intensity.max_restarts,
                               spec_.intensity.period.count(), s.spec->id, describe(reason)));
    spdlog::error("{}", describe(err));
    begin_stop(std::move(err));
    return;
  }
  metrics_.restarted();
  plan_restart(i);
}

void static_supervisor::plan_restart(size_t i) {
  auto n = slots_.size();
  switch (spec_.restart_strategy) {
    case strategy::one_for_one:
      steps_.push_back(step{true, i});
      break;
    case strategy::one_for_all:
      for (size_t j = n; j-- > 0;) {
        if (j != i) {
          steps_.push_back(step{false, j});
        }
      }
      for (size_t j = 0; j < n; ++j) {
        steps_.push_back(step{true, j});
      }
      break;
    case strategy::rest_for_one:
      for (size_t j = n; j-- > i + 1;) {
        steps_.push_back(step{false, j});
      }
      for (size_t j = i; j < n; ++j) {
        steps_.push_back(step{true, j});
      }
      break;
  }
}

void static_supervisor::start_failed(size_t i, const caf::error& err) {
  auto& s = slots_[i];
  if (phase_ == phase::starting) {
    start_error_ = make_error(supervision_errc::start_failed,
                              fmt::format("supervisor '{}': child '{}' failed to start: {}",
                                          spec_.name, s.spec->id, describe(err)));
    spdlog::error("{}", describe(start_error_));
    begin_stop(start_error_);
    return;
  }
  if (phase_ == phase::stopping) {
    return;
  }
  // A failed restart counts as one more restart, then is retried (OTP).
  spdlog::error("supervisor '{}': restarting child '{}' failed: {}", spec_.name, s.spec->id,
                describe(err));
  if (!window_.record(clock().now())) {
    auto reason =
        make_error(supervision_errc::max_restarts_exceeded,
                   fmt::format("supervisor '{}' exceeded {} restart(s) in {} ms; "
                               "child '{}' failed to restart: {}",
                               spec_.name, spec_.intensity.max_restarts,
                               spec_.intensity.period.count(), s.spec->id, describe(err)));
    begin_stop(std::move(reason));
    return;
  }
  metrics_.restarted();
  steps_.push_front(step{true, i});
}

void static_supervisor::begin_stop(caf::error reason) {
  if (phase_ == phase::stopping) {
    return;
  }
  phase_ = phase::stopping;
  exit_reason_ = std::move(reason);
  steps_.clear();
  deferred_.clear();
  // A child supervisor we were waiting on is stopped like its siblings; a
  // child we were already stopping is still awaited.
  if (waiting_ == wait_kind::ready) {
    waiting_ = wait_kind::none;
  }
  for (size_t j = slots_.size(); j-- > 0;) {
    steps_.push_back(step{false, j});
  }
}

void static_supervisor::finish_ready_waiters(const caf::error& err) {
  for (auto& rp : ready_waiters_) {
    if (err) {
      rp.deliver(err);
    } else {
      rp.deliver(caf::ok_atom::value);
    }
  }
  ready_waiters_.clear();
}

long static_supervisor::find(caf::actor_id id) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].handle && slots_[i].handle.id() == id) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

void static_supervisor::update_count() {
  uint64_t n = 0;
  for (auto& s : slots_) {
    n += s.handle ? 1 : 0;
  }
  metrics_.set_children(n);
}

std::vector<child_info> static_supervisor::which() const {
  std::vector<child_info> result;
  for (auto& s : slots_) {
    if (!s.removed) {
      result.push_back(child_info{s.spec->id, child_key{}, s.handle, s.spec->type, s.spec->restart,
                                  s.spec->kind});
    }
  }
  return result;
}

child_counts static_supervisor::count() const {
  child_counts c;
  for (auto& s : slots_) {
    if (s.removed) {
      continue;
    }
    ++c.specs;
    if (s.handle) {
      ++c.active;
      ++(s.spec->type == child_type::supervisor ? c.supervisors : c.workers);
    }
  }
  return c;
}

}  // namespace herald::supervision::detail
