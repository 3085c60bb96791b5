// SPDX-License-Identifier: Apache-2.0
// Member removal and permission changes honoured on nodes that do not own the guild, with three
// real heraldd processes on one PostgreSQL database and gateway sessions only on the two
// non-owners:
// - a member kicked through REST on one node (DELETE /guilds/{id}/members/{user}) gets, on
//   another node, GUILD_MEMBER_REMOVE and GUILD_DELETE and no later event of the guild until it
//   is added again; the other sessions see the removal and every message with gapless `s`;
// - a bounded randomised sequence of overwrite changes and kicks with re-adds (new roles), each
//   made through the admin or REST API of a random node and followed by a message posted on a
//   random node, is checked against the permission model of invariant 4
//   (test/testing/visibility_model.hpp): every session receives exactly the frames the model
//   says it may see, in order.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/domain/guild_state.hpp"
#include "actors/domain/permission_bits.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/temp_dir.hpp"
#include "test/testing/visibility_model.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 5000ms;

// Gateway intents (Discord's bits).
constexpr uint32_t guilds = 1u << 0;
constexpr uint32_t guild_members = 1u << 1;
constexpr uint32_t guild_messages = 1u << 9;
constexpr uint32_t message_content = 1u << 15;

uint64_t id_value(const std::string& id) {
  return std::stoull(id);
}

/// A started cluster whose every node sees the three up.
static_cluster three_nodes(testing::temp_dir& dir) {
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  for (const auto& n : cluster.nodes) {
    INFO("nodes --json on " << n.name);
    REQUIRE(testing::eventually([&] { return up_count(nodes_json(n)) == 3; }, 30s,
                                testing::slow_poll_step));
  }
  return cluster;
}

/// Keys (visibility_model.hpp) of the dispatch frames `ws` reads until one whose key is `last`,
/// appended to `got`; false when the stream ends or 2000 frames pass first (20 s per frame).
bool read_until(testing::gateway_client& ws, const std::string& last,
                std::vector<std::string>& got) {
  for (int frames = 0; frames < 2000; ++frames) {
    auto f = ws.next(20s);
    if (!f) {
      return false;
    }
    if ((*f)["op"] == 0) {
      got.push_back(testing::frame_key(*f));
      if (got.back() == last) {
        return true;
      }
    }
  }
  return false;
}

std::set<uint64_t> listed_channels(const json& guild_create) {
  std::set<uint64_t> out;
  for (const auto& ch : guild_create["d"]["channels"]) {
    out.insert(id_value(ch.value("id", "0")));
  }
  return out;
}

}  // namespace

