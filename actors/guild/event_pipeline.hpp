// SPDX-License-Identifier: Apache-2.0
#pragma once
// Turns one producer event into a guild change: validate, apply to the
// in-memory state, encode the payload once, and stage the store writes.
// Called only from the guild actor that owns the state (single-threaded).
// Invariant: on error nothing changed — not the state, not the batch.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "actors/domain/guild_state.hpp"
#include "actors/guild/core_observation.hpp"
#include "actors/relay/dispatch_event.hpp"
#include "actors/store/store.hpp"
#include "proto/domain.pb.h"

namespace herald::guild {

/// What applying one event produced, for the guild actor to dispatch after
/// the batch holding its writes is committed.
struct prepared_event {
  /// The event to fan out; null when its only effect is a view change
  /// (CHANNEL_CREATE / CHANNEL_DELETE are delivered through the view diff).
  caf::intrusive_ptr<relay::dispatch_event> dispatch;
  /// Roles, overwrites, channels, members or ownership changed: recompute
  /// the view classes before dispatching anything later.
  bool view_changed = false;
  /// CHANNEL_DELETE tails of channels this event deleted (their state is gone).
  std::vector<std::pair<uint64_t, std::string>> deleted_channels;
  /// Users that stopped being members: their sessions are unsubscribed
  /// after the event is delivered.
  std::vector<uint64_t> removed_users;
  /// Users that became members: their live sessions are told to subscribe.
  std::vector<uint64_t> added_users;
  /// Members added, removed or whose roles changed (view class candidates).
  std::vector<domain::snowflake> touched_users;
  /// The object the producer gets back when it is not the `d` of dispatch->full_tail (e.g.
  /// CHANNEL_CREATE's channel). Empty when the reply is the dispatch's payload: no copy is made
  /// for producers that never read it (publish_ack::payload gives a view of the tail).
  std::string reply_json;
};

/// The channel's view slot, or relay::no_channel_slot if unknown.
using slot_lookup = std::function<uint32_t(uint64_t channel_id)>;

/// Applies `event` to `state` and appends its writes to `batch`. Message
/// edits and deletes read the original message from `store`. `now_ms` stamps
/// created/edited times the producer left at 0. Errors (dispatch_errc):
/// invalid_event (with the apply_error), missing_permission, unknown_message,
/// store_error. `deleting`: messages whose delete is ordered but not committed (a feature event
/// about one of them is refused with unknown_message); null for none.
caf::expected<prepared_event> prepare_event(domain::guild_state& state, store::store& store,
                                            const proto::event& event, const slot_lookup& slot_of,
                                            store::write_batch& batch, int64_t now_ms,
                                            const pending_deletes* deleting = nullptr);

/// The MESSAGE_CREATE (or with `update`, MESSAGE_UPDATE) dispatch of the stored message `msg`
/// of the guild `state`, as prepare_event makes it: a guild replaying its event tail rebuilds a
/// message event from the messages table this way (the tail stores only its id).
caf::intrusive_ptr<relay::dispatch_event> message_dispatch(const domain::guild_state& state,
                                                           const domain::message& msg, bool update,
                                                           const slot_lookup& slot_of);

/// The `d` object of a frame tail `,"t":"X","d":{…}}` (a view into `tail`; empty if malformed).
std::string_view payload_of(std::string_view tail);

}  // namespace herald::guild
