// SPDX-License-Identifier: Apache-2.0
// The admin control routes in process: a real http_server on a free loopback port with
// mount_ctl_routes, dispatch services on a real SQLite store (faulty_store injects a failed
// write). Every failure must be the admin request error: {"error", "code"} with its status.
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "actors/admin/ctl_routes.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"
#include "test/support/rest_client.hpp"

namespace {

using namespace herald;
using herald::dispatch_test::dispatch_env;
using herald::testing::http_answer;
using herald::testing::http_call;

/// One node's control routes on a fresh port (no admin guard: the routes alone).
struct admin_env {
  admin_env() {
    ctx = std::make_shared<admin::ctl_context>();
    ctx->svc = env.svc;
    ctx->tokens =
        std::make_shared<identity::token_authority>("test-secret-0123456789abcdef", env.storage);
    ctx->ids = env.svc->ids;  // the node's one generator, as heraldd wires it
    net::server_options opts;
    opts.name = "admin-test";
    server = std::make_unique<net::http_server>(opts);
    admin::mount_ctl_routes(*server, ctx);
    REQUIRE_FALSE(server->start());
  }
  ~admin_env() { server->stop(); }

  http_answer call(const std::string& method, const std::string& path, const std::string& body) {
    return http_call(server->port(), method, path, body);
  }

  dispatch_env env;
  std::shared_ptr<admin::ctl_context> ctx;
  std::unique_ptr<net::http_server> server;
};

/// The one admin error shape: exactly "error" and "code", both strings, JSON, not cached.
void require_admin_error(const http_answer& r, unsigned status, const std::string& code) {
  INFO(r.status << " " << r.body << " " << r.error);
  REQUIRE(r.status == status);
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("cache-control") == "no-store");
  auto body = r.json();
  REQUIRE(body.is_object());
  CHECK(body.size() == 2);
  REQUIRE(body.at("error").is_string());
  CHECK_FALSE(body.at("error").get<std::string>().empty());
  CHECK(body.at("code") == code);
}

}  // namespace

TEST_CASE("an_unknown_user_is_404_unknown_user_through_the_store_mapping") {
  admin_env a;
  auto r = a.call("POST", "/v1/guilds", R"({"name": "g", "owner": "4242"})");
  require_admin_error(r, 404, "unknown_user");
  CHECK(r.json().at("error") == "unknown user 4242");
  require_admin_error(a.call("POST", "/v1/users/4242/revoke", ""), 404, "unknown_user");
  require_admin_error(
      a.call("POST", "/v1/messages", R"({"channel": 5, "as": 4242, "content": "x"})"), 404,
      "unknown_user");
}

TEST_CASE("an_unknown_channel_or_guild_is_404_with_its_code") {
  admin_env a;
  require_admin_error(
      a.call("PUT", "/v1/overwrites", R"({"channel": 77, "role": 1, "allow": 0, "deny": 0})"), 404,
      "unknown_channel");
  require_admin_error(a.call("POST", "/v1/channels", R"({"guild": 999, "name": "x"})"), 404,
                      "unknown_guild");
}

TEST_CASE("a_failed_store_write_is_500_store_error_naming_the_store_code") {
  admin_env a;
  a.env.storage->fail_apply(true);
  auto r = a.call("POST", "/v1/users", R"({"name": "carol"})");
  require_admin_error(r, 500, "store_error");
  CHECK(r.json().at("error") == "store: io_error: injected write failure (test)");
  a.env.storage->fail_apply(false);
  auto ok = a.call("POST", "/v1/users", R"({"name": "carol"})");
  CHECK(ok.status == 201);
}

TEST_CASE("bad_input_is_400_bad_request_in_the_same_shape") {
  admin_env a;
  require_admin_error(a.call("POST", "/v1/users", "[1, 2]"), 400, "bad_request");
  require_admin_error(a.call("POST", "/v1/users", R"({"name": ""})"), 400, "bad_request");
  require_admin_error(a.call("POST", "/v1/users", R"({"name": "x", "bot": "yes"})"), 400,
                      "bad_request");
  require_admin_error(a.call("POST", "/v1/users/abc/revoke", ""), 400, "bad_request");
}

TEST_CASE("a_member_added_twice_is_409_already_exists") {
  admin_env a;
  auto owner = a.call("POST", "/v1/users", R"({"name": "owner"})");
  REQUIRE(owner.status == 201);
  auto owner_id = owner.json().at("id").get<std::string>();
  auto guild = a.call("POST", "/v1/guilds", R"({"name": "g", "owner": ")" + owner_id + "\"}");
  REQUIRE(guild.status == 201);
  auto guild_id = guild.json().at("id").get<std::string>();
  require_admin_error(a.call("POST", "/v1/members",
                             R"({"guild": ")" + guild_id + R"(", "user": ")" + owner_id + "\"}"),
                      409, "already_exists");
}
