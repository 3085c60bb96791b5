// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/net/detail/ws_close_payload.hpp"
#include "runtime/net/detail/ws_frame_reader.hpp"

using namespace herald::net;
using namespace herald::net::detail;

namespace {

// Collects what the reader reports.
struct events : ws_frame_listener {
  std::vector<std::string> texts;
  std::vector<ws_error> errors;
  std::vector<std::pair<int, std::string>> controls;

  void frame_text(std::string_view m) override { texts.emplace_back(m); }
  void frame_error(ws_error e) override { errors.push_back(e); }
  void frame_control(ws_op op, std::string_view p) override {
    controls.emplace_back(static_cast<int>(op), std::string{p});
  }
};

// A client frame: FIN/RSV/opcode byte `b0`, masked with a fixed key unless `masked` is false.
// `len_bytes` forces the length encoding (0 = shortest).
std::string frame(uint8_t b0, const std::string& payload, bool masked = true, int len_bytes = 0) {
  std::string f;
  f.push_back(static_cast<char>(b0));
  uint8_t m = masked ? 0x80 : 0;
  size_t n = payload.size();
  if (len_bytes == 0) {
    len_bytes = n < 126 ? 1 : n <= 0xffff ? 2 : 8;
  }
  if (len_bytes == 1) {
    f.push_back(static_cast<char>(m | n));
  } else if (len_bytes == 2) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) {
      f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
    }
  }
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) {
    f.append(reinterpret_cast<const char*>(key), 4);
  }
  for (size_t i = 0; i < n; ++i) {
    f.push_back(masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
  }
  return f;
}

}  // namespace

TEST_CASE("a_masked_text_frame_is_unmasked_into_one_message") {
  ws_frame_reader r{4096};
  events ev;
  auto f = frame(0x81, "Hello");
  r.consume(f.data(), f.size(), ev);
  REQUIRE(ev.texts == std::vector<std::string>{"Hello"});
  CHECK(ev.errors.empty());
}

TEST_CASE("frames_split_at_every_byte_boundary_parse_the_same") {
  ws_frame_reader r{1 << 20};
  events ev;
  std::string big(70000, 'x');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + i % 26);
  }
  auto bytes = frame(0x81, "one") + frame(0x81, std::string(300, 'y')) + frame(0x81, big);
  for (char c : bytes) {
    r.consume(&c, 1, ev);
  }
  REQUIRE(ev.texts.size() == 3);
  CHECK(ev.texts[0] == "one");
  CHECK(ev.texts[1] == std::string(300, 'y'));
  CHECK(ev.texts[2] == big);
}

TEST_CASE("a_64_bit_length_is_accepted_even_for_a_short_payload") {
  ws_frame_reader r{4096};
  events ev;
  auto f = frame(0x81, "short", true, 8) + frame(0x81, "mid", true, 2);
  r.consume(f.data(), f.size(), ev);
  CHECK(ev.texts == std::vector<std::string>{"short", "mid"});
}

TEST_CASE("fragments_with_interleaved_control_frames_join_into_one_message") {
  ws_frame_reader r{4096};
  events ev;
  auto bytes = frame(0x01, "Hel") + frame(0x89, "pi") + frame(0x00, "lo ") + frame(0x80, "world");
  r.consume(bytes.data(), bytes.size(), ev);
  CHECK(ev.texts == std::vector<std::string>{"Hello world"});
  REQUIRE(ev.controls.size() == 1);
  CHECK(ev.controls[0] == std::make_pair(int{op_ping}, std::string{"pi"}));
}

TEST_CASE("a_message_over_the_limit_is_reported_once_and_discarded") {
  ws_frame_reader r{10};
  events ev;
  // 3 fragments of 6 bytes: the second crosses the limit; the third must not report again.
  auto bytes = frame(0x01, "aaaaaa") + frame(0x00, "bbbbbb") + frame(0x80, "cccccc") +
               frame(0x81, "0123456789");
  r.consume(bytes.data(), bytes.size(), ev);
  CHECK(ev.errors == std::vector<ws_error>{ws_error::message_too_big});
  // The stream goes on; a message exactly at the limit is delivered.
  CHECK(ev.texts == std::vector<std::string>{"0123456789"});
}

TEST_CASE("a_binary_message_is_reported_and_discarded") {
  ws_frame_reader r{4096};
  events ev;
  auto bytes = frame(0x02, "bin") + frame(0x80, "ary") + frame(0x81, "text");
  r.consume(bytes.data(), bytes.size(), ev);
  CHECK(ev.errors == std::vector<ws_error>{ws_error::binary_message});
  CHECK(ev.texts == std::vector<std::string>{"text"});
}

