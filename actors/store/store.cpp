// SPDX-License-Identifier: Apache-2.0
#include "actors/store/store.hpp"

namespace herald::store {

const char* to_string(store_errc code) {
  switch (code) {
    case store_errc::not_found:
      return "not_found";
    case store_errc::constraint:
      return "constraint";
    case store_errc::invalid_argument:
      return "invalid_argument";
    case store_errc::io_error:
      return "io_error";
    case store_errc::not_a_database:
      return "not_a_database";
    case store_errc::corrupt:
      return "corrupt";
    case store_errc::schema_too_new:
      return "schema_too_new";
    case store_errc::busy:
      return "busy";
    case store_errc::closed:
      return "closed";
    case store_errc::in_doubt:
      return "in_doubt";
    case store_errc::internal:
      return "internal";
    case store_errc::fenced:
      return "fenced";
  }
  return "unknown";
}

std::vector<result<void>> store::apply_group(const std::vector<const write_batch*>& batches) {
  std::vector<result<void>> results;
  results.reserve(batches.size());
  for (const write_batch* batch : batches)
    results.push_back(apply(*batch));
  return results;
}

std::vector<result<guild_owner>> store::claim_guilds(const std::vector<snowflake>& guild_ids,
                                                     std::uint64_t node_id) {
  std::vector<result<guild_owner>> results;
  results.reserve(guild_ids.size());
  for (snowflake guild_id : guild_ids) {
    results.push_back(claim_guild(guild_id, node_id));
  }
  return results;
}

result<std::vector<feature_state_entry>> store::load_feature_state(const std::string&,
                                                                   const std::string&) {
  return store_error{store_errc::internal, "this store keeps no feature state"};
}

result<std::vector<tail_event>> store::read_tail(snowflake, std::uint64_t, std::uint64_t) {
  return store_error{store_errc::internal, "this store keeps no event tail"};
}

result<std::optional<tail_event>> store::tail_head(snowflake) {
  return store_error{store_errc::internal, "this store keeps no event tail"};
}

namespace {

template <class Op>
result<void> apply_one(store& target, Op op) {
  write_batch batch;
  batch.add(std::move(op));
  return target.apply(batch);
}

}  // namespace

result<void> store::upsert_user(const domain::user& value) {
  return apply_one(*this, write_op::upsert_user{value});
}

result<void> store::upsert_guild(const domain::guild& value) {
  return apply_one(*this, write_op::upsert_guild{value});
}

result<void> store::upsert_role(snowflake guild_id, const domain::role& value) {
  return apply_one(*this, write_op::upsert_role{guild_id, value});
}

result<void> store::upsert_channel(const domain::channel& value) {
  return apply_one(*this, write_op::upsert_channel{value});
}

result<void> store::set_overwrites(snowflake channel_id,
                                   const std::vector<domain::permission_overwrite>& value) {
  return apply_one(*this, write_op::set_overwrites{channel_id, value});
}

result<void> store::upsert_member(snowflake guild_id, const domain::member& value) {
  return apply_one(*this, write_op::upsert_member{guild_id, value});
}

result<void> store::delete_role(snowflake guild_id, snowflake role_id) {
  return apply_one(*this, write_op::delete_role{guild_id, role_id});
}

result<void> store::delete_channel(snowflake channel_id) {
  return apply_one(*this, write_op::delete_channel{channel_id});
}

result<void> store::delete_member(snowflake guild_id, snowflake user_id) {
  return apply_one(*this, write_op::delete_member{guild_id, user_id});
}

result<void> store::insert_message(const domain::message& value) {
  return apply_one(*this, write_op::insert_message{value});
}

result<void> store::update_message(snowflake message_id, const std::string& content,
                                   std::int64_t edited_at) {
  return apply_one(*this, write_op::update_message{message_id, content, edited_at});
}

result<void> store::delete_message(snowflake message_id) {
  return apply_one(*this, write_op::delete_message{message_id});
}

result<void> store::save_guild(const domain::guild_state& state) {
  write_batch batch;
  batch.add(write_op::upsert_guild{state.info()});
  for (const auto& r : state.roles()) {
    batch.add(write_op::upsert_role{state.id(), r});
  }
  for (const auto& c : state.channels()) {
    batch.add(write_op::upsert_channel{c});
  }
  for (const auto& [user_id, entry] : state.members()) {
    batch.add(write_op::upsert_user{entry.user_})
        .add(write_op::upsert_member{state.id(), entry.member_});
  }
  return apply(batch);
}

}  // namespace herald::store
