// SPDX-License-Identifier: Apache-2.0
// `heraldctl store copy` and `heraldctl store migrate`: offline operations on the stores
// themselves (no node involved; see docs/operations.md, "Moving a node's store to PostgreSQL").
// Text output is `key=value` lines; --json prints one JSON object.
#include <fstream>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/store/store_copy.hpp"
#include "tools/heraldctl/ctl.hpp"

namespace herald::ctl {

namespace {

struct store_args {
  std::string from;
  std::string to;
  std::string password_file;
};

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

/// The target's options, its password read from --password-file; nullopt after printing why.
std::optional<store::postgres_options> target_options(context& ctx, const store_args& args) {
  if (!is_postgres_url(args.to)) {
    ctx.fail("--to: expected a postgresql:// URL, got \"" + args.to + "\"", exit_usage);
    return std::nullopt;
  }
  store::postgres_options o;
  o.url_ = args.to;
  if (!args.password_file.empty()) {
    std::ifstream in{args.password_file};
    if (!in || !std::getline(in, o.password_)) {
      ctx.fail("--password-file: cannot read \"" + args.password_file + "\"");
      return std::nullopt;
    }
  }
  return o;
}

int store_failure(context& ctx, const std::string& what, const store::store_error& e) {
  return ctx.fail(what + ": " + store::to_string(e.code_) + ": " + e.message_);
}

int run_copy(context& ctx, const store_args& args) {
  const std::string prefix = "sqlite:";
  if (args.from.rfind(prefix, 0) != 0 || args.from.size() == prefix.size()) {
    return ctx.fail(
        "--from: expected sqlite:PATH (the node's herald.db), got \"" + args.from + "\"",
        exit_usage);
  }
  auto target = target_options(ctx, args);
  if (!target) {
    return exit_usage;
  }
  auto copied = store::copy_sqlite_to_postgres(args.from.substr(prefix.size()), *target);
  if (!copied) {
    return store_failure(ctx, "store copy", copied.error());
  }
  std::uint64_t rows = 0;
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : copied.value().tables_) {
    rows += t.rows_;
    if (ctx.options().json) {
      tables.push_back({{"table", t.table_}, {"rows", t.rows_}, {"sha256", t.checksum_}});
    } else {
      ctx.out() << "table=" << t.table_ << " rows=" << t.rows_ << " sha256=" << t.checksum_ << "\n";
    }
  }
  if (ctx.options().json) {
    ctx.out() << nlohmann::json{{"verified", true}, {"rows", rows}, {"tables", tables}}.dump()
              << "\n";
  } else {
    ctx.out() << "verified=true tables=" << copied.value().tables_.size() << " rows=" << rows
              << "\n";
  }
  return exit_ok;
}

int run_migrate(context& ctx, const store_args& args) {
  auto target = target_options(ctx, args);
  if (!target) {
    return exit_usage;
  }
  auto migrated = store::migrate_postgres(*target);
  if (!migrated) {
    return store_failure(ctx, "store migrate", migrated.error());
  }
  ctx.out() << "schema_version=" << migrated.value() << "\n";
  return exit_ok;
}

}  // namespace

void add_store_commands(command_table& table) {
  auto args = std::make_shared<store_args>();
  auto* group = table.group("store", "Offline store operations (no node involved)");
  auto* copy = table.add(
      "copy",
      "Copy an SQLite store into an empty PostgreSQL store, verified by row counts and a "
      "checksum per table (stop the node first)",
      [args](context& ctx) { return run_copy(ctx, *args); }, group);
  copy->add_option("--from", args->from, "Source: sqlite:PATH, the node's herald.db")->required();
  copy->add_option("--to", args->to, "Target: postgresql://USER@HOST:PORT/DB")->required();
  copy->add_option("--password-file", args->password_file,
                   "File holding the target's password (one line)");
  auto* migrate = table.add(
      "migrate", "Create or migrate the schema of a PostgreSQL store (what heraldd does at start)",
      [args](context& ctx) { return run_migrate(ctx, *args); }, group);
  migrate->add_option("--to", args->to, "postgresql://USER@HOST:PORT/DB")->required();
  migrate->add_option("--password-file", args->password_file,
                      "File holding the password (one line)");
}

}  // namespace herald::ctl
