// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_schema.hpp"

#include <string>

#include <pqxx/nontransaction>

#include "actors/store/detail/pg_connection.hpp"

namespace herald::store::detail {

namespace {

// Version 1: guild state and messages, as SQLite's versions 1 and 2 together. Ids, permission
// bitfields, times and flags are BIGINT (uint64 stored bit-for-bit in int64, as in SQLite, so
// `heraldctl store copy` moves rows unchanged). Mention lists are space-separated decimal ids.
// No foreign keys: the store keeps related rows consistent itself (see the delete ops).
constexpr const char* schema_v1 = R"sql(
CREATE TABLE users (
  id BIGINT PRIMARY KEY,
  username TEXT NOT NULL,
  bot BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE guilds (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id BIGINT NOT NULL
);
CREATE TABLE roles (
  id BIGINT PRIMARY KEY,
  guild_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  position BIGINT NOT NULL,
  permissions BIGINT NOT NULL,
  color BIGINT NOT NULL DEFAULT 0,
  hoist BIGINT NOT NULL DEFAULT 0,
  mentionable BIGINT NOT NULL DEFAULT 0,
  managed BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX roles_by_guild ON roles(guild_id);
CREATE TABLE channels (
  id BIGINT PRIMARY KEY,
  guild_id BIGINT NOT NULL,
  type BIGINT NOT NULL,
  name TEXT NOT NULL,
  position BIGINT NOT NULL
);
CREATE INDEX channels_by_guild ON channels(guild_id);
CREATE TABLE overwrites (
  channel_id BIGINT NOT NULL,
  target_id BIGINT NOT NULL,
  type BIGINT NOT NULL CHECK (type IN (0, 1)),
  allow BIGINT NOT NULL,
  deny BIGINT NOT NULL,
  ord BIGINT NOT NULL,
  PRIMARY KEY (channel_id, type, target_id)
);
CREATE INDEX overwrites_by_target ON overwrites(target_id);
CREATE TABLE members (
  guild_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX members_by_user ON members(user_id);
CREATE TABLE member_roles (
  guild_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  role_id BIGINT NOT NULL,
  PRIMARY KEY (guild_id, user_id, role_id)
);
CREATE INDEX member_roles_by_role ON member_roles(guild_id, role_id);
CREATE TABLE messages (
  id BIGINT PRIMARY KEY,
  channel_id BIGINT NOT NULL,
  guild_id BIGINT NOT NULL,
  author_id BIGINT NOT NULL,
  content TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  edited_at BIGINT NOT NULL DEFAULT 0,
  deleted BIGINT NOT NULL DEFAULT 0,
  mentions TEXT NOT NULL DEFAULT '',
  mention_roles TEXT NOT NULL DEFAULT '',
  mention_everyone BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX messages_by_channel ON messages(channel_id, id);
CREATE TABLE token_epochs (
  user_id BIGINT PRIMARY KEY,
  epoch BIGINT NOT NULL
);
)sql";

// Version 2: features' keyed state (actors/feature/feature_state.hpp), written through the
// same batches as guild state. Keys in the "C" collation: ordered and prefixed bytewise, as in
// SQLite; values are bytes.
constexpr const char* schema_v2 = R"sql(
CREATE TABLE feature_state (
  feature TEXT NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value BYTEA NOT NULL,
  PRIMARY KEY (feature, key)
);
)sql";

// Version 3: Discord's split of PIN_MESSAGES (1 << 51 = 2251799813685248) from MANAGE_MESSAGES
// (1 << 13 = 8192), done once as Discord did it: every stored role, overwrite allow and overwrite
// deny holding MANAGE_MESSAGES gains PIN_MESSAGES (permissions::pin_split_of), so whoever could
// pin before still can. Values written after it are taken as given.
constexpr const char* schema_v3 = R"sql(
UPDATE roles SET permissions = permissions | 2251799813685248 WHERE (permissions & 8192) <> 0;
UPDATE overwrites SET allow = allow | 2251799813685248 WHERE (allow & 8192) <> 0;
UPDATE overwrites SET deny = deny | 2251799813685248 WHERE (deny & 8192) <> 0;
)sql";

// Version 4: guild owners, as SQLite's version 5 (docs/store.md, "Guild owners and fencing"):
// a guild's owner epoch, raised by every claim, the node that claimed it, and the guild order of
// its last committed fenced batch. A guild without a row has never been claimed. IF NOT EXISTS:
// a store whose version was set back (tests of earlier migrations) keeps the table it has.
constexpr const char* schema_v4 = R"sql(
CREATE TABLE IF NOT EXISTS guild_owners (
  guild_id BIGINT PRIMARY KEY,
  epoch BIGINT NOT NULL,
  node_id BIGINT NOT NULL,
  last_order BIGINT NOT NULL DEFAULT 0
);
)sql";

// Version 5: the persisted per-guild event tail, as SQLite's version 6 (docs/store.md, "Event
// tail"): one row per (guild, slot < dispatch.event_tail_orders), replaced in place by the
// slot's next row (a guild batch's events), so the tail stays bounded without deletes (an update
// that changes no indexed column stays a heap-only tuple while its page has room: hence the
// fillfactor).
constexpr const char* schema_v5 = R"sql(
CREATE TABLE IF NOT EXISTS guild_event_tail (
  guild_id BIGINT NOT NULL,
  slot INTEGER NOT NULL,
  epoch BIGINT NOT NULL,
  guild_order BIGINT NOT NULL,
  prev_epoch BIGINT NOT NULL,
  prev_order BIGINT NOT NULL,
  event BYTEA NOT NULL,
  PRIMARY KEY (guild_id, slot)
) WITH (fillfactor = 50);
)sql";

// Applies the next migration, or none when up to date; true when one was applied.
result<bool> step_migration(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec("BEGIN");
  // Held until this transaction ends: a second node waits here, then reads the version the
  // first one committed.
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(pg_migration_lock_key) + ")");
  tx.exec("CREATE TABLE IF NOT EXISTS herald_schema (version INTEGER NOT NULL)");
  auto rows = tx.exec("SELECT version FROM herald_schema");
  int from = 0;
  if (rows.empty()) {
    tx.exec("INSERT INTO herald_schema(version) VALUES (0)");
  } else {
    from = rows[0][0].as<int>();
  }
  if (from > pg_latest_schema_version()) {
    tx.exec("ROLLBACK");
    return store_error{store_errc::schema_too_new, "schema version " + std::to_string(from) +
                                                       " is newer than " +
                                                       std::to_string(pg_latest_schema_version()) +
                                                       ", the newest this build knows"};
  }
  if (from == pg_latest_schema_version()) {
    commit_or_in_doubt(tx);
    return false;
  }
  tx.exec(pg_migrations()[static_cast<std::size_t>(from)]);
  tx.exec("UPDATE herald_schema SET version = " + std::to_string(from + 1));
  commit_or_in_doubt(tx);
  return true;
}

}  // namespace

const std::vector<const char*>& pg_migrations() {
  static const std::vector<const char*> list = {schema_v1, schema_v2, schema_v3, schema_v4,
                                                schema_v5};
  return list;
}

int pg_latest_schema_version() {
  return static_cast<int>(pg_migrations().size());
}

result<int> pg_migrate(pqxx::connection& conn) {
  for (int round = 0; round <= pg_latest_schema_version(); ++round) {
    auto stepped = step_migration(conn);
    if (!stepped) {
      return stepped.error();
    }
    if (!stepped.value()) {
      break;
    }
  }
  return pg_latest_schema_version();
}

}  // namespace herald::store::detail
