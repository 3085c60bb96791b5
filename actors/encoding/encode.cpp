// SPDX-License-Identifier: Apache-2.0
#include "actors/encoding/encode.hpp"

#include "actors/encoding/detail/json_writer.hpp"
#include "actors/encoding/detail/objects.hpp"

namespace herald::encoding {

namespace {

using detail::json_writer;

// Starts a tail: `,"t":"<name>","d":` and returns a writer positioned for d.
json_writer begin_tail(std::string& out, std::string_view name) {
  out.append(",\"t\":\"");
  out.append(name);
  out.append("\",\"d\":");
  return json_writer(out);
}

template <class Write>
std::string tail(std::string_view name, Write&& write_d) {
  std::string out;
  out.reserve(256);
  auto w = begin_tail(out, name);
  write_d(w);
  out.push_back('}');
  return out;
}

message_tails message_tails_named(std::string_view name, const domain::guild_state& state,
                                  const domain::message& msg, std::string buffer) {
  message_tails out;
  out.full_ = std::move(buffer);
  out.full_.clear();
  // The fixed fields take about 700 bytes: one allocation at most, usually none (a reused buffer).
  out.full_.reserve(768 + msg.content_.size() + 96 * msg.mentions_.size());
  auto w = begin_tail(out.full_, name);
  detail::content_span span;
  detail::write_message(w, state, msg, false, &span);
  out.full_.push_back('}');
  out.content_begin_ = span.begin_;
  out.content_end_ = span.end_;
  return out;
}

std::string member_event_tail(std::string_view name, snowflake guild_id,
                              const domain::member_entry& entry) {
  return tail(name, [&](json_writer& w) {
    w.begin_object().id_field("guild_id", guild_id);
    detail::write_member_fields(w, entry.member_, &entry.user_);
    w.end_object();
  });
}

std::string channel_tail(std::string_view name, const domain::channel& ch) {
  return tail(name, [&](json_writer& w) { detail::write_channel(w, ch); });
}

std::string role_tail(std::string_view name, snowflake guild_id, const domain::role& r) {
  return tail(name, [&](json_writer& w) {
    w.begin_object().id_field("guild_id", guild_id).key("role");
    detail::write_role(w, r);
    w.end_object();
  });
}

template <class Write>
std::string encode_object(Write&& write) {
  std::string out;
  json_writer w(out);
  write(w);
  return out;
}

std::string frame(int op, std::string_view d) {
  std::string out = "{\"op\":";
  out.append(std::to_string(op));
  out.append(",\"d\":");
  out.append(d);
  out.append(",\"s\":null,\"t\":null}");
  return out;
}

}  // namespace

std::string encode_user(const domain::user& who) {
  return encode_object([&](json_writer& w) { detail::write_user(w, who); });
}

std::string encode_channel(const domain::channel& ch) {
  return encode_object([&](json_writer& w) { detail::write_channel(w, ch); });
}

std::string encode_message(const domain::guild_state& state, const domain::message& msg,
                           bool redacted) {
  return encode_object([&](json_writer& w) { detail::write_message(w, state, msg, redacted); });
}

std::string message_tails::redacted() const {
  return redact_content(full_, content_begin_, content_end_);
}

std::string redact_content(std::string_view full, std::size_t content_begin,
                           std::size_t content_end) {
  std::string out;
  out.reserve(full.size() - (content_end - content_begin) + 2);
  out.append(full.substr(0, content_begin));
  out.append("\"\"");
  out.append(full.substr(content_end));
  return out;
}

message_tails message_create_tails(const domain::guild_state& state, const domain::message& msg,
                                   std::string buffer) {
  return message_tails_named("MESSAGE_CREATE", state, msg, std::move(buffer));
}

message_tails message_update_tails(const domain::guild_state& state, const domain::message& msg,
                                   std::string buffer) {
  return message_tails_named("MESSAGE_UPDATE", state, msg, std::move(buffer));
}

std::string message_delete_tail(snowflake message_id, snowflake channel_id, snowflake guild_id) {
  return tail("MESSAGE_DELETE", [&](json_writer& w) {
    w.begin_object()
        .id_field("id", message_id)
        .id_field("channel_id", channel_id)
        .id_field("guild_id", guild_id)
        .end_object();
  });
}

std::string typing_start_tail(const domain::guild_state& state, snowflake channel_id,
                              snowflake user_id, std::int64_t unix_seconds) {
  return tail("TYPING_START", [&](json_writer& w) {
    w.begin_object()
        .id_field("channel_id", channel_id)
        .id_field("guild_id", state.id())
        .id_field("user_id", user_id)
        .field("timestamp", unix_seconds);
    const auto* m = state.find_member(user_id);
    const auto* who = state.find_user(user_id);
    if (m != nullptr && who != nullptr) {
      w.key("member");
      detail::write_member(w, *m, who);
    }
    w.end_object();
  });
}

std::string guild_member_add_tail(snowflake guild_id, const domain::member_entry& entry) {
  return member_event_tail("GUILD_MEMBER_ADD", guild_id, entry);
}

std::string guild_member_update_tail(snowflake guild_id, const domain::member_entry& entry) {
  return member_event_tail("GUILD_MEMBER_UPDATE", guild_id, entry);
}

std::string guild_member_remove_tail(snowflake guild_id, const domain::user& who) {
  return tail("GUILD_MEMBER_REMOVE", [&](json_writer& w) {
    w.begin_object().id_field("guild_id", guild_id).key("user");
    detail::write_user(w, who);
    w.end_object();
  });
}

std::string channel_create_tail(const domain::channel& ch) {
  return channel_tail("CHANNEL_CREATE", ch);
}

std::string channel_update_tail(const domain::channel& ch) {
  return channel_tail("CHANNEL_UPDATE", ch);
}

std::string channel_delete_tail(const domain::channel& ch) {
  return channel_tail("CHANNEL_DELETE", ch);
}

std::string guild_role_create_tail(snowflake guild_id, const domain::role& r) {
  return role_tail("GUILD_ROLE_CREATE", guild_id, r);
}

std::string guild_role_update_tail(snowflake guild_id, const domain::role& r) {
  return role_tail("GUILD_ROLE_UPDATE", guild_id, r);
}

std::string guild_role_delete_tail(snowflake guild_id, snowflake role_id) {
  return tail("GUILD_ROLE_DELETE", [&](json_writer& w) {
    w.begin_object().id_field("guild_id", guild_id).id_field("role_id", role_id).end_object();
  });
}

std::string guild_delete_tail(snowflake guild_id) {
  return tail("GUILD_DELETE",
              [&](json_writer& w) { w.begin_object().id_field("id", guild_id).end_object(); });
}

std::string guild_unavailable_tail(snowflake guild_id) {
  return tail("GUILD_DELETE", [&](json_writer& w) {
    w.begin_object().id_field("id", guild_id).field("unavailable", true).end_object();
  });
}

std::string guild_update_tail(const domain::guild_state& state) {
  return tail("GUILD_UPDATE", [&](json_writer& w) {
    w.begin_object();
    detail::write_guild_fields(w, state);
    w.end_object();
  });
}

std::string resumed_tail() {
  return ",\"t\":\"RESUMED\",\"d\":{}}";
}

std::string ready_tail(const ready_info& info) {
  return tail("READY", [&](json_writer& w) {
    w.begin_object().field("v", 10).key("user").begin_object();
    detail::write_user_fields(w, info.user_);
    w.field("verified", true).field("mfa_enabled", false).null_field("email").field("flags", 0);
    w.end_object().key("guilds").begin_array();
    for (auto id : info.guild_ids_) {
      w.begin_object().id_field("id", id).field("unavailable", true).end_object();
    }
    w.end_array()
        .empty_array("private_channels")
        .field("session_id", info.session_id_)
        .field("resume_gateway_url", info.resume_gateway_url_)
        .field("session_type", "normal")
        .key("application")
        .begin_object()
        .id_field("id", info.application_id_)
        .key("flags")
        .unsigned_number(info.application_flags_)
        .end_object();
    if (info.shard_) {
      w.key("shard")
          .begin_array()
          .unsigned_number((*info.shard_)[0])
          .unsigned_number((*info.shard_)[1])
          .end_array();
    }
    w.empty_array("relationships")
        .empty_object("user_settings")
        .empty_array("presences")
        .empty_array("guild_join_requests")
        .empty_array("geo_ordered_rtc_regions")
        .empty_object("auth")
        .end_object();
  });
}

std::string hello_frame(std::int64_t heartbeat_interval_ms) {
  return frame(10, "{\"heartbeat_interval\":" + std::to_string(heartbeat_interval_ms) + "}");
}

std::string heartbeat_ack_frame() {
  return frame(11, "null");
}

std::string heartbeat_request_frame() {
  return frame(1, "null");
}

std::string reconnect_frame() {
  return frame(7, "null");
}

std::string invalid_session_frame(bool resumable) {
  return frame(9, resumable ? "true" : "false");
}

}  // namespace herald::encoding
