// SPDX-License-Identifier: Apache-2.0
#pragma once
// The actor behind spawn_supervisor(): state machine of ordered starts, reverse-order stops and
// restarts. Spawned by supervisor.cpp; all members run on its own actor thread. Invariant: at most
// one start/stop step is awaited at a time, so starts happen in order and stops in reverse order.

#include <deque>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "runtime/supervision/detail/child_ops.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace herald::supervision::detail {

class static_supervisor : public caf::event_based_actor {
public:
  static_supervisor(caf::actor_config& cfg, supervisor_spec spec);

  caf::behavior make_behavior() override;
  void on_exit() override;
  const char* name() const override;

private:
  enum class phase { starting, running, stopping };
  enum class wait_kind { none, stopped, ready };

  struct slot {
    child_spec_ptr spec;
    caf::actor handle;     // invalid while not running
    bool removed = false;  // temporary child that exited: never started again
  };
  struct step {
    bool start;  // else stop
    size_t index;
  };
  struct exit_event {
    size_t index;
    caf::error reason;
  };

  void run_steps();
  void exec_start(size_t i);
  void exec_stop(size_t i);
  void await_ready(size_t i);
  void on_down(caf::down_msg& dm);
  void on_stop_timeout(caf::actor_id id, uint64_t seq);
  void on_child_exit(size_t i, const caf::error& reason);
  void plan_restart(size_t i);
  void start_failed(size_t i, const caf::error& err);
  void begin_stop(caf::error reason);
  void finish_ready_waiters(const caf::error& err);
  long find(caf::actor_id id) const;
  void update_count();
  std::vector<child_info> which() const;
  child_counts count() const;

  supervisor_spec spec_;     // children moved into slots_
  std::vector<slot> slots_;  // start order
  phase phase_ = phase::starting;
  restart_window window_;
  std::deque<step> steps_;  // pending steps, executed strictly in order
  wait_kind waiting_ = wait_kind::none;
  caf::actor_id waiting_for_ = 0;    // child whose down/ready ends the current step
  uint64_t wait_seq_ = 0;            // invalidates stale timers and replies
  std::deque<exit_event> deferred_;  // child exits seen while busy, decided when idle
  caf::error exit_reason_;           // quit reason once the stopping steps are done
  caf::error start_error_;           // why the start failed, for ready waiters
  std::vector<caf::response_promise> ready_waiters_;
  supervisor_metrics metrics_;
};

}  // namespace herald::supervision::detail
