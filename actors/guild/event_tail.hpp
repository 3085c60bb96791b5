// SPDX-License-Identifier: Apache-2.0
#pragma once
// A guild's persisted event tail, the guild actor's side (docs/cluster.md, "Event tail, cursors
// and resync"; the table: docs/store.md, "Event tail"): how a committed dispatch is encoded into a
// store::tail_event and rebuilt from one, and whether the rows read after a relay's cursor hold
// every stored event after it. Pure functions, called by the guild actor on its own thread.
// Invariant: decode(encode(e)) gives back e's filter facts and tail, with the channel slot of
// the decoding incarnation (slots are per incarnation; the channel id is what is stored).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/intrusive_ptr.hpp>

#include "actors/relay/dispatch_event.hpp"
#include "actors/relay/stream_position.hpp"
#include "actors/store/store.hpp"

namespace herald::guild {

/// The encoding version written first in every stored event; a row of another version is not
/// replayed (the replay counts as incomplete, so the relay resyncs).
inline constexpr uint8_t tail_event_version = 1;

/// How a stored event is kept: a whole frame, or only the id of the message whose row (written
/// in the same transaction) it is rebuilt from.
enum class tail_kind : uint8_t { frame = 0, message_create = 1, message_update = 2 };

/// The bytes stored for a committed `event` of channel `channel_id` (0: not bound to a channel):
/// its filter facts (channel, intents, content gate, author, mentions, content span) and its
/// full frame tail, in a compact little-endian layout behind tail_event_version and the kind.
std::string encode_tail_event(const relay::dispatch_event& event, uint64_t channel_id);
/// The bytes stored for a MESSAGE_CREATE or MESSAGE_UPDATE: the kind and the message id only
/// (a dozen bytes instead of the frame: the message row already holds the rest). Its replay
/// shows the message as stored at replay time (a later edit's content; nothing once deleted).
std::string encode_tail_message(tail_kind kind, uint64_t message_id);

/// The channel slot of a channel id in the replaying incarnation (relay::no_channel_slot when
/// the channel no longer exists).
using channel_slot_of = std::function<uint32_t(uint64_t channel_id)>;
/// The dispatch of stored message `message_id` as MESSAGE_CREATE (or with `update`,
/// MESSAGE_UPDATE), null when the message is gone or deleted.
using message_rebuild =
    std::function<caf::intrusive_ptr<relay::dispatch_event>(uint64_t message_id, bool update)>;

/// Rebuilds the event stored in `row` for guild `guild_id`; nullopt when the bytes do not decode
/// (another version or kind, truncated), a null pointer when there is nothing to replay (its
/// channel is gone, so nobody may see it; its message was deleted since).
std::optional<relay::dispatch_event_ptr> decode_tail_event(const store::tail_event& row,
                                                           uint64_t guild_id,
                                                           const channel_slot_of& slot_of,
                                                           const message_rebuild& rebuild);

/// Whether `rows` (store::read_tail after `cursor`, ascending) are every stored event after
/// `cursor`: the first row's predecessor is at or before the cursor and each later row's
/// predecessor is the row before it. No rows: nothing was stored after the cursor (the newest
/// row is never overwritten), so that is complete too.
bool tail_covers(const std::vector<store::tail_event>& rows, relay::stream_position cursor);

/// A tail event's own position and its predecessor's.
inline relay::stream_position position_of(const store::tail_event& row) {
  return {row.epoch_, row.order_};
}
inline relay::stream_position previous_of(const store::tail_event& row) {
  return {row.prev_epoch_, row.prev_order_};
}

}  // namespace herald::guild
