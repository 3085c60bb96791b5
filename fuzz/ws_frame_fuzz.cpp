// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the WebSocket frame reader (runtime/net/detail/ws_frame_reader) on the bytes a
// client sends after the upgrade.
// Input: byte 0 picks the message limit (bits 0-1: 16, 125, 4096, 65536 bytes) and the read
// size (bits 2-7: 1..64 bytes per consume() call, as TCP may split them); the rest is the
// byte stream. Checks, besides the sanitizers: messages never exceed the limit, control
// payloads never exceed 125 bytes, every close payload gets an answer a server may send
// (answer_close), nothing is reported after bad_frame, and reading the
// stream in one call or in small pieces reports exactly the same events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/net/detail/ws_close_payload.hpp"
#include "runtime/net/detail/ws_frame_reader.hpp"

namespace {

using namespace herald::net;
using namespace herald::net::detail;

/// Records every event as one string and checks the per-event contracts.
class recorder final : public ws_frame_listener {
public:
  explicit recorder(size_t limit) : limit_(limit) {}

  void frame_text(std::string_view message) override {
    check_open();
    if (message.size() > limit_) {
      std::abort();  // the reader delivered more than max_message_bytes
    }
    events.push_back("text:" + std::string{message});
  }
  void frame_error(ws_error e) override {
    check_open();
    failed_ = e == ws_error::bad_frame;
    events.push_back("error:" + std::to_string(static_cast<int>(e)));
  }
  void frame_control(ws_op op, std::string_view payload) override {
    check_open();
    if (payload.size() > 125 || (op != op_close && op != op_ping && op != op_pong)) {
      std::abort();  // RFC 6455 5.5: control frames carry at most 125 bytes
    }
    if (op == op_close) {
      // The server's answer to any close payload: a code it may send, a UTF-8 reason.
      close_answer a = answer_close(payload);
      bool sendable = a.code == 1005 || (a.code >= 1000 && a.code <= 1003) ||
                      (a.code >= 1007 && a.code <= 1014) || (a.code >= 3000 && a.code <= 4999);
      if (!sendable || !valid_utf8(a.reason)) {
        std::abort();
      }
    }
    events.push_back("control:" + std::to_string(op) + ":" + std::string{payload});
  }

  std::vector<std::string> events;

private:
  void check_open() const {
    if (failed_) {
      std::abort();  // an event after bad_frame: the reader went on parsing garbage
    }
  }
  size_t limit_;
  bool failed_ = false;
};

constexpr size_t limits[] = {16, 125, 4096, 65536};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  size_t limit = limits[data[0] & 3];
  size_t piece = static_cast<size_t>(data[0] >> 2) + 1;
  const char* stream = reinterpret_cast<const char*>(data + 1);
  size_t n = size - 1;

  recorder whole{limit};
  ws_frame_reader one_call{limit};
  one_call.consume(stream, n, whole);

  recorder pieces{limit};
  ws_frame_reader many_calls{limit};
  for (size_t at = 0; at < n; at += piece) {
    many_calls.consume(stream + at, std::min(piece, n - at), pieces);
  }

  if (whole.events != pieces.events || one_call.failed() != many_calls.failed()) {
    std::abort();  // the result depends on how TCP split the bytes
  }
  many_calls.halt();
  many_calls.consume(stream, n, pieces);  // after halt() nothing is consumed or reported
  if (pieces.events.size() != whole.events.size()) {
    std::abort();
  }
  return 0;
}
