// SPDX-License-Identifier: Apache-2.0
#include "features/reactions/reaction_events.hpp"

#include <nlohmann/json.hpp>

#include "actors/domain/snowflake.hpp"
#include "actors/feature/feature_state.hpp"

namespace herald::reactions {

std::string key_of(const emoji& e) {
  if (e.id_ == 0) {
    return e.name_;
  }
  return e.name_ + ":" + std::to_string(e.id_);
}

bool valid_emoji(const emoji& e) {
  return !e.name_.empty() && e.name_.size() <= max_emoji_name;
}

std::optional<emoji> parse_emoji(const std::string& decoded) {
  emoji e;
  e.name_ = decoded;
  auto colon = decoded.rfind(':');
  if (colon != std::string::npos) {
    auto id = domain::parse_snowflake(decoded.substr(colon + 1));
    if (!id) {
      return std::nullopt;
    }
    e.id_ = *id;
    e.name_ = decoded.substr(0, colon);
  }
  if (!valid_emoji(e)) {
    return std::nullopt;
  }
  return e;
}

std::string payload_json(const reaction& r, bool added) {
  nlohmann::json emoji_json{{"id", nullptr}, {"name", r.emoji_.name_}};
  if (r.emoji_.id_ != 0) {
    emoji_json["id"] = std::to_string(r.emoji_.id_);
  }
  nlohmann::json d{
      {"user_id", std::to_string(r.user_id_)},
      {"channel_id", std::to_string(r.channel_id_)},
      {"message_id", std::to_string(r.message_id_)},
      {"guild_id", std::to_string(r.guild_id_)},
      {"emoji", std::move(emoji_json)},
  };
  if (added) {
    // Discord sends these on ADD only: a normal (not super) reaction.
    d["burst"] = false;
    d["type"] = 0;
  }
  // Invalid UTF-8 in a name becomes U+FFFD instead of throwing.
  return d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

proto::event reaction_event(const reaction& r, bool added, const feature::permission_check& check) {
  proto::event ev;
  ev.set_guild_id(r.guild_id_);
  auto* custom = ev.mutable_custom();
  custom->set_name(added ? "MESSAGE_REACTION_ADD" : "MESSAGE_REACTION_REMOVE");
  custom->set_channel_id(r.channel_id_);
  custom->set_payload_json(payload_json(r, added));
  custom->set_intents(guild_message_reactions_intent);
  custom->set_message_id(r.message_id_);  // the guild checks it exists, after the access check
  check.apply_to(*custom);
  feature::state_writes writes{feature_name};
  if (added) {
    writes.put(state_key(r), state_value(r.emoji_));
  } else {
    writes.erase(state_key(r));
  }
  writes.apply_to(*custom);
  return ev;
}

std::string channel_prefix(uint64_t channel_id) {
  return std::to_string(channel_id) + "/";
}

std::string message_prefix(uint64_t channel_id, uint64_t message_id) {
  return channel_prefix(channel_id) + std::to_string(message_id) + "/";
}

std::string state_key(const reaction& r) {
  return message_prefix(r.channel_id_, r.message_id_) + std::to_string(r.user_id_) + "/" +
         key_of(r.emoji_);
}

std::string state_value(const emoji& e) {
  return std::to_string(e.id_) + ":" + e.name_;
}

std::optional<reaction> from_state(const std::string& key, const std::string& value) {
  reaction r;
  uint64_t* ids[] = {&r.channel_id_, &r.message_id_, &r.user_id_};
  size_t at = 0;
  for (auto* id : ids) {
    auto slash = key.find('/', at);
    if (slash == std::string::npos) {
      return std::nullopt;
    }
    auto parsed = domain::parse_snowflake(key.substr(at, slash - at));
    if (!parsed) {
      return std::nullopt;
    }
    *id = *parsed;
    at = slash + 1;
  }
  auto colon = value.find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  auto emoji_id = domain::parse_snowflake(value.substr(0, colon));
  if (!emoji_id) {
    return std::nullopt;
  }
  r.emoji_ = emoji{*emoji_id, value.substr(colon + 1)};
  if (!valid_emoji(r.emoji_)) {
    return std::nullopt;
  }
  return r;
}

}  // namespace herald::reactions
