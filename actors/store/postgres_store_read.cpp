// SPDX-License-Identifier: Apache-2.0
// postgres_store reads, each on a reader connection leased from the pool: load_guild in one
// REPEATABLE READ snapshot and two round trips (a pipeline), and the point and list queries in
// autocommit.
#include <optional>
#include <unordered_map>

#include <pqxx/nontransaction>
#include <pqxx/pipeline>
#include <pqxx/result>

#include "actors/store/detail/pg_owners.hpp"
#include "actors/store/detail/pg_reader_pool.hpp"
#include "actors/store/detail/pg_statements.hpp"
#include "actors/store/detail/pg_store_metrics.hpp"
#include "runtime/base/thread_role.hpp"

namespace herald::store {

namespace {

namespace pg = detail::pg;
using detail::pg_store_metrics;

std::int64_t as_param(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

std::uint64_t id_at(const pqxx::row& row, int column) {
  return static_cast<std::uint64_t>(row[column].as<std::int64_t>());
}

std::int64_t int_at(const pqxx::row& row, int column) {
  return row[column].as<std::int64_t>();
}

domain::message read_message(const pqxx::row& row) {
  domain::message m;
  m.id_ = id_at(row, 0);
  m.channel_id_ = id_at(row, 1);
  m.guild_id_ = id_at(row, 2);
  m.author_id_ = id_at(row, 3);
  m.content_ = row[4].as<std::string>();
  m.created_at_ = int_at(row, 5);
  m.edited_at_ = int_at(row, 6);
  m.deleted_ = int_at(row, 7) != 0;
  m.mentions_ = detail::split_ids(row[8].as<std::string>());
  m.mention_roles_ = detail::split_ids(row[9].as<std::string>());
  m.mention_everyone_ = int_at(row, 10) != 0;
  return m;
}

std::vector<snowflake> ids_of(const pqxx::result& rows) {
  std::vector<snowflake> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(id_at(row, 0));
  }
  return out;
}

// The rows of one guild, one result per table, from one snapshot.
struct guild_rows {
  pqxx::result guild, roles, channels, overwrites, members, member_roles;
};

// Reads every row of one guild from one snapshot in one round trip: the six SELECTs go as one
// pipeline, which libpqxx sends as one multi-statement query (the guild id is an integer
// literal, so nothing is spliced but digits). PostgreSQL runs the statements of one query in
// one implicit transaction, and a reader connection's transactions are REPEATABLE READ READ
// ONLY (reader_session_sql), so all six see the same snapshot and a concurrent commit cannot
// tear the guild. (An explicit BEGIN ISOLATION LEVEL cannot go in the pipeline: libpqxx puts a
// dummy SELECT first, after which PostgreSQL refuses to set the level, 25001; it cost a round
// trip of its own.) Under load a round trip costs a scheduling delay on both sides; a node
// starting thousands of guilds pays it per guild. A failing query throws on retrieve; the
// connection slot rolls back what is left.
guild_rows fetch_rows(pqxx::transaction_base& tx, snowflake guild_id) {
  const std::string gid = std::to_string(as_param(guild_id));
  auto with_id = [&](const char* name) {
    std::string sql = detail::statement_sql(name);
    const auto at = sql.find("$1");
    sql.replace(at, 2, gid);
    return sql;
  };
  pqxx::pipeline p(tx);
  p.retain(6);  // send all six together in complete()
  const auto guild = p.insert(with_id(pg::select_guild));
  const auto roles = p.insert(with_id(pg::select_roles));
  const auto channels = p.insert(with_id(pg::select_channels));
  const auto overwrites = p.insert(with_id(pg::select_overwrites));
  const auto members = p.insert(with_id(pg::select_members));
  const auto member_roles = p.insert(with_id(pg::select_member_roles));
  p.complete();
  guild_rows rows;
  rows.guild = p.retrieve(guild);
  rows.roles = p.retrieve(roles);
  rows.channels = p.retrieve(channels);
  rows.overwrites = p.retrieve(overwrites);
  rows.members = p.retrieve(members);
  rows.member_roles = p.retrieve(member_roles);
  return rows;
}

// One guild from its rows.
result<domain::guild_state> load_rows(const guild_rows& rows, snowflake guild_id) {
  const auto& guild_rows = rows.guild;
  if (guild_rows.empty()) {
    return store_error{store_errc::not_found, "no guild " + std::to_string(guild_id)};
  }
  const auto& g = guild_rows[0];
  domain::guild_state state(domain::guild{id_at(g, 0), g[1].as<std::string>(), id_at(g, 2)});
  for (const auto& q : rows.roles) {
    domain::role role;
    role.id_ = id_at(q, 0);
    role.name_ = q[1].as<std::string>();
    role.position_ = static_cast<std::int32_t>(int_at(q, 2));
    role.permissions_ = id_at(q, 3);
    role.color_ = static_cast<std::uint32_t>(int_at(q, 4));
    role.hoist_ = int_at(q, 5) != 0;
    role.mentionable_ = int_at(q, 6) != 0;
    role.managed_ = int_at(q, 7) != 0;
    state.restore_role(std::move(role));
  }
  std::unordered_map<snowflake, domain::channel> channels;
  for (const auto& q : rows.channels) {
    domain::channel c;
    c.id_ = id_at(q, 0);
    c.guild_id_ = guild_id;
    c.type_ = static_cast<std::int32_t>(int_at(q, 1));
    c.name_ = q[2].as<std::string>();
    c.position_ = static_cast<std::int32_t>(int_at(q, 3));
    channels.emplace(c.id_, std::move(c));
  }
  for (const auto& q : rows.overwrites) {
    domain::permission_overwrite ow;
    ow.id_ = id_at(q, 1);
    ow.type_ = int_at(q, 2) == 1 ? domain::overwrite_type::member : domain::overwrite_type::role;
    ow.allow_ = id_at(q, 3);
    ow.deny_ = id_at(q, 4);
    channels[id_at(q, 0)].overwrites_.push_back(ow);
  }
  std::unordered_map<snowflake, domain::member_entry> members;
  // A member whose user row is missing still loads, with an empty username.
  for (const auto& q : rows.members) {
    domain::member_entry e;
    e.member_.user_id_ = id_at(q, 0);
    e.member_.joined_at_ = int_at(q, 1);
    e.user_ = domain::user{e.member_.user_id_, q[2].as<std::string>(), int_at(q, 3) != 0};
    members.emplace(e.member_.user_id_, std::move(e));
  }
  for (const auto& q : rows.member_roles) {
    auto it = members.find(id_at(q, 0));
    if (it != members.end()) {
      it->second.member_.role_ids_.push_back(id_at(q, 1));
    }
  }
  for (auto& [id, c] : channels) {
    state.restore_channel(std::move(c));
  }
  for (auto& [id, e] : members) {
    state.restore_member(std::move(e.member_), std::move(e.user_));
  }
  return state;
}

}  // namespace

result<domain::guild_state> postgres_store::load_guild(snowflake guild_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<domain::guild_state>(
      "load guild", [&](pqxx::connection& conn) -> result<domain::guild_state> {
        pqxx::nontransaction tx(conn);
        // One snapshot for every row, so a concurrent commit cannot tear the guild.
        return load_rows(fetch_rows(tx, guild_id), guild_id);
      }));
}

