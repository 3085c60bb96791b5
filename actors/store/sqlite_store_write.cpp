// SPDX-License-Identifier: Apache-2.0
// sqlite_store writes: the statement cache and one function per write op.
#include <string>

#include "actors/store/detail/sqlite_impl.hpp"

namespace herald::store {

namespace {

using detail::statement;

std::string join_ids(const std::vector<snowflake>& ids) {
  std::string out;
  for (snowflake id : ids) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out += std::to_string(id);
  }
  return out;
}

// Columns of one messages row in an INSERT.
constexpr int message_columns = 11;

result<void> done(result<int> r) {
  if (!r) {
    return r.error();
  }
  return {};
}

}  // namespace

result<void> sqlite_store::impl::prepare_all() {
  const std::pair<statement*, const char*> all[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&savepoint_, "SAVEPOINT batch"},
      {&release_, "RELEASE batch"},
      {&rollback_to_, "ROLLBACK TO batch"},
      {&upsert_user_,
       "INSERT INTO users(id, username, bot) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(id) DO UPDATE SET username = excluded.username, "
       "bot = excluded.bot"},
      {&upsert_guild_,
       "INSERT INTO guilds(id, name, owner_id) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
       "owner_id = excluded.owner_id"},
      {&upsert_role_,
       "INSERT INTO roles(id, guild_id, name, position, permissions, color, "
       "hoist, mentionable, managed) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
       "ON CONFLICT(id) DO UPDATE SET guild_id = excluded.guild_id, "
       "name = excluded.name, position = excluded.position, "
       "permissions = excluded.permissions, color = excluded.color, "
       "hoist = excluded.hoist, mentionable = excluded.mentionable, "
       "managed = excluded.managed"},
      {&upsert_channel_,
       "INSERT INTO channels(id, guild_id, type, name, position) "
       "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
       "guild_id = excluded.guild_id, type = excluded.type, "
       "name = excluded.name, position = excluded.position"},
      {&delete_overwrites_, "DELETE FROM overwrites WHERE channel_id = ?1"},
      {&insert_overwrite_,
       "INSERT INTO overwrites(channel_id, target_id, type, allow, deny, "
       "ord) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&upsert_member_,
       "INSERT INTO members(guild_id, user_id, joined_at) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(guild_id, user_id) DO UPDATE SET "
       "joined_at = excluded.joined_at"},
      {&delete_member_roles_, "DELETE FROM member_roles WHERE guild_id = ?1 AND user_id = ?2"},
      {&insert_member_role_,
       "INSERT OR IGNORE INTO member_roles(guild_id, user_id, role_id) "
       "VALUES(?1, ?2, ?3)"},
      {&delete_role_, "DELETE FROM roles WHERE id = ?2 AND guild_id = ?1"},
      {&delete_role_from_members_,
       "DELETE FROM member_roles WHERE guild_id = ?1 "
       "AND role_id = ?2"},
      {&delete_role_overwrites_, "DELETE FROM overwrites WHERE target_id = ?1 AND type = 0"},
      {&delete_channel_, "DELETE FROM channels WHERE id = ?1"},
      {&delete_member_, "DELETE FROM members WHERE guild_id = ?1 AND user_id = ?2"},
      {&insert_message_,
       "INSERT INTO messages(id, channel_id, guild_id, author_id, content, "
       "created_at, edited_at, deleted, mentions, mention_roles, "
       "mention_everyone) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
      {&update_message_,
       "UPDATE messages SET content = ?2, edited_at = ?3 "
       "WHERE id = ?1 AND deleted = 0"},
      {&delete_message_,
       "UPDATE messages SET deleted = 1, content = '', mentions = '', "
       "mention_roles = '', mention_everyone = 0 WHERE id = ?1"},
      {&select_guild_, "SELECT id, name, owner_id FROM guilds WHERE id = ?1"},
      {&select_roles_,
       "SELECT id, name, position, permissions, color, hoist, mentionable, "
       "managed FROM roles WHERE guild_id = ?1"},
      {&select_channels_, "SELECT id, type, name, position FROM channels WHERE guild_id = ?1"},
      {&select_overwrites_,
       "SELECT o.channel_id, o.target_id, o.type, o.allow, o.deny "
       "FROM overwrites o JOIN channels c ON c.id = o.channel_id "
       "WHERE c.guild_id = ?1 ORDER BY o.channel_id, o.ord"},
      {&select_members_,
       "SELECT m.user_id, m.joined_at, u.username, u.bot FROM members m "
       "LEFT JOIN users u ON u.id = m.user_id WHERE m.guild_id = ?1"},
      {&select_member_roles_, "SELECT user_id, role_id FROM member_roles WHERE guild_id = ?1"},
      {&list_guilds_, "SELECT id FROM guilds ORDER BY id"},
      {&guilds_of_user_, "SELECT guild_id FROM members WHERE user_id = ?1 ORDER BY guild_id"},
      {&select_user_, "SELECT id, username, bot FROM users WHERE id = ?1"},
      {&select_message_,
       "SELECT id, channel_id, guild_id, author_id, content, created_at, "
       "edited_at, deleted, mentions, mention_roles, mention_everyone "
       "FROM messages WHERE id = ?1"},
      {&recent_messages_,
       "SELECT id, channel_id, guild_id, author_id, content, created_at, "
       "edited_at, deleted, mentions, mention_roles, mention_everyone "
       "FROM messages WHERE channel_id = ?1 AND id < ?2 AND deleted = 0 "
       "ORDER BY id DESC LIMIT ?3"},
      {&guild_of_channel_, "SELECT guild_id FROM channels WHERE id = ?1"},
      {&select_token_epoch_,
       "SELECT COALESCE(e.epoch, 0) FROM users u "
       "LEFT JOIN token_epochs e ON e.user_id = u.id WHERE u.id = ?1"},
      {&bump_token_epoch_,
       "INSERT INTO token_epochs(user_id, epoch) VALUES(?1, 1) "
       "ON CONFLICT(user_id) DO UPDATE SET epoch = epoch + 1"},
      {&put_feature_state_,
       "INSERT INTO feature_state(feature, key, value) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(feature, key) DO UPDATE SET value = excluded.value"},
      {&erase_feature_state_, "DELETE FROM feature_state WHERE feature = ?1 AND key = ?2"},
      // A prefix as a range: keys >= prefix and below prefix followed by the largest byte.
      {&erase_feature_prefix_,
       "DELETE FROM feature_state WHERE feature = ?1 AND key >= ?2 AND key < ?2 || x'ff'"},
      {&select_feature_state_,
       "SELECT key, value FROM feature_state WHERE feature = ?1 AND key >= ?2 "
       "AND key < ?2 || x'ff' ORDER BY key"},
      // Only for a guild that exists (no row: not_found). WHERE makes the upsert parse as one.
      {&claim_guild_,
       "INSERT INTO guild_owners(guild_id, epoch, node_id, last_order) "
       "SELECT id, 1, ?2, 0 FROM guilds WHERE id = ?1 "
       "ON CONFLICT(guild_id) DO UPDATE SET epoch = epoch + 1, node_id = excluded.node_id"},
      {&select_owner_, "SELECT epoch, node_id, last_order FROM guild_owners WHERE guild_id = ?1"},
      {&record_order_,
       "UPDATE guild_owners SET last_order = ?3 WHERE guild_id = ?1 AND epoch = ?2"},
      {&upsert_tail_,
       "INSERT INTO guild_event_tail(guild_id, slot, epoch, guild_order, prev_epoch, prev_order, "
       "event) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(guild_id, slot) DO UPDATE SET "
       "epoch = excluded.epoch, guild_order = excluded.guild_order, "
       "prev_epoch = excluded.prev_epoch, prev_order = excluded.prev_order, "
       "event = excluded.event"},
      // Orders grow with epochs, so (epoch, order) > (e, o) is order > o, or order = o (reused
      // by a later epoch after an uncommitted ephemeral event) with a later epoch.
      {&select_tail_,
       "SELECT epoch, guild_order, prev_epoch, prev_order, slot, event FROM guild_event_tail "
       "WHERE guild_id = ?1 AND (epoch > ?2 OR (epoch = ?2 AND guild_order > ?3)) "
       "ORDER BY guild_order"},
      {&select_tail_head_,
       "SELECT epoch, guild_order, prev_epoch, prev_order, slot FROM guild_event_tail "
       "WHERE guild_id = ?1 ORDER BY guild_order DESC LIMIT 1"},
  };
  for (const auto& [stmt, sql] : all) {
    if (auto r = stmt->prepare(db_, sql); !r) {
      return r;
    }
  }
  return {};
}

