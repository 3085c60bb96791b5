// SPDX-License-Identifier: Apache-2.0
#pragma once
// The messages of a cross-node relay (exporter.hpp, relay_actor.hpp): what a guild's owner node
// sends the relay of that guild on a subscribed node, and what that relay asks of it. Value-only
// structs with `inspect`: no pointers, no chunk-pool memory on the wire (an event's tails
// travel as a string's bytes, written from the guild's shared tail and read into a fresh one on
// the receiving node: tail_bytes). Each wire name ends in its version: a changed layout gets a
// new name (tail_bytes did not change it: its bytes are a std::string's).
//
// One ordered stream per (guild, subscribed node), carried by one link per (owner node,
// subscribed node): the guild's exporter on the owner hands its `batch`es to the owner's uplink
// for that node, which sends the batches of many guilds as the sections of one `link_batch` to
// the subscribed node's downlink, one CAF actor pair, so CAF keeps them in order; the downlink
// hands each section to the guild's relay there. A batch holds every item that queued while the
// exporter's previous batch was not yet taken by the uplink (`batch_ack`), in guild order:
// `kinds` names the items in order and each kind's items are taken from its own vector in turn
// (no variant on the wire: a malformed batch is refused by checking counts, not by a throw).
// Invariant: announce_relay_wire_types() runs before the actor system is built (the node hook
// configure_actor_system), on every node of a cluster.

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/deserializer.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>
#include <caf/serializer.hpp>

#include "actors/outbound/shared_tail.hpp"

namespace herald::relay::relay_wire {

/// The name a relay asks a peer's membership actor for (cluster::lookup_service_atom) to reach
/// the actor that answers attach_request: the owner's dispatch router (dispatch::router_name).
inline constexpr caf::atom_value export_service_name = caf::atom("h_router");

/// A relay_wire item kind, in batch::kinds.
enum class kind : uint8_t {
  event = 0,
  view_update = 1,
  view_reset = 2,
  subscriber = 3,
  notice = 4
};

/// The most bytes one tail may claim on the wire: a longer one is refused before anything is
/// allocated for it (the gateway's frames are far smaller).
inline constexpr size_t max_tail_bytes = size_t{16} << 20;

/// A frame tail on the wire, encoded exactly as a std::string (a varbyte length, then the
/// bytes), but held as a shared_tail on both ends: the exporter serialises the guild's own tail
/// without copying it first, and the receiver reads the bytes straight into a fresh tail block
/// (one copy from the BASP buffer, no std::string in between).
struct tail_bytes {
  session::shared_tail tail;