TEST_CASE("a_member_kicked_on_one_node_leaves_the_guild_for_its_sessions_on_another") {
  testing::temp_dir dir;
  auto cluster = three_nodes(dir);
  auto& nodes = cluster.nodes;
  auto alice = create_user(nodes[0], "alice");
  auto bob = create_user(nodes[0], "bob");
  auto carol = create_user(nodes[0], "carol");
  auto dave = create_user(nodes[0], "dave");
  auto guild = created_id(nodes[0], {"guild", "create", "--name", "g", "--owner", id_of(alice)});
  auto general = created_id(nodes[0], {"channel", "create", "--guild", guild, "--name", "general"});
  for (const auto* u : {&bob, &carol, &dave}) {
    REQUIRE(
        ctl_json(nodes[0], {"member", "add", "--guild", guild, "--user", id_of(*u)}).is_object());
  }
  auto placed = place_guild(nodes, guild);
  const auto& a = nodes[placed.owner];
  const auto& b = nodes[placed.others.at(0)];
  const auto& c = nodes[placed.others.at(1)];
  INFO("owner " << a.name << ", sessions on " << b.name << " and " << c.name);

  testing::gateway_client bob_ws{b.gateway};
  testing::gateway_client carol_ws{c.gateway};
  testing::gateway_client dave_ws{b.gateway};
  const uint32_t with_members = guilds | guild_members | guild_messages | message_content;
  bob_ws.login(bob.value("token", ""), 1, with_members);
  carol_ws.login(carol.value("token", ""), 1, with_members);
  dave_ws.login(dave.value("token", ""), 1, guilds | guild_messages | message_content);

  auto token = alice.value("token", "");
  auto key_of_post = [&](const node_spec& n, const std::string& content) {
    auto m = post_message(n, token, general, content);
    return "MESSAGE_CREATE " + m.value("id", "") + " '" + content + "'";
  };
  auto m0 = key_of_post(a, "m0");

  // Refusals change nothing: a member without KICK_MEMBERS, the owner as target.
  auto refused = kick_member(b, carol.value("token", ""), guild, id_of(dave));
  INFO(refused.body);
  CHECK(refused.status == 403);
  CHECK(refused.json().value("code", 0) == 50013);
  CHECK(kick_member(c, bob.value("token", ""), guild, id_of(alice)).status == 403);

  // bob is kicked through the REST API of node c; his session is on node b.
  auto kicked = kick_member(c, token, guild, id_of(bob));
  INFO(kicked.body);
  REQUIRE(kicked.status == 204);
  auto again = kick_member(b, token, guild, id_of(bob));
  CHECK(again.status == 404);
  CHECK(again.json().value("code", 0) == 10007);
  auto m1 = key_of_post(b, "m1");
  auto m2 = key_of_post(a, "m2");
  auto m3 = key_of_post(c, "m3");
  // Added again (admin API of node b): bob's live session subscribes again and, after its new
  // GUILD_CREATE, receives what follows; never what was posted while he was out.
  REQUIRE(ctl_json(b, {"member", "add", "--guild", guild, "--user", id_of(bob)}).is_object());
  const std::string removed = "GUILD_MEMBER_REMOVE " + id_of(bob);
  const std::string back = "GUILD_CREATE " + guild;
  std::vector<std::string> bob_got;
  REQUIRE(read_until(bob_ws, back, bob_got));
  auto m4 = key_of_post(c, "m4");
  REQUIRE(read_until(bob_ws, m4, bob_got));
  CHECK(bob_got == std::vector<std::string>{m0, removed, "GUILD_DELETE " + guild, back, m4});

  std::vector<std::string> carol_got;
  std::vector<std::string> dave_got;
  REQUIRE(read_until(carol_ws, m4, carol_got));
  REQUIRE(read_until(dave_ws, m4, dave_got));
  CHECK(carol_got ==
        std::vector<std::string>{m0, removed, m1, m2, m3, "GUILD_MEMBER_ADD " + id_of(bob), m4});
  CHECK(dave_got == std::vector<std::string>{m0, m1, m2, m3, m4});
  for (auto* ws : {&bob_ws, &carol_ws, &dave_ws}) {
    CHECK(ws->seq_errors().empty());
  }
  stop_cleanly(nodes, cluster.procs);
}

namespace {

/// One gateway session of the model: where it is, what it was granted, what it read and what the
/// model says it must read (frame keys after its first GUILD_CREATE).
struct remote_session {
  uint64_t user = 0;
  uint32_t intents = 0;
  std::unique_ptr<testing::gateway_client> ws;
  std::vector<std::string> got;
  std::vector<std::string> expected;

  bool wants(uint32_t bit) const { return (intents & bit) != 0; }
};

/// The randomised run: the guild, its shadow state and the sessions on the non-owners.
class cluster_model {
public:
  cluster_model(static_cluster& cluster, uint32_t seed) : cluster_(cluster), rng_(seed) {}

  void build_guild() {
    auto& n0 = cluster_.nodes[0];
    owner_ = create_user(n0, "owner");
    guild_ = id_of(ctl_json(n0, {"guild", "create", "--name", "g", "--owner", id_of(owner_)}));
    REQUIRE(!guild_.empty());
    gid_ = id_value(guild_);
    shadow_ =
        std::make_unique<domain::guild_state>(domain::guild{gid_, "g", id_value(id_of(owner_))});
    shadow_->restore_member(domain::member{id_value(id_of(owner_)), {}, 0},
                            domain::user{id_value(id_of(owner_)), "owner", false});
    for (bool is_private : {false, true, false}) {
      std::vector<std::string> args{"channel", "create", "--guild", guild_, "--name", "c"};
      if (is_private) {
        args.push_back("--private");
      }
      auto id = id_value(id_of(ctl_json(n0, args)));
      REQUIRE(id != 0);
      domain::channel ch;
      ch.id_ = id;
      ch.guild_id_ = gid_;
      ch.name_ = "c";
      if (is_private) {
        ch.overwrites_.push_back(
            {gid_, domain::overwrite_type::role, 0, permissions::view_channel});
      }
      REQUIRE(shadow_->create_channel(ch) == domain::apply_error::ok);
      channels_.push_back(id);
    }
    for (uint64_t perms : {permissions::view_channel | permissions::send_messages,
                           permissions::send_messages, permissions::bits{0}}) {
      auto id = id_value(id_of(ctl_json(n0, {"role", "create", "--guild", guild_, "--name", "r",
                                             "--permissions", std::to_string(perms)})));
      REQUIRE(id != 0);
      domain::role r;
      r.id_ = id;
      r.name_ = "r";
      r.position_ = 1;
      r.permissions_ = perms;
      REQUIRE(shadow_->create_role(r) == domain::apply_error::ok);
      roles_.push_back(id);
    }
    const std::vector<std::vector<size_t>> roles_of{{0}, {1}, {}, {0, 2}};
    for (size_t i = 0; i < roles_of.size(); ++i) {
      auto u = create_user(n0, "u" + std::to_string(i));
      users_.push_back(u);
      std::vector<uint64_t> roles;
      for (auto r : roles_of[i]) {
        roles.push_back(roles_[r]);
      }
      add_member(n0, id_value(id_of(u)), roles);
    }
  }