namespace {

struct op_runner {
  sqlite_store::impl& s;

  result<void> operator()(const write_op::upsert_user& op) {
    const auto& u = op.value_;
    return done(s.upsert_user_.start()
                    .bind_id(1, u.id_)
                    .bind(2, u.username_)
                    .bind(3, std::int64_t{u.bot_})
                    .run("upsert user"));
  }

  result<void> operator()(const write_op::upsert_guild& op) {
    const auto& g = op.value_;
    return done(s.upsert_guild_.start()
                    .bind_id(1, g.id_)
                    .bind(2, g.name_)
                    .bind_id(3, g.owner_id_)
                    .run("upsert guild"));
  }

  result<void> operator()(const write_op::upsert_role& op) {
    const auto& r = op.value_;
    return done(s.upsert_role_.start()
                    .bind_id(1, r.id_)
                    .bind_id(2, op.guild_id_)
                    .bind(3, r.name_)
                    .bind(4, std::int64_t{r.position_})
                    .bind_id(5, r.permissions_)
                    .bind(6, std::int64_t{r.color_})
                    .bind(7, std::int64_t{r.hoist_})
                    .bind(8, std::int64_t{r.mentionable_})
                    .bind(9, std::int64_t{r.managed_})
                    .run("upsert role"));
  }

