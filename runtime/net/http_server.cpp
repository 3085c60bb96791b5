// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/http_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/base/thread_role.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/net/detail/accept_guard.hpp"
#include "runtime/net/detail/connection_limiter.hpp"
#include "runtime/net/detail/http_request_parser.hpp"
#include "runtime/net/detail/request_framing.hpp"
#include "runtime/net/detail/tls_http_stream.hpp"
#include "runtime/net/detail/ws_stream.hpp"
#include "runtime/net/websocket.hpp"

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string http_request::header(std::string_view name) const {
  auto eq = [&](const std::string& h) {
    return h.size() == name.size() &&
           std::equal(h.begin(), h.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& [k, v] : headers) {
    if (eq(k)) {
      return v;
    }
  }
  return {};
}

std::string http_request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

std::string_view reason_phrase(unsigned status) {
  auto r = http::obsolete_reason(static_cast<http::status>(status));
  return {r.data(), r.size()};
}

namespace {

// What stop() needs of a live HTTP connection, plain or TLS.
class session_base {
public:
  virtual ~session_base() = default;
  /// Posted by stop(): closes the socket so pending operations complete.
  virtual void close() = 0;
};

/// Retry-After (seconds) of a refusal for a connection limit.
constexpr int refusal_retry_after_s = 5;
/// How long a refused connection may take to send its request before it is just closed.
constexpr std::chrono::seconds refusal_read_timeout{2};
/// Refused connections being answered at once; beyond, a refused connection is closed at
/// accept. Bounds the descriptors refusals hold (part of the headroom below the fd limit).
constexpr size_t max_refusing = 32;
/// Waiting connections refused per accept failure while out of descriptors (see
/// server_options::serve_on_spare_descriptor); bounds the work per backoff period.
constexpr int max_refused_on_spare = 64;
/// An accept failure for lack of resources keeps listener_health::accept_failing this long.
constexpr std::chrono::seconds accept_failure_window{5};
/// A header block longer than this is left to the parser, which answers 431.
constexpr size_t header_scan_limit = detail::request_header_limit;
/// The answer written to a connection refused while out of descriptors, before closing it.
constexpr std::string_view out_of_descriptors_reply =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Retry-After: 5\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"
    "server out of sockets\n";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// True if the comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (iequals(item, token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      return out;
    }
    start = slash + 1;
  }
}

// A route's handler: exactly one of the two is set.
struct route_handler {
  http_handler sync;
  http_async_handler async;
};

// One path pattern and its handlers by method. Segments "{name}" are parameters.
struct route_entry {
  std::string pattern;
  std::vector<std::string> segments;
  std::vector<bool> is_param;
  std::map<std::string, route_handler> methods;

  bool match(const std::vector<std::string_view>& path,
             std::vector<std::pair<std::string, std::string>>* params) const {
    if (path.size() != segments.size()) {
      return false;
    }
    for (size_t i = 0; i < path.size(); ++i) {
      if (is_param[i] ? path[i].empty() : path[i] != segments[i]) {
        return false;
      }
    }
    if (params != nullptr) {
      params->clear();
      for (size_t i = 0; i < path.size(); ++i) {
        if (is_param[i]) {
          params->emplace_back(segments[i].substr(1, segments[i].size() - 2), path[i]);
        }
      }
    }
    return true;
  }

  // More specific = at the first segment where the two differ in kind, this one is literal.
  bool more_specific_than(const route_entry& other) const {
    for (size_t i = 0; i < is_param.size() && i < other.is_param.size(); ++i) {
      if (is_param[i] != other.is_param[i]) {
        return !is_param[i];
      }
    }
    return false;
  }
};

}  // namespace

