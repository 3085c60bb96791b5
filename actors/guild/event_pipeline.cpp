// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/event_pipeline.hpp"

#include <algorithm>

#include <caf/make_counted.hpp>

#include "actors/domain/convert.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/encoding/encode.hpp"
#include "actors/outbound/intents.hpp"
#include "actors/permissions/hierarchy.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/services/dispatch_error.hpp"

namespace herald::guild {

namespace {

using dispatch::dispatch_errc;
using dispatch::make_error;
using domain::apply_error;

caf::error refused(apply_error err) {
  return make_error(dispatch_errc::invalid_event, domain::to_string(err));
}

caf::intrusive_ptr<relay::dispatch_event> event_for(uint64_t guild_id, std::string_view tail,
                                                    session::intents required,
                                                    uint32_t slot = relay::no_channel_slot) {
  auto ev = caf::make_counted<relay::dispatch_event>();
  ev->guild_id = guild_id;
  ev->full_tail = session::shared_tail{tail};
  ev->required_intents = required;
  ev->channel_slot = slot;
  return ev;
}

// Per scheduler thread: the buffer message tails are encoded into before their one copy into a
// shared tail, so that encoding a message allocates nothing once the buffer has grown.
thread_local std::string tail_scratch;

std::string take_scratch() {
  return std::move(tail_scratch);
}

void give_back_scratch(std::string buffer) {
  if (buffer.capacity() <= 64 * 1024) {  // a huge message's buffer is not kept
    tail_scratch = std::move(buffer);
  }
}

std::vector<uint64_t> sorted_ids(const std::vector<domain::snowflake>& ids) {
  std::vector<uint64_t> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// A message's dispatch from its tails. The tails' bytes are copied once, into the shared tail;
/// the encoding buffer goes back to the thread's scratch for the next message.
caf::intrusive_ptr<relay::dispatch_event> message_event_of(uint64_t guild_id,
                                                           const domain::message& msg,
                                                           encoding::message_tails tails,
                                                           const slot_lookup& slot_of) {
  auto ev =
      event_for(guild_id, tails.full_, session::guild_messages_intent, slot_of(msg.channel_id_));
  ev->content_gated = !msg.content_.empty();
  ev->content_begin = static_cast<uint32_t>(tails.content_begin_);
  ev->content_end = static_cast<uint32_t>(tails.content_end_);
  ev->author_id = msg.author_id_;
  if (!msg.mentions_.empty()) {
    ev->mentioned_user_ids = sorted_ids(msg.mentions_);
  }
  give_back_scratch(std::move(tails.full_));
  return ev;
}

// Handlers per event kind. Each validates before it mutates anything.
using handler_result = caf::expected<prepared_event>;

struct pipeline {
  domain::guild_state& state;
  store::store& store;
  const slot_lookup& slot_of;
  store::write_batch& batch;
  int64_t now_ms;
  const pending_deletes* deleting;

  handler_result message_create(const proto::message& in) {
    auto msg = domain::from_proto(in);
    if (msg.guild_id_ == 0) {
      msg.guild_id_ = state.id();
    }
    if (auto err = state.check_message_create(msg); err != apply_error::ok) {
      return refused(err);
    }
    if (auto denied = require(msg.channel_id_, msg.author_id_,
                              permissions::view_channel | permissions::send_messages,
                              "VIEW_CHANNEL and SEND_MESSAGES")) {
      return denied;
    }
    if (msg.created_at_ == 0) {
      msg.created_at_ = now_ms;
    }
    auto out = message_event(msg, encoding::message_create_tails(state, msg, take_scratch()));
    batch.add(store::write_op::insert_message{std::move(msg)});  // moved: no copy of content
    return out;
  }

  /// Checked here, in the step that applies the event, so a concurrent role or overwrite
  /// change cannot slip between the check and the event. An empty error when allowed.
  caf::error require(domain::snowflake channel_id, domain::snowflake user_id,
                     permissions::bits needed, const char* what) const {
    auto perms = permissions::channel_permissions(state, channel_id, user_id);
    if ((perms & needed) != needed) {
      return make_error(dispatch_errc::missing_permission, what);
    }
    return {};
  }

  prepared_event message_event(const domain::message& msg, encoding::message_tails tails) {
    prepared_event out;
    out.dispatch = message_event_of(state.id(), msg, std::move(tails), slot_of);
    return out;
  }

  /// The checks an edit or delete by `actor` (0: the system, unchecked) passes, in Discord's
  /// order: the channel exists, the actor is a member who may VIEW it (missing_access: a
  /// hidden channel never reveals whether a message exists), then the message exists. Returns
  /// the stored message.
  caf::expected<domain::message> message_target(domain::snowflake channel_id,
                                                domain::snowflake message_id,
                                                domain::snowflake actor) const {
    if (auto err = state.check_message_target(channel_id); err != apply_error::ok) {
      return refused(err);
    }
    if (actor != 0) {
      if (state.find_member(actor) == nullptr) {
        return refused(apply_error::unknown_member);
      }
      auto perms = permissions::channel_permissions(state, channel_id, actor);
      if (!permissions::has(perms, permissions::view_channel)) {
        return make_error(dispatch_errc::missing_access, "VIEW_CHANNEL");
      }
    }
    auto stored = store.get_message(message_id);
    if (!stored || stored.value().deleted_ || stored.value().channel_id_ != channel_id) {
      return make_error(dispatch_errc::unknown_message, std::to_string(message_id));
    }
    return std::move(stored).value();
  }

  handler_result message_update(const proto::message& in) {
    auto target = message_target(in.channel_id(), in.id(), in.author_id());
    if (!target) {
      return std::move(target.error());
    }
    if (in.author_id() != 0 && in.author_id() != target->author_id_) {
      return make_error(dispatch_errc::not_author, std::to_string(in.id()));
    }
    auto msg = std::move(*target);
    msg.content_ = in.content();
    msg.edited_at_ = in.edited_at() != 0 ? in.edited_at() : now_ms;
    auto out = message_event(msg, encoding::message_update_tails(state, msg, take_scratch()));
    batch.add(store::write_op::update_message{msg.id_, std::move(msg.content_), msg.edited_at_});
    return out;
  }

  handler_result message_delete(const proto::message_delete& in) {
    auto target = message_target(in.channel_id(), in.id(), in.actor_id());
    if (!target) {
      return std::move(target.error());
    }
    if (in.actor_id() != 0 && in.actor_id() != target->author_id_) {
      if (auto denied = require(in.channel_id(), in.actor_id(), permissions::manage_messages,
                                "MANAGE_MESSAGES")) {
        return denied;
      }
    }
    prepared_event out;
    auto tail = encoding::message_delete_tail(in.id(), in.channel_id(), state.id());
    out.dispatch = event_for(state.id(), std::move(tail), session::guild_messages_intent,
                             slot_of(in.channel_id()));
    batch.add(store::write_op::delete_message{in.id()});
    return out;
  }

  handler_result typing_start(const proto::typing_start& in) {
    if (auto err = state.check_typing(in.channel_id(), in.user_id()); err != apply_error::ok) {
      return refused(err);
    }
    if (auto denied = require(in.channel_id(), in.user_id(),
                              permissions::view_channel | permissions::send_messages,
                              "VIEW_CHANNEL and SEND_MESSAGES")) {
      return denied;
    }
    int64_t seconds = (in.timestamp() != 0 ? in.timestamp() : now_ms) / 1000;
    prepared_event out;
    auto tail = encoding::typing_start_tail(state, in.channel_id(), in.user_id(), seconds);
    out.dispatch = event_for(state.id(), std::move(tail), session::guild_message_typing_intent,
                             slot_of(in.channel_id()));
    return out;
  }

  handler_result member_add(const proto::guild_member_add& in) {
    auto m = domain::from_proto(in.member());
    auto who = domain::from_proto(in.user());
    if (m.joined_at_ == 0) {
      m.joined_at_ = now_ms;
    }
    if (auto err = state.add_member(m, who); err != apply_error::ok) {
      return refused(err);
    }
    const auto& entry = state.members().at(who.id_);
    batch.add(store::write_op::upsert_user{who});
    batch.add(store::write_op::upsert_member{state.id(), entry.member_});
    auto out = member_event(encoding::guild_member_add_tail(state.id(), entry), who.id_);
    out.added_users.push_back(who.id_);
    return out;
  }

  handler_result member_update(const proto::guild_member_update& in) {
    auto m = domain::from_proto(in.member());
    std::optional<domain::user> who;
    if (in.has_user()) {
      who = domain::from_proto(in.user());
    }
    if (auto err = state.update_member(m, who); err != apply_error::ok) {
      return refused(err);
    }
    const auto& entry = state.members().at(m.user_id_);
    if (who) {
      batch.add(store::write_op::upsert_user{*who});
    }
    batch.add(store::write_op::upsert_member{state.id(), entry.member_});
    return member_event(encoding::guild_member_update_tail(state.id(), entry), m.user_id_);
  }

  handler_result member_remove(const proto::guild_member_remove& in) {
    if (auto denied = may_kick(in.actor_id(), in.user_id())) {
      return denied;
    }
    const domain::user* found = state.find_user(in.user_id());
    domain::user who = found != nullptr ? *found : domain::user{in.user_id(), {}, false};
    if (auto err = state.remove_member(in.user_id()); err != apply_error::ok) {
      return refused(err);
    }
    batch.add(store::write_op::delete_member{state.id(), in.user_id()});
    auto out = member_event(encoding::guild_member_remove_tail(state.id(), who), in.user_id());
    out.removed_users.push_back(in.user_id());
    return out;
  }

  /// A removal's checks (proto guild_member_remove), here so that a role change ordered before
  /// it is seen, in Discord's order. The owner is never removed (a guild always has one). A kick
  /// (a non-zero actor) also needs: the actor is a member who holds KICK_MEMBERS (the owner holds
  /// every bit), the target is a member, and the actor outranks the target in the role
  /// hierarchy (permissions/hierarchy.hpp). An empty error when allowed.
  caf::error may_kick(domain::snowflake actor, domain::snowflake target) const {
    if (target == state.info().owner_id_) {
      return make_error(dispatch_errc::missing_permission, "the owner cannot be removed");
    }
    if (actor == 0) {
      return {};
    }
    const auto* kicker = state.find_member(actor);
    if (kicker == nullptr) {
      return make_error(dispatch_errc::missing_access, "not a member");
    }
    if (!permissions::has(permissions::base_permissions(state, *kicker),
                          permissions::kick_members)) {
      return make_error(dispatch_errc::missing_permission, "KICK_MEMBERS");
    }
    const auto* kicked = state.find_member(target);
    if (kicked == nullptr) {
      return make_error(dispatch_errc::unknown_member, std::to_string(target));
    }
    if (!permissions::outranks(state, *kicker, *kicked)) {
      return make_error(dispatch_errc::missing_permission,
                        "the target's highest role is not below the actor's");
    }
    return {};
  }

  prepared_event member_event(std::string tail, domain::snowflake user) {
    prepared_event out;
    out.touched_users.push_back(user);
    out.dispatch = event_for(state.id(), std::move(tail), session::guild_members_intent);
    out.view_changed = true;
    return out;
  }

  handler_result channel_create(const proto::channel& in) {
    auto ch = domain::from_proto(in);
    if (auto err = state.create_channel(ch); err != apply_error::ok) {
      return refused(err);
    }
    const auto* stored = state.find_channel(ch.id_);
    stage_channel(*stored);
    prepared_event out;  // delivered as the view diff: only viewers gain it
    out.reply_json = encoding::encode_channel(*stored);
    out.view_changed = true;
    return out;
  }

  handler_result channel_update(const proto::channel& in) {
    auto ch = domain::from_proto(in);
    if (auto err = state.update_channel(ch); err != apply_error::ok) {
      return refused(err);
    }
    const auto* stored = state.find_channel(ch.id_);
    stage_channel(*stored);
    prepared_event out;
    auto tail = encoding::channel_update_tail(*stored);
    // The slot is looked up again after the view recompute (see guild actor),
    // so only sessions that still see the channel get the update.
    out.dispatch =
        event_for(state.id(), std::move(tail), session::guilds_intent, slot_of(stored->id_));
    out.view_changed = true;
    return out;
  }

  void stage_channel(const domain::channel& ch) {
    batch.add(store::write_op::upsert_channel{ch});
    batch.add(store::write_op::set_overwrites{ch.id_, ch.overwrites_});
  }

  handler_result channel_delete(const proto::channel_delete& in) {
    const auto* ch = state.find_channel(in.id());
    if (ch == nullptr) {
      return refused(apply_error::unknown_channel);
    }
    auto tail = encoding::channel_delete_tail(*ch);
    if (auto err = state.delete_channel(in.id()); err != apply_error::ok) {
      return refused(err);
    }
    batch.add(store::write_op::delete_channel{in.id()});
    prepared_event out;
    out.reply_json = std::string(payload_of(tail));
    out.deleted_channels.emplace_back(in.id(), std::move(tail));
    out.view_changed = true;
    return out;
  }

  handler_result role_upsert(const proto::role& in, bool create) {
    auto r = domain::from_proto(in);
    auto err = create ? state.create_role(r) : state.update_role(r);
    if (err != apply_error::ok) {
      return refused(err);
    }
    const auto* stored = state.find_role(r.id_);
    batch.add(store::write_op::upsert_role{state.id(), *stored});
    auto tail = create ? encoding::guild_role_create_tail(state.id(), *stored)
                       : encoding::guild_role_update_tail(state.id(), *stored);
    return guild_wide(std::move(tail));
  }

  handler_result role_delete(const proto::guild_role_delete& in) {
    if (auto err = state.delete_role(in.role_id()); err != apply_error::ok) {
      return refused(err);
    }
    batch.add(store::write_op::delete_role{state.id(), in.role_id()});
    return guild_wide(encoding::guild_role_delete_tail(state.id(), in.role_id()));
  }

  handler_result guild_update(const proto::guild& in) {
    auto g = domain::from_proto(in);
    if (auto err = state.update_guild(g); err != apply_error::ok) {
      return refused(err);
    }
    batch.add(store::write_op::upsert_guild{state.info()});
    return guild_wide(encoding::guild_update_tail(state));
  }

  handler_result custom(const proto::custom_dispatch& in) {
    if (!valid_event_name(in.name()) || in.payload_json().empty() ||
        in.payload_json().front() != '{' || in.payload_json().back() != '}') {
      return make_error(dispatch_errc::invalid_event, "custom dispatch needs a NAME and an object");
    }
    uint32_t slot = relay::no_channel_slot;
    if (in.channel_id() != 0) {
      if (state.find_channel(in.channel_id()) == nullptr) {
        return refused(apply_error::unknown_channel);
      }
      slot = slot_of(in.channel_id());
    }
    // Discord's order: access (50001), the message (10008), the required bits (50013).
    if (auto denied = actor_may_publish(in)) {
      return denied;
    }
    if (auto unknown = message_exists(in)) {
      return unknown;
    }
    if (auto denied = actor_holds_required(in)) {
      return denied;
    }
    stage_feature_state(in);
    prepared_event out;  // the reply is the payload, read back from the tail
    out.dispatch =
        event_for(state.id(), ",\"t\":\"" + in.name() + "\",\"d\":" + in.payload_json() + "}",
                  in.intents(), slot);
    return out;
  }

  /// A feature event's actor check (proto custom_dispatch): done here, in the step that orders
  /// the event, so a role or overwrite change ordered before it is seen: membership and
  /// VIEW_CHANNEL (missing_access); the required bits come after the message's existence
  /// (actor_holds_required). An empty error when allowed or when the actor is the system (0).
  caf::error actor_may_publish(const proto::custom_dispatch& in) const {
    if (in.actor_id() == 0) {
      return {};
    }
    if (in.channel_id() == 0) {
      return make_error(dispatch_errc::invalid_event, "an actor needs a channel_id");
    }
    if (state.find_member(in.actor_id()) == nullptr) {
      return make_error(dispatch_errc::missing_access, "not a member");
    }
    auto perms = permissions::channel_permissions(state, in.channel_id(), in.actor_id());
    if (!permissions::has(perms, permissions::view_channel)) {
      return make_error(dispatch_errc::missing_access, "VIEW_CHANNEL");
    }
    return {};
  }

  /// The actor holds every bit of required_permissions in the channel (else missing_permission,
  /// 50013). Runs after actor_may_publish and message_exists, as Discord checks.
  caf::error actor_holds_required(const proto::custom_dispatch& in) const {
    if (in.actor_id() == 0) {
      return {};
    }
    auto perms = permissions::channel_permissions(state, in.channel_id(), in.actor_id());
    auto needed = static_cast<permissions::bits>(in.required_permissions());
    if ((perms & needed) != needed) {
      return make_error(dispatch_errc::missing_permission,
                        "required permissions " + std::to_string(needed));
    }
    return {};
  }

  /// A feature event about a message (custom_dispatch message_id): after the actor's checks,
  /// so a hidden channel never reveals whether a message exists; a delete ordered before this
  /// event but not committed yet counts as done. An empty error when it exists or none is named.
  caf::error message_exists(const proto::custom_dispatch& in) const {
    if (in.message_id() == 0) {
      return {};
    }
    if (deleting != nullptr && deleting->count(in.message_id()) > 0) {
      return make_error(dispatch_errc::unknown_message, std::to_string(in.message_id()));
    }
    auto stored = store.get_message(in.message_id());
    if (!stored || stored.value().deleted_ || stored.value().channel_id_ != in.channel_id()) {
      return make_error(dispatch_errc::unknown_message, std::to_string(in.message_id()));
    }
    return {};
  }

  /// The feature's state writes ride this event's batch: durable exactly when it is dispatched.
  void stage_feature_state(const proto::custom_dispatch& in) {
    for (const auto& w : in.state_writes()) {
      if (w.op() == proto::feature_state_write::PUT) {
        batch.add(store::write_op::put_feature_state{w.feature(), w.key(), w.value()});
      } else {
        batch.add(store::write_op::erase_feature_state{
            w.feature(), w.key(), w.op() == proto::feature_state_write::ERASE_PREFIX});
      }
    }
  }

  // Upper-case letters, digits and underscores: safe inside the frame as is.
  static bool valid_event_name(const std::string& name) {
    if (name.empty() || name.size() > 64) {
      return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  prepared_event guild_wide(std::string tail) {
    prepared_event out;
    out.dispatch = event_for(state.id(), std::move(tail), session::guilds_intent);
    out.view_changed = true;
    return out;
  }
};

}  // namespace

caf::intrusive_ptr<relay::dispatch_event> message_dispatch(const domain::guild_state& state,
                                                           const domain::message& msg, bool update,
                                                           const slot_lookup& slot_of) {
  auto tails = update ? encoding::message_update_tails(state, msg, take_scratch())
                      : encoding::message_create_tails(state, msg, take_scratch());
  return message_event_of(state.id(), msg, std::move(tails), slot_of);
}

std::string_view payload_of(std::string_view tail) {
  auto start = tail.find("\"d\":");
  if (start == std::string_view::npos || tail.size() < start + 5) {
    return {};
  }
  start += 4;
  return tail.substr(start, tail.size() - start - 1);
}

caf::expected<prepared_event> prepare_event(domain::guild_state& state, store::store& store,
                                            const proto::event& event, const slot_lookup& slot_of,
                                            store::write_batch& batch, int64_t now_ms,
                                            const pending_deletes* deleting) {
  if (event.guild_id() != 0 && event.guild_id() != state.id()) {
    return refused(apply_error::wrong_guild);
  }
  pipeline p{state, store, slot_of, batch, now_ms, deleting};
  using kind = proto::event::PayloadCase;
  switch (event.payload_case()) {
    case kind::kMessageCreate:
      return p.message_create(event.message_create());
    case kind::kMessageUpdate:
      return p.message_update(event.message_update());
    case kind::kMessageDelete:
      return p.message_delete(event.message_delete());
    case kind::kTypingStart:
      return p.typing_start(event.typing_start());
    case kind::kGuildMemberAdd:
      return p.member_add(event.guild_member_add());
    case kind::kGuildMemberUpdate:
      return p.member_update(event.guild_member_update());
    case kind::kGuildMemberRemove:
      return p.member_remove(event.guild_member_remove());
    case kind::kChannelCreate:
      return p.channel_create(event.channel_create());
    case kind::kChannelUpdate:
      return p.channel_update(event.channel_update());
    case kind::kChannelDelete:
      return p.channel_delete(event.channel_delete());
    case kind::kGuildRoleCreate:
      return p.role_upsert(event.guild_role_create(), true);
    case kind::kGuildRoleUpdate:
      return p.role_upsert(event.guild_role_update(), false);
    case kind::kGuildRoleDelete:
      return p.role_delete(event.guild_role_delete());
    case kind::kGuildUpdate:
      return p.guild_update(event.guild_update());
    case kind::kCustom:
      return p.custom(event.custom());
    case kind::PAYLOAD_NOT_SET:
      break;
  }
  return refused(apply_error::empty_event);
}

}  // namespace herald::guild
