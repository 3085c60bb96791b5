// SPDX-License-Identifier: Apache-2.0
#pragma once
// Fixture of the end-to-end compliance tests: one real heraldd on free loopback ports with
// its data in a temp dir, seeded through the admin API (/v1/*), driven over REST and the
// gateway. Used from one test thread. Invariant: the node is killed when the fixture goes.

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test/support/admin_auth.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/process.hpp"
#include "test/support/rest_client.hpp"

namespace herald::e2e {

using namespace std::chrono_literals;
using json = nlohmann::json;

/// Gateway intents (docs/gateway.md, "Intents").
constexpr uint32_t guilds_intent = 1u << 0;
constexpr uint32_t guild_members_intent = 1u << 1;
constexpr uint32_t guild_messages_intent = 1u << 9;
constexpr uint32_t message_content_intent = 1u << 15;
constexpr uint32_t all_used_intents =
    guilds_intent | guild_members_intent | guild_messages_intent | message_content_intent;

/// Permission bits.
constexpr uint64_t view_channel = 1u << 10;
constexpr uint64_t send_messages = 1u << 11;

/// A user created through the admin API.
struct user {
  std::string id;
  std::string name;
  std::string token;
};

/// One heraldd on free ports with its data in a temp dir.
class node {
public:
  /// `gateway_keys`: extra `key = value` lines of the [gateway] table; `store_sync`: store.sync;
  /// `store_keys`: extra lines of the [store] table (e.g. backend and postgres_url).
  explicit node(const std::string& gateway_keys = {}, const std::string& store_sync = "normal",
                const std::string& store_keys = {}) {
    config_ = dir_.write_file(
        "node.toml", "[node]\nname = \"e2e\"\ndata_dir = \"" + dir_.file("data") +
                         "\"\n[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin_) +
                         "\"\n[gateway]\nlisten = \"127.0.0.1:" + std::to_string(gateway_) +
                         "\"\n" + gateway_keys + "\n[store]\nsync = \"" + store_sync + "\"\n" +
                         store_keys + "\n[runtime]\nscheduler_threads = 2\n");
    start();
  }

  /// SIGTERM, wait for exit 0, then start again on the same data and ports.
  void restart() {
    process_->send_signal(SIGTERM);
    auto code = process_->wait_for(20s);
    INFO("heraldd stderr: " << process_->err());
    REQUIRE(code == 0);
    start();
  }

  /// SIGKILL (no shutdown at all), then start again on the same data and ports.
  void kill_and_start() {
    process_->kill();
    start();
  }

  /// Starts heraldd and waits until /readyz answers 200.
  void start() {
    process_ = std::make_unique<testing::child_process>(
        testing::bin_path("heraldd"), std::vector<std::string>{"--config", config_});
    bool up = testing::eventually(
        [&] {
          auto r = testing::http_call(admin_, "GET", "/readyz", {}, {}, 2s);
          return r.status == 200 || !process_->running();
        },
        30s, testing::slow_poll_step);
    INFO("heraldd stderr: " << process_->err());
    REQUIRE(up);
    REQUIRE(process_->running());
  }

  uint16_t admin_port() const { return admin_; }
  /// The node's data dir and the admin token heraldd generated there.
  std::string data_dir() const { return dir_.path().string() + "/data"; }
  std::string token_file() const { return data_dir() + "/admin.token"; }
  /// `Authorization: Bearer <admin token>` for direct admin API calls.
  std::vector<std::pair<std::string, std::string>> admin_headers() const {
    return testing::admin_auth(testing::read_admin_token(data_dir()));
  }
  uint16_t gateway_port() const { return gateway_; }
  testing::child_process& process() { return *process_; }
  std::string admin_address() const { return "127.0.0.1:" + std::to_string(admin_); }

  /// An admin API call that must answer `status` with a JSON object.
  json admin(const std::string& method, const std::string& path, const json& body,
             unsigned status) const {
    auto r = testing::http_call(admin_, method, path, body.dump(), admin_headers());
    INFO(method << " " << path << " " << body.dump() << " -> " << r.status << " " << r.body
                << r.error);
    REQUIRE(r.status == status);
    auto parsed = r.json();
    REQUIRE(parsed.is_object());
    return parsed;
  }