struct detail::http_server_state : std::enable_shared_from_this<detail::http_server_state> {
  explicit http_server_state(server_options o)
      : opts(std::move(o)),
        ioc(static_cast<int>(std::max<size_t>(1, opts.threads))),
        acceptor(asio::make_strand(ioc)),
        accept_timer(acceptor.get_executor()),
        connections(metrics::registry::global().get_counter("herald_http_connections_total",
                                                            "HTTP connections accepted.",
                                                            {{"server", opts.name}})),
        ws_metrics(opts.name),
        log(herald::log::get("http")),
        guard(opts.name, log),
        limiter(std::make_shared<detail::connection_limiter>(
            opts.max_connections, opts.max_connections_per_ip, opts.name)),
        refused_total(refused_counter("max_connections")),
        refused_per_ip(refused_counter("max_connections_per_ip")),
        refused_no_fd(refused_counter("out_of_descriptors")) {
    if (opts.tls) {
      auto& reg = metrics::registry::global();
      auto failures = [&](const char* reason) {
        return &reg.get_counter("herald_tls_handshake_failures_total",
                                "TLS handshakes that failed, by reason (plaintext_http: a plain "
                                "HTTP request on the TLS port).",
                                {{"server", opts.name}, {"reason", reason}});
      };
      reg.get_gauge("herald_tls_info",
                    "1 for a TLS listener; `mode` says how WebSocket output is encrypted.",
                    {{"server", opts.name}, {"mode", std::string{tls_write_mode()}}})
          .set(1);
      tls_handshakes = &reg.get_counter("herald_tls_handshakes_total", "TLS handshakes completed.",
                                        {{"server", opts.name}});
      tls_failed_plaintext = failures("plaintext_http");
      tls_failed_timeout = failures("timeout");
      tls_failed_other = failures("error");
    }
  }

  metrics::counter& refused_counter(const std::string& reason) {
    return metrics::registry::global().get_counter(
        "herald_net_connections_refused_total",
        "Connections a listener refused, by reason (a limit, or out of descriptors).",
        {{"server", opts.name}, {"reason", reason}});
  }

  server_options opts;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer accept_timer;  // acceptor strand: the backoff after a failed accept
  // Patterns in registration order; frozen once started.
  std::vector<route_entry> routes;
  std::vector<std::thread> threads;
  http_filter filter;
  websocket_acceptor ws_acceptor;
  detail::ws_registry ws_registry;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  uint16_t bound_port = 0;
  metrics::counter& connections;
  detail::ws_metrics ws_metrics;
  std::shared_ptr<spdlog::logger> log;
  detail::accept_guard guard;  // acceptor strand, but recent_failure()
  std::shared_ptr<detail::connection_limiter> limiter;
  metrics::counter& refused_total;
  metrics::counter& refused_per_ip;
  metrics::counter& refused_no_fd;
  std::atomic<size_t> refusing{0};  // refused connections being answered
  // Only with opts.tls.
  metrics::counter* tls_handshakes = nullptr;
  metrics::counter* tls_failed_plaintext = nullptr;
  metrics::counter* tls_failed_timeout = nullptr;
  metrics::counter* tls_failed_other = nullptr;

  std::mutex sessions_mutex;
  std::map<uint64_t, std::weak_ptr<session_base>> sessions;  // live connections, for stop()
  uint64_t next_session_id = 1;

  void do_accept();
  void accept_failed(const boost::system::error_code& ec);
  void take_waiting_connections();
  // Counts an accepted socket against the limits and starts its session (or its refusal),
  // plain or TLS as the listener is.
  void admit(tcp::socket s);
  void framing_error(detail::framing_error e) {
    metrics::registry::global()
        .get_counter("herald_http_framing_errors_total",
                     "Requests refused with 400 for ambiguous or unsupported message framing "
                     "(RFC 7230 section 3.3.3), by reason.",
                     {{"server", opts.name}, {"reason", std::string{detail::to_string(e)}}})
        .inc();
  }
  // Registers and starts one admitted connection (plain or TLS stream); false if stopping.
  template <class Stream>
  bool start_session(Stream&& stream, detail::connection_slot& slot, const char* refusal);
  void add_route(std::string method, std::string pattern, route_handler handler);
  // Finds the handler for req (filling req.params), or sets `res` to the 404/405 answer.
  const route_handler* find(http_request& req, http_response& res) const;
  std::optional<http_response> run_filter(const http_request& req);
  // Posts fn to ex unless stop() began: after that the io threads may be gone.
  template <class Executor, class Fn>
  bool post_unless_stopping(const Executor& ex, Fn&& fn) {
    std::lock_guard<std::mutex> guard{sessions_mutex};
    if (stopping) {
      return false;
    }
    asio::post(ex, std::forward<Fn>(fn));
    return true;
  }
  void count(unsigned status) {
    metrics::registry::global()
        .get_counter("herald_http_requests_total", "HTTP requests answered, by status code.",
                     {{"server", opts.name}, {"code", std::to_string(status)}})
        .inc();
  }
};

