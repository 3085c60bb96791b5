// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/ws_stream.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <boost/asio/post.hpp>

#include "runtime/net/detail/tls_http_stream.hpp"

namespace herald::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Linux accepts IOV_MAX (1024) iovecs per sendmsg; Asio's own writes stop at 64.
constexpr size_t max_iov = IOV_MAX;
constexpr size_t read_chunk = 16 * 1024;
// Reads (and writes) per strand turn before yielding to other connections on the thread.
constexpr int rounds_per_turn = 8;

// The io thread's gather list for the sendmsg in flight and the frame headers it points to.
thread_local iovec tl_iov[max_iov];
thread_local uint8_t tl_headers[max_iov][10];
// TLS: the io thread's plaintext record being encrypted (see gather_record_locked).
thread_local char tl_record[tls_record_bytes];

size_t frame_header_size(size_t payload) {
  return payload < 126 ? 2 : payload <= 0xffff ? 4 : 10;
}

// Writes the header of an unmasked final frame with an `n`-byte payload; returns its size.
size_t write_frame_header(uint8_t* header, uint8_t opcode, size_t n) {
  header[0] = static_cast<uint8_t>(0x80 | opcode);
  if (n < 126) {
    header[1] = static_cast<uint8_t>(n);
    return 2;
  }
  if (n <= 0xffff) {
    header[1] = 126;
    header[2] = static_cast<uint8_t>(n >> 8);
    header[3] = static_cast<uint8_t>(n);
    return 4;
  }
  header[1] = 127;
  for (int i = 0; i < 8; ++i) {
    header[2 + i] = static_cast<uint8_t>(static_cast<uint64_t>(n) >> (56 - 8 * i));
  }
  return 10;
}

}  // namespace

ws_metrics::ws_metrics(const std::string& server)
    : open(metrics::registry::global().get_gauge(
          "herald_ws_connections", "Open WebSocket connections.", {{"server", server}})),
      accepted(metrics::registry::global().get_counter(
          "herald_ws_connections_total", "WebSocket upgrades accepted.", {{"server", server}})),
      messages_in(metrics::registry::global().get_counter(
          "herald_ws_messages_in_total", "Inbound WebSocket text messages delivered.",
          {{"server", server}})),
      messages_out(metrics::registry::global().get_counter(
          "herald_ws_messages_out_total", "Outbound WebSocket data messages queued.",
          {{"server", server}})),
      bytes_written(metrics::registry::global().get_counter(
          "herald_ws_bytes_written_total", "WebSocket frame bytes handed to the kernel.",
          {{"server", server}})),
      writev_calls(metrics::registry::global().get_counter(
          "herald_ws_writev_total",
          "sendmsg calls writing WebSocket frames (many messages per call when queued).",
          {{"server", server}})),
      bad_close_codes(metrics::registry::global().get_counter(
          "herald_ws_inbound_errors_total", "Inbound WebSocket protocol violations, by kind.",
          {{"server", server}, {"kind", "bad_close_code"}})),
      pongs_coalesced(metrics::registry::global().get_counter(
          "herald_ws_pongs_coalesced_total",
          "Pings answered by a later ping's pong because a pong was still waiting to be written.",
          {{"server", server}})) {
  for (auto e : {ws_error::message_too_big, ws_error::binary_message, ws_error::bad_frame}) {
    errors[static_cast<size_t>(e)] = &metrics::registry::global().get_counter(
        "herald_ws_inbound_errors_total", "Inbound WebSocket protocol violations, by kind.",
        {{"server", server}, {"kind", std::string{to_string(e)}}});
  }
}

ws_stream::ws_stream(tcp::socket socket, http_request request, uint64_t id, const ws_options& opts,
                     const ws_metrics& metrics, ws_registry& registry, std::shared_ptr<void> owner,
                     std::string leftover, connection_slot slot, std::unique_ptr<tls_channel> tls)
    : ws_connection(std::move(request), id),
      owner_(std::move(owner)),
      slot_(std::move(slot)),
      socket_(std::move(socket)),
      opts_(opts),
      metrics_(metrics),
      registry_(registry),
      leftover_(std::move(leftover)),
      reader_(opts.max_message_bytes),
      tls_(std::move(tls)) {
  boost::system::error_code ignored;
  // Reads and writes are attempted directly and wait for readiness only on would_block.
  socket_.non_blocking(true, ignored);
  socket_.set_option(tcp::no_delay(true), ignored);
  metrics_.open.add();
  metrics_.accepted.inc();
}

