// SPDX-License-Identifier: Apache-2.0
// postgres_store's statements: the prepared SQL and the write ops (as sqlite_store_write.cpp).
#include "actors/store/detail/pg_statements.hpp"

#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <pqxx/result>

namespace herald::store::detail {

namespace {

// Ids and permission bitfields are uint64 stored bit-for-bit in BIGINT, as in SQLite.
std::int64_t id(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

std::int64_t flag(bool value) {
  return value ? 1 : 0;
}

// libpq sends text parameters as C strings: a NUL byte would silently cut the value there.
// PostgreSQL text cannot hold NUL anyway, so such a value is refused, never truncated.
result<void> storable(const std::string& text, const char* what) {
  if (text.find('\0') != std::string::npos) {
    return store_error{store_errc::invalid_argument,
                       std::string(what) + " holds a NUL byte, which PostgreSQL text cannot store"};
  }
  return {};
}

const std::pair<const char*, const char*> statements[] = {
    {"upsert_user",
     "INSERT INTO users(id, username, bot) VALUES($1, $2, $3) "
     "ON CONFLICT(id) DO UPDATE SET username = excluded.username, bot = excluded.bot"},
    {"upsert_guild",
     "INSERT INTO guilds(id, name, owner_id) VALUES($1, $2, $3) "
     "ON CONFLICT(id) DO UPDATE SET name = excluded.name, owner_id = excluded.owner_id"},
    {"upsert_role",
     "INSERT INTO roles(id, guild_id, name, position, permissions, color, hoist, mentionable, "
     "managed) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) "
     "ON CONFLICT(id) DO UPDATE SET guild_id = excluded.guild_id, name = excluded.name, "
     "position = excluded.position, permissions = excluded.permissions, "
     "color = excluded.color, hoist = excluded.hoist, mentionable = excluded.mentionable, "
     "managed = excluded.managed"},
    {"upsert_channel",
     "INSERT INTO channels(id, guild_id, type, name, position) VALUES($1, $2, $3, $4, $5) "
     "ON CONFLICT(id) DO UPDATE SET guild_id = excluded.guild_id, type = excluded.type, "
     "name = excluded.name, position = excluded.position"},
    {"delete_overwrites", "DELETE FROM overwrites WHERE channel_id = $1"},
    {"insert_overwrite",
     "INSERT INTO overwrites(channel_id, target_id, type, allow, deny, ord) "
     "VALUES($1, $2, $3, $4, $5, $6)"},
    {"upsert_member",
     "INSERT INTO members(guild_id, user_id, joined_at) VALUES($1, $2, $3) "
     "ON CONFLICT(guild_id, user_id) DO UPDATE SET joined_at = excluded.joined_at"},
    {"delete_member_roles", "DELETE FROM member_roles WHERE guild_id = $1 AND user_id = $2"},
    {"insert_member_role",
     "INSERT INTO member_roles(guild_id, user_id, role_id) VALUES($1, $2, $3) "
     "ON CONFLICT DO NOTHING"},
    {"delete_role", "DELETE FROM roles WHERE id = $2 AND guild_id = $1"},
    {"delete_role_from_members", "DELETE FROM member_roles WHERE guild_id = $1 AND role_id = $2"},
    {"delete_role_overwrites", "DELETE FROM overwrites WHERE target_id = $1 AND type = 0"},
    {"delete_channel", "DELETE FROM channels WHERE id = $1"},
    {"delete_member", "DELETE FROM members WHERE guild_id = $1 AND user_id = $2"},
    {"insert_message",
     "INSERT INTO messages(id, channel_id, guild_id, author_id, content, created_at, "
     "edited_at, deleted, mentions, mention_roles, mention_everyone) "
     "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
    {"update_message",
     "UPDATE messages SET content = $2, edited_at = $3 WHERE id = $1 AND deleted = 0"},
    {"delete_message",
     "UPDATE messages SET deleted = 1, content = '', mentions = '', mention_roles = '', "
     "mention_everyone = 0 WHERE id = $1"},
    {pg::select_guild, "SELECT id, name, owner_id FROM guilds WHERE id = $1"},
    {pg::select_roles,
     "SELECT id, name, position, permissions, color, hoist, mentionable, managed "
     "FROM roles WHERE guild_id = $1"},
    {pg::select_channels, "SELECT id, type, name, position FROM channels WHERE guild_id = $1"},
    {pg::select_overwrites,
     "SELECT o.channel_id, o.target_id, o.type, o.allow, o.deny "
     "FROM overwrites o JOIN channels c ON c.id = o.channel_id "
     "WHERE c.guild_id = $1 ORDER BY o.channel_id, o.ord"},
    {pg::select_members,
     "SELECT m.user_id, m.joined_at, COALESCE(u.username, ''), COALESCE(u.bot, 0) "
     "FROM members m LEFT JOIN users u ON u.id = m.user_id WHERE m.guild_id = $1"},
    {pg::select_member_roles, "SELECT user_id, role_id FROM member_roles WHERE guild_id = $1"},
    {pg::list_guilds, "SELECT id FROM guilds ORDER BY id"},
    {pg::guilds_of_user, "SELECT guild_id FROM members WHERE user_id = $1 ORDER BY guild_id"},
    {pg::select_user, "SELECT id, username, bot FROM users WHERE id = $1"},
    {pg::select_message,
     "SELECT id, channel_id, guild_id, author_id, content, created_at, edited_at, deleted, "
     "mentions, mention_roles, mention_everyone FROM messages WHERE id = $1"},
    {pg::recent_messages,
     "SELECT id, channel_id, guild_id, author_id, content, created_at, edited_at, deleted, "
     "mentions, mention_roles, mention_everyone FROM messages "
     "WHERE channel_id = $1 AND id < $2 AND deleted = 0 ORDER BY id DESC LIMIT $3"},
    {pg::guild_of_channel, "SELECT guild_id FROM channels WHERE id = $1"},
    {pg::select_token_epoch,
     "SELECT COALESCE(e.epoch, 0) FROM users u "
     "LEFT JOIN token_epochs e ON e.user_id = u.id WHERE u.id = $1"},
    {pg::bump_token_epoch,
     "INSERT INTO token_epochs(user_id, epoch) VALUES($1, 1) "
     "ON CONFLICT(user_id) DO UPDATE SET epoch = token_epochs.epoch + 1 RETURNING epoch"},
    // Values travel as hex text (libpq's text parameters cannot hold NUL bytes).
    {"put_feature_state",
     "INSERT INTO feature_state(feature, key, value) VALUES($1, $2, decode($3, 'hex')) "
     "ON CONFLICT(feature, key) DO UPDATE SET value = excluded.value"},
    {"erase_feature_state", "DELETE FROM feature_state WHERE feature = $1 AND key = $2"},
    {"erase_feature_prefix",
     "DELETE FROM feature_state WHERE feature = $1 AND starts_with(key, $2)"},
    // Guild owners: a claim only for a guild that exists (no row returned: not_found).
    {pg::claim_guild,
     "INSERT INTO guild_owners(guild_id, epoch, node_id, last_order) "
     "SELECT id, 1, $2, 0 FROM guilds WHERE id = $1 "
     "ON CONFLICT(guild_id) DO UPDATE SET epoch = guild_owners.epoch + 1, "
     "node_id = excluded.node_id RETURNING epoch, node_id, last_order"},
    {pg::select_owner, "SELECT epoch, node_id, last_order FROM guild_owners WHERE guild_id = $1"},
    {pg::record_order,
     "UPDATE guild_owners SET last_order = $3 WHERE guild_id = $1 AND epoch = $2"},
    // The fences of a whole writer round in one statement: (guild, epoch, last order) arrays;
    // returns the (guild, epoch) pairs that still own their guild. Rows are locked in guild id
    // order as far as the plan allows; a deadlock with another node's round is retried.
    {pg::record_orders,
     "UPDATE guild_owners o SET last_order = v.last_order "
     "FROM (SELECT g, e, max(l) AS last_order FROM unnest($1::bigint[], $2::bigint[], "
     "$3::bigint[]) AS f(g, e, l) GROUP BY g, e) v "
     "WHERE o.guild_id = v.g AND o.epoch = v.e RETURNING o.guild_id, o.epoch"},
    // The tail events of a whole writer round in one statement (arrays; events as hex text):
    // each replaces its (guild, slot) row in place.
    {pg::upsert_tail,
     "INSERT INTO guild_event_tail(guild_id, slot, epoch, guild_order, prev_epoch, prev_order, "
     "event) SELECT g, s, e, o, pe, po, decode(h, 'hex') FROM unnest($1::bigint[], $2::int[], "
     "$3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) "
     "AS t(g, s, e, o, pe, po, h) ON CONFLICT(guild_id, slot) DO UPDATE SET "
     "epoch = excluded.epoch, guild_order = excluded.guild_order, "
     "prev_epoch = excluded.prev_epoch, prev_order = excluded.prev_order, event = excluded.event"},
    {pg::select_tail,
     "SELECT epoch, guild_order, prev_epoch, prev_order, slot, encode(event, 'hex') "
     "FROM guild_event_tail WHERE guild_id = $1 AND (epoch > $2 OR (epoch = $2 AND "
     "guild_order > $3)) ORDER BY guild_order"},
    {pg::select_tail_head,
     "SELECT epoch, guild_order, prev_epoch, prev_order, slot FROM guild_event_tail "
     "WHERE guild_id = $1 ORDER BY guild_order DESC LIMIT 1"},
    {pg::select_feature_state,
     "SELECT key, encode(value, 'hex') FROM feature_state WHERE feature = $1 "
     "AND starts_with(key, $2) ORDER BY key"},
};

struct op_runner {
  pqxx::transaction_base& tx;

  result<void> operator()(const write_op::upsert_user& op) {
    const auto& u = op.value_;
    if (auto ok = storable(u.username_, "user name"); !ok) {
      return ok;
    }
    tx.exec_prepared("upsert_user", id(u.id_), u.username_, flag(u.bot_));
    return {};
  }

  result<void> operator()(const write_op::upsert_guild& op) {
    const auto& g = op.value_;
    if (auto ok = storable(g.name_, "guild name"); !ok) {
      return ok;
    }
    tx.exec_prepared("upsert_guild", id(g.id_), g.name_, id(g.owner_id_));
    return {};
  }

  result<void> operator()(const write_op::upsert_role& op) {
    const auto& r = op.value_;
    if (auto ok = storable(r.name_, "role name"); !ok) {
      return ok;
    }
    tx.exec_prepared("upsert_role", id(r.id_), id(op.guild_id_), r.name_, std::int64_t{r.position_},
                     id(r.permissions_), std::int64_t{r.color_}, flag(r.hoist_),
                     flag(r.mentionable_), flag(r.managed_));
    return {};
  }

  result<void> operator()(const write_op::upsert_channel& op) {
    const auto& c = op.value_;
    if (auto ok = storable(c.name_, "channel name"); !ok) {
      return ok;
    }
    tx.exec_prepared("upsert_channel", id(c.id_), id(c.guild_id_), std::int64_t{c.type_}, c.name_,
                     std::int64_t{c.position_});
    return (*this)(write_op::set_overwrites{c.id_, c.overwrites_});
  }

  result<void> operator()(const write_op::set_overwrites& op) {
    tx.exec_prepared("delete_overwrites", id(op.channel_id_));
    std::int64_t ord = 0;
    for (const auto& ow : op.value_) {
      tx.exec_prepared("insert_overwrite", id(op.channel_id_), id(ow.id_),
                       static_cast<std::int64_t>(ow.type_), id(ow.allow_), id(ow.deny_), ord++);
    }
    return {};
  }

  result<void> operator()(const write_op::upsert_member& op) {
    const auto& m = op.value_;
    tx.exec_prepared("upsert_member", id(op.guild_id_), id(m.user_id_), m.joined_at_);
    tx.exec_prepared("delete_member_roles", id(op.guild_id_), id(m.user_id_));
    for (snowflake role_id : m.role_ids_) {
      tx.exec_prepared("insert_member_role", id(op.guild_id_), id(m.user_id_), id(role_id));
    }
    return {};
  }

  result<void> operator()(const write_op::delete_role& op) {
    tx.exec_prepared("delete_role", id(op.guild_id_), id(op.role_id_));
    tx.exec_prepared("delete_role_from_members", id(op.guild_id_), id(op.role_id_));
    tx.exec_prepared("delete_role_overwrites", id(op.role_id_));
    return {};
  }

  result<void> operator()(const write_op::delete_channel& op) {
    tx.exec_prepared("delete_channel", id(op.channel_id_));
    tx.exec_prepared("delete_overwrites", id(op.channel_id_));
    return {};
  }

  result<void> operator()(const write_op::delete_member& op) {
    tx.exec_prepared("delete_member", id(op.guild_id_), id(op.user_id_));
    tx.exec_prepared("delete_member_roles", id(op.guild_id_), id(op.user_id_));
    return {};
  }

  result<void> operator()(const write_op::insert_message& op) {
    const auto& m = op.value_;
    if (auto ok = storable(m.content_, "message content"); !ok) {
      return ok;
    }
    tx.exec_prepared("insert_message", id(m.id_), id(m.channel_id_), id(m.guild_id_),
                     id(m.author_id_), m.content_, m.created_at_, m.edited_at_, flag(m.deleted_),
                     join_ids(m.mentions_), join_ids(m.mention_roles_), flag(m.mention_everyone_));
    return {};
  }

  result<void> operator()(const write_op::update_message& op) {
    if (auto ok = storable(op.content_, "message content"); !ok) {
      return ok;
    }
    auto changed =
        tx.exec_prepared("update_message", id(op.message_id_), op.content_, op.edited_at_);
    if (changed.affected_rows() == 0) {
      return store_error{store_errc::not_found, "update message " + std::to_string(op.message_id_) +
                                                    ": no such message (or deleted)"};
    }
    return {};
  }

  result<void> operator()(const write_op::delete_message& op) {
    auto changed = tx.exec_prepared("delete_message", id(op.message_id_));
    if (changed.affected_rows() == 0) {
      return store_error{store_errc::not_found,
                         "delete message " + std::to_string(op.message_id_) + ": no such message"};
    }
    return {};
  }

  result<void> operator()(const write_op::put_feature_state& op) {
    if (auto ok = storable(op.feature_ + op.key_, "feature state key"); !ok) {
      return ok;
    }
    tx.exec_prepared("put_feature_state", op.feature_, op.key_, hex_of(op.value_));
    return {};
  }

  result<void> operator()(const write_op::erase_feature_state& op) {
    if (auto ok = storable(op.feature_ + op.key_, "feature state key"); !ok) {
      return ok;
    }
    tx.exec_prepared(op.prefix_ ? "erase_feature_prefix" : "erase_feature_state", op.feature_,
                     op.key_);
    return {};
  }
};

}  // namespace

void prepare_statements(pqxx::connection& conn) {
  for (const auto& [name, sql] : statements) {
    conn.prepare(name, sql);
  }
  conn.prepare(pg::insert_messages, pg_message_rows::sql());
}

std::string statement_sql(const char* name) {
  for (const auto& [known, sql] : statements) {
    if (std::string_view{known} == name) {
      return sql;
    }
  }
  throw std::logic_error(std::string{"no statement "} + name);
}

result<void> op_sequence::run(const write_batch::op& op) {
  if (const auto* insert = std::get_if<write_op::insert_message>(&op)) {
    return messages_.add(insert->value_);
  }
  messages_.flush(tx_);
  return run_op(tx_, op);
}

result<void> run_op(pqxx::transaction_base& tx, const write_batch::op& op) {
  return std::visit(op_runner{tx}, op);
}

std::string join_ids(const std::vector<snowflake>& ids) {
  std::string out;
  for (snowflake value : ids) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out += std::to_string(value);
  }
  return out;
}

std::vector<snowflake> split_ids(const std::string& text) {
  std::vector<snowflake> out;
  std::istringstream in(text);
  snowflake value = 0;
  while (in >> value) {
    out.push_back(value);
  }
  return out;
}

std::string hex_of(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

std::string bytes_of_hex(const std::string& hex) {
  auto nibble = [](char c) -> int { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

}  // namespace herald::store::detail