  result<void> operator()(const write_op::upsert_channel& op) {
    const auto& c = op.value_;
    auto r = done(s.upsert_channel_.start()
                      .bind_id(1, c.id_)
                      .bind_id(2, c.guild_id_)
                      .bind(3, std::int64_t{c.type_})
                      .bind(4, c.name_)
                      .bind(5, std::int64_t{c.position_})
                      .run("upsert channel"));
    if (!r) {
      return r;
    }
    return (*this)(write_op::set_overwrites{c.id_, c.overwrites_});
  }

  result<void> operator()(const write_op::set_overwrites& op) {
    auto r = done(s.delete_overwrites_.start().bind_id(1, op.channel_id_).run("delete overwrites"));
    std::int64_t ord = 0;
    for (const auto& ow : op.value_) {
      if (!r) {
        return r;
      }
      r = done(s.insert_overwrite_.start()
                   .bind_id(1, op.channel_id_)
                   .bind_id(2, ow.id_)
                   .bind(3, static_cast<std::int64_t>(ow.type_))
                   .bind_id(4, ow.allow_)
                   .bind_id(5, ow.deny_)
                   .bind(6, ord++)
                   .run("insert overwrite"));
    }
    return r;
  }

  result<void> operator()(const write_op::upsert_member& op) {
    const auto& m = op.value_;
    auto r = done(s.upsert_member_.start()
                      .bind_id(1, op.guild_id_)
                      .bind_id(2, m.user_id_)
                      .bind(3, m.joined_at_)
                      .run("upsert member"));
    if (r) {
      r = done(s.delete_member_roles_.start()
                   .bind_id(1, op.guild_id_)
                   .bind_id(2, m.user_id_)
                   .run("clear member roles"));
    }
    for (snowflake role_id : m.role_ids_) {
      if (!r) {
        return r;
      }
      r = done(s.insert_member_role_.start()
                   .bind_id(1, op.guild_id_)
                   .bind_id(2, m.user_id_)
                   .bind_id(3, role_id)
                   .run("insert member role"));
    }
    return r;
  }

  result<void> operator()(const write_op::delete_role& op) {
    auto r = done(
        s.delete_role_.start().bind_id(1, op.guild_id_).bind_id(2, op.role_id_).run("delete role"));
    if (r) {
      r = done(s.delete_role_from_members_.start()
                   .bind_id(1, op.guild_id_)
                   .bind_id(2, op.role_id_)
                   .run("delete role from members"));
    }
    if (r) {
      r = done(
          s.delete_role_overwrites_.start().bind_id(1, op.role_id_).run("delete role overwrites"));
    }
    return r;
  }

  result<void> operator()(const write_op::delete_channel& op) {
    auto r = done(s.delete_channel_.start().bind_id(1, op.channel_id_).run("delete channel"));
    if (r) {
      r = done(
          s.delete_overwrites_.start().bind_id(1, op.channel_id_).run("delete channel overwrites"));
    }
    return r;
  }

  result<void> operator()(const write_op::delete_member& op) {
    auto r = done(s.delete_member_.start()
                      .bind_id(1, op.guild_id_)
                      .bind_id(2, op.user_id_)
                      .run("delete member"));
    if (r) {
      r = done(s.delete_member_roles_.start()
                   .bind_id(1, op.guild_id_)
                   .bind_id(2, op.user_id_)
                   .run("delete member roles"));
    }
    return r;
  }

