// SPDX-License-Identifier: Apache-2.0
// herald-bench gateway-worker: one client process of the gateway benchmark. Opens
// `connections` real WebSocket sessions (Boost.Beast) on one io thread, identifies each
// through the Gateway v10 flow, waits for READY and every GUILD_CREATE, then counts
// MESSAGE_CREATE frames, checks every session's `s` is gapless, and reports per message
// the time the last of its sessions received it (line protocol in gateway_bench.hpp).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "tools/herald-bench/bench_client.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/gateway_bench.hpp"

namespace herald::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct worker_state;

/// What the worker needs of a session, plain or TLS.
class bench_session {
public:
  virtual ~bench_session() = default;
  virtual void start(const tcp::endpoint& endpoint) = 0;
  virtual void stop() = 0;
};

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

/// One benchmark session: a WebSocket connection (Ws: plain_ws or tls_ws) that identifies
/// and then counts.
template <class Ws>
class bench_session_t : public bench_session,
                        public std::enable_shared_from_this<bench_session_t<Ws>> {
  using std::enable_shared_from_this<bench_session_t<Ws>>::shared_from_this;

public:
  /// `next...`: the ssl::context for tls_ws, nothing for plain_ws.
  template <class... Next>
  bench_session_t(asio::io_context& io, worker_state& state, Next&... next)
      : ws_(io, next...), heartbeat_(io), state_(state) {}

  void start(const tcp::endpoint& endpoint) override;
  void stop() override;

private:
  void on_connected();
  void read_next();
  void on_message(std::string_view text);
  void on_dispatch(std::string_view text);
  void send(std::string text);
  void write_next();
  void schedule_heartbeat();
  void fail();

  Ws ws_;
  beast::flat_buffer buffer_;
  asio::steady_timer heartbeat_;
  worker_state& state_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool ready_ = false;
  bool finished_ = false;
  bool failed_ = false;
  bool tls_done_ = false;
  uint64_t heartbeat_ms_ = 41250;
  uint64_t last_s_ = 0;
  size_t pending_guilds_ = 0;
  size_t messages_ = 0;
};

/// Everything one worker process tracks; only touched on its io thread.
struct worker_state {
  worker_state(const gateway_worker_options& o, asio::io_context& ctx, tcp::endpoint ep)
      : opts(o), io(ctx), endpoint(ep), last_ns(o.messages, 0), received(o.messages, 0) {}

  const gateway_worker_options& opts;
  asio::io_context& io;
  tcp::endpoint endpoint;
  std::vector<std::shared_ptr<bench_session>> sessions;
  std::unique_ptr<asio::ssl::context> tls;  // set: sessions speak wss, trusting opts.ca_file
  size_t next_to_open = 0;
  size_t in_flight = 0;  // opened, not yet ready or failed
  size_t identified = 0;
  size_t failed = 0;
  size_t complete = 0;  // sessions that received every message
  size_t frames = 0;    // MESSAGE_CREATE frames received
  size_t gaps = 0;      // `s` that was not last + 1
  size_t closed = 0;    // sessions closed by the server or by a network error
  bool reported_ready = false;
  bool finished = false;
  std::vector<int64_t> last_ns;    // per message index
  std::vector<uint32_t> received;  // per message index

  void open_more();
  void session_settled(bool ok);
  void message_received(uint64_t index);
  void session_complete();
  void maybe_report_ready();
  void finish();
};

template <class Ws>
void bench_session_t<Ws>::start(const tcp::endpoint& endpoint) {
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds{30});
  beast::get_lowest_layer(ws_).async_connect(
      endpoint, [self = shared_from_this()](beast::error_code ec) {
        if (ec) {
          return self->fail();
        }
        beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay{true});
        self->on_connected();
      });
}

