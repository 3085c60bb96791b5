// SPDX-License-Identifier: Apache-2.0
#pragma once
// One guild event as relays fan it out: filter facts plus the payload tails
// encoded once by the guild actor. Created by the guild, then immutable and
// shared by pointer with every relay partition (any thread).
// Invariant: full_tail (and redacted() when content_gated) are complete
// frame tails `,"t":"…","d":{…}}` that append_dispatch can splice behind a seq.
// The tails are shared_tails: session buffers reference them (no per-recipient
// copy) and may outlive the event. The redacted tail is made at most once, by the
// first partition (any thread) that has a recipient without MESSAGE_CONTENT: most
// events never need it (bots and clients with the intent).

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <caf/intrusive_ptr.hpp>
#include <caf/ref_counted.hpp>

#include "actors/outbound/intents.hpp"
#include "actors/outbound/shared_tail.hpp"
#include "actors/relay/stream_position.hpp"

namespace herald::relay {

/// Channel slot meaning "not bound to one channel" (guild-wide events).
inline constexpr uint32_t no_channel_slot = UINT32_MAX;

struct dispatch_event : caf::ref_counted {
  uint64_t guild_id = 0;
  /// Position in the guild's order (1, 2, …); goes on across incarnations and nodes.
  uint64_t guild_order = 0;
  /// The owner epoch the guild ordered it under (0: no position, e.g. in tests): with
  /// guild_order its stream position, which relay partitions keep as their cursor.
  uint64_t epoch = 0;
  /// View slot of the channel the event belongs to, or no_channel_slot.
  uint32_t channel_slot = no_channel_slot;
  /// The session needs at least one of these intents (0: always delivered).
  session::intents required_intents = 0;
  /// True for message events with content: sessions without MESSAGE_CONTENT
  /// that are neither the author nor mentioned receive redacted_tail.
  bool content_gated = false;
  uint64_t author_id = 0;
  std::vector<uint64_t> mentioned_user_ids;  // sorted, unique
  session::shared_tail full_tail;
  /// Where the content's JSON string literal (quotes included) sits in full_tail:
  /// [content_begin, content_end). redacted() blanks it there.
  uint32_t content_begin = 0;
  uint32_t content_end = 0;
  /// The tail without MESSAGE_CONTENT: set by the producer before the event is shared, or left
  /// empty for redacted() to make from full_tail and the content span. Read it through
  /// redacted() once the event is shared.
  mutable session::shared_tail redacted_tail;

  stream_position position() const noexcept { return {epoch, guild_order}; }
  bool mentions(uint64_t user_id) const noexcept;
  /// The redacted tail (content `""`), made on first use; any thread.
  const session::shared_tail& redacted() const;
  /// The tail a session of `user_id` with `granted` intents receives.
  const session::shared_tail& tail_for(uint64_t user_id, session::intents granted) const {
    if (!content_gated || (granted & session::message_content_intent) != 0 ||
        user_id == author_id || mentions(user_id)) {
      return full_tail;
    }
    return redacted();
  }

private:
  mutable std::once_flag redacted_made_;
};

using dispatch_event_ptr = caf::intrusive_ptr<const dispatch_event>;

/// Consecutive events of one guild, in guild order, sent to a partition as
/// one message (a group commit's dispatches): the partition writes them
/// session by session, locking and missing on each session's buffer once per
/// batch instead of once per event. Immutable once sent.
struct dispatch_batch : caf::ref_counted {
  std::vector<dispatch_event_ptr> events;
};

using dispatch_batch_ptr = caf::intrusive_ptr<const dispatch_batch>;

}  // namespace herald::relay