ws_stream::~ws_stream() {
  if (!finished_) {
    metrics_.open.sub();  // never started nor stopped: the owner dropped it
  }
  std::lock_guard<std::mutex> guard{registry_.mutex};
  registry_.live.erase(id());
}

void ws_stream::start(std::shared_ptr<ws_handler> handler) {
  std::unique_lock<std::mutex> lock{mutex_};
  if (start_called_ || !handler) {
    return;  // a second start() would run two read loops
  }
  start_called_ = true;
  if (finished_) {
    uint16_t code = close_code_;
    bool by_peer = closed_by_peer_;
    lock.unlock();
    handler->on_closed(code, by_peer);
    return;
  }
  auto self = std::static_pointer_cast<ws_stream>(shared_from_this());
  post_locked([self, h = std::move(handler)]() mutable {
    self->handler_ = std::move(h);
    self->begin();
  });
}

asio::any_io_executor ws_stream::executor() const {
  return const_cast<tcp::socket&>(socket_).get_executor();  // Asio 1.74 lacks a const overload
}

void ws_stream::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (finished_) {
    return;
  }
  auto self = std::static_pointer_cast<ws_stream>(shared_from_this());
  post_locked([self, fn = std::move(fn)] {
    if (!self->finished_) {
      fn();
    }
  });
}

void ws_stream::send(const std::vector<std::string_view>& messages, ws_opcode op,
                     std::shared_ptr<const void> keepalive, std::function<void()> on_written) {
  if (enqueue(messages, static_cast<uint8_t>(op), std::move(keepalive), std::move(on_written))) {
    metrics_.messages_out.inc(messages.size());
  }
}

void ws_stream::send_parts(const std::vector<std::string_view>& pieces,
                           const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                           std::shared_ptr<const void> keepalive,
                           std::function<void()> on_written) {
  if (enqueue(pieces, static_cast<uint8_t>(op), std::move(keepalive), std::move(on_written),
              &pieces_per_message)) {
    metrics_.messages_out.inc(pieces_per_message.size());
  }
}

void ws_stream::close(uint16_t code, std::string_view reason) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (closing_ || finished_) {
    return;
  }
  queue_close_locked(code, reason, false);
}

size_t ws_stream::queued_bytes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return queued_bytes_;
}

bool ws_stream::is_open() const {
  return open_.load(std::memory_order_acquire);
}

