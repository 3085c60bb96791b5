// SPDX-License-Identifier: Apache-2.0
#pragma once
// Discord's zlib-stream transport compression: one zlib stream per connection, each message
// deflated and flushed with Z_SYNC_FLUSH so it ends with 00 00 ff ff. Owned by one connection
// handler and used from its strand only (not thread-safe). Invariant: the concatenated output
// of all compress() calls is one valid zlib stream the client inflates incrementally.
//
// Memory: zlib's defaults (windowBits 15, memLevel 8) cost ~256 KiB per stream. A gateway
// connection's dispatches are a few hundred bytes of similar JSON, so a 2 KiB window (11)
// and memLevel 3 (8 KiB hash + 4 KiB pending buffer) keep most of the ratio at ~20 KiB per
// compressing connection (2 KiB window x 2 + 2 KiB prev + 4 KiB + 8 KiB + ~6 KiB deflate
// state). The stream is created on the first compress(), so a connection that never sends
// costs nothing. Clients inflate with any window >= ours (the zlib header says 2 KiB).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace herald::net {

class zlib_stream_deflater {
public:
  static constexpr int default_window_bits = 11;  ///< 2 KiB history (zlib allows 9..15)
  static constexpr int default_mem_level = 3;     ///< zlib allows 1..9

  explicit zlib_stream_deflater(int window_bits = default_window_bits,
                                int mem_level = default_mem_level, int level = 6);
  ~zlib_stream_deflater();
  zlib_stream_deflater(const zlib_stream_deflater&) = delete;
  zlib_stream_deflater& operator=(const zlib_stream_deflater&) = delete;

  /// Appends the deflate of `message` flushed with Z_SYNC_FLUSH (ends with 00 00 ff ff) to
  /// `out`; the first call also emits the zlib header. Throws std::runtime_error if zlib
  /// fails (out of memory).
  void compress(std::string_view message, std::string& out);

  /// Bytes zlib currently holds allocated for this stream (0 before the first compress()).
  size_t allocated_bytes() const noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
  int window_bits_;
  int mem_level_;
  int level_;
};

}  // namespace herald::net
