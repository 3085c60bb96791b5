// SPDX-License-Identifier: Apache-2.0
// `heraldctl status`: node name, version, uptime, actors by kind and the supervision
// tree, from GET /v1/status. --json prints the API's JSON unchanged.
#include <ostream>

#include "runtime/node/status.hpp"
#include "tools/heraldctl/ctl.hpp"

namespace herald::ctl {

namespace {

int run_status(context& ctx) {
  auto res = ctx.get("/v1/status");
  if (!res) {
    return exit_failure;
  }
  std::string error;
  auto status = node::status_from_json(res->body, &error);
  if (!status) {
    return ctx.fail("malformed status from " + ctx.options().node + ": " + error);
  }
  if (ctx.options().json) {
    ctx.out() << node::to_json(*status) << "\n";
  } else {
    ctx.out() << node::render_text(*status);
  }
  return exit_ok;
}

}  // namespace

void add_status_command(command_table& table) {
  table.add("status", "Show node name, version, uptime, actors by kind and supervisors",
            run_status);
}

}  // namespace herald::ctl