bool ws_stream::write_parts_now(const std::vector<std::string_view>& pieces,
                                const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                                std::shared_ptr<const void> keepalive,
                                std::function<void()> on_written) {
  auto opcode = static_cast<uint8_t>(op);
  if (tls_) {
    auto r = write_parts_now_tls(pieces, pieces_per_message, opcode, keepalive, on_written);
    if (r != direct_write::not_taken) {
      return r == direct_write::written;
    }
    send_parts(pieces, pieces_per_message, op, std::move(keepalive), std::move(on_written));
    return false;
  }
  size_t messages = pieces_per_message.size();
  {
    std::lock_guard<std::mutex> guard{mutex_};
    // Direct only when no writer owns the queue and nothing is queued ahead: then the bytes
    // go out in order. The lock is held across the (non-blocking) sendmsg so that no other
    // thread queues behind bytes that are not in frames_ yet.
    if (!finished_ && !closing_ && !write_scheduled_ && frames_.empty() && !pieces.empty() &&
        pieces.size() + messages <= max_iov) {
      iovec* iov = tl_iov;
      size_t count = 0;
      size_t bytes = 0;
      for (size_t k = 0, first = 0; k < messages; first += pieces_per_message[k], ++k) {
        size_t last = std::min<size_t>(first + pieces_per_message[k], pieces.size());
        if (first >= last) {
          continue;
        }
        size_t n = 0;
        for (size_t i = first; i < last; ++i) {
          n += pieces[i].size();
        }
        uint8_t* header = tl_headers[k];
        size_t header_size = write_frame_header(header, opcode, n);
        iov[count++] = iovec{header, header_size};
        for (size_t i = first; i < last; ++i) {
          if (!pieces[i].empty()) {
            iov[count++] = iovec{const_cast<char*>(pieces[i].data()), pieces[i].size()};
          }
        }
        bytes += header_size + n;
      }
      if (count > 0 && bytes <= opts_.max_queued_bytes) {
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        ssize_t n;
        do {
          n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        metrics_.messages_out.inc(messages);
        if (n > 0) {
          metrics_.writev_calls.inc();
          metrics_.bytes_written.inc(static_cast<uint64_t>(n));
        }
        if (n >= 0 && static_cast<size_t>(n) == bytes) {
          return true;
        }
        // Partial, would block, or failed: queue it all, skip what was written, and let the
        // writer go on (it waits for writability, or finds the error and finishes).
        push_frames_locked(pieces, opcode, &pieces_per_message);
        batches_.push_back(out_batch{frames_.size(), std::move(keepalive), std::move(on_written)});
        queued_bytes_ += bytes;
        if (n > 0) {
          queued_bytes_ -= static_cast<size_t>(n);
          consume_locked(static_cast<size_t>(n));
        }
        write_scheduled_ = true;
        post_locked(
            [self = std::static_pointer_cast<ws_stream>(shared_from_this())] { self->do_write(); });
        return false;
      }
    }
  }
  send_parts(pieces, pieces_per_message, op, std::move(keepalive), std::move(on_written));
  return false;
}

bool ws_stream::enqueue(const std::vector<std::string_view>& payloads, uint8_t opcode,
                        std::shared_ptr<const void> keepalive, std::function<void()> on_written,
                        const std::vector<uint32_t>* per_message) {
  bool control = opcode == op_pong;
  // Message k spans pieces [first, first + count): its size is their sum.
  size_t messages = per_message != nullptr ? per_message->size() : payloads.size();
  auto count_of = [&](size_t k) -> size_t {
    return per_message != nullptr ? (*per_message)[k] : 1;
  };
  size_t bytes = 0;
  for (size_t k = 0, first = 0; k < messages; first += count_of(k), ++k) {
    size_t n = 0;
    for (size_t i = first; i < first + count_of(k) && i < payloads.size(); ++i) {
      n += payloads[i].size();
    }
    bytes += frame_header_size(n) + n;
  }
  std::lock_guard<std::mutex> guard{mutex_};
  if (finished_) {
    return false;  // on_written never runs after on_closed
  }
  bool refused = closing_ || payloads.empty();
  if (!refused && !control && queued_bytes_ + bytes > opts_.max_queued_bytes) {
    queue_close_locked(1008, "outbound queue full", false);
    refused = true;
  }
  if (refused) {
    if (on_written) {
      // Guarded: the stream may finish before this runs, and on_written never runs after
      // on_closed (handlers rely on it to capture themselves unowned).
      post_locked([self = std::static_pointer_cast<ws_stream>(shared_from_this()),
                   fn = std::move(on_written)] {
        if (!self->finished_) {
          fn();
        }
      });
    }
    return false;
  }
  push_frames_locked(payloads, opcode, per_message);
  batches_.push_back(out_batch{frames_.size(), std::move(keepalive), std::move(on_written)});
  queued_bytes_ += bytes;
  if (!write_scheduled_) {
    write_scheduled_ = true;
    post_locked(
        [self = std::static_pointer_cast<ws_stream>(shared_from_this())] { self->do_write(); });
  }
  return true;
}

size_t ws_stream::push_frames_locked(const std::vector<std::string_view>& payloads, uint8_t opcode,
                                     const std::vector<uint32_t>* per_message) {
  size_t before = frames_.size();
  size_t messages = per_message != nullptr ? per_message->size() : payloads.size();
  auto count_of = [&](size_t k) -> size_t {
    return per_message != nullptr ? (*per_message)[k] : 1;
  };
  for (size_t k = 0, first = 0; k < messages; first += count_of(k), ++k) {
    size_t last = std::min(first + count_of(k), payloads.size());
    if (first >= last) {
      continue;
    }
    size_t n = 0;
    for (size_t i = first; i < last; ++i) {
      n += payloads[i].size();
    }
    std::string_view p = payloads[first];
    out_frame f{p.data(), p.size(), {}, 0};
    f.header_size = static_cast<uint8_t>(write_frame_header(f.header, opcode, n));
    frames_.push_back(f);
    for (size_t i = first + 1; i < last; ++i) {
      if (payloads[i].empty()) {
        continue;  // a zero-length piece would stall the writer's progress
      }
      frames_.push_back(out_frame{payloads[i].data(), payloads[i].size(), {}, 0});
    }
  }
  return frames_.size() - before;
}

void ws_stream::queue_close_locked(uint16_t code, std::string_view reason, bool by_peer) {
  closing_ = true;
  open_.store(false, std::memory_order_release);
  closed_by_peer_ = by_peer;
  // 1005 ("no status") is reported, never sent: the echo of a code-less close is empty.
  close_code_ = code;
  auto payload = std::make_shared<std::string>();
  if (code != 1005) {
    payload->push_back(static_cast<char>(code >> 8));
    payload->push_back(static_cast<char>(code & 0xff));
    payload->append(reason.substr(0, 123));
  }
  out_frame f{payload->data(),
              payload->size(),
              {static_cast<uint8_t>(0x80 | op_close), static_cast<uint8_t>(payload->size())},
              2};
  frames_.push_back(f);
  queued_bytes_ += 2 + payload->size();
  auto self = std::static_pointer_cast<ws_stream>(shared_from_this());
  batches_.push_back(
      out_batch{frames_.size(), std::move(payload), [self] { self->close_frame_written(); }});
  if (!write_scheduled_) {
    write_scheduled_ = true;
    post_locked([self] { self->do_write(); });
  }
  // A peer that stopped reading would keep the close frame queued forever: the queued
  // output and the close frame get close_timeout to be written.
  post_locked([self] { self->arm_close_timer(); });
}

void ws_stream::post_locked(std::function<void()> fn) {
  asio::post(socket_.get_executor(), std::move(fn));
}

void ws_stream::begin() {
  if (finished_) {
    // stop() ended the stream between start() and now: deliver on_closed on the strand.
    uint16_t code;
    bool by_peer;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      code = close_code_;
      by_peer = closed_by_peer_;
    }
    auto h = std::move(handler_);
    h->on_closed(code, by_peer);
    return;
  }
  started_ = true;
  if (!leftover_.empty()) {
    std::string bytes;
    bytes.swap(leftover_);
    reader_.consume(bytes.data(), bytes.size(), *this);
    if (finished_) {
      return;
    }
  }
  // Read before waiting: bytes may have arrived before start() without a readiness edge.
  on_readable({});
}