  result<void> operator()(const write_op::insert_message& op) {
    const auto& m = op.value_;
    return done(s.insert_message_.start()
                    .bind_id(1, m.id_)
                    .bind_id(2, m.channel_id_)
                    .bind_id(3, m.guild_id_)
                    .bind_id(4, m.author_id_)
                    .bind(5, m.content_)
                    .bind(6, m.created_at_)
                    .bind(7, m.edited_at_)
                    .bind(8, std::int64_t{m.deleted_})
                    .bind(9, join_ids(m.mentions_))
                    .bind(10, join_ids(m.mention_roles_))
                    .bind(11, std::int64_t{m.mention_everyone_})
                    .run("insert message"));
  }

  result<void> operator()(const write_op::update_message& op) {
    auto changed = s.update_message_.start()
                       .bind_id(1, op.message_id_)
                       .bind(2, op.content_)
                       .bind(3, op.edited_at_)
                       .run("update message");
    if (changed && changed.value() == 0) {
      return store_error{store_errc::not_found, "update message " + std::to_string(op.message_id_) +
                                                    ": no such message (or deleted)"};
    }
    return done(std::move(changed));
  }

  result<void> operator()(const write_op::delete_message& op) {
    auto changed = s.delete_message_.start().bind_id(1, op.message_id_).run("delete message");
    if (changed && changed.value() == 0) {
      return store_error{store_errc::not_found,
                         "delete message " + std::to_string(op.message_id_) + ": no such message"};
    }
    return done(std::move(changed));
  }

  result<void> operator()(const write_op::put_feature_state& op) {
    return done(s.put_feature_state_.start()
                    .bind(1, op.feature_)
                    .bind(2, op.key_)
                    .bind(3, op.value_)
                    .run("put feature state"));
  }

  result<void> operator()(const write_op::erase_feature_state& op) {
    auto& q = op.prefix_ ? s.erase_feature_prefix_ : s.erase_feature_state_;
    return done(q.start().bind(1, op.feature_).bind(2, op.key_).run("erase feature state"));
  }
};

}  // namespace

result<void> sqlite_store::impl::run(const write_batch::op& op) {
  return std::visit(op_runner{*this}, op);
}

result<void> sqlite_store::impl::insert_messages(const write_batch* const* batches,
                                                 std::size_t count, std::size_t rows) {
  if (rows == 0 || rows > max_message_rows) {
    return store_error{store_errc::invalid_argument, "insert messages: bad row count"};
  }
  auto& cached = insert_messages_[rows];
  if (!cached) {
    std::string sql =
        "INSERT INTO messages(id, channel_id, guild_id, author_id, content, created_at, "
        "edited_at, deleted, mentions, mention_roles, mention_everyone) VALUES";
    for (std::size_t r = 0; r < rows; ++r) {
      sql += r == 0 ? "(?" : ",(?";
      for (int c = 1; c < message_columns; ++c) {
        sql += ",?";
      }
      sql += ')';
    }
    auto stmt = std::make_unique<statement>();
    if (auto r = stmt->prepare(db_, sql.c_str()); !r) {
      return r;
    }
    cached = std::move(stmt);
  }
  auto& q = cached->start();
  int base = 0;
  for (std::size_t b = 0; b < count; ++b) {
    for (const auto& op : batches[b]->ops()) {
      const auto& m = std::get<write_op::insert_message>(op).value_;
      q.bind_id(base + 1, m.id_)
          .bind_id(base + 2, m.channel_id_)
          .bind_id(base + 3, m.guild_id_)
          .bind_id(base + 4, m.author_id_)
          .bind(base + 5, m.content_)
          .bind(base + 6, m.created_at_)
          .bind(base + 7, m.edited_at_)
          .bind(base + 8, std::int64_t{m.deleted_})
          .bind(base + 9, join_ids(m.mentions_))
          .bind(base + 10, join_ids(m.mention_roles_))
          .bind(base + 11, std::int64_t{m.mention_everyone_});
      base += message_columns;
    }
  }
  if (base != static_cast<int>(rows) * message_columns) {
    q.start();  // unbound again: nothing runs
    return store_error{store_errc::invalid_argument, "insert messages: row count mismatch"};
  }
  return done(q.run("insert messages"));
}

}  // namespace herald::store
