// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/sqlite_schema.hpp"

#include <string>

#include "actors/store/detail/sqlite_db.hpp"

namespace herald::store::detail {

namespace {

// Version 1: guild state and messages. Ids, permission bitfields and times
// are INTEGER (uint64 stored bit-for-bit in SQLite's int64). Mention lists
// are space-separated decimal ids. No foreign keys: the store keeps related
// rows consistent itself (see the delete ops), which avoids per-row FK checks.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL,
  bot INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE guilds (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id INTEGER NOT NULL
);
CREATE TABLE roles (
  id INTEGER PRIMARY KEY,
  guild_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  permissions INTEGER NOT NULL,
  color INTEGER NOT NULL DEFAULT 0,
  hoist INTEGER NOT NULL DEFAULT 0,
  mentionable INTEGER NOT NULL DEFAULT 0,
  managed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX roles_by_guild ON roles(guild_id);
CREATE TABLE channels (
  id INTEGER PRIMARY KEY,
  guild_id INTEGER NOT NULL,
  type INTEGER NOT NULL,
  name TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE INDEX channels_by_guild ON channels(guild_id);
CREATE TABLE overwrites (
  channel_id INTEGER NOT NULL,
  target_id INTEGER NOT NULL,
  type INTEGER NOT NULL CHECK (type IN (0, 1)),
  allow INTEGER NOT NULL,
  deny INTEGER NOT NULL,
  ord INTEGER NOT NULL,
  PRIMARY KEY (channel_id, type, target_id)
) WITHOUT ROWID;
CREATE INDEX overwrites_by_target ON overwrites(target_id);
CREATE TABLE members (
  guild_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id);
CREATE TABLE member_roles (
  guild_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  role_id INTEGER NOT NULL,
  PRIMARY KEY (guild_id, user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX member_roles_by_role ON member_roles(guild_id, role_id);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  channel_id INTEGER NOT NULL,
  guild_id INTEGER NOT NULL,
  author_id INTEGER NOT NULL,
  content TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  edited_at INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  mentions TEXT NOT NULL DEFAULT '',
  mention_roles TEXT NOT NULL DEFAULT '',
  mention_everyone INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_by_channel ON messages(channel_id, id);
)sql";

// Version 2: accounts (identity). A user's token epoch; absent means 0. Kept apart from
// users so that guild writes (upsert_user) never reset it.
constexpr const char* schema_v2 = R"sql(
CREATE TABLE token_epochs (
  user_id INTEGER PRIMARY KEY,
  epoch INTEGER NOT NULL
);
)sql";

// Version 3: features' keyed state (actors/feature/feature_state.hpp), written through the
// same batches as guild state. Keys are compared bytewise (BINARY), so a prefix is a range.
constexpr const char* schema_v3 = R"sql(
CREATE TABLE feature_state (
  feature TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (feature, key)
) WITHOUT ROWID;
)sql";

// Version 4: Discord's split of PIN_MESSAGES (1 << 51 = 2251799813685248) from MANAGE_MESSAGES
// (1 << 13 = 8192), done once as Discord did it: every stored role, overwrite allow and overwrite
// deny holding MANAGE_MESSAGES gains PIN_MESSAGES (permissions::pin_split_of), so whoever could
// pin before still can. Values written after it are taken as given.
constexpr const char* schema_v4 = R"sql(
UPDATE roles SET permissions = permissions | 2251799813685248 WHERE (permissions & 8192) <> 0;
UPDATE overwrites SET allow = allow | 2251799813685248 WHERE (allow & 8192) <> 0;
UPDATE overwrites SET deny = deny | 2251799813685248 WHERE (deny & 8192) <> 0;
)sql";

// Version 5: guild owners (docs/store.md, "Guild owners and fencing"). A guild's owner epoch,
// raised by every claim, the node that claimed it, and the guild order of its last committed
// fenced batch. A guild without a row has never been claimed (epoch 0, order 0). IF NOT EXISTS:
// a store whose version was set back (tests of earlier migrations) keeps the table it has.
constexpr const char* schema_v5 = R"sql(
CREATE TABLE IF NOT EXISTS guild_owners (
  guild_id INTEGER PRIMARY KEY,
  epoch INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  last_order INTEGER NOT NULL DEFAULT 0
);
)sql";

// Version 6: the persisted per-guild event tail (docs/store.md, "Event tail"). One row per slot
// (< dispatch.event_tail_orders), each a guild batch's events: a new row replaces the slot's
// older one in place, so the tail stays bounded without deletes. prev_*: the position of the
// guild's tail event before the row's first, which lets a reader tell a complete run from an
// overwritten one.
constexpr const char* schema_v6 = R"sql(
CREATE TABLE IF NOT EXISTS guild_event_tail (
  guild_id INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  guild_order INTEGER NOT NULL,
  prev_epoch INTEGER NOT NULL,
  prev_order INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (guild_id, slot)
) WITHOUT ROWID;
)sql";

result<int> user_version(sqlite3* db) {
  statement query;
  if (auto r = query.prepare(db, "PRAGMA user_version"); !r) {
    return r.error();
  }
  auto row = query.start().step("read user_version");
  if (!row) {
    return row.error();
  }
  const auto version = row.value() ? static_cast<int>(query.column_int(0)) : 0;
  query.finish();
  return version;
}

// Applies the next migration, or none when up to date. The version is read
// inside the IMMEDIATE transaction so two processes opening the same new file
// cannot both apply the same migration.
result<bool> step_migration(sqlite3* db) {
  if (auto r = exec(db, "BEGIN IMMEDIATE", "begin migration"); !r) {
    return r.error();
  }
  auto fail = [db](const store_error& error) -> result<bool> {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  };
  auto version = user_version(db);
  if (!version) {
    return fail(version.error());
  }
  const int from = version.value();
  if (from > latest_schema_version()) {
    return fail(store_error{store_errc::schema_too_new,
                            "schema version " + std::to_string(from) + " is newer than " +
                                std::to_string(latest_schema_version()) +
                                ", the newest this build knows"});
  }
  if (from == latest_schema_version()) {
    if (auto r = exec(db, "COMMIT", "commit"); !r) {
      return fail(r.error());
    }
    return false;
  }
  const std::string bump = "PRAGMA user_version = " + std::to_string(from + 1);
  auto r = exec(db, migrations()[static_cast<std::size_t>(from)],
                "migration " + std::to_string(from + 1));
  if (r) {
    r = exec(db, bump.c_str(), "bump user_version");
  }
  if (r) {
    r = exec(db, "COMMIT", "commit migration");
  }
  if (!r) {
    return fail(r.error());
  }
  return true;
}

}  // namespace

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> list = {schema_v1, schema_v2, schema_v3,
                                                schema_v4, schema_v5, schema_v6};
  return list;
}

int latest_schema_version() {
  return static_cast<int>(migrations().size());
}

result<int> migrate(sqlite3* db) {
  // Each step raises the version by one, so this ends within
  // latest_schema_version() + 1 rounds.
  for (int round = 0; round <= latest_schema_version(); ++round) {
    auto stepped = step_migration(db);
    if (!stepped) {
      return stepped.error();
    }
    if (!stepped.value()) {
      return latest_schema_version();
    }
  }
  return latest_schema_version();
}

}  // namespace herald::store::detail
