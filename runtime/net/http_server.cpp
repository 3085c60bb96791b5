// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/http_server.hpp"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

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

class session;

}  // namespace

struct detail::http_server_state : std::enable_shared_from_this<detail::http_server_state> {
  explicit http_server_state(server_options o)
      : opts(std::move(o)),
        ioc(static_cast<int>(std::max<size_t>(1, opts.threads))),
        acceptor(asio::make_strand(ioc)),
        connections(metrics::registry::global().get_counter(
            "herald_http_connections_total", "HTTP connections accepted.",
            {{"server", opts.name}})),
        log(herald::log::get("http")) {}

  server_options opts;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  // path -> method -> handler; frozen once started.
  std::map<std::string, std::map<std::string, http_handler>> routes;
  std::vector<std::thread> threads;
  http_filter filter;
  websocket_acceptor ws_acceptor;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  uint16_t bound_port = 0;
  metrics::counter& connections;
  std::shared_ptr<spdlog::logger> log;

  std::mutex sessions_mutex;
  std::map<uint64_t, std::weak_ptr<session>> sessions;  // live connections, for stop()
  uint64_t next_session_id = 1;

  void do_accept();
  http_response dispatch(const http_request& req);
  void count(unsigned status) {
    metrics::registry::global()
        .get_counter("herald_http_requests_total", "HTTP requests answered, by status code.",
                     {{"server", opts.name}, {"code", std::to_string(status)}})
        .inc();
  }
};

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, std::shared_ptr<detail::http_server_state> server, uint64_t id)
      : stream_(std::move(socket)), server_(std::move(server)), id_(id) {}

  ~session() {
    std::lock_guard<std::mutex> guard{server_->sessions_mutex};
    server_->sessions.erase(id_);
  }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

  /// Posted by stop(): closes the socket so pending operations complete.
  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_->opts.body_limit);
    stream_.expires_after(server_->opts.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
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
        return reply_error(400, 11, "malformed request\n");
      }
      return shutdown();
    }
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> req) {
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
    http_response res = server_->dispatch(r);
    write(std::move(res), req.version(), req.keep_alive());
  }

  void reply_error(unsigned status, unsigned version, std::string body) {
    server_->count(status);
    write(http_response{status, "text/plain; charset=utf-8", std::move(body), {}}, version,
          false);
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
    stream_.expires_after(server_->opts.idle_timeout);
    http::async_write(stream_, *msg,
                      [self = shared_from_this(), msg](beast::error_code ec, size_t) {
                        if (ec || !msg->keep_alive()) {
                          return self->shutdown();
                        }
                        self->do_read();
                      });
  }

  void shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<detail::http_server_state> server_;
  uint64_t id_;
};

}  // namespace

void detail::http_server_state::do_accept() {
  acceptor.async_accept(
      asio::make_strand(ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
        if (ec) {
          if (ec != asio::error::operation_aborted && !self->stopping) {
            self->log->warn("{}: accept failed: {}", self->opts.name, ec.message());
            self->do_accept();
          }
          return;
        }
        self->connections.inc();
        std::shared_ptr<session> sess;
        {
          // Checked under the lock stop() takes, so stop() sees every session it must close.
          std::lock_guard<std::mutex> guard{self->sessions_mutex};
          if (self->stopping) {
            return;
          }
          uint64_t id = self->next_session_id++;
          sess = std::make_shared<session>(std::move(s), self, id);
          self->sessions.emplace(id, sess);
        }
        sess->start();
        self->do_accept();
      });
}

http_response detail::http_server_state::dispatch(const http_request& req) {
  http_response res;
  auto path_it = routes.find(req.path);
  if (path_it == routes.end()) {
    res = {404, "text/plain; charset=utf-8", "not found\n", {}};
  } else if (auto m = path_it->second.find(req.method); m == path_it->second.end()) {
    std::string allow;
    for (const auto& [method, h] : path_it->second) {
      allow += (allow.empty() ? "" : ", ") + method;
    }
    res = {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", allow}}};
  } else {
    try {
      res = m->second(req);
    } catch (const std::exception& e) {
      log->error("{}: handler for {} {} threw: {}", opts.name, req.method, req.path, e.what());
      res = {500, "text/plain; charset=utf-8", "internal error\n", {}};
    }
  }
  count(res.status);
  return res;
}

http_server::http_server(server_options opts)
    : impl_(std::make_shared<detail::http_server_state>(std::move(opts))) {}

http_server::~http_server() {
  stop();
}

void http_server::route(std::string method, std::string path, http_handler handler) {
  if (impl_->started) {
    throw std::logic_error("http_server::route called after start");
  }
  auto& methods = impl_->routes[std::move(path)];
  if (!methods.emplace(std::move(method), std::move(handler)).second) {
    throw std::logic_error("http_server: duplicate route");
  }
}

void http_server::route_async(std::string method, std::string pattern,
                              http_async_handler handler) {
  // Provisional until the async path lands: answer through an immediately called responder.
  route(std::move(method), std::move(pattern), [h = std::move(handler)](const http_request& r) {
    http_response out{500, "text/plain; charset=utf-8", "internal error\n", {}};
    h(r, [&out](http_response res) { out = std::move(res); });
    return out;
  });
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
    return ec;
  }
  impl_->bound_port = acc.local_endpoint().port();
  impl_->do_accept();
  for (size_t i = 0; i < std::max<size_t>(1, impl_->opts.threads); ++i) {
    impl_->threads.emplace_back([self = impl_] {
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

void http_server::stop() {
  std::vector<std::shared_ptr<session>> live;
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
  asio::post(impl_->acceptor.get_executor(), [self = impl_] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
  });
  for (auto& s : live) {
    s->close();
  }
  live.clear();
  for (auto& t : impl_->threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  impl_->threads.clear();
}

}  // namespace herald::net
