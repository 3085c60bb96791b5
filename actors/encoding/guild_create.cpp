// SPDX-License-Identifier: Apache-2.0
#include <algorithm>

#include "actors/encoding/detail/json_writer.hpp"
#include "actors/encoding/detail/objects.hpp"
#include "actors/encoding/encode.hpp"

namespace herald::encoding {

namespace {

using detail::json_writer;

void write_member_with_user(json_writer& w, const domain::member_entry& entry) {
  detail::write_member(w, entry.member_, &entry.user_);
}

}  // namespace

guild_create_encoder::guild_create_encoder(const domain::guild_state& state,
                                           std::size_t large_threshold)
    : state_(state), large_(state.member_count() >= large_threshold) {
  head_.append(",\"t\":\"GUILD_CREATE\",\"d\":");
  json_writer w(head_);
  w.begin_object();
  detail::write_guild_fields(w, state);
  w.field("unavailable", false)
      .field("member_count", static_cast<std::int64_t>(state.member_count()))
      .field("large", large_)
      .field("lazy", true)
      .empty_array("threads")
      .empty_array("presences")
      .empty_array("voice_states")
      .empty_array("stage_instances")
      .empty_array("guild_scheduled_events")
      .empty_array("soundboard_sounds")
      .key("channels")
      .begin_array();
  if (!large_) {
    json_writer mw(members_);
    for (const auto& [user_id, entry] : state.members()) {
      write_member_with_user(mw, entry);
    }
  }
}

std::string guild_create_encoder::channels_json(const std::vector<snowflake>& channel_ids) const {
  std::vector<snowflake> wanted = channel_ids;
  std::sort(wanted.begin(), wanted.end());
  std::string out;
  json_writer w(out);
  for (const auto& ch : state_.channels()) {
    if (std::binary_search(wanted.begin(), wanted.end(), ch.id_)) {
      detail::write_channel(w, ch);
    }
  }
  return out;
}

std::string guild_create_encoder::tail_for(const domain::member_entry& receiver,
                                           std::string_view channels_body) const {
  std::string out;
  out.reserve(head_.size() + channels_body.size() + members_.size() + 512);
  out.append(head_);
  out.append(channels_body);
  out.append("],\"members\":[");
  if (large_) {
    json_writer w(out);
    write_member_with_user(w, receiver);
    const auto owner = state_.info().owner_id_;
    if (owner != receiver.member_.user_id_) {
      if (auto it = state_.members().find(owner); it != state_.members().end()) {
        write_member_with_user(w, it->second);
      }
    }
  } else {
    out.append(members_);
  }
  out.append("],\"joined_at\":");
  detail::append_json_string(out, domain::format_iso8601(receiver.member_.joined_at_));
  out.append("}}");
  return out;
}

}  // namespace herald::encoding