namespace {

// A Sec-WebSocket-Key is the base64 of 16 bytes: 22 alphabet characters and "==".
bool valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") {
    return false;
  }
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

// The answer to a plain HTTP request on a TLS port, written without TLS before dropping it.
constexpr std::string_view plaintext_on_tls_port =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 43\r\nConnection: close\r\n\r\n"
    "this port speaks TLS only: use https or wss\n";

// One HTTP connection. Stream is beast::tcp_stream (plain) or detail::tls_http_stream (the
// listener has a TLS context): the latter handshakes first and keeps its idle deadline in
// deadline_ (Beast's tcp_stream has its own).
template <class Stream>
class session : public session_base, public std::enable_shared_from_this<session<Stream>> {
  static constexpr bool tls = std::is_same_v<Stream, detail::tls_http_stream>;
  using std::enable_shared_from_this<session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<session<Stream>>::weak_from_this;

public:
  /// `refusal` (a static string, or null): the limit this connection is over; it is answered
  /// 503 once its request is read (after the TLS handshake on a TLS listener), then closed.
  session(Stream&& stream, std::shared_ptr<detail::http_server_state> server, uint64_t id,
          detail::connection_slot slot, const char* refusal)
      : server_(std::move(server)),
        slot_(std::move(slot)),
        stream_(std::move(stream)),
        deadline_(stream_.get_executor()),
        id_(id),
        refusal_(refusal) {}

  ~session() override {
    if (refusal_ != nullptr) {
      --server_->refusing;
    }
    if (server_->opts.serve_on_spare_descriptor) {
      // This connection may have been served on the spare descriptor: take the number back
      // at once, before other listeners' accepts do (no-op while the spare is held).
      beast::error_code ignored;
      stream_.socket().close(ignored);
      server_->guard.hold_spare();
    }
    std::lock_guard<std::mutex> guard{server_->sessions_mutex};
    server_->sessions.erase(id_);
  }

  void start() {
    if constexpr (tls) {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&session::do_handshake, shared_from_this()));
    } else {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&session::do_read, shared_from_this()));
    }
  }

  void close() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      if constexpr (tls) {
        self->stream_.socket().close(ignored);
        self->deadline_.cancel();
      } else {
        self->stream_.close();
      }
    });
  }

  /// An async handler's answer, from any thread: written on this connection's strand.
  void post_response(http_response res, unsigned version, bool keep_alive) {
    server_->count(res.status);
    server_->post_unless_stopping(
        stream_.get_executor(),
        [self = shared_from_this(), res = std::move(res), version, keep_alive]() mutable {
          self->write(std::move(res), version, keep_alive);
        });
  }