result<std::vector<snowflake>> postgres_store::list_guild_ids() {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<std::vector<snowflake>>(
      "list guilds", [&](pqxx::connection& conn) -> result<std::vector<snowflake>> {
        pqxx::nontransaction tx(conn);
        return ids_of(tx.exec_prepared(pg::list_guilds));
      }));
}

result<std::vector<snowflake>> postgres_store::guilds_of_user(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<std::vector<snowflake>>(
      "guilds of user", [&](pqxx::connection& conn) -> result<std::vector<snowflake>> {
        pqxx::nontransaction tx(conn);
        return ids_of(tx.exec_prepared(pg::guilds_of_user, as_param(user_id)));
      }));
}

result<domain::user> postgres_store::get_user(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  auto found = readers_->run<
      domain::user>("get user", [&](pqxx::connection& conn) -> result<domain::user> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_prepared(pg::select_user, as_param(user_id));
    if (rows.empty()) {
      return store_error{store_errc::not_found, "no user " + std::to_string(user_id)};
    }
    return domain::user{id_at(rows[0], 0), rows[0][1].as<std::string>(), int_at(rows[0], 2) != 0};
  });
  if (!found && found.error().code_ != store_errc::not_found) {
    pg_store_metrics::count_error(found.error());
  }
  return found;
}

