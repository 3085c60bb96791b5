// SPDX-License-Identifier: Apache-2.0
#pragma once
// The actor behind spawn_dynamic_supervisor(): one_for_one over run-time children keyed by actor
// id. Spawned by dynamic_supervisor.cpp; all members run on its own actor thread. Invariant:
// children_ and terminating_ never hold the same actor id; the supervisor quits only when both are
// empty (or on kill).

#include <unordered_map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "runtime/supervision/detail/child_ops.hpp"
#include "runtime/supervision/dynamic_supervisor.hpp"

namespace herald::supervision::detail {

class dynamic_supervisor_actor : public caf::event_based_actor {
public:
  dynamic_supervisor_actor(caf::actor_config& cfg, dynamic_supervisor_spec spec);

  caf::behavior make_behavior() override;
  void on_exit() override;
  const char* name() const override;

private:
  struct child {
    caf::actor handle;
    child_spec_ptr spec;
    child_key key;
  };
  struct terminating {
    child c;
    std::vector<caf::response_promise> waiters;  // terminate_child callers
  };

  caf::response_promise start(child_spec_ptr spec, child_key key);
  caf::response_promise terminate(const caf::actor& who);
  void on_down(caf::down_msg& dm);
  void restart(child c, const caf::error& reason);
  void escalate(const child& c, const caf::error& reason);
  void begin_stop(caf::error reason);
  void stop_child(child c, caf::response_promise* waiter);
  void signal_stop_queue();
  void maybe_quit();
  void update_count();
  void insert_child(child c);
  /// Removes a running child from children_ and returns it.
  child take_child(std::unordered_map<caf::actor_id, child>::iterator i);
  std::vector<child_info> which() const;
  child_counts count() const;

  dynamic_supervisor_spec spec_;
  std::unordered_map<caf::actor_id, child> children_;           // running
  std::unordered_map<caf::actor_id, terminating> terminating_;  // stop signal sent
  // Child supervisors started by start_child whose ready reply is pending.
  std::unordered_map<caf::actor_id, caf::response_promise> pending_ready_;
  // Children still to be signalled during a full stop. At most stop_window
  // children are signalled at a time: exiting them all at once would put a
  // million runnables into one scheduler queue, where CAF 0.17's work
  // stealing (double_ended_queue::take_tail) degrades badly.
  std::vector<child> stop_queue_;
  restart_window window_;
  uint64_t supervisors_ = 0;  // children_ entries of type supervisor
  bool stopping_ = false;
  caf::error exit_reason_;  // quit reason once terminating_ drains
  supervisor_metrics metrics_;
};

}  // namespace herald::supervision::detail
