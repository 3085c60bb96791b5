// SPDX-License-Identifier: Apache-2.0
#pragma once
// Incremental RFC 6455 parser for frames a client sends to the server (masked), used by
// ws_stream on its strand; holds only a partial header and the message being assembled.
// Invariant: never buffers more than max_message_bytes of one message; after a bad frame it
// consumes nothing more (the byte stream can no longer be parsed).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/net/websocket.hpp"

namespace herald::net::detail {

/// Opcodes of RFC 6455 section 5.2.
enum ws_op : uint8_t {
  op_continuation = 0,
  op_text = 1,
  op_binary = 2,
  op_close = 8,
  op_ping = 9,
  op_pong = 10,
};

/// What the reader found; called synchronously from consume().
class ws_frame_listener {
public:
  virtual ~ws_frame_listener() = default;
  /// A complete text message (fragments joined), valid during the call.
  virtual void frame_text(std::string_view message) = 0;
  /// message_too_big / binary_message: that message is being discarded, reading goes on.
  /// bad_frame: the reader stopped.
  virtual void frame_error(ws_error e) = 0;
  /// A ping, pong or close frame with its unmasked payload (at most 125 bytes).
  virtual void frame_control(ws_op op, std::string_view payload) = 0;
};

class ws_frame_reader {
public:
  explicit ws_frame_reader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  /// Parses `n` bytes, reporting to `listener`. Returns early (rest unconsumed) when
  /// halted or failed, also from inside a listener callback.
  void consume(const char* data, size_t n, ws_frame_listener& listener);

  /// Stops consuming (the connection ended); frees the message buffer.
  void halt();

  bool failed() const noexcept { return failed_; }

private:
  bool header_complete();
  void begin_frame(ws_frame_listener& listener);
  void payload(const char* data, size_t n);
  void end_frame(ws_frame_listener& listener);
  void fail(ws_frame_listener& listener);
  void release_message();

  size_t max_message_bytes_;
  std::string message_;      // unmasked payload of the data message being assembled
  std::string control_;      // unmasked payload of the control frame being read
  uint64_t remaining_ = 0;   // payload bytes left in the current frame
  size_t message_size_ = 0;  // bytes of the current message so far (kept or discarded)
  uint8_t header_[14];       // partial frame header
  uint8_t header_have_ = 0;
  uint8_t mask_[4] = {0, 0, 0, 0};
  uint8_t mask_pos_ = 0;    // index into mask_ of the next payload byte
  uint8_t frame_op_ = 0;    // opcode of the current frame
  uint8_t message_op_ = 0;  // opcode of the message in progress, 0 if none
  bool fin_ = false;
  bool in_payload_ = false;
  bool discarding_ = false;  // current message is too big or binary: drop its bytes
  bool failed_ = false;
  bool halted_ = false;
};

}  // namespace herald::net::detail
