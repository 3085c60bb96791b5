// SPDX-License-Identifier: Apache-2.0
#pragma once
// The identity tests' store: a real SQLite store in a temp dir holding users 1001 (alice) and
// 1002 (bob), shared by the token authorities a test builds (two authorities on one store are
// two nodes of a cluster). Used from the test thread.

#include <memory>

#include <catch2/catch.hpp>

#include "actors/store/sqlite_store.hpp"
#include "test/support/temp_dir.hpp"

namespace herald::identity {

struct users_store {
  testing::temp_dir dir;
  std::shared_ptr<store::store> st;

  users_store() {
    store::sqlite_options o;
    o.data_dir_ = dir.path() / "data";
    o.sync_ = store::sync_mode::normal;
    auto opened = store::sqlite_store::open(o);
    REQUIRE(opened);
    st = std::shared_ptr<store::store>(std::move(opened).value());
    REQUIRE(st->upsert_user({1001, "alice", false}));
    REQUIRE(st->upsert_user({1002, "bob", false}));
  }
};

}  // namespace herald::identity
