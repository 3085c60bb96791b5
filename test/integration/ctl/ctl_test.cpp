// SPDX-License-Identifier: Apache-2.0
// heraldctl's control commands against a real heraldd: JSON and text output, the changes they
// make as REST clients see them, token revocation across restarts, and bad input.
#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/support/process.hpp"

using namespace herald;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// One heraldd on free ports with its data in a temp dir; restartable on the same data.
class node_fixture {
public:
  node_fixture() {
    config_ = dir_.write_file(
        "node.toml", "[node]\nname = \"ctl-itest\"\ndata_dir = \"" + dir_.path() +
                         "/data\"\n[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin_) +
                         "\"\n[gateway]\nlisten = \"127.0.0.1:" + std::to_string(gateway_) +
                         "\"\n[store]\nsync = \"normal\"\n[runtime]\nscheduler_threads = 2\n");
    start();
  }

  void start() {
    node_ = std::make_unique<testing::child_process>(testing::bin_path("heraldd"),
                                                     std::vector<std::string>{"--config", config_});
    bool up = testing::eventually(
        [&] {
          auto r = net::http_fetch("127.0.0.1", admin_, "GET", "/readyz", {}, 2s);
          return (r.ok() && r.status == 200) || !node_->running();
        },
        30s);
    INFO("heraldd stderr: " << node_->err());
    REQUIRE(up);
    REQUIRE(node_->running());
  }

  /// SIGTERM; returns the exit code.
  std::optional<int> stop() {
    node_->send_signal(SIGTERM);
    return node_->wait_for(20s);
  }

  /// heraldctl --node <admin> args...
  testing::run_result ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--node", "127.0.0.1:" + std::to_string(admin_)});
    return testing::run_process(testing::bin_path("heraldctl"), args, 30s);
  }

  /// heraldctl ... --json, which must succeed with one JSON object.
  json ctl_json(std::vector<std::string> args) const {
    args.push_back("--json");
    auto r = ctl(args);
    INFO("heraldctl " << args[0] << " stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    auto parsed = json::parse(r.out, nullptr, false);
    REQUIRE(parsed.is_object());
    return parsed;
  }

  /// GET on the REST API with `Authorization: Bot <token>`; returns {status, body}.
  std::pair<unsigned, std::string> rest_get(const std::string& target,
                                            const std::string& token) const {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    beast::tcp_stream stream{io};
    stream.expires_after(5s);
    boost::asio::ip::tcp::endpoint ep{boost::asio::ip::make_address("127.0.0.1"), gateway_};
    stream.connect(ep);
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bot " + token);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return {res.result_int(), res.body()};
  }

  std::string admin_url() const { return "127.0.0.1:" + std::to_string(admin_); }

private:
  testing::temp_dir dir_;
  uint16_t admin_ = testing::free_port();
  uint16_t gateway_ = testing::free_port();
  std::string config_;
  std::unique_ptr<testing::child_process> node_;
};

std::string id_of(const json& j, const char* key = "id") {
  REQUIRE(j.contains(key));
  REQUIRE(j[key].is_string());
  auto id = j[key].get<std::string>();
  REQUIRE_FALSE(id.empty());
  return id;
}

bool lists_guild(const std::string& guilds_json, const std::string& guild_id) {
  auto list = json::parse(guilds_json, nullptr, false);
  if (!list.is_array()) {
    return false;
  }
  for (const auto& g : list) {
    if (g.value("id", "") == guild_id) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("Every heraldctl control command succeeds with --json and its change is visible",
          "[integration][ctl]") {
  node_fixture node;
  auto alice = node.ctl_json({"user", "create", "--name", "alice"});
  auto alice_id = id_of(alice);
  CHECK(alice["name"] == "alice");
  CHECK(alice["bot"] == false);
  auto alice_token = alice.value("token", "");
  auto bob = node.ctl_json({"user", "create", "--name", "bob"});
  auto bot = node.ctl_json({"user", "create", "--name", "helper", "--bot"});
  CHECK(bot["bot"] == true);
  auto bob_token = bob.value("token", "");
  auto bot_token = bot.value("token", "");

  auto me = node.rest_get("/api/v10/users/@me", alice_token);
  CHECK(me.first == 200);
  CHECK(json::parse(me.second).value("id", "") == alice_id);

  auto guild = node.ctl_json({"guild", "create", "--name", "ctl guild", "--owner", alice_id});
  auto guild_id = id_of(guild);
  CHECK(guild["owner"] == alice_id);
  CHECK(lists_guild(node.rest_get("/api/v10/users/@me/guilds", alice_token).second, guild_id));

  auto general = node.ctl_json({"channel", "create", "--guild", guild_id, "--name", "general"});
  auto staff =
      node.ctl_json({"channel", "create", "--guild", guild_id, "--name", "staff", "--private"});
  CHECK(general["private"] == false);
  CHECK(staff["private"] == true);
  auto general_id = id_of(general);
  auto staff_id = id_of(staff);

  auto role = node.ctl_json(
      {"role", "create", "--guild", guild_id, "--name", "staff", "--permissions", "0"});
  auto role_id = id_of(role);
  CHECK(role["permissions"] == "0");

  // Before member add, bob sees no guild; after it, he does.
  CHECK_FALSE(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bob_token).second, guild_id));
  auto added = node.ctl_json({"member", "add", "--guild", guild_id, "--user", id_of(bob)});
  CHECK(added["user"] == id_of(bob));
  CHECK(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bob_token).second, guild_id));
  auto added_bot = node.ctl_json(
      {"member", "add", "--guild", guild_id, "--user", id_of(bot), "--role", role_id});
  CHECK(added_bot["roles"] == json::array({role_id}));

  // #staff is private: neither bob nor the bot may view it until the role's overwrite.
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bob_token).first == 403);
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bot_token).first == 403);
  auto ow = node.ctl_json({"overwrite", "set", "--channel", staff_id, "--role", role_id,
                           "--allow", "1024", "--deny", "0"});
  CHECK(ow["type"] == "role");
  CHECK(ow["allow"] == "1024");
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bot_token).first == 200);
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bob_token).first == 403);
  auto member_ow = node.ctl_json({"overwrite", "set", "--channel", general_id, "--member",
                                  id_of(bob), "--allow", "0", "--deny", "2048"});
  CHECK(member_ow["type"] == "member");

  auto sent = node.ctl_json(
      {"message", "send", "--channel", general_id, "--as", alice_id, "--content", "hello all"});
  auto message_id = id_of(sent);
  CHECK(sent["content"] == "hello all");
  CHECK(sent["author"] == alice_id);
  auto read = node.rest_get("/api/v10/channels/" + general_id + "/messages/" + message_id,
                            bob_token);
  CHECK(read.first == 200);
  CHECK(json::parse(read.second).value("content", "") == "hello all");
  // bob is denied SEND_MESSAGES in #general by his member overwrite.
  auto refused = node.ctl({"message", "send", "--channel", general_id, "--as", id_of(bob),
                           "--content", "hi"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("403") != std::string::npos);

  auto revoked = node.ctl_json({"token", "revoke", "--user", alice_id});
  auto fresh_token = revoked.value("token", "");
  CHECK(revoked["id"] == alice_id);
  CHECK(node.rest_get("/api/v10/users/@me", alice_token).first == 401);
  CHECK(node.rest_get("/api/v10/users/@me", fresh_token).first == 200);

  SECTION("tokens and revocations survive a restart on the same data dir") {
    CHECK(node.stop() == 0);
    node.start();
    CHECK(node.rest_get("/api/v10/users/@me", alice_token).first == 401);
    CHECK(node.rest_get("/api/v10/users/@me", fresh_token).first == 200);
    CHECK(node.rest_get("/api/v10/users/@me", bob_token).first == 200);
    CHECK(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bob_token).second, guild_id));
  }
}

