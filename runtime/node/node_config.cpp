// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/node_config.hpp"

#include <unistd.h>

#include <climits>

#include "runtime/config/validators.hpp"
#include "runtime/log/log.hpp"

namespace herald::node {

using config::value_type;

std::string default_node_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
    return "herald";
  }
  std::string name{buf};
  // A hostname may be fully qualified; the short name is what operators expect.
  return name.substr(0, name.find('.'));
}

void register_config_keys(config::schema& s) {
  s.add({"node.name", value_type::string,
         "Name of this node in logs, metrics, status and the cluster; letters, digits, "
         "`.`, `_`, `-`.",
         "the short hostname",
         [](const config::config&) { return config::value{default_node_name()}; },
         config::node_name()});
  s.add(
      {"node.data_dir", value_type::string,
       "Directory for the node's persistent state (embedded store, secrets); created mode 0700 at "
       "start. The node's files in it, and the directory itself when it holds them, are "
       "tightened to owner-only (with a warning) if group/other accessible.",
       "`./var/<node.name>`",
       [](const config::config& c) { return config::value{"./var/" + c.get_string("node.name")}; },
       config::non_empty()});
  s.add({"node.roles", value_type::string_list,
         "Roles this node runs: `gateway` (client connections, REST) and/or `guild` "
         "(guild actors).",
         "`[\"gateway\", \"guild\"]`", config::fixed(config::string_list{"gateway", "guild"}),
         config::each_one_of({"gateway", "guild"}, true)});
  s.add({"admin.listen", value_type::string,
         "HOST:PORT of the admin HTTP API (/healthz, /readyz, /metrics, /v1/*). Port 0 "
         "picks a free port.",
         "`127.0.0.1:9100`", config::fixed(std::string{"127.0.0.1:9100"}),
         config::listen_address()});
  s.add({"admin.token_file",
         value_type::string,
         "File holding the admin API's bearer token (one line, at least 16 visible "
         "characters). Empty: `<node.data_dir>/admin.token`, generated (32 random bytes, "
         "base64url, mode 0600) at the first start. heraldctl reads the same file.",
         "empty",
         config::fixed(std::string{}),
         {}});
  s.add({"admin.require_token",
         value_type::boolean,
         "Whether every admin route except admin.open_endpoints needs `Authorization: Bearer "
         "<admin token>`. false on a non-loopback admin.listen refuses to start unless "
         "admin.allow_insecure is true.",
         "`true`",
         config::fixed(true),
         {}});
  s.add({"admin.allow_insecure",
         value_type::boolean,
         "Allows admin.require_token = false on a non-loopback admin.listen (anyone who can "
         "reach the port controls the node; logged as an error at every start).",
         "`false`",
         config::fixed(false),
         {}});
  s.add({"admin.allowed_hosts",
         value_type::string_list,
         "Extra Host header values the admin API accepts on guarded routes, `name` (with the "
         "admin port) or `name:port`, beside admin.listen itself (and localhost, 127.0.0.1, "
         "[::1] when it listens on loopback or a wildcard address). Others get 421.",
         "`[]`",
         config::fixed(config::string_list{}),
         {}});
  s.add({"admin.open_endpoints", value_type::string_list,
         "Admin paths served without Host, token or content-type checks (probes and scrapers); "
         "any of `/healthz`, `/readyz`, `/metrics`.",
         "`[\"/healthz\", \"/readyz\", \"/metrics\"]`",
         config::fixed(config::string_list{"/healthz", "/readyz", "/metrics"}),
         config::each_one_of({"/healthz", "/readyz", "/metrics"}, false)});
  s.add({"gateway.listen", value_type::string,
         "HOST:PORT of the client gateway (WebSocket) and REST API.", "`127.0.0.1:8080`",
         config::fixed(std::string{"127.0.0.1:8080"}), config::listen_address()});
  s.add({"cluster.listen", value_type::string,
         "HOST:PORT where this node accepts connections from peer nodes.", "`127.0.0.1:4370`",
         config::fixed(std::string{"127.0.0.1:4370"}), config::listen_address()});
  s.add({"runtime.scheduler_threads", value_type::integer,
         "Worker threads of the actor scheduler; 0 means one per hardware thread.", "`0`",
         config::fixed(int64_t{0}), config::int_range(0, 1024)});
  s.add({"runtime.scheduler_idle_poll_us", value_type::integer,
         "How long an idle scheduler worker keeps polling for work, napping 50 us between "
         "attempts, before it sleeps until work is queued to it. CAF's default is 25000; each "
         "nap is a wake-up that takes CPU from the gateway's io thread on a small machine "
         "(see docs/benchmarks.md), so the default here is 0 (a short spin, then sleep).",
         "`0`", config::fixed(int64_t{0}), config::int_range(0, 1000000)});
  s.add({"runtime.scheduler_idle_wake_us", value_type::integer,
         "How often a sleeping scheduler worker wakes to steal work queued to another worker "
         "(CAF's relaxed polling, default 10000 there; work queued from outside the scheduler "
         "wakes it at once). 1000 keeps both workers busy in a fan-out burst although idle "
         "workers do not nap-poll (runtime.scheduler_idle_poll_us 0).",
         "`1000`", config::fixed(int64_t{1000}), config::int_range(100, 1000000)});
  s.add({"runtime.malloc_retain_mb", value_type::integer,
         "Freed heap memory (MiB) the node keeps for reuse instead of returning it to the OS "
         "(glibc's trim threshold; blocks up to 32 MiB then come from the heap too). Saves the "
         "page faults of growing the heap again at every burst, about a tenth of a guild "
         "owner's CPU in the many-small-guilds benchmark, at the price of up to this much "
         "freed memory staying resident. 0 keeps glibc's adaptive defaults.",
         "`512`", config::fixed(int64_t{512}), config::int_range(0, 2047)});
  s.add({"runtime.shutdown_timeout_ms", value_type::integer,
         "How long a graceful shutdown may take before the node gives up and exits "
         "with code 1.",
         "`10000`", config::fixed(int64_t{10000}), config::int_range(1, 3600000)});
}

config::schema full_schema() {
  config::schema s;
  register_config_keys(s);
  log::register_config_keys(s);
  return s;
}

}  // namespace herald::node
