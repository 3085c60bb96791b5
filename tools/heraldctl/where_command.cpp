// SPDX-License-Identifier: Apache-2.0
// `heraldctl where guild ID`: which node owns the guild on the asked node's ring, whether its
// guild actor is running there, and the store's owner epoch and last committed order, from GET
// /v1/cluster/guilds/{id} (actors/app/where_route.hpp). Text output is key=value lines; --json
// prints the API's JSON object unchanged, on one line.
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/heraldctl/ctl.hpp"

namespace herald::ctl {

namespace {

using json = nlohmann::json;

int run_where_guild(context& ctx, const std::string& id) {
  auto res = ctx.get("/v1/cluster/guilds/" + id);
  if (!res) {
    return exit_failure;
  }
  auto body = json::parse(res->body, nullptr, false);
  if (!body.is_object()) {
    return ctx.fail("malformed answer from " + ctx.options().node + ": " +
                    res->body.substr(0, res->body.find('\n')));
  }
  if (ctx.options().json) {
    ctx.out() << body.dump() << "\n";
    return exit_ok;
  }
  auto& out = ctx.out();
  out << "guild_id=" << body.value("guild_id", id) << "\n";
  out << "owner_node=" << body.value("owner_node", "") << "\n";
  out << "owner_id=" << body.value("owner_id", 0) << "\n";
  out << "owner_address=" << body.value("owner_address", "") << "\n";
  out << "alive=" << (body.value("alive", false) ? "true" : "false") << "\n";
  out << "reachable=" << (body.value("reachable", false) ? "true" : "false") << "\n";
  out << "ring_generation=" << body.value("ring_generation", 0) << "\n";
  // The store's owner: epoch and last committed guild order (empty when the store failed).
  auto number = [&](const char* key) {
    return body.contains(key) && body[key].is_number() ? std::to_string(body[key].get<uint64_t>())
                                                       : std::string{};
  };
  out << "epoch=" << number("epoch") << "\n";
  out << "epoch_node_id=" << number("epoch_node_id") << "\n";
  out << "order=" << number("order") << "\n";
  return exit_ok;
}

}  // namespace

void add_where_command(command_table& table) {
  auto* where = table.group("where", "Where something lives in the cluster");
  auto id = std::make_shared<std::string>();
  auto* guild = table.add(
      "guild",
      "The node owning guild ID on the asked node's ring, and whether its guild actor runs there",
      [id](context& ctx) { return run_where_guild(ctx, *id); }, where);
  guild->add_option("id", *id, "guild id (decimal)")
      ->required()
      ->check(CLI::Validator(
          [](std::string& v) {
            return !v.empty() && v.find_first_not_of("0123456789") == std::string::npos
                       ? std::string{}
                       : std::string{"expected a decimal id"};
          },
          "ID"));
}

}  // namespace herald::ctl
