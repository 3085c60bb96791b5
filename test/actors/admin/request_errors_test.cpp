// SPDX-License-Identifier: Apache-2.0
// The admin routes' one mapping from dispatch and store errors to the admin request error.
#include <catch2/catch.hpp>

#include "actors/admin/request_errors.hpp"
#include "actors/dispatch/commands.hpp"
#include "actors/services/dispatch_error.hpp"

using namespace herald;
using dispatch::dispatch_errc;

TEST_CASE("store_errors_reach_the_admin_answer_through_the_dispatch_mapping") {
  auto unknown_user = dispatch::make_error(dispatch_errc::unknown_user, "42");
  auto missing =
      admin::from_store(store::store_error{store::store_errc::not_found, "no row"}, unknown_user);
  CHECK(missing.status == 404);
  CHECK(missing.code == "unknown_user");
  CHECK(missing.message == "unknown user 42");
  // Every other store error is dispatch's store_error (not retryable): 500 naming the store code.
  auto busy = admin::from_store(store::store_error{store::store_errc::busy, "database is locked"},
                                unknown_user);
  CHECK(busy.status == 500);
  CHECK(busy.code == "store_error");
  CHECK(busy.message == "store: busy: database is locked");
  auto gone = admin::from_store_write(store::store_error{store::store_errc::not_found, "row"});
  CHECK(gone.status == 500);
  CHECK(gone.code == "store_error");
}

TEST_CASE("dispatch_errors_map_to_one_admin_status_and_code_each") {
  auto check = [](const caf::error& err, unsigned status, const std::string& code) {
    auto e = admin::from_dispatch(err);
    INFO(dispatch::describe(err) << " -> " << e.status << " " << e.code << " " << e.message);
    CHECK(e.status == status);
    CHECK(e.code == code);
    CHECK_FALSE(e.message.empty());
  };
  check(dispatch::make_error(dispatch_errc::unknown_guild, "7"), 404, "unknown_guild");
  check(dispatch::make_error(dispatch::command_errc::unknown_channel, "5"), 404, "unknown_channel");
  check(dispatch::make_error(dispatch_errc::invalid_event, "unknown_role"), 404, "unknown_role");
  check(dispatch::make_error(dispatch_errc::invalid_event, "member_exists"), 409, "already_exists");
  check(dispatch::make_error(dispatch_errc::invalid_event, "wrong_guild"), 400, "bad_request");
  check(dispatch::make_error(dispatch_errc::missing_permission), 403, "forbidden");
  check(dispatch::make_error(dispatch_errc::unavailable, "guild 7"), 503, "unavailable");
  check(dispatch::make_error(dispatch_errc::persist_failed), 503, "unavailable");
  check(dispatch::make_error(dispatch_errc::store_error, "io_error: disk"), 500, "store_error");
  check(dispatch::make_error(dispatch_errc::already_started), 500, "internal");
}
