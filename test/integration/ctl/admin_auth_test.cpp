// SPDX-License-Identifier: Apache-2.0
// The admin API against a real heraldd: every /v1 route family needs the admin token (a
// browser's cross-site text/plain POST changes nothing), bodies must be JSON, the Host header
// must name the admin listener; heraldctl finds the token through --token-file, --data-dir,
// $HERALD_ADMIN_TOKEN_FILE or the default data dir; admin.token_file and the refusal of an open
// non-loopback admin API.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "ctl_fixture.hpp"
#include "runtime/node/node_config.hpp"
#include "test/support/rest_client.hpp"

using namespace herald;
using namespace herald::ctl_test;

namespace {

/// One admin route and a body that would succeed with the token.
struct route_case {
  std::string method;
  std::string path;
  std::string body;
};

/// The demo shape: a user, a guild with a channel and a role; ids for the route bodies.
struct seeded {
  std::string user;
  std::string token;
  std::string guild;
  std::string channel;
  std::string role;
};

seeded seed(node_fixture& node) {
  seeded s;
  auto u = node.ctl_json({"user", "create", "--name", "alice"});
  s.user = id_of(u);
  s.token = u.value("token", "");
  s.guild = id_of(node.ctl_json({"guild", "create", "--name", "g", "--owner", s.user}));
  s.channel = id_of(node.ctl_json({"channel", "create", "--guild", s.guild, "--name", "general"}));
  s.role = id_of(
      node.ctl_json({"role", "create", "--guild", s.guild, "--name", "r", "--permissions", "0"}));
  return s;
}

std::vector<route_case> every_route_family(const seeded& s) {
  auto other = json{{"name", "mallory"}}.dump();
  return {
      {"GET", "/v1/status", ""},
      {"POST", "/v1/users", other},
      {"POST", "/v1/users/" + s.user + "/revoke", ""},
      {"POST", "/v1/guilds", json{{"name", "evil"}, {"owner", s.user}}.dump()},
      {"POST", "/v1/channels", json{{"guild", s.guild}, {"name", "evil"}}.dump()},
      {"POST", "/v1/roles",
       json{{"guild", s.guild}, {"name", "evil"}, {"permissions", "8"}}.dump()},
      {"POST", "/v1/members", json{{"guild", s.guild}, {"user", s.user}}.dump()},
      {"PUT", "/v1/overwrites",
       json{{"channel", s.channel}, {"role", s.guild}, {"allow", "0"}, {"deny", "1024"}}.dump()},
      {"POST", "/v1/messages",
       json{{"channel", s.channel}, {"as", s.user}, {"content", "forged"}}.dump()},
  };
}

testing::http_answer admin_call(const node_fixture& node, const route_case& c,
                                std::vector<std::pair<std::string, std::string>> headers) {
  return testing::http_call(node.admin_port(), c.method, c.path, c.body, headers);
}

/// Nothing changed: alice's token still works, #general has no message, no new guild.
void check_nothing_changed(const node_fixture& node, const seeded& s) {
  CHECK(node.rest_get("/api/v10/users/@me", s.token).status == 200);
  auto messages = node.rest_get("/api/v10/channels/" + s.channel + "/messages", s.token);
  CHECK(messages.status == 200);
  CHECK(json::parse(messages.body, nullptr, false) == json::array());
  auto guilds = json::parse(node.rest_get("/api/v10/users/@me/guilds", s.token).body);
  CHECK(guilds.size() == 1);
}

double metric(const node_fixture& node, const std::string& series) {
  auto body = testing::http_call(node.admin_port(), "GET", "/metrics").body;
  auto at = body.find(series + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + series.size() + 1));
}

}  // namespace

TEST_CASE("every_v1_route_family_refuses_a_missing_or_wrong_admin_token_with_401") {
  node_fixture node;
  auto s = seed(node);
  for (const auto& c : every_route_family(s)) {
    INFO(c.method << " " << c.path);
    auto none = admin_call(node, c, {});
    CHECK(none.status == 401);
    CHECK(none.json().contains("error"));
    CHECK(none.header("www-authenticate").rfind("Bearer", 0) == 0);
    CHECK(admin_call(node, c, testing::admin_auth("not-the-token-0123456789")).status == 401);
    CHECK(admin_call(node, c, {{"Authorization", "Bot " + node.admin_token()}}).status == 401);
  }
  check_nothing_changed(node, s);
  CHECK(metric(node, "herald_admin_auth_failures_total{reason=\"missing_token\"}") >= 18);
  CHECK(metric(node, "herald_admin_auth_failures_total{reason=\"wrong_token\"}") >= 9);
  // The probes stay open.
  CHECK(testing::http_call(node.admin_port(), "GET", "/healthz").status == 200);
  CHECK(testing::http_call(node.admin_port(), "GET", "/readyz").status == 200);
}