private:
  // Shared by the copies of one request's http_responder: answers once, 500 if never called.
  struct pending_reply {
    pending_reply(std::shared_ptr<session<Stream>> s, unsigned v, bool k)
        : sess(std::move(s)), version(v), keep_alive(k) {}
    ~pending_reply() {
      answer(http_response{500, "text/plain; charset=utf-8", "internal error\n", {}});
    }
    void answer(http_response res) {
      if (!answered.exchange(true)) {
        sess->post_response(std::move(res), version, keep_alive);
      }
    }
    std::shared_ptr<session<Stream>> sess;
    unsigned version;
    bool keep_alive;
    std::atomic<bool> answered{false};
  };

  // Arms the connection's deadline: on expiry pending operations fail with beast timeout.
  void expires(std::chrono::steady_clock::duration d) {
    if constexpr (tls) {
      stream_.renew();
      deadline_.expires_after(d);
      deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
        auto self = weak.lock();
        if (!ec && self) {
          self->stream_.expire();
        }
      });
    } else {
      stream_.expires_after(d);
    }
  }

  void do_handshake() {
    // A refused connection gets no longer for its handshake than for its request.
    expires(refusal_ != nullptr ? std::min<std::chrono::steady_clock::duration>(
                                      refusal_read_timeout, server_->opts.tls_handshake_timeout)
                                : server_->opts.tls_handshake_timeout);
    stream_.async_handshake(
        [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    if constexpr (tls) {
      if (!ec) {
        server_->tls_handshakes->inc();
        return do_read();
      }
      deadline_.cancel();
      auto& ch = stream_.channel();
      if (ec == beast::error::timeout) {
        server_->tls_failed_timeout->inc();
      } else if (ch.plaintext_peer()) {
        server_->tls_failed_plaintext->inc();
        // Tell a confused http:// client why (best effort: one non-blocking send).
        ::send(stream_.socket().native_handle(), plaintext_on_tls_port.data(),
               plaintext_on_tls_port.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      } else if (!server_->stopping) {
        server_->tls_failed_other->inc();
      }
      server_->log->debug("{}: TLS handshake failed: {}", server_->opts.name,
                          ec == beast::error::timeout ? std::string{"timeout"} : ch.error());
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
    }
  }

  void do_read() {
    parser_.emplace();
    detail::configure_request_parser(*parser_, server_->opts.body_limit);
    expires(refusal_ != nullptr ? refusal_read_timeout : server_->opts.idle_timeout);
    read_header_block();
  }

  // Reads until the buffer holds the whole header block and refuses obs-fold in it (Beast
  // unfolds it silently), then lets the parser read the request.
  void read_header_block() {
    auto data = buffer_.data();
    std::string_view bytes{static_cast<const char*>(data.data()), data.size()};
    auto end = bytes.find("\r\n\r\n");
    if (end != std::string_view::npos) {
      auto e = detail::check_raw_header(bytes.substr(0, end));
      if (e != detail::framing_error::none) {
        return reject_framing(e, 11);
      }
    } else if (bytes.size() < header_scan_limit) {
      return stream_.async_read_some(buffer_.prepare(4096),
                                     [self = shared_from_this()](beast::error_code ec, size_t n) {
                                       if (ec) {
                                         return self->on_read(ec, 0);
                                       }
                                       self->buffer_.commit(n);
                                       self->read_header_block();
                                     });
    }
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  // Refuses ambiguous framing before any byte of the body is read: such a body may hold
  // another request.
  void on_header(beast::error_code ec, size_t) {
    if (ec) {
      return on_read(ec, 0);
    }
    auto framing = detail::check_framing(parser_->get());
    if (framing != detail::framing_error::none) {
      return reject_framing(framing, parser_->get().version());
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void reject_framing(detail::framing_error e, unsigned version) {
    server_->framing_error(e);
    reply_error(400, version, "bad request framing: " + std::string{detail::to_string(e)} + "\n");
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || server_->stopping) {
      return shutdown();
    }
    if (ec == http::error::body_limit) {
      return reply_error(413, 11, "request body exceeds the limit\n");
    }
    if (ec == http::error::header_limit) {
      return reply_error(431, 11, "request header fields too large\n");
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        auto e = detail::framing_error_of(ec);
        if (e != detail::framing_error::none) {
          return reject_framing(e, 11);
        }
        return reply_error(400, 11, "malformed request\n");
      }
      return shutdown();
    }
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> req) {
    if (refusal_ != nullptr) {
      server_->count(503);
      return write(http_response{503,
                                 "text/plain; charset=utf-8",
                                 std::string{"503: "} + server_->opts.name + " at " + refusal_ +
                                     ", retry later\n",
                                 {{"Retry-After", std::to_string(refusal_retry_after_s)}}},
                   req.version(), false);
    }
    http_request r;
    r.method = std::string{req.method_string()};
    r.target = std::string{req.target()};
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
    for (const auto& field : req) {
      r.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    }
    r.body = std::move(req.body());
    unsigned version = req.version();
    bool keep_alive = req.keep_alive();
    if (auto res = server_->run_filter(r)) {
      server_->count(res->status);
      return write(std::move(*res), version, keep_alive);
    }
    if (has_token(r.header("upgrade"), "websocket")) {
      return upgrade(std::move(r), version);
    }
    http_response res;
    const route_handler* h = server_->find(r, res);
    if (h != nullptr && h->async) {
      return run_async(*h, r, version, keep_alive);
    }
    if (h != nullptr) {
      try {
        res = h->sync(r);
      } catch (const std::exception& e) {
        server_->log->error("{}: handler for {} {} threw: {}", server_->opts.name, r.method, r.path,
                            e.what());
        res = {500, "text/plain; charset=utf-8", "internal error\n", {}};
      }
    }
    server_->count(res.status);
    write(std::move(res), version, keep_alive);
  }

  void run_async(const route_handler& h, const http_request& r, unsigned version, bool keep_alive) {
    auto reply = std::make_shared<pending_reply>(shared_from_this(), version, keep_alive);
    try {
      h.async(r, [reply](http_response res) { reply->answer(std::move(res)); });
    } catch (const std::exception& e) {
      server_->log->error("{}: async handler for {} {} threw: {}", server_->opts.name, r.method,
                          r.path, e.what());
      reply->answer(http_response{500, "text/plain; charset=utf-8", "internal error\n", {}});
    }
  }

  // RFC 6455 section 4.2: validate the opening handshake, answer 101, hand the socket over.
  void upgrade(http_request r, unsigned version) {
    if (!server_->ws_acceptor) {
      server_->count(404);
      return write(http_response{404, "text/plain; charset=utf-8", "not found\n", {}}, version,
                   false);
    }
    std::string key = r.header("sec-websocket-key");
    bool valid = r.method == "GET" && version >= 11 &&
                 has_token(r.header("connection"), "upgrade") && valid_websocket_key(key);
    if (!valid || r.header("sec-websocket-version") != "13") {
      server_->count(400);
      header_list extra;
      if (valid) {
        extra.emplace_back("Sec-WebSocket-Version", "13");
      }
      return write(http_response{400, "text/plain; charset=utf-8", "bad websocket upgrade\n",
                                 std::move(extra)},
                   version, false);
    }
    server_->count(101);
    auto msg =
        std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols, 11);
    msg->set(http::field::server, "herald/" HERALD_VERSION);
    msg->set(http::field::upgrade, "websocket");
    msg->set(http::field::connection, "Upgrade");
    msg->set(http::field::sec_websocket_accept, websocket_accept_key(key));
    expires(server_->opts.idle_timeout);
    http::async_write(
        stream_, *msg,
        [self = shared_from_this(), msg, r = std::move(r)](beast::error_code ec, size_t) mutable {
          if (ec) {
            return self->shutdown();
          }
          self->hand_over(std::move(r));
        });
  }

  void hand_over(http_request r) {
    // The handshake's own fields are spent; dropping them keeps idle connections small.
    r.body = std::string{};
    r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                   [](const auto& h) {
                                     return iequals(h.first, "upgrade") ||
                                            iequals(h.first, "connection") ||
                                            iequals(h.first.substr(0, 14), "sec-websocket-");
                                   }),
                    r.headers.end());
    r.headers.shrink_to_fit();
    auto data = buffer_.data();
    std::string leftover(static_cast<const char*>(data.data()), data.size());
    std::unique_ptr<detail::tls_channel> tls_channel;
    tcp::socket socket{stream_.get_executor()};
    if constexpr (tls) {
      deadline_.cancel();
      auto released = stream_.release();
      socket = std::move(released.first);
      tls_channel = std::move(released.second);
    } else {
      socket = stream_.release_socket();
    }
    std::shared_ptr<detail::ws_stream> ws;
    {
      // Checked under the lock stop() takes, so stop() sees every stream it must close.
      auto& reg = server_->ws_registry;
      std::lock_guard<std::mutex> guard{reg.mutex};
      if (reg.stopping) {
        beast::error_code ignored;
        socket.close(ignored);
        return;
      }
      ws = std::make_shared<detail::ws_stream>(
          std::move(socket), std::move(r), id_, server_->opts.websocket, server_->ws_metrics, reg,
          server_, std::move(leftover), std::move(slot_), std::move(tls_channel));
      reg.live.emplace(id_, ws);
    }
    try {
      server_->ws_acceptor(ws);
    } catch (const std::exception& e) {
      server_->log->error("{}: websocket acceptor threw: {}", server_->opts.name, e.what());
      ws->close(1011, "internal error");
    }
  }

  void reply_error(unsigned status, unsigned version, std::string body) {
    server_->count(status);
    write(http_response{status, "text/plain; charset=utf-8", std::move(body), {}}, version, false);
  }

  void write(http_response res, unsigned version, bool keep_alive) {
    auto msg = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(res.status), version);
    msg->set(http::field::server, "herald/" HERALD_VERSION);
    msg->set(http::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) {
      msg->set(k, v);
    }
    msg->keep_alive(keep_alive && !server_->stopping);
    msg->body() = std::move(res.body);
    msg->prepare_payload();
    expires(server_->opts.idle_timeout);
    http::async_write(stream_, *msg,
                      [self = shared_from_this(), msg](beast::error_code ec, size_t) {
                        if (ec || !msg->keep_alive()) {
                          return self->shutdown();
                        }
                        self->do_read();
                      });
  }

  void shutdown() {
    if constexpr (tls) {
      deadline_.cancel();
      stream_.channel().shutdown();  // close_notify, best effort
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Declared first so it is destroyed last: a responder may hold the session past the
  // server's lifetime, and the stream needs the io_context the state owns.
  std::shared_ptr<detail::http_server_state> server_;
  // Before stream_: given back after the socket is closed. Moves to the ws_stream on upgrade.
  detail::connection_slot slot_;
  Stream stream_;
  // The TLS stream's idle/handshake deadline (unused for plain: tcp_stream has its own).
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::optional<detail::request_parser> parser_;
  uint64_t id_;
  const char* refusal_;
};

}  // namespace