void ws_stream::wait_readable() {
  socket_.async_wait(tcp::socket::wait_read,
                     [self = std::static_pointer_cast<ws_stream>(shared_from_this())](
                         const boost::system::error_code& ec) { self->on_readable(ec); });
}

void ws_stream::on_readable(const boost::system::error_code& ec) {
  if (finished_) {
    return;
  }
  if (ec) {
    return finish();
  }
  if (tls_) {
    return on_readable_tls();
  }
  // One scratch buffer per io thread: an idle connection holds no read buffer at all.
  thread_local char scratch[read_chunk];
  for (int round = 0; round < rounds_per_turn; ++round) {
    boost::system::error_code rec;
    size_t n = socket_.read_some(asio::buffer(scratch), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) {
      return wait_readable();
    }
    if (rec) {
      return finish();  // end of stream or reset
    }
    if (read_bytes(scratch, n)) {
      return;
    }
  }
  next_turn(&ws_stream::read_more);
}

bool ws_stream::read_bytes(const char* data, size_t n) {
  if (!reader_.failed()) {
    reader_.consume(data, n, *this);
  }
  return finished_;
}

void ws_stream::read_more() {
  on_readable({});
}

void ws_stream::next_turn(void (ws_stream::*step)()) {
  asio::post(socket_.get_executor(),
             [self = std::static_pointer_cast<ws_stream>(shared_from_this()), step] {
               ((*self).*step)();
             });
}

void ws_stream::frame_text(std::string_view message) {
  if (!is_open() || !handler_) {
    return;
  }
  metrics_.messages_in.inc();
  handler_->on_text(message);
}

void ws_stream::frame_error(ws_error e) {
  metrics_.errors[static_cast<size_t>(e)]->inc();
  if (is_open() && handler_) {
    handler_->on_error(e);
  }
  if (e == ws_error::bad_frame) {
    close(1002, "protocol error");  // no-op if the handler closed already
  }
}

void ws_stream::frame_control(ws_op op, std::string_view payload) {
  if (op == op_ping) {
    return answer_ping(payload);
  }
  if (op == op_close) {
    return peer_closed(payload);
  }
  // Unsolicited pongs are allowed and ignored.
}

