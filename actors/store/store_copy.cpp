// SPDX-License-Identifier: Apache-2.0
#include "actors/store/store_copy.hpp"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>
#include <pqxx/result>

#include "actors/store/detail/pg_conninfo.hpp"
#include "actors/store/detail/pg_errors.hpp"
#include "actors/store/detail/sqlite_db.hpp"
#include "actors/store/sqlite_store.hpp"

namespace herald::store {

namespace {

/// A table of the schema both backends share, its columns (BIGINT/INTEGER or TEXT, and at most
/// one of bytes, which travels as lower-case hex) and its primary key order.
struct table_def {
  const char* name;
  std::vector<const char*> columns;
  const char* order_by;
  const char* bytes_column = nullptr;  ///< BLOB in SQLite, BYTEA in PostgreSQL
};

enum class backend_kind { sqlite, postgres };

std::string column_sql(const table_def& t, const char* column, backend_kind kind) {
  if (t.bytes_column == nullptr || std::string(column) != t.bytes_column) {
    return column;
  }
  return kind == backend_kind::sqlite ? "lower(hex(" + std::string(column) + "))"
                                      : "encode(" + std::string(column) + ", 'hex')";
}

const std::vector<table_def>& tables() {
  static const std::vector<table_def> all = {
      {"users", {"id", "username", "bot"}, "id"},
      {"guilds", {"id", "name", "owner_id"}, "id"},
      {"roles",
       {"id", "guild_id", "name", "position", "permissions", "color", "hoist", "mentionable",
        "managed"},
       "id"},
      {"channels", {"id", "guild_id", "type", "name", "position"}, "id"},
      {"overwrites",
       {"channel_id", "target_id", "type", "allow", "deny", "ord"},
       "channel_id, type, target_id"},
      {"members", {"guild_id", "user_id", "joined_at"}, "guild_id, user_id"},
      {"member_roles", {"guild_id", "user_id", "role_id"}, "guild_id, user_id, role_id"},
      {"messages",
       {"id", "channel_id", "guild_id", "author_id", "content", "created_at", "edited_at",
        "deleted", "mentions", "mention_roles", "mention_everyone"},
       "id"},
      {"token_epochs", {"user_id", "epoch"}, "user_id"},
      {"feature_state", {"feature", "key", "value"}, "feature, key", "value"},
      // Epochs and last orders move too: the guild order goes on after the move.
      {"guild_owners", {"guild_id", "epoch", "node_id", "last_order"}, "guild_id"},
  };
  return all;
}

std::string select_sql(const table_def& t, backend_kind kind) {
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    sql += (i > 0 ? ", " : "") + column_sql(t, t.columns[i], kind);
  }
  return sql + " FROM " + t.name + " ORDER BY " + t.order_by;
}

std::string insert_sql(const table_def& t) {
  std::string cols;
  std::string params;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    cols += (i > 0 ? ", " : "") + std::string(t.columns[i]);
    std::string param = "$" + std::to_string(i + 1);
    if (t.bytes_column != nullptr && std::string(t.columns[i]) == t.bytes_column) {
      param = "decode(" + param + ", 'hex')";
    }
    params += (i > 0 ? ", " : "") + param;
  }
  return "INSERT INTO " + std::string(t.name) + "(" + cols + ") VALUES(" + params + ")";
}

/// Rows hashed field by field: each field's length, then its bytes, so that no two different
/// rows give the same stream.
class row_hash {
public:
  row_hash() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void field(const std::string& value) {
    const std::uint64_t size = value.size();
    EVP_DigestUpdate(ctx_.get(), &size, sizeof size);
    EVP_DigestUpdate(ctx_.get(), value.data(), value.size());
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
      out.push_back(digits[digest[i] >> 4]);
      out.push_back(digits[digest[i] & 0xf]);
    }
    return out;
  }

private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

/// The SQLite source, read only, in one read transaction (one snapshot for every table).
class sqlite_source {
public:
  ~sqlite_source() {
    if (db_ != nullptr) {
      sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_close_v2(db_);
    }
  }

  result<void> open(const std::filesystem::path& file) {
    const int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    if (rc != SQLITE_OK) {
      return detail::sqlite_error(db_, rc, "open " + file.string());
    }
    return detail::exec(db_, "BEGIN", "begin read");
  }