template <class Stream>
bool detail::http_server_state::start_session(Stream&& stream, detail::connection_slot& slot,
                                              const char* refusal) {
  std::shared_ptr<session<Stream>> sess;
  {
    // Checked under the lock stop() takes, so stop() sees every session it must close.
    std::lock_guard<std::mutex> lock{sessions_mutex};
    if (stopping) {
      return false;
    }
    uint64_t id = next_session_id++;
    sess = std::make_shared<session<Stream>>(std::move(stream), shared_from_this(), id,
                                             std::move(slot), refusal);
    sessions.emplace(id, sess);
  }
  sess->start();
  return true;
}

void detail::http_server_state::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
                          if (ec == asio::error::operation_aborted || self->stopping) {
                            return;
                          }
                          if (ec) {
                            return self->accept_failed(ec);
                          }
                          self->guard.succeeded();
                          self->admit(std::move(s));
                          self->do_accept();
                        });
}

// On the acceptor's strand. Never re-arms at once for lack of resources: the error would
// come back at once, spinning a core and flooding the log (issue #10).
void detail::http_server_state::accept_failed(const boost::system::error_code& ec) {
  auto delay = guard.failed(ec);
  if (detail::classify(ec) != detail::accept_failure::other && guard.give_up_spare()) {
    take_waiting_connections();
    guard.hold_spare();
  }
  if (delay.count() == 0) {
    return do_accept();
  }
  accept_timer.expires_after(delay);
  accept_timer.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
    if (!wait_ec && !self->stopping) {
      self->do_accept();
    }
  });
}