void ws_stream::answer_ping(std::string_view payload) {
  if (!is_open()) {
    return;
  }
  if (pong_queued_) {
    // RFC 6455 section 5.5.3 allows answering only the most recent ping.
    if (ping_waiting_) {
      metrics_.pongs_coalesced.inc();
    }
    latest_ping_.assign(payload);
    ping_waiting_ = true;
    return;
  }
  pong_queued_ = true;
  auto copy = std::make_shared<const std::string>(payload);
  std::weak_ptr<ws_stream> weak = std::static_pointer_cast<ws_stream>(shared_from_this());
  // on_written runs on the strand (written, refused, or dropped when the stream finishes).
  enqueue({std::string_view{*copy}}, op_pong, copy, [weak] {
    if (auto self = weak.lock()) {
      self->pong_written();
    }
  });
}

void ws_stream::pong_written() {
  pong_queued_ = false;
  if (ping_waiting_ && !finished_) {
    ping_waiting_ = false;
    std::string payload;
    payload.swap(latest_ping_);
    answer_ping(payload);
    latest_ping_.swap(payload);  // keeps the capacity: no allocation per coalesced ping
  }
}

namespace {

// RFC 6455 section 7.4: the codes a peer may put in a close frame (1012-1014 are registered
// with IANA since; 1004-1006 and 1015 must never be sent, 1016-2999 are reserved).
bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace

void ws_stream::peer_closed(std::string_view payload) {
  peer_close_seen_ = true;
  reader_.halt();  // nothing may follow a close frame
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (!closing_) {
      uint16_t code = 1005;
      std::string_view reason;
      if (payload.size() >= 2) {
        code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                     static_cast<uint8_t>(payload[1]));
        if (!valid_close_code(code)) {
          metrics_.bad_close_codes.inc();
          code = 1002;  // answered with a protocol error, never echoed
          reason = "invalid close code";
        }
      } else if (payload.size() == 1) {
        code = 1002;
      }
      queue_close_locked(code, reason, true);
    }
  }
  if (close_written_) {
    finish();
  }
}

void ws_stream::do_write() {
  if (tls_) {
    return do_write_tls();
  }
  for (int round = 0; round < rounds_per_turn; ++round) {
    if (finished_) {
      return;
    }
    size_t count;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      count = build_iovecs_locked();
      if (count == 0) {
        write_scheduled_ = false;
        return;
      }
    }
    msghdr msg{};
    msg.msg_iov = tl_iov;
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        socket_.async_wait(tcp::socket::wait_write,
                           [self = std::static_pointer_cast<ws_stream>(shared_from_this())](
                               const boost::system::error_code& ec) {
                             if (ec) {
                               return self->finish();
                             }
                             self->do_write();
                           });
        return;
      }
      return finish();
    }
    wrote(static_cast<size_t>(n));
  }
  next_turn(&ws_stream::do_write);
}

void ws_stream::wrote(size_t n) {
  metrics_.writev_calls.inc();
  metrics_.bytes_written.inc(static_cast<uint64_t>(n));
  advance(n);
}

// Gathers the unwritten frames into the io thread's iovec array: per frame its header (copied,
// since frames_ may reallocate while sendmsg runs unlocked) and its payload view.
size_t ws_stream::build_iovecs_locked() {
  iovec* iov = tl_iov;
  auto& headers = tl_headers;
  size_t count = 0;
  size_t nheaders = 0;
  size_t skip = head_offset_;
  for (size_t i = head_; i < frames_.size() && count + 2 <= max_iov; ++i) {
    const out_frame& f = frames_[i];
    if (skip < f.header_size) {
      size_t len = f.header_size - skip;
      std::memcpy(headers[nheaders], f.header + skip, len);
      iov[count++] = iovec{headers[nheaders++], len};
    }
    size_t payload_skip = skip > f.header_size ? skip - f.header_size : 0;
    if (f.size > payload_skip) {
      iov[count++] = iovec{const_cast<char*>(f.data) + payload_skip, f.size - payload_skip};
    }
    skip = 0;
  }
  return count;
}