template <class Ws>
void bench_session_t<Ws>::on_connected() {
  if constexpr (std::is_same_v<Ws, tls_ws>) {
    if (!tls_done_) {
      ws_.next_layer().async_handshake(asio::ssl::stream_base::client,
                                       [self = shared_from_this()](beast::error_code ec) {
                                         if (ec) {
                                           return self->fail();
                                         }
                                         self->tls_done_ = true;
                                         self->on_connected();
                                       });
      return;
    }
  }
  ws_.async_handshake(state_.opts.host + ":" + std::to_string(state_.opts.port),
                      "/?v=10&encoding=json", [self = shared_from_this()](beast::error_code ec) {
                        if (ec) {
                          return self->fail();
                        }
                        beast::get_lowest_layer(self->ws_).expires_never();
                        self->read_next();
                      });
}

template <class Ws>
void bench_session_t<Ws>::read_next() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) {
      return self->fail();
    }
    auto data = self->buffer_.cdata();
    self->on_message(std::string_view{static_cast<const char*>(data.data()), data.size()});
    self->buffer_.consume(self->buffer_.size());
    if (!self->failed_) {
      self->read_next();
    }
  });
}

template <class Ws>
void bench_session_t<Ws>::on_message(std::string_view text) {
  uint64_t op = 0;
  if (!find_uint(text, "\"op\":", op)) {
    return fail();
  }
  switch (op) {
    case 0:
      on_dispatch(text);
      break;
    case 1:  // the server asks for a heartbeat now
      send(heartbeat_frame(last_s_));
      break;
    case 10:
      heartbeat_ms_ = heartbeat_interval_of(text, heartbeat_ms_);
      send(identify_frame(state_.opts.token, "herald-bench"));
      schedule_heartbeat();
      break;
    case 11:
      break;
    default:  // 7 reconnect, 9 invalid session: the run is spoiled for this session
      fail();
  }
}

template <class Ws>
void bench_session_t<Ws>::on_dispatch(std::string_view text) {
  follow_seq(text, last_s_, state_.gaps);
  if (is_dispatch(text, "MESSAGE_CREATE")) {
    uint64_t index = 0;
    if (find_uint(text, "\"content\":\"bench ", index)) {
      state_.message_received(index);
      if (++messages_ == state_.opts.messages && !finished_) {
        finished_ = true;
        state_.session_complete();
      }
    }
  } else if (is_dispatch(text, "READY")) {
    auto ready = nlohmann::json::parse(text, nullptr, false);
    pending_guilds_ = ready.is_discarded() ? 0 : ready["d"]["guilds"].size();
    if (pending_guilds_ == 0) {
      return fail();  // the bench user is in one guild; READY without it is a failure
    }
  } else if (is_dispatch(text, "GUILD_CREATE") && !ready_) {
    if (pending_guilds_ > 0 && --pending_guilds_ == 0) {
      ready_ = true;
      state_.session_settled(true);
    }
  }
}

template <class Ws>
void bench_session_t<Ws>::send(std::string text) {
  outbox_.push_back(std::move(text));
  if (!writing_) {
    write_next();
  }
}

template <class Ws>
void bench_session_t<Ws>::write_next() {
  if (outbox_.empty() || failed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(asio::buffer(outbox_.front()),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->outbox_.pop_front();
                    if (ec) {
                      return self->fail();
                    }
                    self->write_next();
                  });
}

template <class Ws>
void bench_session_t<Ws>::schedule_heartbeat() {
  heartbeat_.expires_after(std::chrono::milliseconds{heartbeat_ms_});
  heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->failed_) {
      return;
    }
    self->send(heartbeat_frame(self->last_s_));
    self->schedule_heartbeat();
  });
}

template <class Ws>
void bench_session_t<Ws>::fail() {
  if (failed_) {
    return;
  }
  failed_ = true;
  heartbeat_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  if (!ready_) {
    state_.session_settled(false);
  } else {
    ++state_.closed;
    if (!finished_) {
      finished_ = true;
      state_.session_complete();  // it will receive nothing more
    }
  }
}