  /// Sessions on the two nodes that do not own the guild, with varied intents; each
  /// GUILD_CREATE lists exactly the channels the model says its member may view.
  void open_sessions() {
    auto placed = place_guild(cluster_.nodes, guild_);
    const auto& b = cluster_.nodes[placed.others.at(0)];
    const auto& c = cluster_.nodes[placed.others.at(1)];
    const uint32_t content = guilds | guild_messages | message_content;
    const std::vector<std::tuple<const node_spec*, size_t, uint32_t>> specs{
        {&b, 0, content | guild_members}, {&c, 1, guilds | guild_messages}, {&b, 2, content},
        {&c, 3, content | guild_members}, {&c, 0, guilds | guild_messages},
    };
    for (const auto& [node, user, intents] : specs) {
      remote_session s;
      s.user = id_value(id_of(users_[user]));
      s.intents = intents;
      s.ws = std::make_unique<testing::gateway_client>(node->gateway);
      s.ws->login(users_[user].value("token", ""), 0, intents);
      auto gc = s.ws->next_op(0, "GUILD_CREATE", 20s);
      REQUIRE(gc);
      CHECK(listed_channels(*gc) == testing::visible_channels_of(*shadow_, s.user));
      sessions_.push_back(std::move(s));
    }
  }

  /// One change (an overwrite, or a kick and a re-add with new roles) and one message.
  void step() {
    if (std::uniform_int_distribution<int>(0, 99)(rng_) < 70) {
      change_overwrite();
    } else {
      kick_and_readd();
    }
    post();
    for (auto& s : sessions_) {
      s.ws->heartbeat();  // keeps every connection alive through a long run
    }
  }

  /// A last guild-wide event every session gets; reads each stream up to it and compares.
  void finish() {
    auto id = id_of(ctl_json(
        node(), {"role", "create", "--guild", guild_, "--name", "end", "--permissions", "0"}));
    REQUIRE(!id.empty());
    const auto last = "GUILD_ROLE_CREATE " + id;
    for (auto& s : sessions_) {
      s.expected.push_back(last);
      INFO("session of user " << s.user << " intents " << s.intents);
      CHECK(read_until(*s.ws, last, s.got));
      INFO(testing::first_difference(s.got, s.expected));
      CHECK(s.got == s.expected);
      CHECK(s.ws->seq_errors().empty());
    }
  }

private:
  const node_spec& node() {
    auto& nodes = cluster_.nodes;
    return nodes[std::uniform_int_distribution<size_t>(0, nodes.size() - 1)(rng_)];
  }
  template <class T>
  const T& any_of(const std::vector<T>& xs) {
    return xs[std::uniform_int_distribution<size_t>(0, xs.size() - 1)(rng_)];
  }

  void add_member(const node_spec& n, uint64_t user, const std::vector<uint64_t>& roles) {
    std::vector<std::string> args{"member", "add",    "--guild",
                                  guild_,   "--user", std::to_string(user)};
    for (auto r : roles) {
      args.push_back("--role");
      args.push_back(std::to_string(r));
    }
    REQUIRE(ctl_json(n, args).is_object());
    REQUIRE(shadow_->add_member(domain::member{user, roles, 0}, domain::user{user, "u", false}) ==
            domain::apply_error::ok);
  }

  std::vector<std::set<uint64_t>> views() const {
    std::vector<std::set<uint64_t>> out;
    for (const auto& s : sessions_) {
      out.push_back(testing::visible_channels_of(*shadow_, s.user));
    }
    return out;
  }

