// SPDX-License-Identifier: Apache-2.0
#pragma once
// A guild's persisted event tail, the guild actor's side (docs/cluster.md, "Event tail, cursors
// and resync"; the table: docs/store.md, "Event tail"): how the committed dispatches of one guild
// batch are encoded into one store::tail_event row and rebuilt from it, and whether the rows read
// after a relay's cursor hold every stored event after it. Pure functions, called by the guild
// actor on its own thread.
// Invariant: decoding a row gives back each event's filter facts and tail, at the row's epoch and
// the event's own order, with the channel slot of the decoding incarnation (slots are per
// incarnation; the channel id is what is stored).

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

/// The encoding version written first in every row: a guild batch's events (a count, then per
/// event its order, its body's length and its body).
inline constexpr uint8_t tail_event_version = 2;
/// Rows of this version hold one event (its body right after the version, at the row's own
/// position): written before rows held batches, still decoded (a rolling upgrade replays them).
/// Rows of any other version are not replayed (the replay counts as incomplete: resync).
inline constexpr uint8_t tail_single_event_version = 1;

/// How a stored event is kept: a whole frame, or only the id of the message whose row (written
/// in the same transaction) it is rebuilt from.
enum class tail_kind : uint8_t { frame = 0, message_create = 1, message_update = 2 };

/// Builds the bytes of one row: the tailed events of one guild batch, added in guild order.
/// An event's body is its kind and then either its filter facts (channel, intents, content
/// gate, author, mentions, content span) and its full frame tail, or only a message id; a
/// compact little-endian layout.
class tail_row_writer {
public:
  tail_row_writer();

  /// Adds committed `event` of guild order `order` and channel `channel_id` (0: not bound to a
  /// channel) as its filter facts and whole frame tail.
  void add_frame(uint64_t order, const relay::dispatch_event& event, uint64_t channel_id);
  /// Adds a MESSAGE_CREATE or MESSAGE_UPDATE (`kind`) as the message's id only (the message row
  /// already holds the rest). Its replay shows the message as stored at replay time (a later
  /// edit's content; nothing once deleted).
  void add_message(uint64_t order, tail_kind kind, uint64_t message_id);

  /// Events added since construction or the last take().
  uint32_t events() const { return count_; }
  /// The row's bytes; the writer starts a new row afterwards.
  std::string take();

private:
  void begin_event(uint64_t order, tail_kind kind, size_t body_size);

  std::string out_;
  uint32_t count_ = 0;
};

/// The channel slot of a channel id in the replaying incarnation (relay::no_channel_slot when
/// the channel no longer exists).
using channel_slot_of = std::function<uint32_t(uint64_t channel_id)>;
/// The dispatch of stored message `message_id` as MESSAGE_CREATE (or with `update`,
/// MESSAGE_UPDATE), null when the message is gone or deleted.
using message_rebuild =
    std::function<caf::intrusive_ptr<relay::dispatch_event>(uint64_t message_id, bool update)>;

/// Rebuilds the events stored in `row` for guild `guild_id` that are after `after` (a row may
/// straddle a relay's cursor: the events at or before it are skipped, not rebuilt), in order.
/// Leaves out an event with nothing to replay (its channel is gone, so nobody may see it; its
/// message was deleted since). nullopt when the bytes do not decode (another version or kind,
/// truncated, orders not ascending or not ending at the row's position).
std::optional<std::vector<relay::dispatch_event_ptr>> decode_tail_row(
    const store::tail_event& row, relay::stream_position after, uint64_t guild_id,
    const channel_slot_of& slot_of, const message_rebuild& rebuild);

/// Whether `rows` (store::read_tail after `cursor`, ascending) are every stored event after
/// `cursor`: the first row's predecessor is at or before the cursor and each later row's
/// predecessor is the row before it. No rows: nothing was stored after the cursor (the newest
/// row is never overwritten), so that is complete too.
bool tail_covers(const std::vector<store::tail_event>& rows, relay::stream_position cursor);

/// A row's position (its last event's) and its predecessor's (the guild's stored event before
/// its first one).
inline relay::stream_position position_of(const store::tail_event& row) {
  return {row.epoch_, row.order_};
}
inline relay::stream_position previous_of(const store::tail_event& row) {
  return {row.prev_epoch_, row.prev_order_};
}

}  // namespace herald::guild
