// SPDX-License-Identifier: Apache-2.0
// Fuzz target: zlib-stream transport compression (runtime/net/zlib_stream). The server only
// deflates (clients send plain text frames; herald never inflates client input), so this
// is a round trip: every message is compressed by zlib_stream_deflater exactly as a
// gateway connection does, and inflated incrementally by stock zlib as a client does.
// Input: byte 0 picks the deflater's parameters (0: the node's defaults; else window bits
// 9..15, memLevel 1..9, level 0..9 derived from it); then messages, each a length byte
// (0..255) followed by that many bytes (the last one takes what is left).
// Checks: each compressed message ends with 00 00 ff ff, inflates (Z_SYNC_FLUSH, no error)
// to exactly the original bytes with nothing left over, and allocated_bytes() returns to a
// sane figure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <zlib.h>

#include "runtime/net/zlib_stream.hpp"

namespace {

/// A client's inflater: one stream for the connection, fed one message at a time.
class client_inflater {
public:
  client_inflater() {
    if (inflateInit2(&zs_, 15) != Z_OK) {
      std::abort();
    }
  }
  ~client_inflater() { inflateEnd(&zs_); }
  client_inflater(const client_inflater&) = delete;
  client_inflater& operator=(const client_inflater&) = delete;

  std::string inflate_message(std::string_view compressed) {
    std::string out;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    zs_.avail_in = static_cast<uInt>(compressed.size());
    char buf[4096];
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = sizeof buf;
      int rc = inflate(&zs_, Z_SYNC_FLUSH);
      if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs_.avail_in == 0)) {
        std::abort();  // the stream the server wrote is not valid zlib
      }
      out.append(buf, sizeof buf - zs_.avail_out);
    } while (zs_.avail_in > 0 || zs_.avail_out == 0);
    return out;
  }

private:
  z_stream zs_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  uint8_t params = data[0];
  using deflater_t = herald::net::zlib_stream_deflater;
  bool defaults = params == 0;
  deflater_t deflater{defaults ? deflater_t::default_window_bits : 9 + params % 7,
                      defaults ? deflater_t::default_mem_level : 1 + (params >> 3) % 9,
                      defaults ? 6 : (params >> 4) % 10};
  client_inflater client;
  const char* p = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1;
  std::string compressed;
  while (left > 0) {
    size_t len = static_cast<uint8_t>(*p++);
    --left;
    len = std::min(len, left);
    std::string_view message{p, len};
    if (left == len) {
      message = std::string_view{p, left};  // the last message takes the rest
    }
    p += message.size();
    left -= message.size();

    compressed.clear();
    deflater.compress(message, compressed);
    if (compressed.size() < 4 ||
        compressed.compare(compressed.size() - 4, 4, "\0\0\xff\xff", 4) != 0) {
      std::abort();  // Discord clients inflate once they see the sync-flush marker
    }
    if (client.inflate_message(compressed) != message) {
      std::abort();
    }
  }
  if (deflater.allocated_bytes() > (size_t{1} << 20)) {
    std::abort();  // zlib's state for window 15/memLevel 9 is ~400 KiB at most
  }
  return 0;
}
