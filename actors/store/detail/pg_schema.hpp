// SPDX-License-Identifier: Apache-2.0
#pragma once
// The PostgreSQL schema as an ordered list of migrations, versioned by the one row of
// herald_schema(version). Internal to postgres_store; run when a store opens.
// Invariant: version N means migrations 1..N were applied, each in its own transaction, and
// every migration runs under a transaction-scoped advisory lock, so several nodes starting at
// once apply each migration exactly once (the others wait, then find it applied).

#include <vector>

#include <pqxx/connection>

#include "actors/store/result.hpp"

namespace herald::store::detail {

/// The advisory lock key every herald node takes around a migration ("herald" in ASCII).
constexpr long long pg_migration_lock_key = 0x686572616c64;

/// The migration that applies Discord's PIN_MESSAGES split (docs/store.md).
inline constexpr int pg_pin_split_version = 3;
/// The version that adds guild_owners (owner epochs and last orders).
inline constexpr int pg_guild_owners_version = 4;
/// The schema version that adds the guild_event_tail table (docs/store.md, "Event tail").
inline constexpr int pg_event_tail_version = 5;

/// Migration i (0-based) takes the schema from version i to version i+1.
/// Append only: never edit or reorder an entry once released.
const std::vector<const char*>& pg_migrations();

/// pg_migrations().size().
int pg_latest_schema_version();

/// Applies the missing migrations; refuses a database newer than this build (schema_too_new).
/// Throws libpqxx exceptions for SQL and connection failures (the caller maps them).
result<int> pg_migrate(pqxx::connection& conn);

}  // namespace herald::store::detail
