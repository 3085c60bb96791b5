// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>

#include "runtime/net/zlib_stream.hpp"

using namespace herald;

namespace {

// The client side: one inflate context for the whole connection, fed message by message.
struct inflater {
  z_stream zs{};
  inflater() { REQUIRE(inflateInit2(&zs, 15) == Z_OK); }
  ~inflater() { inflateEnd(&zs); }
  std::string feed(const std::string& in) {
    std::string out;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    char buf[4096];
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      int rc = inflate(&zs, Z_SYNC_FLUSH);
      REQUIRE((rc == Z_OK || rc == Z_BUF_ERROR));
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_in > 0 || zs.avail_out == 0);
    return out;
  }
};

bool ends_with_sync_marker(const std::string& s) {
  return s.size() >= 4 && s.compare(s.size() - 4, 4, std::string("\0\0\xff\xff", 4)) == 0;
}

}  // namespace

TEST_CASE("each_message_inflates_back_and_ends_with_the_sync_flush_marker") {
  net::zlib_stream_deflater d;
  inflater client;
  for (int i = 0; i < 50; ++i) {
    std::string msg = R"({"op":0,"s":)" + std::to_string(i) +
                      R"(,"t":"MESSAGE_CREATE","d":{"content":"hello )" + std::to_string(i) +
                      R"(","channel_id":"1234567890","tts":false,"mentions":[]}})";
    std::string out;
    d.compress(msg, out);
    INFO("message " << i);
    REQUIRE(ends_with_sync_marker(out));
    CHECK(client.feed(out) == msg);
    if (i > 0) {
      CHECK(out.size() < msg.size());  // later messages reuse the shared history
    }
  }
}

TEST_CASE("compress_appends_to_the_output_and_handles_large_and_empty_messages") {
  net::zlib_stream_deflater d;
  inflater client;
  std::string big;
  for (int i = 0; big.size() < 300000; ++i) {
    big += std::to_string(i * 7919 % 100003) + ",";
  }
  std::string out = "prefix";
  d.compress(big, out);
  REQUIRE(out.compare(0, 6, "prefix") == 0);
  std::string compressed = out.substr(6);
  CHECK(ends_with_sync_marker(compressed));
  CHECK(client.feed(compressed) == big);
  std::string empty_out;
  d.compress("", empty_out);
  CHECK(ends_with_sync_marker(empty_out));
  CHECK(client.feed(empty_out).empty());
}

TEST_CASE("the_stream_costs_nothing_before_use_and_stays_small_after") {
  net::zlib_stream_deflater d;
  CHECK(d.allocated_bytes() == 0);
  std::string out;
  d.compress("{\"op\":10,\"d\":{\"heartbeat_interval\":41250}}", out);
  CHECK(d.allocated_bytes() > 0);
  CHECK(d.allocated_bytes() < 32 * 1024);  // zlib's defaults would hold ~256 KiB
  net::zlib_stream_deflater defaults{15, 8};
  std::string out2;
  defaults.compress("x", out2);
  CHECK(defaults.allocated_bytes() > 200 * 1024);
}
