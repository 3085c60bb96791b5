// SPDX-License-Identifier: Apache-2.0
// herald-bench gateway: a real heraldd on loopback, N real WebSocket sessions spread over
// several client processes (each may open at most `ulimit -Hn` files), M messages posted
// through REST at R/s. Prints (a public contract; add keys, never rename):
//   frames_per_s=…              MESSAGE_CREATE frames received by all clients / posting window
//   e2e_p50_ms=… e2e_p99_ms=…   POST sent → frame received by the last client, per message
//   server_cpu_us_per_frame=…   heraldd user+system CPU from first POST to last frame / frames
//   rss_per_session_bytes=…     heraldd RSS growth / N with every session identified and idle
//   seq_gaps=…  missing_frames=…
// Extra keys include client_cpu_us_per_frame (the client processes' CPU over the same window:
// they share the node's cores on this machine).
// "POST sent" is taken before the request is written, so e2e includes the REST round trip
// up to the moment the guild dispatches (conservative: the ack follows the dispatch).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "tools/herald-bench/bench_node.hpp"
#include "tools/herald-bench/bench_process.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/benches.hpp"
#include "tools/herald-bench/gateway_bench.hpp"

namespace herald::bench {

void add_gateway_worker_command(CLI::App& app);

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct gateway_options {
  size_t connections = 10000;
  size_t messages = 100;
  double rate = 0;     // messages per second; 0 = back to back
  size_t clients = 0;  // client processes; 0 = one per 8,000 connections (at least 2)
  size_t posters = 4;  // concurrent REST connections when rate = 0
  size_t timeout_s = 600;
  std::string heraldd;        // default: heraldd beside this binary
  std::string data_dir;       // default: a fresh temp dir, removed afterwards
  size_t server_threads = 0;  // gateway.threads for the node; 0 = the node's default
  bool tls = false;           // heraldd with a throwaway certificate; clients use https/wss
};

/// Makes a throwaway CA and a certificate for 127.0.0.1 in `dir` with the openssl CLI
/// (docs/operations.md, "TLS certificates"); throws if openssl fails.
void make_throwaway_certificate(const std::string& dir) {
  std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string cmd = "cd '" + dir + "' && openssl req -x509" + ec +
                    " -keyout ca.key -out ca.pem -days 2 -subj '/CN=herald-bench CA' && "
                    "openssl req" +
                    ec +
                    " -keyout server.key -out server.csr -subj /CN=herald-bench && "
                    "printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext && "
                    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "-out server.pem -days 2 -extfile server.ext";
  if (std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error("openssl could not make a throwaway certificate in " + dir);
  }
}

/// The `mode` label of herald_tls_info in the node's /metrics ("" if absent).
std::string tls_mode_of(uint16_t admin_port) {
  auto r = net::http_fetch("127.0.0.1", admin_port, "GET", "/metrics", {}, 5s);
  std::istringstream lines{r.body};
  for (std::string line; std::getline(lines, line);) {
    auto at = line.find("mode=\"");
    if (line.rfind("herald_tls_info{", 0) == 0 && at != std::string::npos) {
      return line.substr(at + 6, line.find('"', at + 6) - at - 6);
    }
  }
  return {};
}

/// Sessions per client process: well under the 20,000-file hard limit per process.
constexpr size_t sessions_per_client = 8000;

/// A keep-alive REST connection that posts messages as one user.
class rest_poster {
public:
  /// `ca_file` set: https, trusting that CA.
  rest_poster(uint16_t port, std::string token, std::string channel, const std::string& ca_file)
      : stream_(io_),
        token_(std::move(token)),
        target_("/api/v10/channels/" + std::move(channel) + "/messages") {
    stream_.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
    stream_.socket().set_option(tcp::no_delay{true});
    if (!ca_file.empty()) {
      tls_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      tls_ctx_->load_verify_file(ca_file);
      tls_ctx_->set_verify_mode(asio::ssl::verify_peer);
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream&>>(stream_, *tls_ctx_);
      stream_.expires_after(30s);
      tls_->handshake(asio::ssl::stream_base::client);
    }
  }