  /// An overwrite for @everyone, a role or a member that allows, denies or leaves VIEW_CHANNEL,
  /// set through the admin API of a random node (a CHANNEL_UPDATE ordered by the owner).
  void change_overwrite() {
    auto channel = any_of(channels_);
    int who = std::uniform_int_distribution<int>(0, 4)(rng_);
    domain::permission_overwrite ow;
    ow.type_ = who == 4 ? domain::overwrite_type::member : domain::overwrite_type::role;
    ow.id_ = who == 0 ? gid_ : who == 4 ? id_value(id_of(any_of(users_))) : roles_[who - 1];
    int effect = std::uniform_int_distribution<int>(0, 2)(rng_);
    ow.allow_ = effect == 0 ? permissions::view_channel : 0;
    ow.deny_ = effect == 1 ? permissions::view_channel : 0;
    auto on = ow.type_ == domain::overwrite_type::role ? "--role" : "--member";
    REQUIRE(ctl_json(node(), {"overwrite", "set", "--channel", std::to_string(channel), on,
                              std::to_string(ow.id_), "--allow", std::to_string(ow.allow_),
                              "--deny", std::to_string(ow.deny_)})
                .is_object());
    domain::channel ch = *shadow_->find_channel(channel);
    domain::set_overwrite(ch, ow);
    auto before = views();
    REQUIRE(shadow_->update_channel(ch) == domain::apply_error::ok);
    auto after = views();
    for (size_t i = 0; i < sessions_.size(); ++i) {
      auto& s = sessions_[i];
      if (!s.wants(guilds) || shadow_->find_member(s.user) == nullptr) {
        continue;
      }
      testing::expect_view_change(before[i], after[i], s.expected);
      if (after[i].count(channel) > 0) {
        s.expected.push_back("CHANNEL_UPDATE " + std::to_string(channel));
      }
    }
  }

  /// Kicks a member through the REST API of a random node, then adds it again with random roles
  /// through the admin API of another random node; its sessions get GUILD_CREATE again, which
  /// this waits for (what is posted before that subscription is not the session's to get).
  void kick_and_readd() {
    auto user = id_value(id_of(any_of(users_)));
    auto kicked = kick_member(node(), owner_.value("token", ""), guild_, std::to_string(user));
    INFO(kicked.body);
    REQUIRE(kicked.status == 204);
    REQUIRE(shadow_->remove_member(user) == domain::apply_error::ok);
    const auto id = std::to_string(user);
    for (auto& s : sessions_) {
      if (s.wants(guild_members)) {
        s.expected.push_back("GUILD_MEMBER_REMOVE " + id);
      }
      if (s.user == user && s.wants(guilds)) {
        s.expected.push_back("GUILD_DELETE " + guild_);
      }
    }
    std::vector<uint64_t> roles;
    for (auto r : roles_) {
      if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
        roles.push_back(r);
      }
    }
    add_member(node(), user, roles);
    const auto back = "GUILD_CREATE " + guild_;
    for (auto& s : sessions_) {
      if (s.user != user) {
        if (s.wants(guild_members)) {
          s.expected.push_back("GUILD_MEMBER_ADD " + id);
        }
        continue;
      }
      s.expected.push_back(back);
      REQUIRE(read_until(*s.ws, back, s.got));
      auto gc = s.ws->frames().back();
      CHECK(listed_channels(gc) == testing::visible_channels_of(*shadow_, user));
    }
  }

  /// The owner (who may post anywhere) posts in a random channel through a random node.
  void post() {
    auto channel = any_of(channels_);
    auto content = "m" + std::to_string(++posted_);
    auto m = post_message(node(), owner_.value("token", ""), std::to_string(channel), content);
    auto id = m.value("id", "");
    for (auto& s : sessions_) {
      if (s.wants(guild_messages) &&
          testing::visible_channels_of(*shadow_, s.user).count(channel) > 0) {
        s.expected.push_back("MESSAGE_CREATE " + id + " '" +
                             (s.wants(message_content) ? content : std::string{}) + "'");
      }
    }
  }

  static_cluster& cluster_;
  std::mt19937 rng_;
  json owner_;
  std::vector<json> users_;
  std::string guild_;
  uint64_t gid_ = 0;
  std::unique_ptr<domain::guild_state> shadow_;
  std::vector<uint64_t> channels_;
  std::vector<uint64_t> roles_;
  std::vector<remote_session> sessions_;
  size_t posted_ = 0;
};

}  // namespace

TEST_CASE("remote_sessions_receive_exactly_what_the_permission_model_allows_under_random_changes") {
  constexpr uint32_t seed = 20261204;
  constexpr int steps = 30;
  INFO("seed " << seed << ", " << steps << " steps");
  testing::temp_dir dir;
  auto cluster = three_nodes(dir);
  cluster_model model{cluster, seed};
  model.build_guild();
  model.open_sessions();
  for (int i = 0; i < steps; ++i) {
    model.step();
  }
  model.finish();
  stop_cleanly(cluster.nodes, cluster.procs);
}
