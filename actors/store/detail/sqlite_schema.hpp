// SPDX-License-Identifier: Apache-2.0
#pragma once
// The SQLite schema as an ordered list of migrations, versioned by PRAGMA user_version.
// Internal to sqlite_store; run once when a store opens, before any other statement.
// Invariant: user_version N means migrations 1..N were applied, each in its own transaction.

#include <sqlite3.h>

#include <vector>

#include "actors/store/result.hpp"

namespace herald::store::detail {

/// The migration that applies Discord's PIN_MESSAGES split (docs/store.md).
inline constexpr int pin_split_version = 4;
/// The version that adds guild_owners (owner epochs and last orders).
inline constexpr int guild_owners_version = 5;
/// The schema version that adds the guild_event_tail table (docs/store.md, "Event tail").
inline constexpr int event_tail_version = 6;

/// Migration i (0-based) takes the schema from version i to version i+1.
/// Append only: never edit or reorder an entry once released.
const std::vector<const char*>& migrations();

/// The version a fully migrated file has (migrations().size()).
int latest_schema_version();

/// Reads user_version, refuses files newer than latest_schema_version(), and
/// applies the missing migrations in order, each with its version bump in one
/// IMMEDIATE transaction. Returns the resulting version.
result<int> migrate(sqlite3* db);

}  // namespace herald::store::detail