TEST_CASE("a_browser_style_cross_site_post_text_plain_no_token_does_nothing") {
  node_fixture node;
  auto s = seed(node);
  // What a web page can send without a CORS preflight: a "simple" request, text/plain body,
  // Origin of the attacker, no Authorization.
  std::vector<std::pair<std::string, std::string>> browser{{"Content-Type", "text/plain"},
                                                           {"Origin", "http://evil.example"}};
  for (const auto& c : every_route_family(s)) {
    if (c.method != "POST") {
      continue;
    }
    INFO(c.path);
    auto r = admin_call(node, c, browser);
    CHECK(r.status == 401);
    CHECK(r.header("access-control-allow-origin").empty());
  }
  check_nothing_changed(node, s);
}

TEST_CASE("admin_bodies_must_be_application_json_415_even_with_the_token") {
  node_fixture node;
  auto s = seed(node);
  for (const auto& c : every_route_family(s)) {
    if (c.body.empty()) {
      continue;
    }
    INFO(c.method << " " << c.path);
    auto headers = testing::admin_auth(node.admin_token());
    headers.emplace_back("Content-Type", "text/plain");
    auto r = admin_call(node, c, headers);
    CHECK(r.status == 415);
    CHECK(r.json().contains("error"));
  }
  check_nothing_changed(node, s);
  CHECK(metric(node, "herald_admin_auth_failures_total{reason=\"content_type\"}") >= 7);
}

TEST_CASE("a_host_header_other_than_the_admin_listener_is_refused_dns_rebinding") {
  node_fixture node{"allowed_hosts = [\"herald-admin.internal\"]"};
  auto s = seed(node);
  auto port = std::to_string(node.admin_port());
  for (const auto& c : every_route_family(s)) {
    INFO(c.method << " " << c.path);
    auto headers = testing::admin_auth(node.admin_token());
    headers.emplace_back("Host", "rebound.evil.example:" + port);
    CHECK(admin_call(node, c, headers).status == 421);
  }
  check_nothing_changed(node, s);
  for (const auto& host : {"localhost:" + port, "[::1]:" + port, "127.0.0.1:" + port,
                           "herald-admin.internal:" + port}) {
    INFO("Host: " << host);
    auto headers = testing::admin_auth(node.admin_token());
    headers.emplace_back("Host", host);
    CHECK(testing::http_call(node.admin_port(), "GET", "/v1/status", {}, headers).status == 200);
  }
  CHECK(metric(node, "herald_admin_auth_failures_total{reason=\"host\"}") >= 9);
}

