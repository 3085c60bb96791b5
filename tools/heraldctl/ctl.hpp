// SPDX-License-Identifier: Apache-2.0
#pragma once
// heraldctl's command framework: global options (--node, --json, --timeout-ms, --token-file,
// --data-dir), one CLI11
// subcommand per file (<name>_command.cpp), and an admin-API client shared by all commands.
// Runs on heraldctl's main thread only.
// Invariant: every failure prints exactly one line `heraldctl: ...` to stderr and maps to
// an exit code: 0 ok, 1 node unreachable or request failed, 2 usage error.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/net/http_client.hpp"

namespace herald::ctl {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

/// Options every subcommand accepts (before or after the subcommand name).
struct global_options {
  std::string node = "127.0.0.1:9100";  ///< admin API of the node, HOST:PORT
  bool json = false;                    ///< print the API's JSON instead of text
  int timeout_ms = 5000;                ///< per request
  std::string token_file;               ///< --token-file (admin_token_source.hpp)
  std::string data_dir;                 ///< --data-dir: the node's data dir, for its admin.token
};

/// What a command's run function gets.
class context {
public:
  context(const global_options& opts, std::ostream& out, std::ostream& err);

  const global_options& options() const noexcept { return opts_; }
  std::ostream& out() noexcept { return out_; }

  /// GET/POST/PUT/DELETE on the admin API with `Authorization: Bearer <admin token>` (the token is
  /// read once, on the first request). On a transport error or a non-2xx answer (a 401 while no
  /// token could be read: why not), prints the one-line error and returns nullopt; the
  /// command then returns exit_failure.
  std::optional<net::client_response> get(const std::string& target);
  std::optional<net::client_response> post(const std::string& target, const std::string& json);
  std::optional<net::client_response> put(const std::string& target, const std::string& json);
  std::optional<net::client_response> del(const std::string& target);

  /// Prints `heraldctl: <line>` to stderr and returns `code`.
  int fail(const std::string& line, int code = exit_failure);

private:
  std::optional<net::client_response> request(const std::string& method, const std::string& target,
                                              const std::string& body);
  const global_options& opts_;
  std::optional<std::string> token_;
  std::string token_error_;  // why token_ could not be read (set on the first request)
  std::ostream& out_;
  std::ostream& err_;
};

using command_fn = std::function<int(context&)>;

/// The subcommands, each added by its add_<name>_command function.
class command_table {
public:
  /// Adds global options to `app` and every known subcommand.
  command_table(CLI::App& app, global_options& opts);

  /// Registers a subcommand that runs `run`; the returned CLI::App takes its own options.
  /// With `parent` (from group()) it is nested: `heraldctl user create ...`.
  CLI::App* add(const std::string& name, const std::string& description, command_fn run,
                CLI::App* parent = nullptr);

  /// A command group such as `user`, which only holds subcommands (one is required).
  CLI::App* group(const std::string& name, const std::string& description);

  /// Runs the subcommand CLI11 parsed; call after app.parse().
  int run_parsed(std::ostream& out, std::ostream& err);

private:
  CLI::App& app_;
  global_options& opts_;
  std::vector<std::pair<CLI::App*, command_fn>> commands_;
};

/// One line per subcommand file.
void add_status_command(command_table& table);
/// user create, token revoke, guild create, channel create, role create, member add,
/// overwrite set, message send (admin_commands.cpp).
void add_admin_commands(command_table& table);

/// store copy, store migrate: offline operations on the stores (store_command.cpp).
void add_store_commands(command_table& table);

/// nodes, ring: this node's view of its cluster (cluster_command.cpp).
void add_cluster_commands(command_table& table);
/// where guild ID: the owner of a guild and whether it runs there (where_command.cpp).
void add_where_command(command_table& table);

/// drain [--wait] [--timeout S] [--exit]: move a node's guilds and sessions away
/// (drain_command.cpp).
void add_drain_command(command_table& table);

/// main()'s body after constructing the app: parse, then run; returns the exit code.
int run_cli(int argc, char** argv);

}  // namespace herald::ctl