// The spare descriptor was just closed: accept what waits with its number.
void detail::http_server_state::take_waiting_connections() {
  int budget = opts.serve_on_spare_descriptor ? 1 : max_refused_on_spare;
  for (int i = 0; i < budget; ++i) {
    int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // nothing waits (EAGAIN), or still no descriptor
    }
    if (opts.serve_on_spare_descriptor) {
      tcp::socket s{asio::make_strand(ioc)};
      boost::system::error_code ec;
      s.assign(acceptor.local_endpoint().protocol(), fd, ec);
      if (ec) {
        ::close(fd);
        return;
      }
      admit(std::move(s));
      continue;
    }
    refused_no_fd.inc();
    // Best effort: a client that already sent its request may see a reset instead.
    [[maybe_unused]] auto sent =
        ::send(fd, out_of_descriptors_reply.data(), out_of_descriptors_reply.size(),
               MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
  }
}

void detail::http_server_state::admit(tcp::socket s) {
  beast::error_code ec;
  auto remote = s.remote_endpoint(ec);
  if (ec) {
    return;  // the client is gone already
  }
  connections.inc();
  detail::connection_slot slot;
  const char* refusal = nullptr;
  switch (limiter->admit(remote.address(), slot)) {
    case detail::connection_limiter::verdict::admitted:
      break;
    case detail::connection_limiter::verdict::over_total:
      refused_total.inc();
      refusal = "max_connections";
      break;
    case detail::connection_limiter::verdict::over_per_ip:
      refused_per_ip.inc();
      refusal = "max_connections_per_ip";
      break;
  }
  if (refusal != nullptr && refusing.fetch_add(1) >= max_refusing) {
    --refusing;
    return;  // too many refusals in flight: closed without an answer
  }
  // A TLS connection counts (and is refused) like a plain one; its refusal is written over
  // TLS once the handshake is done and the request read.
  bool started =
      opts.tls
          ? start_session(detail::tls_http_stream{std::move(s), opts.tls->acquire()}, slot, refusal)
          : start_session(beast::tcp_stream{std::move(s)}, slot, refusal);
  if (!started && refusal != nullptr) {
    --refusing;
  }
}

