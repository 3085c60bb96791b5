// SPDX-License-Identifier: Apache-2.0
// The control commands (admin API ctl routes, actors/admin/ctl_routes.hpp): users and tokens,
// guilds, channels, roles, members, overwrites and messages. Text output is one `key=value`
// line per field (shell-friendly); --json prints the API's JSON object on one line.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/heraldctl/ctl.hpp"

namespace herald::ctl {

namespace {

using json = nlohmann::json;

/// Prints the answer: the object itself with --json, else `key=value` per listed key.
int print(context& ctx, const net::client_response& res, const std::vector<std::string>& keys) {
  auto body = json::parse(res.body, nullptr, false);
  if (!body.is_object()) {
    return ctx.fail("malformed answer from " + ctx.options().node + ": " +
                    res.body.substr(0, res.body.find('\n')));
  }
  if (ctx.options().json) {
    ctx.out() << body.dump() << "\n";
    return exit_ok;
  }
  for (const auto& key : keys) {
    auto it = body.find(key);
    if (it == body.end()) {
      continue;
    }
    std::string text;
    if (it->is_string()) {
      text = it->get<std::string>();
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        text += (text.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
      }
    } else {
      text = it->dump();
    }
    ctx.out() << key << "=" << text << "\n";
  }
  return exit_ok;
}

int send(context& ctx, const std::string& method, const std::string& target, const json& body,
         const std::vector<std::string>& keys) {
  auto res = method == "PUT"      ? ctx.put(target, body.dump())
             : method == "DELETE" ? ctx.del(target)
                                  : ctx.post(target, body.dump());
  if (!res) {
    return exit_failure;
  }
  return print(ctx, *res, keys);
}

/// Ids are passed through as decimal strings; the node validates them (400 otherwise).
CLI::Option* id_option(CLI::App* app, const std::string& flag, std::string& into,
                       const std::string& what) {
  return app->add_option(flag, into, what)
      ->required()
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.find_first_not_of("0123456789") == std::string::npos && !v.empty()
                       ? std::string{}
                       : std::string{"expected a decimal id"};
          },
          "ID"));
}

void add_user_commands(command_table& table) {
  auto* user = table.group("user", "Users");
  struct args {
    std::string name;
    bool bot = false;
  };
  auto a = std::make_shared<args>();
  auto* create = table.add(
      "create", "Create a user; prints its id and token",
      [a](context& ctx) {
        return send(ctx, "POST", "/v1/users", json{{"name", a->name}, {"bot", a->bot}},
                    {"id", "name", "bot", "token"});
      },
      user);
  create->add_option("--name", a->name, "User name (1-32 characters)")->required();
  create->add_flag("--bot", a->bot, "The user is a bot");

  auto* token = table.group("token", "User tokens");
  auto revoke_user = std::make_shared<std::string>();
  auto* revoke = table.add(
      "revoke", "Invalidate every token of a user; prints a fresh token",
      [revoke_user](context& ctx) {
        return send(ctx, "POST", "/v1/users/" + *revoke_user + "/revoke", json::object(),
                    {"id", "token"});
      },
      token);
  id_option(revoke, "--user", *revoke_user, "User id");
}

void add_guild_commands(command_table& table) {
  struct args {
    std::string name, owner;
  };
  auto a = std::make_shared<args>();
  auto* guild = table.group("guild", "Guilds");
  auto* create = table.add(
      "create", "Create a guild owned by a user (its @everyone role id is the guild id)",
      [a](context& ctx) {
        return send(ctx, "POST", "/v1/guilds", json{{"name", a->name}, {"owner", a->owner}},
                    {"id", "name", "owner"});
      },
      guild);
  create->add_option("--name", a->name, "Guild name")->required();
  id_option(create, "--owner", a->owner, "Owner's user id");
}

void add_channel_commands(command_table& table) {
  struct args {
    std::string guild, name;
    bool is_private = false;
  };
  auto a = std::make_shared<args>();
  auto* channel = table.group("channel", "Channels");
  auto* create = table.add(
      "create", "Create a text channel (--private: @everyone may not view it)",
      [a](context& ctx) {
        return send(ctx, "POST", "/v1/channels",
                    json{{"guild", a->guild}, {"name", a->name}, {"private", a->is_private}},
                    {"id", "guild", "name", "private"});
      },
      channel);
  id_option(create, "--guild", a->guild, "Guild id");
  create->add_option("--name", a->name, "Channel name")->required();
  create->add_flag("--private", a->is_private, "Deny VIEW_CHANNEL to @everyone");
}

