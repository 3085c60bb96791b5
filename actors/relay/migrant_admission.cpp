// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/migrant_admission.hpp"

#include <algorithm>

#include "actors/relay/relay_metrics.hpp"

namespace herald::relay {

std::optional<migrant_outcome> migrant_admission::admit(partition_core& core,
                                                        const recent_events& recent,
                                                        const add_subscriber& sub,
                                                        const std::string& unavailable_tail) {
  auto it = expected_.find(sub.output->session_id());
  if (it == expected_.end()) {
    return std::nullopt;
  }
  uint64_t cursor = it->second;
  expected_.erase(it);
  if (cursor == unknown_cursor || !recent.covers(cursor)) {
    if ((sub.output->granted() & session::guilds_intent) != 0) {
      sub.output->buffer().append_dispatch(unavailable_tail);
    }
    core.add(sub.output, sub.view_class, sub.guild_create_tail);
    resyncs_counter(resync_cause::migration).inc();
    return migrant_outcome::resynced;
  }
  if (cursor > recent.last_order()) {
    waiting_.push_back(waiting{sub, cursor});
    return migrant_outcome::waiting;
  }
  std::vector<const dispatch_event*> backlog;
  recent.for_each_after(cursor, [&](const dispatch_event& e) { backlog.push_back(&e); });
  core.add_with_backlog(sub.output, sub.view_class, backlog);
  return backlog.empty() ? migrant_outcome::current : migrant_outcome::replayed;
}

void migrant_admission::before_event(partition_core& core, uint64_t order) {
  auto joins = [order](const waiting& w) { return w.cursor < order; };
  for (auto& w : waiting_) {
    if (joins(w)) {
      core.add_with_backlog(w.sub.output, w.sub.view_class, {});
    }
  }
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), joins), waiting_.end());
}

void migrant_admission::forget(uint64_t session_id) {
  expected_.erase(session_id);
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                [session_id](const waiting& w) {
                                  return w.sub.output->session_id() == session_id;
                                }),
                 waiting_.end());
}

}  // namespace herald::relay