  /// Posts content; retries after a 429's Retry-After. Returns the number of 429s seen.
  size_t post(const std::string& content) {
    size_t limited = 0;
    for (;;) {
      http::request<http::string_body> req{http::verb::post, target_, 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::authorization, "Bot " + token_);
      req.set(http::field::content_type, "application/json");
      req.body() = nlohmann::json{{"content", content}}.dump();
      req.prepare_payload();
      stream_.expires_after(30s);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      if (tls_) {
        http::write(*tls_, req);
        http::read(*tls_, buffer, res);
      } else {
        http::write(stream_, req);
        http::read(stream_, buffer, res);
      }
      if (res.result_int() == 429) {
        ++limited;
        double wait_s = 1;
        if (auto it = res.find("Retry-After"); it != res.end()) {
          wait_s = std::stod(std::string{it->value()});
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(std::max(wait_s, 0.001)));
        continue;
      }
      if (res.result_int() != 200) {
        throw std::runtime_error("POST " + target_ + " → " + std::to_string(res.result_int()) +
                                 " " + res.body());
      }
      return limited;
    }
  }

  /// The negotiated protocol and cipher, as "tls_version=… tls_cipher=…" ("" without TLS).
  std::string tls_session() {
    if (!tls_) {
      return {};
    }
    SSL* ssl = tls_->native_handle();
    return std::string{"tls_version="} + SSL_get_version(ssl) +
           " tls_cipher=" + SSL_get_cipher_name(ssl);
  }

private:
  asio::io_context io_;
  beast::tcp_stream stream_;
  std::unique_ptr<asio::ssl::context> tls_ctx_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream&>> tls_;
  std::string token_;
  std::string target_;
};

struct worker_result : worker_status {
  size_t frames = 0;
  size_t gaps = 0;
  size_t closed = 0;
  std::vector<int64_t> last_ns;
  std::vector<size_t> received;