TEST_CASE(
    "heraldctl finds the admin token through --token-file, --data-dir, the environment "
    "and the default data dir",
    "[integration][ctl][admin_auth]") {
  node_fixture node;
  auto ctl_bin = testing::bin_path("heraldctl");
  auto node_flag = node.admin_url();
  auto ok = [](const testing::run_result& r) {
    INFO("stdout: " << r.out << " stderr: " << r.err);
    return r.exit_code == 0 && r.out.find("node:     ctl-itest") != std::string::npos;
  };
  // env -u: a variable set around the test must not decide what is tested.
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> full{"-u", "HERALD_ADMIN_TOKEN_FILE", ctl_bin, "--node", node_flag};
    full.insert(full.end(), args.begin(), args.end());
    return testing::run_process("/usr/bin/env", full);
  };
  CHECK(ok(run({"--token-file", node.token_file(), "status"})));
  CHECK(ok(run({"status", "--data-dir", node.data_dir()})));
  CHECK(ok(testing::run_process("/usr/bin/env", {"HERALD_ADMIN_TOKEN_FILE=" + node.token_file(),
                                                 ctl_bin, "--node", node_flag, "status"})));
  // --token-file wins over the environment.
  CHECK(ok(testing::run_process(
      "/usr/bin/env", {"HERALD_ADMIN_TOKEN_FILE=/nonexistent", ctl_bin, "--node", node_flag,
                       "--token-file", node.token_file(), "status"})));

  // The default: ./var/<short hostname>/admin.token, like heraldd's default node.data_dir.
  testing::temp_dir cwd;
  std::filesystem::create_directories(cwd.path().string() + "/var/" + node::default_node_name());
  cwd.write_file("var/" + node::default_node_name() + "/admin.token", node.admin_token() + "\n");
  auto in_cwd =
      testing::run_process("/bin/sh", {"-c", "cd '" + cwd.path().string() +
                                                 "' && exec env -u HERALD_ADMIN_TOKEN_FILE '" +
                                                 ctl_bin + "' --node " + node_flag + " status"});
  CHECK(ok(in_cwd));

  // No readable token: one line naming the file and how it was chosen, exit 1.
  auto missing = run({"--token-file", cwd.path().string() + "/nope", "status"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.empty());
  CHECK(std::count(missing.err.begin(), missing.err.end(), '\n') == 1);
  CHECK(missing.err.rfind("heraldctl: cannot read the admin token from " + cwd.path().string() +
                              "/nope " + "(--token-file)",
                          0) == 0);
  auto wrong_file = cwd.write_file("wrong", "0123456789abcdef0123456789\n");
  auto wrong = run({"--token-file", wrong_file, "user", "create", "--name", "x"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("401 wrong admin token") != std::string::npos);
  // An unreachable node is still reported as such, token or not.
  auto down = testing::run_process("/usr/bin/env", {"-u", "HERALD_ADMIN_TOKEN_FILE", ctl_bin,
                                                    "--node", "127.0.0.1:1", "status"});
  CHECK(down.exit_code == 1);
  CHECK(down.err.find("cannot reach node") != std::string::npos);
}

TEST_CASE("admin_token_file_names_the_token_a_missing_one_stops_heraldd_naming_the_key") {
  testing::temp_dir secrets;
  auto token_file = secrets.write_file("admin-token", "operator-chosen-token-0123456789\n");
  ::chmod(token_file.c_str(), 0640);
  {
    node_fixture node{"token_file = \"" + token_file + "\""};
    CHECK(node.process().err().find("admin.token_file: \"" + token_file + "\" has mode 0640") !=
          std::string::npos);
    auto r = node.ctl({"status"});  // the fixture passes the generated file, which is absent
    CHECK(r.exit_code == 1);
    auto good =
        testing::run_process(testing::bin_path("heraldctl"),
                             {"--node", node.admin_url(), "--token-file", token_file, "status"});
    INFO(good.err);
    CHECK(good.exit_code == 0);
    auto direct = testing::http_call(node.admin_port(), "GET", "/v1/status", {},
                                     testing::admin_auth("operator-chosen-token-0123456789"));
    CHECK(direct.status == 200);
  }

  testing::temp_dir dir;
  auto port = testing::free_port();
  auto missing =
      testing::run_process(testing::bin_path("heraldd"),
                           {"--node.data_dir", dir.path().string() + "/data", "--admin.listen",
                            "127.0.0.1:" + std::to_string(port), "--gateway.listen",
                            "127.0.0.1:" + std::to_string(testing::free_port()),
                            "--admin.token_file", dir.path().string() + "/none"},
                           30s);
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("admin.token_file: cannot read \"" + dir.path().string() + "/none\"") !=
        std::string::npos);
}

TEST_CASE("admin_require_token_false_on_a_non_loopback_admin_listen_refuses_to_start") {
  testing::temp_dir dir;
  // Refused before anything is bound, so the wildcard address is never listened on.
  auto r = testing::run_process(
      testing::bin_path("heraldd"),
      {"--node.data_dir", dir.path().string() + "/data", "--admin.listen",
       "0.0.0.0:" + std::to_string(testing::free_port()), "--gateway.listen",
       "127.0.0.1:" + std::to_string(testing::free_port()), "--admin.require_token", "false"},
      30s);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("admin.require_token: false on the non-loopback admin.listen 0.0.0.0:") !=
        std::string::npos);
  CHECK(r.err.find("admin.allow_insecure") != std::string::npos);
}
