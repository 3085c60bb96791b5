// SPDX-License-Identifier: Apache-2.0
// The pin-split migration on both backends: what a store held before Discord's split of
// PIN_MESSAGES from MANAGE_MESSAGES gains PIN_MESSAGES wherever it had MANAGE_MESSAGES (roles,
// overwrite allows and denies), exactly as permissions::pin_split_of says; nothing else changes.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>

#include "actors/domain/permission_bits.hpp"
#include "actors/store/detail/pg_schema.hpp"
#include "actors/store/detail/sqlite_schema.hpp"
#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;
namespace perm = herald::permissions;

namespace {

constexpr snowflake gid = 4000;
constexpr snowflake mods = 4001;
constexpr snowflake viewers = 4002;
constexpr snowflake chan = 4100;

guild_state legacy_guild() {
  guild_state g{guild{gid, "legacy", 1}};
  auto everyone = g.everyone_role();
  everyone.permissions_ = perm::view_channel | perm::send_messages;
  g.restore_role(everyone);
  g.restore_role(role{mods, "mods", 1, perm::view_channel | perm::manage_messages});
  g.restore_role(role{viewers, "viewers", 2, perm::view_channel});
  channel ch;
  ch.id_ = chan;
  ch.guild_id_ = gid;
  ch.name_ = "c";
  ch.overwrites_ = {{gid, overwrite_type::role, 0, perm::manage_messages},
                    {viewers, overwrite_type::role, perm::manage_messages, 0},
                    {7, overwrite_type::member, perm::send_messages, perm::embed_links}};
  g.restore_channel(ch);
  return g;
}

// Sets the store's schema version back to just before the pin split, so that reopening runs
// the migration on the rows written.
void rewind_to_before_the_split(herald::store::test::backend_fixture& fx) {
  if (fx.kind() == herald::store::test::backend::postgres) {
    herald::testing::shared_postgres_server().psql(
        fx.database(),
        "UPDATE herald_schema SET version = " + std::to_string(detail::pg_pin_split_version - 1));
    return;
  }
  sqlite3* db = nullptr;
  auto file = fx.sqlite().data_dir_ / fx.sqlite().file_name_;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  auto sql = "PRAGMA user_version = " + std::to_string(detail::pin_split_version - 1);
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("the_pin_split_migration_grants_pin_messages_where_manage_messages_was") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  const auto before = legacy_guild();
  {
    auto store = fx.open();
    REQUIRE(store->save_guild(before));
  }
  rewind_to_before_the_split(fx);
  auto store = fx.open();
  auto after = store->load_guild(gid);
  REQUIRE(after);
  for (const auto& r : before.roles()) {
    INFO("role " << r.id_);
    REQUIRE(after.value().find_role(r.id_) != nullptr);
    CHECK(after.value().find_role(r.id_)->permissions_ == perm::pin_split_of(r.permissions_));
  }
  CHECK((after.value().find_role(mods)->permissions_ & perm::pin_messages) != 0);
  CHECK((after.value().find_role(viewers)->permissions_ & perm::pin_messages) == 0);
  const auto& old_ows = before.find_channel(chan)->overwrites_;
  const auto& new_ows = after.value().find_channel(chan)->overwrites_;
  REQUIRE(new_ows.size() == old_ows.size());
  for (const auto& o : old_ows) {
    auto it = std::find_if(new_ows.begin(), new_ows.end(), [&](const permission_overwrite& n) {
      return n.id_ == o.id_ && n.type_ == o.type_;
    });
    REQUIRE(it != new_ows.end());
    CHECK(it->allow_ == perm::pin_split_of(o.allow_));
    CHECK(it->deny_ == perm::pin_split_of(o.deny_));
  }
}