TEST_CASE("protocol_violations_are_bad_frames_and_stop_the_reader") {
  struct violation {
    const char* what;
    std::string bytes;
  };
  std::vector<violation> cases = {
      {"unmasked", frame(0x81, "x", false)},
      {"reserved bit", frame(0xc1, "x")},
      {"unknown opcode", frame(0x83, "x")},
      {"unknown control opcode", frame(0x8b, "x")},
      {"fragmented ping", frame(0x09, "x")},
      {"long ping", frame(0x89, std::string(126, 'p'))},
      {"continuation outside a message", frame(0x80, "x")},
      {"new message inside a fragmented one", frame(0x01, "a") + frame(0x81, "b")},
      {"top length bit", std::string("\x81\xff\x80\0\0\0\0\0\0\0\1\2\3\4", 14)},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    ws_frame_reader r{4096};
    events ev;
    auto bytes = c.bytes + frame(0x81, "after");
    r.consume(bytes.data(), bytes.size(), ev);
    CHECK(ev.errors == std::vector<ws_error>{ws_error::bad_frame});
    CHECK(ev.texts.empty());
    CHECK(r.failed());
  }
}

TEST_CASE("close_and_pong_frames_reach_the_listener_with_their_payload") {
  ws_frame_reader r{4096};
  events ev;
  auto bytes = frame(0x8a, "") + frame(0x88, std::string("\x0f\xa2"
                                                         "bye",
                                                         5));
  r.consume(bytes.data(), bytes.size(), ev);
  REQUIRE(ev.controls.size() == 2);
  CHECK(ev.controls[0].first == op_pong);
  CHECK(ev.controls[1].first == op_close);
  CHECK(ev.controls[1].second == std::string("\x0f\xa2"
                                             "bye",
                                             5));
}

TEST_CASE("a_halted_reader_consumes_nothing_more") {
  ws_frame_reader r{4096};
  events ev;
  r.halt();
  auto f = frame(0x81, "late");
  r.consume(f.data(), f.size(), ev);
  CHECK(ev.texts.empty());
}

TEST_CASE("utf_8_validation_follows_rfc_3629") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("\xc3\xa9t\xc3\xa9"));                  // é
  CHECK(valid_utf8("\xe2\x82\xac"));                       // €
  CHECK(valid_utf8("\xf0\x9f\x91\x8b"));                   // U+1F44B
  CHECK(valid_utf8("\xed\x9f\xbf"));                       // U+D7FF, just below the surrogates
  CHECK(valid_utf8("\xf4\x8f\xbf\xbf"));                   // U+10FFFF
  CHECK_FALSE(valid_utf8("\x80"));                         // a lone continuation byte
  CHECK_FALSE(valid_utf8("\xc0\xaf"));                     // overlong '/'
  CHECK_FALSE(valid_utf8("\xc1\xbf"));                     // overlong
  CHECK_FALSE(valid_utf8("\xe0\x80\xaf"));                 // overlong 3-byte
  CHECK_FALSE(valid_utf8("\xf0\x80\x80\xaf"));             // overlong 4-byte
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));                 // U+D800, a surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));             // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xf5\x80\x80\x80"));             // F5 never starts a sequence
  CHECK_FALSE(valid_utf8("\xe2\x82"));                     // cut short
  CHECK_FALSE(valid_utf8("\xe2\x28\xa1"));                 // bad continuation
  CHECK_FALSE(valid_utf8(std::string_view{"ok\xff", 3}));  // FF
}

TEST_CASE("a_peer_close_payload_is_answered_with_its_code_1005_1002_or_1007") {
  auto answer = [](const std::string& p) { return answer_close(p); };
  std::string code_1000{"\x03\xe8", 2};
  CHECK(answer("").code == 1005);
  CHECK(answer("").error == close_payload_error::none);
  CHECK(answer(code_1000).code == 1000);
  CHECK(answer(code_1000 + "bye \xc3\xa9").code == 1000);
  CHECK(answer(code_1000 + "bye \xc3\xa9").reason.empty());  // the peer's reason is not echoed
  CHECK(answer(std::string{"\x03", 1}).code == 1002);
  CHECK(answer(std::string{"\x03", 1}).error == close_payload_error::truncated);
  CHECK(answer(std::string{"\x00\x05", 2}).code == 1002);
  CHECK(answer(std::string{"\x00\x05", 2}).error == close_payload_error::bad_code);
  // An invalid code is answered 1002 whatever the reason.
  CHECK(answer(std::string{"\x07\xd0\xff", 3}).code == 1002);
  auto bad_reason = answer(code_1000 + "\xc0\xaf");
  CHECK(bad_reason.code == 1007);
  CHECK(bad_reason.error == close_payload_error::bad_reason);
  CHECK(valid_utf8(bad_reason.reason));
  CHECK(to_string(close_payload_error::bad_reason) == "bad_close_reason");
}