void detail::http_server_state::add_route(std::string method, std::string pattern,
                                          route_handler handler) {
  if (started) {
    throw std::logic_error("http_server: routes must be added before start");
  }
  auto it = std::find_if(routes.begin(), routes.end(),
                         [&](const route_entry& e) { return e.pattern == pattern; });
  if (it == routes.end()) {
    route_entry e;
    for (auto seg : split_path(pattern)) {
      e.segments.emplace_back(seg);
      e.is_param.push_back(seg.size() > 2 && seg.front() == '{' && seg.back() == '}');
    }
    e.pattern = std::move(pattern);
    routes.push_back(std::move(e));
    it = std::prev(routes.end());
  }
  if (!it->methods.emplace(std::move(method), std::move(handler)).second) {
    throw std::logic_error("http_server: duplicate route");
  }
}

const route_handler* detail::http_server_state::find(http_request& req, http_response& res) const {
  auto path = split_path(req.path);
  const route_entry* best = nullptr;
  const route_handler* handler = nullptr;
  std::set<std::string> allowed;
  bool any = false;
  for (const auto& e : routes) {
    if (!e.match(path, nullptr)) {
      continue;
    }
    any = true;
    auto m = e.methods.find(req.method);
    if (m == e.methods.end()) {
      for (const auto& [method, h] : e.methods) {
        allowed.insert(method);
      }
    } else if (best == nullptr || e.more_specific_than(*best)) {
      best = &e;
      handler = &m->second;
    }
  }
  if (best != nullptr) {
    best->match(path, &req.params);
    return handler;
  }
  if (!any) {
    res = {404, "text/plain; charset=utf-8", "not found\n", {}};
    return nullptr;
  }
  std::string allow;
  for (const auto& method : allowed) {
    allow += (allow.empty() ? "" : ", ") + method;
  }
  res = {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", allow}}};
  return nullptr;
}

std::optional<http_response> detail::http_server_state::run_filter(const http_request& req) {
  if (!filter) {
    return std::nullopt;
  }
  try {
    return filter(req);
  } catch (const std::exception& e) {
    log->error("{}: request filter threw on {} {}: {}", opts.name, req.method, req.path, e.what());
    return http_response{500, "text/plain; charset=utf-8", "internal error\n", {}};
  }
}

http_server::http_server(server_options opts)
    : impl_(std::make_shared<detail::http_server_state>(std::move(opts))) {}

http_server::~http_server() {
  stop();
}

void http_server::route(std::string method, std::string path, http_handler handler) {
  impl_->add_route(std::move(method), std::move(path), route_handler{std::move(handler), {}});
}

void http_server::route_async(std::string method, std::string pattern, http_async_handler handler) {
  impl_->add_route(std::move(method), std::move(pattern), route_handler{{}, std::move(handler)});
}

void http_server::set_filter(http_filter filter) {
  if (impl_->started) {
    throw std::logic_error("http_server::set_filter called after start");
  }
  impl_->filter = std::move(filter);
}

void http_server::on_websocket(websocket_acceptor acceptor) {
  if (impl_->started) {
    throw std::logic_error("http_server::on_websocket called after start");
  }
  impl_->ws_acceptor = std::move(acceptor);
}

std::error_code http_server::start() {
  if (impl_->started.exchange(true)) {
    return std::make_error_code(std::errc::operation_in_progress);
  }
  beast::error_code ec;
  tcp::resolver resolver{impl_->ioc};
  auto results = resolver.resolve(impl_->opts.host, std::to_string(impl_->opts.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    impl_->started = false;
    return ec ? std::error_code(ec) : std::make_error_code(std::errc::address_not_available);
  }
  tcp::endpoint ep = results.begin()->endpoint();
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) {
    acc.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acc.bind(ep, ec);
  }
  if (!ec) {
    acc.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    beast::error_code ignored;
    acc.close(ignored);
    // Not started: stop() must not post to an io_context that no thread will ever run
    // (the queued handler would hold the state alive in a cycle).
    impl_->started = false;
    return ec;
  }
  impl_->bound_port = acc.local_endpoint().port();
  impl_->guard.hold_spare();
  impl_->do_accept();
  for (size_t i = 0; i < std::max<size_t>(1, impl_->opts.threads); ++i) {
    impl_->threads.emplace_back([self = impl_] {
      // Handlers below must not block (docs/networking.md): the tag arms the debug checks.
      base::scoped_thread_role io_role{base::thread_role::io};
      // Run until stop() removes all work; a handler's escaped exception must not end the thread.
      for (int attempts = 0; attempts < 1000; ++attempts) {
        try {
          self->ioc.run();
          return;
        } catch (const std::exception& e) {
          self->log->error("{}: io thread caught: {}", self->opts.name, e.what());
        }
      }
    });
  }
  return {};
}

uint16_t http_server::port() const noexcept {
  return impl_->bound_port;
}

const server_options& http_server::options() const noexcept {
  return impl_->opts;
}

listener_health http_server::health() const {
  listener_health h;
  h.open_connections = impl_->limiter->open();
  h.at_max_connections = impl_->limiter->at_capacity();
  auto failure = impl_->guard.recent_failure(accept_failure_window);
  if (failure != detail::accept_failure::none) {
    h.accept_failing = std::string{detail::to_string(failure)};
  }
  return h;
}

void http_server::stop() {
  std::vector<std::shared_ptr<session_base>> live;
  {
    std::lock_guard<std::mutex> guard{impl_->sessions_mutex};
    if (!impl_->started || impl_->stopping.exchange(true)) {
      return;
    }
    for (auto& [id, weak] : impl_->sessions) {
      if (auto s = weak.lock()) {
        live.push_back(std::move(s));
      }
    }
  }
  // Until every close below is queued, the io threads must not run out of work and exit:
  // a WebSocket not yet started has no pending operation to keep them alive.
  auto work = asio::make_work_guard(impl_->ioc);
  std::vector<std::shared_ptr<detail::ws_stream>> streams;
  {
    std::lock_guard<std::mutex> guard{impl_->ws_registry.mutex};
    impl_->ws_registry.stopping = true;
    for (auto& [id, weak] : impl_->ws_registry.live) {
      if (auto s = weak.lock()) {
        streams.push_back(std::move(s));
      }
    }
  }
  asio::post(impl_->acceptor.get_executor(), [self = impl_] {
    beast::error_code ignored;
    self->accept_timer.cancel();
    self->acceptor.close(ignored);
  });
  for (auto& s : live) {
    s->close();
  }
  live.clear();
  // Each stream writes what is queued, then 1001, and ends within its close_timeout.
  for (auto& s : streams) {
    s->close(1001, "server stopping");
  }
  streams.clear();
  work.reset();
  for (auto& t : impl_->threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  impl_->threads.clear();
}

}  // namespace herald::net
