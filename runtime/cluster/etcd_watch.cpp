// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/etcd_watch.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "runtime/cluster/etcd_client.hpp"
#include "runtime/config/validators.hpp"
#include "runtime/log/log.hpp"

namespace herald::cluster {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;

constexpr std::chrono::milliseconds first_backoff{100};
/// Connecting and sending the request; the stream itself has no deadline (it is idle while
/// nothing changes).
constexpr std::chrono::seconds connect_timeout{2};
/// A message longer than this is not etcd's: the stream is dropped.
constexpr size_t max_message = 4 * 1024 * 1024;

}  // namespace

etcd_watch::etcd_watch(std::vector<std::string> endpoints, std::string prefix,
                       std::function<void()> on_change, std::chrono::milliseconds max_backoff)
    : endpoints_(std::move(endpoints)),
      prefix_(std::move(prefix)),
      on_change_(std::move(on_change)),
      max_backoff_(std::max(first_backoff, max_backoff)) {}

etcd_watch::~etcd_watch() {
  stop();
}

void etcd_watch::start() {
  thread_ = std::thread([this] { run(); });
}

void etcd_watch::kick() {
  std::lock_guard<std::mutex> lock{mutex_};
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);  // the blocked read returns; the thread closes the socket
  }
}

void etcd_watch::stop() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
    if (fd_ >= 0) {
      ::shutdown(fd_, SHUT_RDWR);
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void etcd_watch::set_fd(int fd) {
  std::lock_guard<std::mutex> lock{mutex_};
  fd_ = fd;
}

void etcd_watch::run() {
  size_t current = 0;
  auto backoff = first_backoff;
  bool first = true;
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    lock.unlock();
    if (!first) {
      restarts_.fetch_add(1, std::memory_order_relaxed);
    }
    first = false;
    auto opened_at = std::chrono::steady_clock::now();
    auto why = watch_once(endpoints_[current]);
    // A stream that lived a while was healthy: start the backoff over.
    if (std::chrono::steady_clock::now() - opened_at > max_backoff_) {
      backoff = first_backoff;
    }
    lock.lock();
    if (stopping_) {
      break;
    }
    log::get("cluster")->debug("cluster: etcd watch on {} ended: {}; again in {} ms",
                               endpoints_[current], why, backoff.count());
    current = (current + 1) % endpoints_.size();
    wake_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, max_backoff_);
  }
}

std::string etcd_watch::watch_once(const std::string& endpoint) {
  auto ep = config::parse_endpoint(endpoint.substr(endpoint.find("//") + 2));
  if (!ep) {
    return "not an http://HOST:PORT endpoint";
  }
  try {
    boost::asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    tcp::resolver resolver{ioc};
    stream.expires_after(connect_timeout);
    stream.connect(resolver.resolve(ep->host, std::to_string(ep->port)));
    set_fd(stream.socket().native_handle());
    struct clear_fd {
      etcd_watch* w;
      ~clear_fd() { w->set_fd(-1); }
    } clear{this};
    {
      std::lock_guard<std::mutex> lock{mutex_};
      if (stopping_) {
        return "stopping";
      }
    }
    http::request<http::string_body> req{http::verb::post, "/v3/watch", 11};
    req.set(http::field::host, ep->host + ":" + std::to_string(ep->port));
    req.set(http::field::content_type, "application/json");
    req.body() =
        json{{"create_request",
              {{"key", base64_encode(prefix_)}, {"range_end", base64_encode(prefix_end(prefix_))}}}}
            .dump();
    req.prepare_payload();
    http::write(stream, req);

    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.body_limit(boost::none);  // the stream is unbounded; each message is bounded below
    http::read_header(stream, buffer, parser);
    if (parser.get().result() != http::status::ok) {
      return "HTTP " + std::to_string(parser.get().result_int());
    }
    stream.expires_never();
    std::string pending;
    auto on_chunk = [&](std::uint64_t, beast::string_view body, beast::error_code& ec) {
      pending.append(body.data(), body.size());
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        on_message(pending.substr(start, nl - start));
      }
      pending.erase(0, start);
      if (pending.size() > max_message) {
        ec = http::error::body_limit;  // not etcd's: drop the stream
      }
      return body.size();
    };
    parser.on_chunk_body(on_chunk);
    while (!parser.is_done()) {
      http::read_some(stream, buffer, parser);
    }
    return "etcd closed the stream";
  } catch (const boost::system::system_error& e) {
    return e.code().message();
  } catch (const std::exception& e) {
    return e.what();
  }
}

void etcd_watch::on_message(const std::string& line) {
  auto j = json::parse(line, nullptr, false);
  if (!j.is_object()) {
    return;
  }
  auto result = j.find("result");
  if (result == j.end() || !result->is_object()) {
    return;
  }
  auto events = result->find("events");
  bool changed = events != result->end() && events->is_array() && !events->empty();
  // A (re)created stream: changes made while none was open are only seen by a read.
  bool created = result->value("created", false);
  if (changed) {
    events_.fetch_add(1, std::memory_order_relaxed);
  }
  if (changed || created) {
    on_change_();
  }
}

}  // namespace herald::cluster
