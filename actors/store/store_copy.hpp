// SPDX-License-Identifier: Apache-2.0
#pragma once
// Offline copy of a node's SQLite store into an empty PostgreSQL store (`heraldctl store copy`):
// how an SRE moves an embedded node's data to the clustered store. Runs on the caller's thread;
// no node may write either store meanwhile (the source is read in one snapshot, the target is
// written in one transaction).
// Invariant: on success every table of the target holds exactly the source's rows: the row
// count and a checksum per table are computed on both sides (the target's read back after the
// commit) and compared; any difference is an error.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "actors/store/postgres_store.hpp"

namespace herald::store {

struct table_copy {
  std::string table_;
  std::uint64_t rows_ = 0;
  std::string checksum_;  ///< SHA-256 (hex) of the rows in primary-key order, both sides
};

struct copy_report {
  std::vector<table_copy> tables_;
};

/// Copies every table of the SQLite file `source` (migrated to the latest schema first) into
/// the PostgreSQL store at `target` (migrated too), which must hold no rows.
/// Errors: not_found (no such source file), the stores' open errors, invalid_argument (the
/// target is not empty), corrupt (a count or checksum differs after the copy), and the
/// backends' errors while copying.
result<copy_report> copy_sqlite_to_postgres(const std::filesystem::path& source,
                                            const postgres_options& target);

/// Opens (and so migrates) the PostgreSQL store at `target`; for `heraldctl store migrate`.
result<int> migrate_postgres(const postgres_options& target);

}  // namespace herald::store