void ws_stream::advance(size_t written) {
  // Usually one batch completes per write: no allocation for that case.
  out_batch first_done{0, nullptr, {}};
  std::vector<out_batch> more_done;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    queued_bytes_ -= written;
    consume_locked(written);
    if (batch_head_ < batches_.size() && batches_[batch_head_].end <= head_) {
      first_done = std::move(batches_[batch_head_++]);
    }
    while (batch_head_ < batches_.size() && batches_[batch_head_].end <= head_) {
      more_done.push_back(std::move(batches_[batch_head_++]));
    }
    if (head_ == frames_.size()) {
      // Drained: start over and give the storage back. An idle connection holds no queue;
      // most writes take write_parts_now's direct path and never allocate one.
      head_ = head_offset_ = batch_head_ = 0;
      std::vector<out_frame>{}.swap(frames_);
      std::vector<out_batch>{}.swap(batches_);
    }
  }
  if (first_done.on_written) {
    first_done.on_written();
  }
  for (auto& b : more_done) {
    if (b.on_written) {
      b.on_written();
    }
  }
}

void ws_stream::consume_locked(size_t written) {
  while (written > 0) {
    const out_frame& f = frames_[head_];
    size_t rest = f.header_size + f.size - head_offset_;
    if (written < rest) {
      head_offset_ += written;
      break;
    }
    written -= rest;
    ++head_;
    head_offset_ = 0;
  }
}

void ws_stream::close_frame_written() {
  close_written_ = true;
  if (finished_) {
    return;
  }
  if (peer_close_seen_ || !started_ || reader_.failed()) {
    return finish();
  }
  arm_close_timer();  // the peer gets close_timeout afresh to answer
}

void ws_stream::arm_close_timer() {
  if (finished_) {
    return;
  }
  if (!close_timer_) {
    close_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  }
  // Re-arming cancels the previous wait; its handler sees operation_aborted and does nothing.
  close_timer_->expires_after(opts_.close_timeout);
  close_timer_->async_wait([self = std::static_pointer_cast<ws_stream>(shared_from_this())](
                               const boost::system::error_code& ec) {
    if (!ec) {
      self->finish();
    }
  });
}

void ws_stream::finish() {
  if (finished_) {
    return;
  }
  std::vector<out_batch> dropped;
  uint16_t code;
  bool by_peer;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    finished_ = true;
    closing_ = true;
    if (close_code_ == 0) {
      close_code_ = 1006;  // the transport ended without any close frame
      closed_by_peer_ = true;
    }
    code = close_code_;
    by_peer = closed_by_peer_;
    for (size_t i = batch_head_; i < batches_.size(); ++i) {
      dropped.push_back(std::move(batches_[i]));
    }
    std::vector<out_frame>{}.swap(frames_);
    std::vector<out_batch>{}.swap(batches_);
    head_ = head_offset_ = batch_head_ = queued_bytes_ = 0;
  }
  open_.store(false, std::memory_order_release);
  boost::system::error_code ignored;
  if (close_timer_) {
    close_timer_->cancel();
  }
  if (tls_) {
    std::lock_guard<std::mutex> guard{mutex_};
    tls_->shutdown();  // close_notify, best effort
  }
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  slot_.release();
  reader_.halt();
  metrics_.open.sub();
  for (auto& b : dropped) {
    if (b.on_written) {
      b.on_written();  // "handed to the kernel or the connection failed"
    }
  }
  dropped.clear();
  if (handler_) {
    auto h = std::move(handler_);
    h->on_closed(code, by_peer);
  }
}

}  // namespace herald::net::detail

namespace herald::net::detail {

template <class Fn>
bool ws_stream::wait_tls(tls_status st, Fn fn) {
  if (st != tls_status::want_read && st != tls_status::want_write) {
    return false;
  }
  socket_.async_wait(st == tls_status::want_read ? tcp::socket::wait_read : tcp::socket::wait_write,
                     [self = std::static_pointer_cast<ws_stream>(shared_from_this()),
                      fn = std::move(fn)](const boost::system::error_code& ec) {
                       if (ec) {
                         return self->finish();
                       }
                       fn(*self);
                     });
  return true;
}

void ws_stream::on_readable_tls() {
  thread_local char scratch[read_chunk];
  for (int round = 0; round < rounds_per_turn; ++round) {
    size_t n = 0;
    tls_status st;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      st = tls_->read(scratch, read_chunk, n);
    }
    if (st != tls_status::ok) {
      // want_read: the socket is drained (the wait sees the next edge); want_write: OpenSSL
      // must send (e.g. a key update answer) before it reads on.
      if (!wait_tls(st, [](ws_stream& s) { s.on_readable_tls(); })) {
        finish();  // close_notify, end of stream, reset or a TLS error
      }
      return;
    }
    if (read_bytes(scratch, n)) {
      return;
    }
  }
  next_turn(&ws_stream::read_more);
}

