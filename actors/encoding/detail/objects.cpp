// SPDX-License-Identifier: Apache-2.0
#include "actors/encoding/detail/objects.hpp"

#include "actors/domain/snowflake.hpp"

namespace herald::encoding::detail {

namespace {

bool is_voice(std::int32_t type) {
  return type == 2 || type == 13;  // GUILD_VOICE, GUILD_STAGE_VOICE
}

// A timestamp's text in a stack buffer: encoders run per event, and the 32-byte string
// format_iso8601 returns would be a heap allocation each time.
struct iso8601 {
  explicit iso8601(std::int64_t unix_ms) : size_(domain::format_iso8601_to(buf_, unix_ms)) {}
  operator std::string_view() const { return {buf_, size_}; }

private:
  char buf_[domain::iso8601_buffer_size];
  std::size_t size_;
};

void write_timestamp(json_writer& w, std::string_view name, std::int64_t unix_ms) {
  w.key(name);
  if (unix_ms == 0) {
    w.null();
  } else {
    w.string(iso8601(unix_ms));
  }
}

}  // namespace

void write_user_fields(json_writer& w, const domain::user& who) {
  w.id_field("id", who.id_)
      .field("username", who.username_)
      .field("discriminator", "0")
      .null_field("global_name")
      .null_field("avatar");
  if (who.bot_) {
    w.field("bot", true);  // Discord sends `bot` only for bot accounts
  }
  w.field("public_flags", 0).null_field("avatar_decoration_data");
}

void write_user(json_writer& w, const domain::user& who) {
  w.begin_object();
  write_user_fields(w, who);
  w.end_object();
}

void write_member_fields(json_writer& w, const domain::member& m, const domain::user* who) {
  if (who != nullptr) {
    w.key("user");
    write_user(w, *who);
  }
  w.key("roles").begin_array();
  for (auto role_id : m.role_ids_) {
    w.id(role_id);
  }
  w.end_array();
  // joined_at is required by Discord; a member restored without a time shows the epoch.
  w.field("joined_at", std::string_view{iso8601(m.joined_at_)})
      .null_field("nick")
      .null_field("avatar")
      .null_field("banner")
      .null_field("premium_since")
      .field("deaf", false)
      .field("mute", false)
      .field("flags", 0)
      .field("pending", false)
      .null_field("communication_disabled_until");
}

void write_member(json_writer& w, const domain::member& m, const domain::user* who) {
  w.begin_object();
  write_member_fields(w, m, who);
  w.end_object();
}

void write_role(json_writer& w, const domain::role& r) {
  w.begin_object()
      .id_field("id", r.id_)
      .field("name", r.name_)
      .field("color", static_cast<std::int64_t>(r.color_));
  w.key("colors")
      .begin_object()
      .field("primary_color", static_cast<std::int64_t>(r.color_))
      .null_field("secondary_color")
      .null_field("tertiary_color")
      .end_object();
  w.field("hoist", r.hoist_)
      .null_field("icon")
      .null_field("unicode_emoji")
      .field("position", r.position_)
      .key("permissions")
      .bits_string(r.permissions_)
      .field("managed", r.managed_)
      .field("mentionable", r.mentionable_)
      .null_field("description")
      .field("flags", 0)
      .end_object();
}

void write_channel(json_writer& w, const domain::channel& ch) {
  w.begin_object()
      .id_field("id", ch.id_)
      .field("type", ch.type_)
      .id_field("guild_id", ch.guild_id_)
      .field("name", ch.name_)
      .field("position", ch.position_);
  w.key("permission_overwrites").begin_array();
  for (const auto& ow : ch.overwrites_) {
    w.begin_object()
        .id_field("id", ow.id_)
        .field("type", static_cast<int>(ow.type_))
        .key("allow")
        .bits_string(ow.allow_)
        .key("deny")
        .bits_string(ow.deny_)
        .end_object();
  }
  w.end_array()
      .null_field("parent_id")
      .field("nsfw", false)
      .null_field("topic")
      .null_field("last_message_id")
      .field("rate_limit_per_user", 0)
      .field("flags", 0);
  if (is_voice(ch.type_)) {
    w.field("bitrate", 64000).field("user_limit", 0).null_field("rtc_region");
  }
  w.end_object();
}

void write_message(json_writer& w, const domain::guild_state& state, const domain::message& msg,
                   bool redacted, content_span* content) {
  w.begin_object()
      .id_field("id", msg.id_)
      .field("type", 0)
      .id_field("channel_id", msg.channel_id_)
      .id_field("guild_id", msg.guild_id_);
  w.key("author");
  if (const auto* author = state.find_user(msg.author_id_)) {
    write_user(w, *author);
  } else {
    write_user(w, domain::user{msg.author_id_, "Deleted User", false});
  }
  if (const auto* m = state.find_member(msg.author_id_)) {
    w.key("member");
    write_member(w, *m, nullptr);
  }
  w.key("content");
  const std::size_t content_begin = w.out().size();
  w.string(redacted ? std::string_view{} : std::string_view{msg.content_});
  if (content != nullptr) {
    *content = content_span{content_begin, w.out().size()};
  }
  // Discord always sends a creation time; an unstamped message shows its id's.
  write_timestamp(w, "timestamp",
                  msg.created_at_ != 0 ? msg.created_at_ : domain::timestamp_ms(msg.id_));
  write_timestamp(w, "edited_timestamp", msg.edited_at_);
  w.field("tts", false).field("mention_everyone", msg.mention_everyone_);
  w.key("mentions").begin_array();
  for (auto user_id : msg.mentions_) {
    const auto* who = state.find_user(user_id);
    const auto* m = state.find_member(user_id);
    if (who == nullptr || m == nullptr) {
      continue;
    }
    // A mention is a user object with an extra partial member field.
    w.begin_object();
    write_user_fields(w, *who);
    w.key("member");
    write_member(w, *m, nullptr);
    w.end_object();
  }
  w.end_array();
  w.key("mention_roles").begin_array();
  for (auto role_id : msg.mention_roles_) {
    w.id(role_id);
  }
  w.end_array()
      .empty_array("attachments")
      .empty_array("embeds")
      .empty_array("components")
      .field("pinned", false)
      .field("flags", 0)
      .end_object();
}

void write_guild_fields(json_writer& w, const domain::guild_state& state) {
  const auto& info = state.info();
  w.id_field("id", info.id_)
      .field("name", info.name_)
      .null_field("icon")
      .null_field("splash")
      .null_field("discovery_splash")
      .id_field("owner_id", info.owner_id_)
      .null_field("afk_channel_id")
      .field("afk_timeout", 300)
      .field("verification_level", 0)
      .field("default_message_notifications", 0)
      .field("explicit_content_filter", 0);
  w.key("roles").begin_array();
  for (const auto& r : state.roles()) {
    write_role(w, r);
  }
  w.end_array()
      .empty_array("emojis")
      .empty_array("features")
      .field("mfa_level", 0)
      .null_field("application_id")
      .null_field("system_channel_id")
      .field("system_channel_flags", 0)
      .null_field("rules_channel_id")
      .null_field("max_presences")
      .field("max_members", max_members)
      .null_field("vanity_url_code")
      .null_field("description")
      .null_field("banner")
      .field("premium_tier", 0)
      .field("premium_subscription_count", 0)
      .field("preferred_locale", "en-US")
      .null_field("public_updates_channel_id")
      .field("nsfw_level", 0)
      .empty_array("stickers")
      .field("premium_progress_bar_enabled", false)
      .null_field("safety_alerts_channel_id");
}

}  // namespace herald::encoding::detail