TEST_CASE("heraldctl prints key=value lines without --json", "[integration][ctl]") {
  node_fixture node;
  auto r = node.ctl({"user", "create", "--name", "carol", "--bot"});
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    auto line = r.out.substr(start, end - start);
    auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    fields[line.substr(0, eq)] = line.substr(eq + 1);
    start = end == std::string::npos ? r.out.size() : end + 1;
  }
  CHECK(fields["name"] == "carol");
  CHECK(fields["bot"] == "true");
  CHECK_FALSE(fields["id"].empty());
  CHECK(std::count(fields["token"].begin(), fields["token"].end(), '.') == 2);
}

TEST_CASE("Bad heraldctl input gets one error line and exit 1 or 2, and the node keeps serving",
          "[integration][ctl]") {
  node_fixture node;
  auto owner = id_of(node.ctl_json({"user", "create", "--name", "owner"}));
  auto guild = id_of(node.ctl_json({"guild", "create", "--name", "g", "--owner", owner}));

  struct bad_case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
  };
  const std::vector<bad_case> cases = {
      {{"guild", "create", "--name", "g", "--owner", "12345"}, 1, "404"},
      {{"channel", "create", "--guild", "999", "--name", "x"}, 1, "404"},
      {{"role", "create", "--guild", guild, "--name", "r", "--permissions",
        "9223372036854775808"},
       1, "400"},
      {{"member", "add", "--guild", guild, "--user", owner}, 1, "409"},
      {{"member", "add", "--guild", guild, "--user", owner, "--role", "77"}, 1, ""},
      {{"overwrite", "set", "--channel", "5", "--role", "1", "--allow", "0", "--deny", "0"}, 1,
       "404"},
      {{"overwrite", "set", "--channel", "5", "--allow", "0", "--deny", "0"}, 2, "--role"},
      {{"message", "send", "--channel", "5", "--as", owner, "--content", "x"}, 1, "404"},
      {{"token", "revoke", "--user", "42"}, 1, "404"},
      {{"user", "create"}, 2, "--name"},
      {{"user", "create", "--name", std::string(40, 'n')}, 1, "400"},
      {{"guild", "create", "--name", "g", "--owner", "abc"}, 2, "--owner"},
      {{"user", "frobnicate"}, 2, ""},
  };
  for (const auto& c : cases) {
    INFO("heraldctl " << c.args[0] << " " << c.args[1]);
    auto r = node.ctl(c.args);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("heraldctl: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(c.says) != std::string::npos);
  }

  // Malformed bodies straight to the admin API are 400s with an error object.
  for (const char* body : {"", "[]", "{\"name\": 5}", "{\"name\": \"x\", \"bot\": \"yes\"}",
                           "{\"name\": \"x\"", "\xff\xfe"}) {
    INFO("body: " << body);
    auto r = net::http_fetch("127.0.0.1", static_cast<uint16_t>(std::stoi(
                                              node.admin_url().substr(10))),
                             "POST", "/v1/users", body, 5s);
    REQUIRE(r.ok());
    CHECK(r.status == 400);
    CHECK(json::parse(r.body, nullptr, false).contains("error"));
  }

  auto unreachable = testing::run_process(testing::bin_path("heraldctl"),
                                          {"--node", "127.0.0.1:1", "user", "create", "--name",
                                           "x", "--json"});
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.find("cannot reach node") != std::string::npos);

  auto still = node.ctl_json({"user", "create", "--name", "after"});
  CHECK_FALSE(id_of(still).empty());
  CHECK(node.stop() == 0);
}