template <class Ws>
void bench_session_t<Ws>::stop() {
  failed_ = true;
  heartbeat_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void worker_state::open_more() {
  while (in_flight < opts.connect_window && next_to_open < opts.connections) {
    std::shared_ptr<bench_session> session;
    if (tls) {
      session = std::make_shared<bench_session_t<tls_ws>>(io, *this, *tls);
    } else {
      session = std::make_shared<bench_session_t<plain_ws>>(io, *this);
    }
    sessions.push_back(session);
    ++next_to_open;
    ++in_flight;
    session->start(endpoint);
  }
}

void worker_state::session_settled(bool ok) {
  --in_flight;
  ++(ok ? identified : failed);
  if (!ok) {
    ++complete;  // a session that never identified receives nothing
  }
  open_more();
  maybe_report_ready();
}

void worker_state::maybe_report_ready() {
  if (!reported_ready && identified + failed == opts.connections) {
    reported_ready = true;
    std::printf("ready %zu %zu\n", identified, failed);
    std::fflush(stdout);
    if (complete == opts.connections) {
      finish();
    }
  }
}

void worker_state::message_received(uint64_t index) {
  if (index >= last_ns.size()) {
    return;
  }
  ++frames;
  last_ns[index] = std::max(last_ns[index], monotonic_ns());
  ++received[index];
}

void worker_state::session_complete() {
  if (++complete == opts.connections && reported_ready) {
    finish();
  }
}

void worker_state::finish() {
  if (finished) {
    return;
  }
  finished = true;
  for (size_t i = 0; i < last_ns.size(); ++i) {
    std::printf("recv %zu %lld %u\n", i, static_cast<long long>(last_ns[i]), received[i]);
  }
  std::printf("done frames=%zu gaps=%zu closed=%zu\n", frames, gaps, closed);
  std::fflush(stdout);
  for (auto& s : sessions) {
    s->stop();
  }
  io.stop();
}

}  // namespace

std::string bench_content(size_t i) {
  return "bench " + std::to_string(i);
}

int run_gateway_worker(const gateway_worker_options& opts) {
  asio::io_context io{1};
  worker_state state{opts, io, tcp::endpoint{asio::ip::make_address(opts.host), opts.port}};
  state.sessions.reserve(opts.connections);
  if (!opts.ca_file.empty()) {
    state.tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    state.tls->load_verify_file(opts.ca_file);
    state.tls->set_verify_mode(asio::ssl::verify_peer);
  }
  // Stopping early ("stop", EOF or the deadline): report what there is, then the totals.
  auto stop_early = [&] {
    if (!state.reported_ready) {
      state.reported_ready = true;
      std::printf("ready %zu %zu\n", state.identified, state.failed);
    }
    state.finish();
  };
  worker_loop loop;
  loop.name = "gateway-worker";
  loop.timeout_s = opts.timeout_s;
  loop.begin = [&] {
    state.open_more();
    if (opts.connections == 0) {
      state.maybe_report_ready();
    }
  };
  // "stop" (or EOF) on stdin ends the run early: the orchestrator gave up waiting.
  loop.on_line = [](const std::string& line) { return line != "stop"; };
  loop.on_stdin_end = stop_early;
  loop.on_timeout = stop_early;
  run_worker_loop(io, loop);
}

void add_gateway_worker_command(CLI::App& app) {
  auto opts = std::make_shared<gateway_worker_options>();
  auto* cmd = app.add_subcommand("gateway-worker",
                                 "Client process of `herald-bench gateway` (started by it)");
  cmd->group("");  // internal: hidden from --help
  cmd->add_option("--host", opts->host);
  cmd->add_option("--port", opts->port)->required();
  cmd->add_option("--token", opts->token)->required();
  cmd->add_option("--connections", opts->connections)->required();
  cmd->add_option("--messages", opts->messages)->required();
  cmd->add_option("--timeout", opts->timeout_s);
  cmd->add_option("--connect-window", opts->connect_window);
  cmd->add_option("--ca", opts->ca_file);
  cmd->callback([opts] { std::exit(run_gateway_worker(*opts)); });
}

}  // namespace herald::bench