  std::string_view view() const noexcept { return tail.view(); }
  size_t size() const noexcept { return tail.size(); }
  bool empty() const noexcept { return tail.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tail_bytes& x) {
  if constexpr (std::is_base_of_v<caf::serializer, Inspector>) {
    auto bytes = x.tail.view();
    size_t n = bytes.size();
    if (auto err = f.begin_sequence(n)) {
      return err;
    }
    if (n > 0) {
      if (auto err = f.apply_raw(n, const_cast<char*>(bytes.data()))) {
        return err;
      }
    }
    return f.end_sequence();
  } else if constexpr (std::is_base_of_v<caf::deserializer, Inspector>) {
    size_t n = 0;
    if (auto err = f.begin_sequence(n)) {
      return err;
    }
    // Refuse a length the input cannot hold before allocating it.
    auto* binary = dynamic_cast<caf::binary_deserializer*>(&f);
    if (n > max_tail_bytes || (binary != nullptr && n > binary->remaining())) {
      return caf::make_error(caf::sec::end_of_stream);
    }
    if (n == 0) {
      x.tail = session::shared_tail{};
    } else {
      auto tail = session::shared_tail::adopt(session::make_unfilled_tail_block(n));
      if (auto err = f.apply_raw(n, tail.block()->data())) {
        return err;
      }
      x.tail = std::move(tail);
    }
    return f.end_sequence();
  } else {
    std::string text{x.tail.view()};  // other inspectors (to_string): as the string it encodes
    return f(text);
  }
}

/// A dispatch_event (the guild id is the batch's). v2 added the owner epoch.
struct event {
  uint64_t guild_order = 0;
  uint64_t epoch = 0;
  uint32_t channel_slot = 0;
  uint32_t required_intents = 0;
  bool content_gated = false;
  uint64_t author_id = 0;
  std::vector<uint64_t> mentioned_user_ids;
  tail_bytes full_tail;
  uint32_t content_begin = 0;
  uint32_t content_end = 0;
  /// Empty from exporters (the receiver makes it from full_tail and the content span, as
  /// dispatch_event::redacted() does); a non-empty one is taken as the redacted tail.
  tail_bytes redacted_tail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("herald.relay.event.v2"), x.guild_order, x.epoch, x.channel_slot,
           x.required_intents, x.content_gated, x.author_id, x.mentioned_user_ids, x.full_tail,
           x.content_begin, x.content_end, x.redacted_tail);
}

/// A view_snapshot: `classes` rows of `words` 64-bit words.
struct view {
  uint32_t classes = 0;
  uint32_t words = 0;
  std::vector<uint64_t> bits;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, view& x) {
  return f(caf::meta::type_name("herald.relay.view.v1"), x.classes, x.words, x.bits);
}

/// A view_update (class_changes as two parallel vectors).
struct view_update {
  view snapshot;
  std::vector<uint64_t> changed_users;
  std::vector<uint32_t> changed_classes;
  std::vector<uint32_t> changed_slots;
  std::vector<std::string> create_tails;
  std::vector<std::string> delete_tails;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, view_update& x) {
  return f(caf::meta::type_name("herald.relay.view_update.v1"), x.snapshot, x.changed_users,
           x.changed_classes, x.changed_slots, x.create_tails, x.delete_tails);
}

/// A view_reset: a guild incarnation's whole view and every member's class, the position it
/// describes and, when the tail is replayed after it, where that replay starts (v2 added both).
struct view_reset {
  view snapshot;
  std::vector<uint64_t> users;
  std::vector<uint32_t> classes;
  uint64_t at_epoch = 0;
  uint64_t at_order = 0;
  bool replay = false;
  uint64_t replay_epoch = 0;
  uint64_t replay_order = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, view_reset& x) {
  return f(caf::meta::type_name("herald.relay.view_reset.v2"), x.snapshot, x.users, x.classes,
           x.at_epoch, x.at_order, x.replay, x.replay_epoch, x.replay_order);
}

/// The owner's answer to a subscribe_request, in guild order: the session's class and
/// GUILD_CREATE tail, or (errc != 0) the dispatch_errc refusing it and its text.
struct subscriber {
  uint64_t session_id = 0;
  uint32_t view_class = 0;
  std::string guild_create_tail;
  uint8_t errc = 0;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscriber& x) {
  return f(caf::meta::type_name("herald.relay.subscriber.v1"), x.session_id, x.view_class,
           x.guild_create_tail, x.errc, x.error);
}

/// A member joined (the user's sessions subscribe) or was removed (its sessions are dropped).
struct notice {
  uint64_t user_id = 0;
  bool joined = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notice& x) {
  return f(caf::meta::type_name("herald.relay.notice.v1"), x.user_id, x.joined);
}

/// Items of one guild's stream, in guild order (see the header comment).
struct batch {
  uint64_t guild_id = 0;
  uint64_t seq = 0;  ///< 1, 2, … per exporter; acknowledged by batch_ack
  std::vector<uint8_t> kinds;
  std::vector<event> events;
  std::vector<view_update> view_updates;
  std::vector<view_reset> view_resets;
  std::vector<subscriber> subscribers;
  std::vector<notice> notices;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch& x) {
  return f(caf::meta::type_name("herald.relay.batch.v2"), x.guild_id, x.seq, x.kinds, x.events,
           x.view_updates, x.view_resets, x.subscribers, x.notices);
}

/// The uplink took batch `seq` into a link batch it sent: the exporter may send what queued
/// since. Local (uplink → exporter on the same node).
struct batch_ack {
  uint64_t guild_id = 0;
  uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_ack& x) {
  return f(caf::meta::type_name("herald.relay.batch_ack.v1"), x.guild_id, x.seq);
}

/// One guild's part of a link_batch: a batch of that guild's exporter (`exporter_id`, its CAF
/// actor id on the sending node), whole and unchanged. The receiving relay takes only sections
/// of the exporter it attached to (same node, same id) and expects their seqs 1, 2, 3, …
struct link_section {
  uint64_t exporter_id = 0;
  batch items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_section& x) {
  return f(caf::meta::type_name("herald.relay.link_section.v2"), x.exporter_id, x.items);
}

/// What one node's uplink (uplink.hpp) sends the downlink of one other node: the sections of
/// many guilds, each guild's in its exporter's order. At most one link batch per (uplink,
/// downlink) is unacknowledged (link_ack); CAF keeps one actor pair's messages in order.
struct link_batch {
  uint64_t seq = 0;  ///< 1, 2, … per uplink; acknowledged by link_ack
  std::vector<link_section> sections;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_batch& x) {
  return f(caf::meta::type_name("herald.relay.link_batch.v2"), x.seq, x.sections);
}

/// The downlink handed link batch `seq` to its relays: the uplink may send what queued since.
struct link_ack {
  uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_ack& x) {
  return f(caf::meta::type_name("herald.relay.link_ack.v1"), x.seq);
}

/// The relay of `guild_id` on node `node_id` asks the owner's router for an exporter that feeds
/// `importer` (that relay) through the owner's uplink to `downlink` (the relay's node's
/// downlink, downlink.hpp). Answered with attach_reply once the exporter is registered with the
/// guild, or with a dispatch error (unavailable while the owner does not own the guild).
/// v3 added the relay's cursor: with `has_cursor`, the relay's partitions were fed up to
/// (cursor_epoch, cursor_order) by an earlier owner, and the exporter registers with the guild
/// with it, so that the tail's later events are replayed first (docs/cluster.md, "Event tail,
/// cursors and resync").
struct attach_request {
  uint64_t guild_id = 0;
  uint16_t node_id = 0;
  caf::actor importer;
  caf::actor downlink;
  bool has_cursor = false;
  uint64_t cursor_epoch = 0;
  uint64_t cursor_order = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attach_request& x) {
  return f(caf::meta::type_name("herald.relay.attach_request.v3"), x.guild_id, x.node_id,
           x.importer, x.downlink, x.has_cursor, x.cursor_epoch, x.cursor_order);
}

struct attach_reply {
  uint64_t members = 0;  ///< the guild's member count (sizes the relay's partitions)
  caf::actor exporter;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attach_reply& x) {
  return f(caf::meta::type_name("herald.relay.attach_reply.v1"), x.members, x.exporter);
}

/// The remote relay asks its exporter to subscribe one session (a cast: the answer is a
/// `subscriber` item of the stream, ordered with the guild's events).
struct subscribe_request {
  uint64_t session_id = 0;
  uint64_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscribe_request& x) {
  return f(caf::meta::type_name("herald.relay.subscribe_request.v1"), x.session_id, x.user_id);
}

/// Adds every message type above to `cfg` under its wire name.
void announce_relay_wire_types(caf::actor_system_config& cfg);

}  // namespace herald::relay::relay_wire