void add_role_commands(command_table& table) {
  struct args {
    std::string guild, name, permissions;
  };
  auto a = std::make_shared<args>();
  auto* role = table.group("role", "Roles");
  auto* create = table.add(
      "create", "Create a role with a permission bitfield",
      [a](context& ctx) {
        return send(ctx, "POST", "/v1/roles",
                    json{{"guild", a->guild}, {"name", a->name}, {"permissions", a->permissions}},
                    {"id", "guild", "name", "permissions"});
      },
      role);
  id_option(create, "--guild", a->guild, "Guild id");
  create->add_option("--name", a->name, "Role name")->required();
  id_option(create, "--permissions", a->permissions, "Permission bits (decimal)");
}

void add_member_commands(command_table& table) {
  struct args {
    std::string guild, user;
    std::vector<std::string> roles;
  };
  auto a = std::make_shared<args>();
  auto* member = table.group("member", "Guild members");
  auto* add = table.add(
      "add", "Add a user to a guild, optionally with roles",
      [a](context& ctx) {
        return send(ctx, "POST", "/v1/members",
                    json{{"guild", a->guild}, {"user", a->user}, {"roles", a->roles}},
                    {"guild", "user", "roles"});
      },
      member);
  id_option(add, "--guild", a->guild, "Guild id");
  id_option(add, "--user", a->user, "User id");
  auto* remove = table.add(
      "remove", "Remove a member from a guild (its sessions get GUILD_DELETE); not the owner",
      [a](context& ctx) {
        return send(ctx, "DELETE", "/v1/guilds/" + a->guild + "/members/" + a->user, json{},
                    {"guild", "user"});
      },
      member);
  id_option(remove, "--guild", a->guild, "Guild id");
  id_option(remove, "--user", a->user, "User id");
  add->add_option("--role", a->roles, "Role id (repeatable)")
      ->check(CLI::Validator(
          [](std::string& v) {
            return !v.empty() && v.find_first_not_of("0123456789") == std::string::npos
                       ? std::string{}
                       : std::string{"expected a decimal id"};
          },
          "ID"));
}

void add_overwrite_commands(command_table& table) {
  struct args {
    std::string channel, role, member, allow, deny;
  };
  auto a = std::make_shared<args>();
  auto* overwrite = table.group("overwrite", "Channel permission overwrites");
  auto* set = table.add(
      "set", "Set a channel's overwrite for a role or a member (replaces the previous one)",
      [a](context& ctx) {
        if (a->role.empty() == a->member.empty()) {
          return ctx.fail("overwrite set: give exactly one of --role and --member", exit_usage);
        }
        json body{{"channel", a->channel}, {"allow", a->allow}, {"deny", a->deny}};
        body[a->role.empty() ? "member" : "role"] = a->role.empty() ? a->member : a->role;
        return send(ctx, "PUT", "/v1/overwrites", body, {"channel", "type", "id", "allow", "deny"});
      },
      overwrite);
  id_option(set, "--channel", a->channel, "Channel id");
  auto* role = set->add_option("--role", a->role, "Role id (the @everyone role id = guild id)");
  auto* member = set->add_option("--member", a->member, "User id");
  role->excludes(member);
  id_option(set, "--allow", a->allow, "Allowed permission bits (decimal)");
  id_option(set, "--deny", a->deny, "Denied permission bits (decimal)");
}

void add_message_commands(command_table& table) {
  struct args {
    std::string channel, as, content;
  };
  auto a = std::make_shared<args>();
  auto* message = table.group("message", "Messages");
  auto* send_cmd = table.add(
      "send", "Post a message as a user (its permissions apply); dispatched as MESSAGE_CREATE",
      [a](context& ctx) {
        return send(ctx, "POST", "/v1/messages",
                    json{{"channel", a->channel}, {"as", a->as}, {"content", a->content}},
                    {"id", "channel", "guild", "author", "content"});
      },
      message);
  id_option(send_cmd, "--channel", a->channel, "Channel id");
  id_option(send_cmd, "--as", a->as, "Author's user id");
  send_cmd->add_option("--content", a->content, "Message text (1-2000 characters)")->required();
}

}  // namespace

void add_admin_commands(command_table& table) {
  add_user_commands(table);
  add_guild_commands(table);
  add_channel_commands(table);
  add_role_commands(table);
  add_member_commands(table);
  add_overwrite_commands(table);
  add_message_commands(table);
}

}  // namespace herald::ctl