  /// Calls on_row(fields) for each row of `t` in primary-key order.
  template <class F>
  result<void> each_row(const table_def& t, F&& on_row) {
    detail::statement q;
    if (auto r = q.prepare(db_, select_sql(t, backend_kind::sqlite).c_str()); !r) {
      return r;
    }
    std::vector<std::string> fields(t.columns.size());
    return detail::each_row(q.start(), std::string("read ") + t.name, [&](const auto& row) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        fields[i] = row.column_text(static_cast<int>(i));
      }
      on_row(fields);
    });
  }

private:
  sqlite3* db_ = nullptr;
};

// Precondition: inside a transaction on `tx`. Throws libpqxx exceptions.
table_copy hash_postgres_table(pqxx::transaction_base& tx, const table_def& t) {
  table_copy out;
  out.table_ = t.name;
  row_hash hash;
  for (const auto& row : tx.exec(select_sql(t, backend_kind::postgres))) {
    for (const auto& field : row) {
      hash.field(field.c_str());
    }
    ++out.rows_;
  }
  out.checksum_ = hash.hex();
  return out;
}

result<copy_report> copy_rows(sqlite_source& source, pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec("BEGIN");
  for (const auto& t : tables()) {
    auto present = tx.exec(std::string("SELECT count(*) FROM ") + t.name);
    if (present[0][0].as<std::int64_t>() != 0) {
      tx.exec("ROLLBACK");
      return store_error{store_errc::invalid_argument,
                         std::string("the target is not empty: table ") + t.name + " has " +
                             present[0][0].c_str() + " rows"};
    }
  }
  copy_report report;
  for (const auto& t : tables()) {
    conn.prepare(std::string("copy_") + t.name, insert_sql(t));
    table_copy copied;
    copied.table_ = t.name;
    row_hash hash;
    auto r = source.each_row(t, [&](const std::vector<std::string>& fields) {
      for (const auto& f : fields) {
        hash.field(f);
      }
      tx.exec_prepared(std::string("copy_") + t.name, pqxx::prepare::make_dynamic_params(fields));
      ++copied.rows_;
    });
    if (!r) {
      tx.exec("ROLLBACK");
      return r.error();
    }
    copied.checksum_ = hash.hex();
    report.tables_.push_back(std::move(copied));
  }
  tx.exec("COMMIT");
  return report;
}

}  // namespace

result<int> migrate_postgres(const postgres_options& target) {
  auto opened = postgres_store::open(target);
  if (!opened) {
    return opened.error();
  }
  return postgres_store::latest_schema_version();
}

result<copy_report> copy_sqlite_to_postgres(const std::filesystem::path& source,
                                            const postgres_options& target) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source, ec)) {
    return store_error{store_errc::not_found, "no SQLite store at " + source.string()};
  }
  {
    // Brings an older file to the latest schema (the copy reads the latest tables).
    sqlite_options o;
    o.data_dir_ = source.parent_path().empty() ? "." : source.parent_path();
    o.file_name_ = source.filename().string();
    auto opened = sqlite_store::open(o);
    if (!opened) {
      return opened.error();
    }
  }
  if (auto migrated = migrate_postgres(target); !migrated) {
    return migrated.error();
  }
  sqlite_source reader;
  if (auto r = reader.open(source); !r) {
    return r.error();
  }
  auto info = detail::make_conninfo(target.url_, target.password_);
  if (!info) {
    return info.error();
  }
  try {
    pqxx::connection conn(info.value().conninfo_);
    auto copied = copy_rows(reader, conn);
    if (!copied) {
      return copied;
    }
    // Verify: the target's rows, read back after the commit, against the source's.
    pqxx::nontransaction tx(conn);
    tx.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    for (const auto& expected : copied.value().tables_) {
      const auto& def = *std::find_if(tables().begin(), tables().end(), [&](const table_def& t) {
        return expected.table_ == t.name;
      });
      auto got = hash_postgres_table(tx, def);
      if (got.rows_ != expected.rows_ || got.checksum_ != expected.checksum_) {
        return store_error{store_errc::corrupt, "verification failed for table " + expected.table_ +
                                                    ": source " + std::to_string(expected.rows_) +
                                                    " rows sha256 " + expected.checksum_ +
                                                    ", target " + std::to_string(got.rows_) +
                                                    " rows sha256 " + got.checksum_};
      }
    }
    tx.exec("COMMIT");
    // Fresh tables have no planner statistics: without them the first guild loads scan every
    // user (docs/store.md, "Semantics and errors").
    tx.exec("ANALYZE");
    return copied;
  } catch (...) {
    return detail::classify_current("copy to " + info.value().description_).error_;
  }
}

}  // namespace herald::store