size_t ws_stream::gather_record_locked(char* out, size_t cap) const {
  size_t len = 0;
  size_t skip = head_offset_;
  for (size_t i = head_; i < frames_.size() && len < cap; ++i) {
    const out_frame& f = frames_[i];
    if (skip < f.header_size) {
      size_t take = std::min<size_t>(f.header_size - skip, cap - len);
      std::memcpy(out + len, f.header + skip, take);
      len += take;
    }
    size_t payload_skip = skip > f.header_size ? skip - f.header_size : 0;
    if (f.size > payload_skip && len < cap) {
      size_t take = std::min(f.size - payload_skip, cap - len);
      std::memcpy(out + len, f.data + payload_skip, take);
      len += take;
    }
    skip = 0;
  }
  return len;
}

void ws_stream::do_write_tls() {
  for (int round = 0; round < rounds_per_turn; ++round) {
    if (finished_) {
      return;
    }
    size_t n = 0;
    tls_status st;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      size_t len = gather_record_locked(tl_record, sizeof tl_record);
      if (len == 0) {
        write_scheduled_ = false;
        return;
      }
      st = tls_->write(tl_record, len, n);
    }
    if (st != tls_status::ok) {
      if (!wait_tls(st, [](ws_stream& s) { s.do_write_tls(); })) {
        finish();
      }
      return;
    }
    wrote(n);
  }
  next_turn(&ws_stream::do_write);
}

ws_stream::direct_write ws_stream::write_parts_now_tls(
    const std::vector<std::string_view>& pieces, const std::vector<uint32_t>& pieces_per_message,
    uint8_t opcode, std::shared_ptr<const void>& keepalive, std::function<void()>& on_written) {
  size_t messages = pieces_per_message.size();
  std::lock_guard<std::mutex> guard{mutex_};
  // As the plain path: direct only when nothing is queued ahead and no writer owns the queue,
  // and here only when the messages fit one record (larger ones take the queued path).
  if (finished_ || closing_ || write_scheduled_ || !frames_.empty() || pieces.empty()) {
    return direct_write::not_taken;
  }
  size_t bytes = 0;
  for (size_t k = 0, first = 0; k < messages; first += pieces_per_message[k], ++k) {
    size_t n = 0;
    for (size_t i = first; i < first + pieces_per_message[k] && i < pieces.size(); ++i) {
      n += pieces[i].size();
    }
    bytes += frame_header_size(n) + n;
  }
  if (bytes > sizeof tl_record || bytes > opts_.max_queued_bytes) {
    return direct_write::not_taken;
  }
  char* out = tl_record;
  size_t len = 0;
  for (size_t k = 0, first = 0; k < messages; first += pieces_per_message[k], ++k) {
    size_t last = std::min<size_t>(first + pieces_per_message[k], pieces.size());
    if (first >= last) {
      continue;
    }
    size_t n = 0;
    for (size_t i = first; i < last; ++i) {
      n += pieces[i].size();
    }
    len += write_frame_header(reinterpret_cast<uint8_t*>(out + len), opcode, n);
    for (size_t i = first; i < last; ++i) {
      std::memcpy(out + len, pieces[i].data(), pieces[i].size());
      len += pieces[i].size();
    }
  }
  size_t written = 0;
  tls_status st = tls_->write(out, len, written);
  metrics_.messages_out.inc(messages);
  if (st == tls_status::ok) {
    metrics_.writev_calls.inc();
    metrics_.bytes_written.inc(static_cast<uint64_t>(written));
    if (written == len) {
      return direct_write::written;
    }
  }
  // Not all sent (want_write keeps the record pending in OpenSSL; the writer re-gathers the
  // same bytes from the queue), or failed (the writer finds the error and finishes).
  push_frames_locked(pieces, opcode, &pieces_per_message);
  batches_.push_back(out_batch{frames_.size(), std::move(keepalive), std::move(on_written)});
  queued_bytes_ += len - written;
  consume_locked(written);
  write_scheduled_ = true;
  post_locked(
      [self = std::static_pointer_cast<ws_stream>(shared_from_this())] { self->do_write(); });
  return direct_write::queued;
}

}  // namespace herald::net::detail