  /// Takes a "recv" or "done" line of the worker (gateway_bench.hpp).
  void take_line(const char* line) {
    size_t index = 0;
    long long t = 0;
    unsigned count = 0;
    if (std::sscanf(line, "recv %zu %lld %u", &index, &t, &count) == 3) {
      if (index < last_ns.size()) {
        last_ns[index] = t;
        received[index] = count;
      }
    } else if (std::sscanf(line, "done frames=%zu gaps=%zu closed=%zu", &frames, &gaps, &closed) ==
               3) {
      done = true;
    }
  }
};

/// Posts every message (at `rate`/s, or back to back over `posters` connections) and
/// returns each message's send time.
std::vector<int64_t> post_messages(const gateway_options& o, uint16_t port,
                                   const std::string& token, const std::string& channel,
                                   const std::string& ca_file, size_t& limited) {
  std::vector<int64_t> sent(o.messages, 0);
  std::atomic<size_t> next{0};
  std::atomic<size_t> total_limited{0};
  size_t posters = o.rate > 0 ? 1 : std::max<size_t>(1, std::min(o.posters, o.messages));
  int64_t start = monotonic_ns();
  std::vector<std::thread> threads;
  for (size_t p = 0; p < posters; ++p) {
    threads.emplace_back([&] {
      rest_poster poster{port, token, channel, ca_file};
      for (size_t i = next++; i < o.messages; i = next++) {
        if (o.rate > 0) {
          auto due = start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / o.rate);
          auto wait = due - monotonic_ns();
          if (wait > 0) {
            std::this_thread::sleep_for(std::chrono::nanoseconds{wait});
          }
        }
        sent[i] = monotonic_ns();
        total_limited += poster.post(bench_content(i));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  limited = total_limited;
  return sent;
}

int run_gateway(const gateway_options& o) {
  // A worker that already exited must not kill the orchestrator when it is told "stop".
  signal(SIGPIPE, SIG_IGN);
  if (o.connections == 0 || o.messages == 0) {
    std::cerr << "herald-bench gateway: --connections and --messages must be positive\n";
    return 2;
  }
  bench_node node{o.heraldd, o.data_dir, "herald-bench-gw"};
  std::vector<std::string> flags = {
      // Every bench connection identifies as one bot user, far
      // past an abuse limit meant for real clients.
      "--gateway.identify_max_concurrency", "0", "--gateway.identify_daily_limit", "0",
      // Every client and the REST posters are on 127.0.0.1.
      "--gateway.max_connections_per_ip", "0"};
  if (o.server_threads > 0) {
    flags.insert(flags.end(), {"--gateway.threads", std::to_string(o.server_threads)});
  }
  std::string ca_file;
  if (o.tls) {
    try {
      make_throwaway_certificate(node.dir());
    } catch (const std::exception& e) {
      std::cerr << "herald-bench gateway: " << e.what() << "\n";
      node.stop();
      return 1;
    }
    ca_file = node.dir() + "/ca.pem";
    flags.insert(flags.end(), {"--gateway.tls_cert_file", node.dir() + "/server.pem",
                               "--gateway.tls_key_file", node.dir() + "/server.key"});
  }
  node.start("warn", flags);
  uint16_t admin_port = node.admin_port();
  uint16_t gw_port = node.gateway_port();
  // The results outlive the pool: its reader threads write them until join().
  std::vector<worker_result> results;
  worker_pool workers;
  try {
    node.wait_ready();
    auto user = node.admin("/v1/users", {{"name", "bench-bot"}, {"bot", true}});
    std::string token = user.at("token").get<std::string>();
    auto guild = node.admin("/v1/guilds", {{"name", "bench"}, {"owner", id_of(user)}});
    auto channel = node.admin("/v1/channels",
                              {{"guild", id_of(guild)}, {"name", "bench"}, {"private", false}});
    std::string channel_id = id_of(channel);

    int64_t rss_before = rss_bytes_of(node.pid());
    size_t clients =
        o.clients > 0
            ? o.clients
            : std::max<size_t>(2, (o.connections + sessions_per_client - 1) / sessions_per_client);
    clients = std::min(clients, o.connections);
    results.resize(clients);  // never again: the readers hold references into it
    int64_t identify_start = monotonic_ns();
    std::string self = self_dir() + "/herald-bench";
    for (size_t w = 0; w < clients; ++w) {
      results[w].last_ns.assign(o.messages, 0);
      results[w].received.assign(o.messages, 0);
      std::vector<std::string> wargs = {self,
                                        "gateway-worker",
                                        "--port",
                                        std::to_string(gw_port),
                                        "--token",
                                        token,
                                        "--connections",
                                        std::to_string(share_of(o.connections, clients, w)),
                                        "--messages",
                                        std::to_string(o.messages),
                                        "--timeout",
                                        std::to_string(o.timeout_s)};
      if (o.tls) {
        wargs.insert(wargs.end(), {"--ca", ca_file});
      }
      auto& r = results[w];
      workers.spawn(wargs, r, [&r](const char* line) { r.take_line(line); });
    }
    auto all = [&](auto pred) {
      return [&results, pred] { return std::all_of(results.begin(), results.end(), pred); };
    };
    auto is_ready = [](const worker_result& r) { return r.ready; };
    auto is_done = [](const worker_result& r) { return r.done; };
    workers.wait_for(std::chrono::seconds{o.timeout_s}, all(is_ready));
    size_t identified = 0;
    for (const auto& r : results) {
      identified += r.identified;
    }
    double identify_s = static_cast<double>(monotonic_ns() - identify_start) / 1e9;
    std::cerr << "herald-bench gateway: " << identified << " sessions identified in " << identify_s
              << " s\n";
    std::this_thread::sleep_for(2s);  // let the node settle after the identify storm
    int64_t rss_idle = rss_bytes_of(node.pid());

    std::string tls_session;  // what the posters and workers (same client defaults) negotiate
    if (o.tls) {
      tls_session = rest_poster{gw_port, token, channel_id, ca_file}.tls_session();
    }

    double cpu_before = cpu_seconds_of(node.pid());
    double clients_before = workers.cpu_seconds();
    size_t limited = 0;
    auto sent = post_messages(o, gw_port, token, channel_id, ca_file, limited);
    int64_t posted_at = monotonic_ns();
    // Frames still in flight get up to 30 s after the last POST returned.
    workers.wait_for(30s, all(is_done));
    double cpu_after = cpu_seconds_of(node.pid());
    double clients_after = workers.cpu_seconds();
    workers.tell_all("stop");
    workers.wait_for(30s, all(is_done));
    workers.join(30s);

    size_t frames = 0;
    size_t gaps = 0;
    size_t closed = 0;
    std::vector<double> e2e_ms;
    int64_t last_frame = posted_at;
    for (const auto& r : results) {
      frames += r.frames;
      gaps += r.gaps;
      closed += r.closed;
    }
    for (size_t i = 0; i < o.messages; ++i) {
      int64_t latest = 0;
      for (const auto& r : results) {
        latest = std::max(latest, r.last_ns[i]);
      }
      if (latest > 0) {
        e2e_ms.push_back(static_cast<double>(latest - sent[i]) / 1e6);
        last_frame = std::max(last_frame, latest);
      }
    }
    size_t expected = identified * o.messages;
    double window_s = static_cast<double>(last_frame - sent.front()) / 1e9;
    std::cout << "connections=" << o.connections << " identified=" << identified
              << " clients=" << clients << " messages=" << o.messages << " rate=" << o.rate << "\n";
    if (o.tls) {
      std::cout << "tls=1 tls_mode=" << tls_mode_of(admin_port) << "\n";
      std::cout << tls_session << "\n";
    }
    std::cout << "frames_per_s=" << static_cast<uint64_t>(static_cast<double>(frames) / window_s)
              << "\n";
    std::cout << "e2e_p50_ms=" << percentile(e2e_ms, 50) << " e2e_p99_ms=" << percentile(e2e_ms, 99)
              << "\n";
    std::cout << "server_cpu_us_per_frame="
              << (frames > 0 ? (cpu_after - cpu_before) * 1e6 / static_cast<double>(frames) : 0)
              << "\n";
    std::cout << "rss_per_session_bytes="
              << (identified > 0 ? (rss_idle - rss_before) / static_cast<int64_t>(identified) : 0)
              << "\n";
    std::cout << "seq_gaps=" << gaps << "\n";
    std::cout << "missing_frames=" << (o.connections * o.messages - frames) << "\n";
    std::cout << "server_cpu_s=" << (cpu_after - cpu_before)
              << " server_rss_idle_bytes=" << rss_idle << " sessions_closed=" << closed
              << " identify_failures=" << (o.connections - identified) << " rest_429=" << limited
              << " identify_s=" << identify_s << " frames_received=" << frames
              << " frames_expected=" << expected << "\n";
    // The client processes share the node's cores here: their CPU per frame over the same
    // window says how much of the machine was left for the node.
    std::cout << "client_cpu_us_per_frame="
              << (frames > 0 ? (clients_after - clients_before) * 1e6 / static_cast<double>(frames)
                             : 0)
              << "\n";
    node.stop();
    return gaps == 0 && frames == o.connections * o.messages ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "herald-bench gateway: " << e.what() << "\n";
    workers.tell_all("stop");
    workers.join(5s);
    node.stop();
    return 1;
  }
}

}  // namespace

void add_gateway_bench(CLI::App& app) {
  auto o = std::make_shared<gateway_options>();
  auto* cmd = app.add_subcommand(
      "gateway", "Real heraldd + N WebSocket sessions in client processes; M REST posts at R/s");
  cmd->add_option("--connections", o->connections, "WebSocket sessions (default 10000)");
  cmd->add_option("--messages", o->messages, "Messages posted through REST (default 100)");
  cmd->add_option("--rate", o->rate, "Messages per second; 0 = back to back (default 0)");
  cmd->add_option("--clients", o->clients,
                  "Client processes (default: one per 8,000 sessions, ≥ 2)");
  cmd->add_option("--posters", o->posters, "Concurrent REST connections when --rate 0 (default 4)");
  cmd->add_option("--timeout", o->timeout_s, "Give up after this many seconds (default 600)");
  cmd->add_option("--heraldd", o->heraldd, "heraldd binary (default: beside herald-bench)");
  cmd->add_option("--data-dir", o->data_dir, "Node data dir (default: a fresh temp dir)");
  cmd->add_option("--server-threads", o->server_threads, "gateway.threads of the node");
  cmd->add_flag("--tls", o->tls,
                "Serve the gateway and REST over TLS with a throwaway certificate; the clients "
                "connect with wss/https (prints tls=1 tls_mode=…)");
  cmd->callback([o] { std::exit(run_gateway(*o)); });
  add_gateway_worker_command(app);
}

}  // namespace herald::bench