result<domain::message> postgres_store::get_message(snowflake message_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  auto found = readers_->run<domain::message>(
      "get message", [&](pqxx::connection& conn) -> result<domain::message> {
        pqxx::nontransaction tx(conn);
        auto rows = tx.exec_prepared(pg::select_message, as_param(message_id));
        if (rows.empty()) {
          return store_error{store_errc::not_found, "no message " + std::to_string(message_id)};
        }
        return read_message(rows[0]);
      });
  if (!found && found.error().code_ != store_errc::not_found) {
    pg_store_metrics::count_error(found.error());
  }
  return found;
}

result<std::vector<domain::message>> postgres_store::recent_messages(snowflake channel_id,
                                                                     std::size_t limit,
                                                                     snowflake before) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  if (limit == 0 || limit > 1000) {
    return store_error{store_errc::invalid_argument, "limit must be 1..1000"};
  }
  return pg_store_metrics::counted(readers_->run<std::vector<domain::message>>(
      "recent messages", [&](pqxx::connection& conn) -> result<std::vector<domain::message>> {
        pqxx::nontransaction tx(conn);
        auto rows = tx.exec_prepared(pg::recent_messages, as_param(channel_id),
                                     before == 0 ? INT64_MAX : static_cast<std::int64_t>(before),
                                     static_cast<std::int64_t>(limit));
        std::vector<domain::message> out;
        out.reserve(rows.size());
        for (const auto& row : rows) {
          out.push_back(read_message(row));
        }
        return out;
      }));
}

result<snowflake> postgres_store::guild_of_channel(snowflake channel_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  auto found = readers_->run<snowflake>(
      "guild of channel", [&](pqxx::connection& conn) -> result<snowflake> {
        pqxx::nontransaction tx(conn);
        auto rows = tx.exec_prepared(pg::guild_of_channel, as_param(channel_id));
        if (rows.empty()) {
          return store_error{store_errc::not_found, "no channel " + std::to_string(channel_id)};
        }
        return id_at(rows[0], 0);
      });
  if (!found && found.error().code_ != store_errc::not_found) {
    pg_store_metrics::count_error(found.error());
  }
  return found;
}

result<guild_owner> postgres_store::guild_owner_of(snowflake guild_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(
      readers_->run<guild_owner>("guild owner", [&](pqxx::connection& conn) -> result<guild_owner> {
        pqxx::nontransaction tx(conn);
        if (auto owner = detail::pg_read_owner(tx, guild_id)) {
          return *owner;
        }
        return store_error{store_errc::not_found,
                           "guild " + std::to_string(guild_id) + " was never claimed"};
      }));
}

result<std::vector<tail_event>> postgres_store::read_tail(snowflake guild_id,
                                                          std::uint64_t after_epoch,
                                                          std::uint64_t after_order) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<std::vector<tail_event>>(
      "event tail", [&](pqxx::connection& conn) -> result<std::vector<tail_event>> {
        pqxx::nontransaction tx(conn);
        return detail::pg_read_tail(tx, guild_id, after_epoch, after_order);
      }));
}

result<std::optional<tail_event>> postgres_store::tail_head(snowflake guild_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<std::optional<tail_event>>(
      "event tail head", [&](pqxx::connection& conn) -> result<std::optional<tail_event>> {
        pqxx::nontransaction tx(conn);
        return detail::pg_tail_head(tx, guild_id);
      }));
}

result<std::uint64_t> postgres_store::token_epoch(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<std::uint64_t>(
      "token epoch", [&](pqxx::connection& conn) -> result<std::uint64_t> {
        pqxx::nontransaction tx(conn);
        auto rows = tx.exec_prepared(pg::select_token_epoch, as_param(user_id));
        if (rows.empty()) {
          return store_error{store_errc::not_found, "no user " + std::to_string(user_id)};
        }
        return id_at(rows[0], 0);
      }));
}

result<std::vector<feature_state_entry>> postgres_store::load_feature_state(
    const std::string& feature, const std::string& prefix) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  return pg_store_metrics::counted(readers_->run<std::vector<feature_state_entry>>(
      "load feature state",
      [&](pqxx::connection& conn) -> result<std::vector<feature_state_entry>> {
        pqxx::nontransaction tx(conn);
        auto rows = tx.exec_prepared(pg::select_feature_state, feature, prefix);
        std::vector<feature_state_entry> out;
        out.reserve(rows.size());
        for (const auto& row : rows) {
          out.push_back({row[0].as<std::string>(), detail::bytes_of_hex(row[1].as<std::string>())});
        }
        return out;
      }));
}

}  // namespace herald::store