  user create_user(const std::string& name, bool bot = false) const {
    auto j = admin("POST", "/v1/users", {{"name", name}, {"bot", bot}}, 201);
    return {j.at("id").get<std::string>(), name, j.at("token").get<std::string>()};
  }
  std::string create_guild(const std::string& name, const user& owner) const {
    return admin("POST", "/v1/guilds", {{"name", name}, {"owner", owner.id}}, 201)
        .at("id")
        .get<std::string>();
  }
  std::string create_channel(const std::string& guild, const std::string& name,
                             bool is_private = false) const {
    return admin("POST", "/v1/channels",
                 {{"guild", guild}, {"name", name}, {"private", is_private}}, 201)
        .at("id")
        .get<std::string>();
  }
  std::string create_role(const std::string& guild, const std::string& name,
                          uint64_t permissions) const {
    return admin("POST", "/v1/roles",
                 {{"guild", guild}, {"name", name}, {"permissions", std::to_string(permissions)}},
                 201)
        .at("id")
        .get<std::string>();
  }
  void add_member(const std::string& guild, const user& who,
                  const std::vector<std::string>& roles = {}) const {
    admin("POST", "/v1/members", {{"guild", guild}, {"user", who.id}, {"roles", roles}}, 201);
  }
  void set_member_overwrite(const std::string& channel, const user& who, uint64_t allow,
                            uint64_t deny) const {
    admin("PUT", "/v1/overwrites",
          {{"channel", channel},
           {"member", who.id},
           {"allow", std::to_string(allow)},
           {"deny", std::to_string(deny)}},
          200);
  }
  void set_role_overwrite(const std::string& channel, const std::string& role, uint64_t allow,
                          uint64_t deny) const {
    admin("PUT", "/v1/overwrites",
          {{"channel", channel},
           {"role", role},
           {"allow", std::to_string(allow)},
           {"deny", std::to_string(deny)}},
          200);
  }

  /// POST /channels/{id}/messages as `author`; must answer 200; returns the message.
  json post_message(const user& author, const std::string& channel,
                    const std::string& content) const {
    auto r = testing::rest_client{gateway_, author.token}.post_message(channel, content);
    INFO("POST message -> " << r.status << " " << r.body << r.error);
    REQUIRE(r.status == 200);
    auto m = r.json();
    REQUIRE(m.is_object());
    return m;
  }

  /// heraldctl --node <admin> --token-file <data>/admin.token args...
  testing::run_result ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--node", admin_address(), "--token-file", token_file()});
    return testing::run_process(testing::bin_path("heraldctl"), args, 30s);
  }

private:
  testing::temp_dir dir_;
  uint16_t admin_ = testing::free_port();
  uint16_t gateway_ = testing::free_port();
  std::string config_;
  std::unique_ptr<testing::child_process> process_;
};

/// A gateway session that has read Hello, identified and received READY plus `guilds`
/// GUILD_CREATEs.
inline std::unique_ptr<testing::gateway_client> connect(const node& n, const user& u, size_t guilds,
                                                        uint32_t intents = all_used_intents) {
  auto c = std::make_unique<testing::gateway_client>(n.gateway_port());
  c->login(u.token, guilds, intents);
  return c;
}

/// Reads until a MESSAGE_CREATE whose id is `message_id`; every MESSAGE_CREATE read on the way
/// is appended to `seen` (when given). nullopt on close or timeout.
inline std::optional<json> wait_message(testing::gateway_client& c, const std::string& message_id,
                                        std::vector<json>* seen = nullptr,
                                        std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto f = c.next_op(0, "MESSAGE_CREATE", left);
    if (!f) {
      return std::nullopt;
    }
    if (seen != nullptr) {
      seen->push_back(*f);
    }
    if ((*f)["d"]["id"] == message_id) {
      return f;
    }
  }
}

/// True when any frame `c` read so far is a dispatch `t` whose d[key] == value.
inline bool saw_dispatch(const testing::gateway_client& c, const std::string& t,
                         const std::string& key, const std::string& value) {
  for (const auto& f : c.frames()) {
    if (f.value("op", -1) == 0 && f["t"] == t && f["d"].is_object() && f["d"].contains(key) &&
        f["d"][key] == value) {
      return true;
    }
  }
  return false;
}

/// True when `v` is a non-empty string of decimal digits (a snowflake as JSON string).
inline bool is_snowflake(const json& v) {
  if (!v.is_string()) {
    return false;
  }
  auto s = v.get<std::string>();
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

/// Checks a message object (REST answer or MESSAGE_CREATE.d) has the shape of docs/gateway.md.
inline void check_message_shape(json m, const std::string& channel_id, const std::string& guild_id,
                                const user& author) {
  INFO("message " << m.dump());
  CHECK(is_snowflake(m["id"]));
  CHECK(m["channel_id"] == channel_id);
  CHECK(m["guild_id"] == guild_id);
  REQUIRE(m["author"].is_object());
  CHECK(m["author"]["id"] == author.id);
  CHECK(m["author"]["username"] == author.name);
  CHECK(m["author"]["discriminator"].is_string());
  CHECK(m["content"].is_string());
  REQUIRE(m["timestamp"].is_string());
  CHECK(m["timestamp"].get<std::string>().find('T') != std::string::npos);
  CHECK(m.contains("edited_timestamp"));
  CHECK(m["edited_timestamp"].is_null());
  CHECK(m["tts"] == false);
  CHECK(m["mention_everyone"].is_boolean());
  for (const char* key : {"mentions", "mention_roles", "attachments", "embeds"}) {
    INFO(key);
    CHECK(m[key].is_array());
  }
  CHECK(m["pinned"] == false);
  CHECK(m["type"] == 0);
}

}  // namespace herald::e2e
