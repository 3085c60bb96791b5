// SPDX-License-Identifier: Apache-2.0
// sqlite_store::load_guild: rebuilds one guild_state from its rows in one
// read transaction, so a writer in another process cannot tear the snapshot.
#include <optional>
#include <unordered_map>

#include "actors/store/detail/sqlite_impl.hpp"
#include "runtime/base/thread_role.hpp"

namespace herald::store {

namespace {

using detail::each_row;
using detail::statement;

result<domain::guild_state> load_rows(sqlite_store::impl& s, snowflake guild_id) {
  std::optional<domain::guild_state> state;
  auto r =
      each_row(s.select_guild_.start().bind_id(1, guild_id), "load guild", [&](const statement& q) {
        state.emplace(domain::guild{q.column_id(0), q.column_text(1), q.column_id(2)});
      });
  if (!r) {
    return r.error();
  }
  if (!state) {
    return store_error{store_errc::not_found, "no guild " + std::to_string(guild_id)};
  }
  r = each_row(s.select_roles_.start().bind_id(1, guild_id), "load roles", [&](const statement& q) {
    domain::role role;
    role.id_ = q.column_id(0);
    role.name_ = q.column_text(1);
    role.position_ = static_cast<std::int32_t>(q.column_int(2));
    role.permissions_ = q.column_id(3);
    role.color_ = static_cast<std::uint32_t>(q.column_int(4));
    role.hoist_ = q.column_int(5) != 0;
    role.mentionable_ = q.column_int(6) != 0;
    role.managed_ = q.column_int(7) != 0;
    state->restore_role(std::move(role));
  });
  std::unordered_map<snowflake, domain::channel> channels;
  if (r) {
    r = each_row(s.select_channels_.start().bind_id(1, guild_id), "load channels",
                 [&](const statement& q) {
                   domain::channel c;
                   c.id_ = q.column_id(0);
                   c.guild_id_ = guild_id;
                   c.type_ = static_cast<std::int32_t>(q.column_int(1));
                   c.name_ = q.column_text(2);
                   c.position_ = static_cast<std::int32_t>(q.column_int(3));
                   channels.emplace(c.id_, std::move(c));
                 });
  }
  if (r) {
    r = each_row(s.select_overwrites_.start().bind_id(1, guild_id), "load overwrites",
                 [&](const statement& q) {
                   domain::permission_overwrite ow;
                   ow.id_ = q.column_id(1);
                   ow.type_ = q.column_int(2) == 1 ? domain::overwrite_type::member
                                                   : domain::overwrite_type::role;
                   ow.allow_ = q.column_id(3);
                   ow.deny_ = q.column_id(4);
                   channels[q.column_id(0)].overwrites_.push_back(ow);
                 });
  }
  std::unordered_map<snowflake, domain::member_entry> members;
  if (r) {
    // A member whose user row is missing still loads, with an empty username.
    r = each_row(
        s.select_members_.start().bind_id(1, guild_id), "load members", [&](const statement& q) {
          domain::member_entry e;
          e.member_.user_id_ = q.column_id(0);
          e.member_.joined_at_ = q.column_int(1);
          e.user_ = domain::user{e.member_.user_id_, q.column_text(2), q.column_int(3) != 0};
          members.emplace(e.member_.user_id_, std::move(e));
        });
  }
  if (r) {
    r = each_row(s.select_member_roles_.start().bind_id(1, guild_id), "load member roles",
                 [&](const statement& q) {
                   auto it = members.find(q.column_id(0));
                   if (it != members.end()) {
                     it->second.member_.role_ids_.push_back(q.column_id(1));
                   }
                 });
  }
  if (!r) {
    return r.error();
  }
  for (auto& [id, c] : channels) {
    state->restore_channel(std::move(c));
  }
  for (auto& [id, e] : members) {
    state->restore_member(std::move(e.member_), std::move(e.user_));
  }
  return std::move(*state);
}

}  // namespace

result<domain::guild_state> sqlite_store::load_guild(snowflake guild_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  // One read transaction: every row from the same snapshot.
  if (auto r = detail::exec(reader_->db_, "BEGIN", "begin read"); !r) {
    return r.error();
  }
  auto loaded = load_rows(*reader_, guild_id);
  // A read transaction has nothing to lose: end it whatever happened.
  (void)detail::exec(reader_->db_, "COMMIT", "end read");
  return loaded;
}

result<std::vector<feature_state_entry>> sqlite_store::load_feature_state(
    const std::string& feature, const std::string& prefix) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::vector<feature_state_entry> out;
  auto r = each_row(reader_->select_feature_state_.start().bind(1, feature).bind(2, prefix),
                    "load feature state", [&](const statement& q) {
                      out.push_back({q.column_text(0), q.column_text(1)});
                    });
  if (!r) {
    return r.error();
  }
  return out;
}

}  // namespace herald::store
