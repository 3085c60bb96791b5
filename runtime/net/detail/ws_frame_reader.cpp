// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/ws_frame_reader.hpp"

#include <algorithm>

namespace herald::net::detail {

namespace {

// Header size announced by the first two bytes: 2 + extended length + mask key.
size_t header_size(const uint8_t* h) {
  size_t len7 = h[1] & 0x7f;
  size_t size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
  return size + ((h[1] & 0x80) != 0 ? 4 : 0);
}

// Above this the buffer is given back after a message, so an idle connection stays small.
constexpr size_t keep_capacity = 1024;

}  // namespace

void ws_frame_reader::consume(const char* data, size_t n, ws_frame_listener& listener) {
  while (n > 0 && !failed_ && !halted_) {
    if (!in_payload_) {
      size_t need = header_have_ < 2 ? 2 : header_size(header_);
      size_t take = std::min(n, need - header_have_);
      std::copy(data, data + take, header_ + header_have_);
      header_have_ = static_cast<uint8_t>(header_have_ + take);
      data += take;
      n -= take;
      if (header_complete()) {
        begin_frame(listener);
      }
      continue;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
    payload(data, take);
    data += take;
    n -= take;
    remaining_ -= take;
    if (remaining_ == 0) {
      end_frame(listener);
    }
  }
}

void ws_frame_reader::halt() {
  halted_ = true;
  release_message();
  std::string{}.swap(control_);
}

bool ws_frame_reader::header_complete() {
  return header_have_ >= 2 && header_have_ == header_size(header_);
}

void ws_frame_reader::begin_frame(ws_frame_listener& listener) {
  header_have_ = 0;
  const uint8_t* h = header_;
  fin_ = (h[0] & 0x80) != 0;
  frame_op_ = h[0] & 0x0f;
  bool masked = (h[1] & 0x80) != 0;
  uint64_t len = h[1] & 0x7f;
  size_t pos = 2;
  if (len == 126) {
    len = (uint64_t{h[2]} << 8) | h[3];
    pos = 4;
  } else if (len == 127) {
    len = 0;
    for (size_t i = 2; i < 10; ++i) {
      len = (len << 8) | h[i];
    }
    pos = 10;
  }
  bool control = (frame_op_ & 0x08) != 0;
  bool known = frame_op_ <= op_binary || (frame_op_ >= op_close && frame_op_ <= op_pong);
  // Client frames must be masked (5.1); no extension was negotiated, so RSV bits are 0 (5.2);
  // control frames are short and unfragmented (5.5); the top length bit is 0 (5.2).
  bool bad = !masked || (h[0] & 0x70) != 0 || !known || (len >> 63) != 0 ||
             (control && (!fin_ || len > 125));
  // Fragmentation (5.4): continuation only inside a message, a new message only outside one.
  if (!control) {
    bool continuation = frame_op_ == op_continuation;
    bad = bad || continuation != (message_op_ != 0);
  }
  if (bad) {
    return fail(listener);
  }
  std::copy(h + pos, h + pos + 4, mask_);
  mask_pos_ = 0;
  remaining_ = len;
  in_payload_ = true;
  if (!control) {
    if (message_op_ == 0) {
      message_op_ = frame_op_;
      message_size_ = 0;
      discarding_ = false;
      if (message_op_ == op_binary) {
        discarding_ = true;
        listener.frame_error(ws_error::binary_message);
      }
    }
    bool was_discarding = discarding_;
    message_size_ += static_cast<size_t>(std::min<uint64_t>(len, SIZE_MAX - message_size_));
    if (message_size_ > max_message_bytes_) {
      discarding_ = true;
      release_message();
      if (!was_discarding) {
        listener.frame_error(ws_error::message_too_big);
      }
    }
  }
  if (remaining_ == 0 && !failed_ && !halted_) {
    end_frame(listener);
  }
}

void ws_frame_reader::payload(const char* data, size_t n) {
  bool control = (frame_op_ & 0x08) != 0;
  if (!control && discarding_) {
    mask_pos_ = static_cast<uint8_t>((mask_pos_ + n) & 3);
    return;
  }
  std::string& target = control ? control_ : message_;
  size_t start = target.size();
  target.resize(start + n);
  for (size_t i = 0; i < n; ++i) {
    target[start + i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ mask_[mask_pos_]);
    mask_pos_ = (mask_pos_ + 1) & 3;
  }
}

void ws_frame_reader::end_frame(ws_frame_listener& listener) {
  in_payload_ = false;
  if ((frame_op_ & 0x08) != 0) {
    std::string payload;
    payload.swap(control_);
    listener.frame_control(static_cast<ws_op>(frame_op_), payload);
    return;
  }
  if (!fin_) {
    return;
  }
  bool deliver = !discarding_;
  message_op_ = 0;
  discarding_ = false;
  if (deliver) {
    // Moved out first: the listener may halt() or re-enter consume() on a fresh message.
    std::string message;
    message.swap(message_);
    listener.frame_text(message);
    if (message_.empty() && message.capacity() <= keep_capacity) {
      message.clear();
      message_.swap(message);
    }
  }
}

void ws_frame_reader::fail(ws_frame_listener& listener) {
  failed_ = true;
  release_message();
  listener.frame_error(ws_error::bad_frame);
}

void ws_frame_reader::release_message() {
  std::string{}.swap(message_);
}

}  // namespace herald::net::detail
