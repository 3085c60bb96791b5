// SPDX-License-Identifier: Apache-2.0
// `heraldctl drain [--wait] [--timeout S] [--exit]`: tells the asked node to drain (POST
// /v1/drain, actors/app/drain_route.hpp): it leaves the guild ring, refuses new gateway
// connections and tells its sessions to reconnect elsewhere over cluster.drain_window_ms.
// Prints `state=draining`; with --wait it then polls GET /v1/drain (every 250 ms) and prints
// `guilds_owned=N`, `sessions=N` and `sessions_detached=N` (told op 7, not yet resumed elsewhere)
// whenever they change, and `state=drained` at the end; a drain
// not finished within --timeout seconds is a failure (exit 1) naming what is left. With --json
// every answer is printed as the API's JSON, one line each.
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tools/heraldctl/ctl.hpp"

namespace herald::ctl {

namespace {

using json = nlohmann::json;

struct drain_args {
  bool wait = false;
  bool exit = false;
  int timeout_s = 600;
};

constexpr std::chrono::milliseconds poll_interval{250};

/// The answer's JSON object, or discarded (the one-line error printed).
json parse_status(context& ctx, const std::optional<net::client_response>& res) {
  if (!res) {
    return json(json::value_t::discarded);
  }
  auto body = json::parse(res->body, nullptr, false);
  if (!body.is_object() || !body.contains("state")) {
    ctx.fail("malformed answer from " + ctx.options().node + ": " +
             res->body.substr(0, res->body.find('\n')));
    return json(json::value_t::discarded);
  }
  return body;
}

void print_field(context& ctx, const json& status, const char* key) {
  ctx.out() << key << "=" << status.value(key, uint64_t{0}) << "\n";
}

int run_drain(context& ctx, const drain_args& args) {
  auto started = parse_status(ctx, ctx.post("/v1/drain", json{{"exit", args.exit}}.dump()));
  if (started.is_discarded()) {
    return exit_failure;
  }
  const bool as_json = ctx.options().json;
  if (as_json) {
    ctx.out() << started.dump() << std::endl;
  } else {
    ctx.out() << "state=draining" << std::endl;
  }
  if (!args.wait) {
    return exit_ok;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{args.timeout_s};
  json last;
  while (true) {
    auto status = parse_status(ctx, ctx.get("/v1/drain"));
    if (status.is_discarded()) {
      return exit_failure;
    }
    const bool changed = last.is_null() ||
                         status.value("guilds_owned", 0) != last.value("guilds_owned", 0) ||
                         status.value("sessions", 0) != last.value("sessions", 0) ||
                         status.value("sessions_detached", 0) != last.value("sessions_detached", 0);
    if (as_json && (changed || status.value("state", "") == "drained")) {
      ctx.out() << status.dump() << std::endl;
    } else if (!as_json && changed) {
      print_field(ctx, status, "guilds_owned");
      print_field(ctx, status, "sessions");
      print_field(ctx, status, "sessions_detached");
      ctx.out().flush();
    }
    last = status;
    if (status.value("state", "") == "drained") {
      if (!as_json) {
        ctx.out() << "state=drained" << std::endl;
      }
      return exit_ok;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return ctx.fail("drain of " + ctx.options().node + " did not finish within " +
                      std::to_string(args.timeout_s) +
                      " s: guilds_owned=" + std::to_string(status.value("guilds_owned", 0)) +
                      " sessions=" + std::to_string(status.value("sessions", 0)) +
                      " sessions_detached=" + std::to_string(status.value("sessions_detached", 0)));
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace

void add_drain_command(command_table& table) {
  auto args = std::make_shared<drain_args>();
  auto* cmd = table.add(
      "drain",
      "Drain the node: it leaves the guild ring, refuses new gateway connections and moves its "
      "sessions to other nodes (op 7 Reconnect)",
      [args](context& ctx) { return run_drain(ctx, *args); });
  cmd->add_flag("--wait", args->wait, "Wait until the node is drained (no guild, no session)");
  cmd->add_option("--timeout", args->timeout_s, "With --wait: give up after S seconds (exit 1)")
      ->check(CLI::Range(1, 86400));
  cmd->add_flag("--exit", args->exit, "The node exits (code 0) once drained");
}

}  // namespace herald::ctl
