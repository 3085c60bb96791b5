// SPDX-License-Identifier: Apache-2.0
#include "actors/app/app_config.hpp"

#include <algorithm>
#include <string_view>

#include "actors/identity/secret.hpp"
#include "runtime/cluster/cluster_config.hpp"
#include "runtime/config/validators.hpp"
#include "runtime/net/fd_budget.hpp"
#include "runtime/node/node_config.hpp"

namespace herald::app {

namespace {

using config::value_type;

config::validator empty_or_min_length(size_t n) {
  return [n](const config::value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    if (!s.empty() && s.size() < n) {
      return "must be empty or at least " + std::to_string(n) + " bytes";
    }
    return std::nullopt;
  };
}

/// The host of a ws:// or wss:// URL ("[::]" keeps its brackets).
std::string_view url_host(std::string_view url) {
  url.remove_prefix(url.find("://") + 3);
  if (url.empty()) {
    return url;
  }
  auto end = url.front() == '[' ? url.find(']') + 1 : url.find_first_of(":/?");
  return url.substr(0, std::min(end, url.size()));
}

/// A URL clients can connect to: ws:// or wss://, and not a wildcard address (the default
/// `ws://<gateway.listen>` is one when the listener binds every interface).
config::validator ws_url() {
  return [](const config::value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    if (s.rfind("ws://", 0) != 0 && s.rfind("wss://", 0) != 0) {
      return "expected a ws:// or wss:// URL, got \"" + s + "\"";
    }
    auto host = url_host(s);
    if (host.empty() || host == "0.0.0.0" || host == "[::]") {
      return "\"" + s +
             "\" names no address clients can connect to (gateway.listen binds every "
             "interface): set gateway.public_url to the URL clients use";
    }
    return std::nullopt;
  };
}

}  // namespace

void register_config_keys(config::schema& s, const std::vector<std::string>& feature_names) {
  // Before gateway.public_url, whose default depends on them.
  s.add({"gateway.tls_cert_file", value_type::string,
         "PEM certificate chain (leaf first) of the gateway/REST listener. With "
         "gateway.tls_key_file set too, the listener speaks only TLS (https and wss on the same "
         "port); both empty: plain http/ws (loopback, or behind a TLS-terminating proxy). "
         "Re-read on SIGHUP.",
         "empty", config::fixed(std::string{}), nullptr});
  s.add({"gateway.tls_key_file", value_type::string,
         "PEM private key matching gateway.tls_cert_file. Re-read on SIGHUP.", "empty",
         config::fixed(std::string{}), nullptr});
  s.add({"gateway.tls_min_version", value_type::string,
         "Lowest TLS version the gateway/REST listener accepts: `TLS1.2` or `TLS1.3`.", "`TLS1.2`",
         config::fixed(std::string{"TLS1.2"}), config::one_of({"TLS1.2", "TLS1.3"})});
  s.add({"gateway.public_url", value_type::string,
         "URL clients are told to connect to (GET /gateway `url`, READY `resume_gateway_url`); "
         "set it when a proxy or another host name is in front, and whenever gateway.listen is "
         "a wildcard (0.0.0.0, [::]): heraldd refuses to start with a wildcard public URL.",
         "`ws://<gateway.listen>`, `wss://<gateway.listen>` with TLS",
         [](const config::config& c) {
           bool tls = !c.get_string("gateway.tls_cert_file").empty();
           return config::value{(tls ? "wss://" : "ws://") + c.get_string("gateway.listen")};
         },
         ws_url()});
  s.add({"gateway.resume_url", value_type::string,
         "READY's `resume_gateway_url`: where clients resume. In a cluster set it to the URL of "
         "the load balancer in front of every node, so that a client a draining node tells to "
         "reconnect (op 7) resumes on another node, which takes its session over "
         "(docs/cluster.md, \"Session migration\").",
         "`gateway.public_url`",
         [](const config::config& c) { return config::value{c.get_string("gateway.public_url")}; },
         ws_url()});
  s.add({"gateway.threads", value_type::integer,
         "I/O threads of the gateway and REST listener (beside the actor scheduler's threads).",
         "`1`", config::fixed(int64_t{1}), config::int_range(1, 64)});
  s.add({"gateway.flush_delay_us", value_type::integer,
         "How long the gateway waits after a burst's first ready frame before writing the "
         "ready sessions, so more of them share one flush and one writev (added latency).",
         "`2000`", config::fixed(int64_t{2000}), config::int_range(0, 100000)});
  s.add({"gateway.max_connections", value_type::integer,
         "Open connections the gateway and REST listener holds at once (WebSocket and HTTP "
         "alike); one more gets 503 with Retry-After and /readyz turns 503. 0: no limit.",
         "`RLIMIT_NOFILE` − 128, at least 16",
         [](const config::config&) {
           return config::value{static_cast<int64_t>(net::default_max_connections())};
         },
         config::int_range(0, 10000000)});
  s.add({"gateway.max_connections_per_ip", value_type::integer,
         "Open connections of the gateway and REST listener from one client IP address "
         "(loopback counts like any other); one more gets 503 with Retry-After. 0: no limit.",
         "`1000`", config::fixed(int64_t{1000}), config::int_range(0, 10000000)});
  s.add({"gateway.queue_max_frames", value_type::integer,
         "Frames a session may have queued but not yet written to its connection; one more "
         "closes the connection with 4000 (slow consumer, resumable).",
         "`2048`", config::fixed(int64_t{2048}), config::int_range(16, 1000000)});
  s.add({"gateway.queue_max_bytes", value_type::integer,
         "Bytes a session may have queued but not yet written to its connection; more closes "
         "it with 4000 (slow consumer, resumable).",
         "`1048576` (1 MiB)", config::fixed(int64_t{1} << 20),
         config::int_range(65536, int64_t{1} << 31)});
  s.add({"gateway.resume_max_frames", value_type::integer,
         "Frames each session keeps for Resume, written or not; a Resume from an older `seq` "
         "gets op 9. Costs 8 bytes per frame per session once the session has received that "
         "many (the frames' bytes are shared); at least twice gateway.queue_max_frames.",
         "`4096`", config::fixed(int64_t{4096}), config::int_range(16, 1000000)});
  s.add({"gateway.resume_max_bytes", value_type::integer,
         "Bytes of frames each session keeps for Resume; at least twice gateway.queue_max_bytes.",
         "`2097152` (2 MiB)", config::fixed(int64_t{2} << 20),
         config::int_range(65536, int64_t{1} << 31)});
  s.add({"gateway.heartbeat_interval_ms", value_type::integer,
         "Heartbeat interval sent in Hello; a client silent for longer (plus a grace) is "
         "closed with 4009.",
         "`41250`", config::fixed(int64_t{41250}), config::int_range(100, 3600000)});
  s.add({"gateway.identify_max_concurrency", value_type::integer,
         "Identifies one user may make per 5 s (Discord's max_concurrency, reported by GET "
         "/gateway/bot); more get op 9. 0: unlimited.",
         "`16`", config::fixed(int64_t{16}), config::int_range(0, 1000)});
  s.add({"gateway.identify_daily_limit", value_type::integer,
         "Identifies one user may make per 24 h (Discord's session_start_limit.total, reported "
         "by GET /gateway/bot); more get op 9. 0: unlimited.",
         "`1000`", config::fixed(int64_t{1000}), config::int_range(0, 100000000)});
  s.add({"identity.secret", value_type::string,
         "HMAC secret that signs user tokens (at least 16 bytes). Empty: use "
         "identity.secret_file, else a generated secret in `<node.data_dir>/identity.secret`.",
         "empty", config::fixed(std::string{}), empty_or_min_length(identity::min_secret_bytes)});
  s.add({"identity.secret_file", value_type::string,
         "File holding the token secret (one line, at least 16 bytes); used when "
         "identity.secret is empty.",
         "empty", config::fixed(std::string{}), nullptr});
  s.add({"identity.token_max_age", value_type::string,
         "Tokens issued longer ago than this are refused (REST 401, gateway 4004): `0` (never "
         "expire) or a duration like `12h` or `30d` (units s, m, h, d).",
         "`0`", config::fixed(std::string{"0"}), config::duration()});
  s.add({"identity.epoch_cache_ttl", value_type::string,
         "How long a node trusts a user's token epoch it read from the store: a node that "
         "missed a cluster revoke notice refuses the revoked token after at most this long. "
         "`0` reads the store on every token check; else a duration like `30s` or `5m` (units "
         "s, m, h, d).",
         "`30s`", config::fixed(std::string{"30s"}), config::duration()});
  s.add({"store.sync", value_type::string,
         "Durability of the embedded store (`<node.data_dir>/herald.db`): `full` fsyncs every "
         "commit (survives power loss), `normal` only at checkpoints (survives a crash of "
         "heraldd; for tests and benchmarks).",
         "`full`", config::fixed(std::string{"full"}), config::one_of({"full", "normal"})});
  s.add({"features.enabled", value_type::string_list,
         "Features this node runs (docs/writing-actors.md), e.g. `[\"reactions\"]`: each one's "
         "services start and its REST routes are mounted; a feature not listed starts nothing "
         "and mounts nothing. Each entry must be a feature this build links (`reactions`).",
         "`[]`", config::fixed(config::string_list{}), config::each_one_of(feature_names, false)});
  s.add({"dispatch.event_tail_orders", value_type::integer,
         "Rows each guild keeps in its persisted event tail, one per committed guild batch (at "
         "least one event each; a new row replaces the oldest in place): a relay that missed at "
         "most the last this many batches when its guild's owner changed is replayed what it "
         "missed; one further behind resyncs (GUILD_DELETE unavailable, then GUILD_CREATE). 0: "
         "no tail, every failover resyncs.",
         "`1024`", config::fixed(int64_t{1024}), config::int_range(0, 1000000)});
  s.add({"store.writer_max_batches", value_type::integer,
         "Most guild batches the store writer commits in one transaction (group commit: one "
         "fsync for all of them under store.sync=full).",
         "`4096`", config::fixed(int64_t{4096}), config::int_range(1, 1000000)});
  s.add({"store.writer_max_wait_us", value_type::integer,
         "How long the store writer waits for more batches before a commit that is not full. "
         "`0`: commit at once whatever queued while the previous commit ran (no added latency).",
         "`0`", config::fixed(int64_t{0}), config::int_range(0, 1000000)});
  s.add({"store.writer_queue_batches", value_type::integer,
         "Most batches queued in the store writer or being committed; beyond it publishes get a "
         "retryable busy error (REST 503 + Retry-After).",
         "`65536`", config::fixed(int64_t{65536}), config::int_range(1, 100000000)});
  s.add({"store.writer_queue_bytes", value_type::integer,
         "Most bytes (approximate: ops and their text) queued in the store writer or being "
         "committed; beyond it publishes get a retryable busy error (REST 503 + Retry-After).",
         "`268435456`", config::fixed(int64_t{268435456}),
         config::int_range(1024, int64_t{1} << 40)});
  s.add({"store.backend", value_type::string,
         "Where guild state and messages live: `sqlite` (embedded, `<node.data_dir>/herald.db`, "
         "one node) or `postgres` (a PostgreSQL server every node of a cluster reaches, at "
         "store.postgres_url; see docs/store.md).",
         "`sqlite`", config::fixed(std::string{"sqlite"}), config::one_of({"sqlite", "postgres"})});
  s.add({"store.postgres_url", value_type::string,
         "libpq connection string or URI of the PostgreSQL store, e.g. "
         "`postgresql://herald@127.0.0.1:5432/herald`; required with store.backend = postgres. "
         "Put no password in it: use store.postgres_password_file.",
         "empty", config::fixed(std::string{}), nullptr});
  s.add({"store.postgres_password_file", value_type::string,
         "File holding the PostgreSQL password (one line; a trailing newline is ignored). "
         "Empty: no password is sent (trust, peer or certificate authentication, or libpq's "
         "~/.pgpass).",
         "empty", config::fixed(std::string{}), nullptr});
  s.add({"store.postgres_readers", value_type::integer,
         "Reader connections of the PostgreSQL store: how many reads (guild loads, user and "
         "guild lookups) run on the server at once. The node holds this many plus one writer "
         "connection; the first reader connects at start, the others on first use.",
         "`4`", config::fixed(int64_t{4}), config::int_range(1, 256)});
}

net::tls_options tls_options(const config::config& cfg) {
  return net::tls_options{
      cfg.get_string("gateway.tls_cert_file"), cfg.get_string("gateway.tls_key_file"),
      cfg.get_string("gateway.tls_min_version"), "gateway.tls_cert_file", "gateway.tls_key_file"};
}

std::optional<std::string> check_config(const config::config& cfg) {
  if (auto err = cluster::check_config(cfg)) {
    return err;
  }
  if (cluster::settings_from(cfg).clustered()) {
    const std::string why = cfg.get_string("cluster.membership") == "etcd"
                                ? "cluster.membership = \"etcd\""
                                : "cluster.seeds set";
    if (cfg.get_string("store.backend") != "postgres") {
      return "store.backend: a cluster (" + why +
             ") needs \"postgres\", every node on the same database; \"sqlite\" is one node's "
             "private file";
    }
    if (cfg.get_string("identity.secret_file").empty() ||
        !cfg.get_string("identity.secret").empty()) {
      return "identity.secret_file: required in a cluster (" + why +
             "), with identity.secret empty: every node signs tokens with the secret in that file";
    }
  }
  if (cfg.get_string("store.backend") == "postgres" &&
      cfg.get_string("store.postgres_url").empty()) {
    return std::string{"store.postgres_url: must be set when store.backend is postgres"};
  }
  auto o = tls_options(cfg);
  if (o.cert_file.empty() && o.key_file.empty()) {
    return std::nullopt;
  }
  if (o.cert_file.empty() || o.key_file.empty()) {
    return std::string{o.cert_file.empty() ? "gateway.tls_cert_file" : "gateway.tls_key_file"} +
           ": must be set together with " +
           (o.cert_file.empty() ? "gateway.tls_key_file" : "gateway.tls_cert_file");
  }
  return net::tls_context::check(o);
}

config::schema full_schema(const std::vector<std::string>& feature_names) {
  auto s = node::full_schema();
  cluster::register_config_keys(s);
  register_config_keys(s, feature_names);
  return s;
}

}  // namespace herald::app
