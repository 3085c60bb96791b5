// SPDX-License-Identifier: Apache-2.0
#include "tools/heraldctl/ctl.hpp"

#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "runtime/config/validators.hpp"
#include "tools/heraldctl/admin_token_source.hpp"

namespace herald::ctl {

context::context(const global_options& opts, std::ostream& out, std::ostream& err)
    : opts_(opts), out_(out), err_(err) {}

int context::fail(const std::string& line, int code) {
  err_ << "heraldctl: " << line << std::endl;
  return code;
}

std::optional<net::client_response> context::get(const std::string& target) {
  return request("GET", target, {});
}

std::optional<net::client_response> context::post(const std::string& target,
                                                  const std::string& json) {
  return request("POST", target, json);
}

std::optional<net::client_response> context::put(const std::string& target,
                                                 const std::string& json) {
  return request("PUT", target, json);
}

std::optional<net::client_response> context::del(const std::string& target) {
  return request("DELETE", target, {});
}

std::optional<net::client_response> context::request(const std::string& method,
                                                     const std::string& target,
                                                     const std::string& body) {
  auto ep = config::parse_endpoint(opts_.node);
  if (!ep) {
    fail("--node: expected HOST:PORT, got \"" + opts_.node + "\"");
    return std::nullopt;
  }
  if (!token_ && token_error_.empty()) {
    token_ = read_admin_token(
        locate_admin_token(opts_.token_file, opts_.data_dir, std::getenv(token_file_env)),
        token_error_);
  }
  // Without a token the request still goes out: an unreachable node is reported as such,
  // and the node's 401 is then explained by why no token could be read.
  net::header_list headers;
  if (token_) {
    headers.emplace_back("Authorization", "Bearer " + *token_);
  }
  auto res = net::http_fetch(ep->host, ep->port, method, target, body,
                             std::chrono::milliseconds{opts_.timeout_ms}, headers);
  if (!res.ok()) {
    fail("cannot reach node at " + opts_.node + ": " + net::describe(res.error));
    return std::nullopt;
  }
  if (res.status == 401 && !token_) {
    fail(token_error_);
    return std::nullopt;
  }
  if (res.status < 200 || res.status > 299) {
    // Control routes answer {"error": "..."}; show that text rather than the JSON.
    auto parsed = nlohmann::json::parse(res.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
      fail(method + " " + target + ": " + std::to_string(res.status) + " " +
           parsed["error"].get<std::string>());
      return std::nullopt;
    }
    auto first_line = res.body.substr(0, res.body.find('\n'));
    fail(method + " " + target + " on " + opts_.node + " answered " + std::to_string(res.status) +
         (first_line.empty() ? "" : ": " + first_line));
    return std::nullopt;
  }
  return res;
}

command_table::command_table(CLI::App& app, global_options& opts) : app_(app), opts_(opts) {
  app_.add_option("--node,-n", opts_.node, "Admin API of the node, HOST:PORT")
      ->capture_default_str();
  app_.add_flag("--json", opts_.json, "Print JSON instead of text");
  app_.add_option("--timeout-ms", opts_.timeout_ms, "Per-request timeout in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  app_.add_option("--token-file", opts_.token_file,
                  "File holding the node's admin token (else --data-dir, else "
                  "$HERALD_ADMIN_TOKEN_FILE, else ./var/<hostname>/admin.token)");
  app_.add_option("--data-dir", opts_.data_dir,
                  "The node's node.data_dir; its admin.token is used unless --token-file is given");
  app_.require_subcommand(1);
  add_status_command(*this);
  add_admin_commands(*this);
  add_store_commands(*this);
  add_cluster_commands(*this);
  add_where_command(*this);
  add_drain_command(*this);
}

CLI::App* command_table::add(const std::string& name, const std::string& description,
                             command_fn run, CLI::App* parent) {
  auto* sub = (parent != nullptr ? parent : &app_)->add_subcommand(name, description);
  // Global options may follow the subcommand name: `heraldctl status --json`.
  sub->fallthrough();
  commands_.emplace_back(sub, std::move(run));
  return sub;
}

CLI::App* command_table::group(const std::string& name, const std::string& description) {
  auto* g = app_.add_subcommand(name, description);
  g->fallthrough();
  g->require_subcommand(1);
  return g;
}

int command_table::run_parsed(std::ostream& out, std::ostream& err) {
  // Nested commands are registered after their group, so the last parsed one is the deepest.
  for (auto it = commands_.rbegin(); it != commands_.rend(); ++it) {
    auto& [sub, run] = *it;
    if (sub->parsed()) {
      context ctx{opts_, out, err};
      return run(ctx);
    }
  }
  err << "heraldctl: no command given (try --help)" << std::endl;
  return exit_usage;
}

int run_cli(int argc, char** argv) {
  CLI::App app{"heraldctl: operate a herald node through its admin API", "heraldctl"};
  app.set_version_flag("--version", HERALD_VERSION);
  global_options opts;
  command_table table{app, opts};
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "heraldctl: " << e.what() << std::endl;
    return exit_usage;
  }
  return table.run_parsed(std::cout, std::cerr);
}

}  // namespace herald::ctl
