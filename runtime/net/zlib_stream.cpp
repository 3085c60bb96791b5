// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/zlib_stream.hpp"

#include <stdexcept>

#include <zlib.h>

namespace herald::net {

struct zlib_stream_deflater::state {
  z_stream zs{};
  size_t allocated = 0;  // bytes zlib holds, tracked by the allocator hooks below
};

namespace {

// zlib allocation hooks that count bytes, so allocated_bytes() reports the real footprint.
// A size header in front of each block remembers its size for the free hook.
voidpf counting_alloc(voidpf opaque, uInt items, uInt size) {
  size_t bytes = static_cast<size_t>(items) * size;
  auto* block = static_cast<size_t*>(::operator new(bytes + sizeof(max_align_t), std::nothrow));
  if (block == nullptr) {
    return Z_NULL;
  }
  *block = bytes;
  *static_cast<size_t*>(opaque) += bytes;
  return reinterpret_cast<char*>(block) + sizeof(max_align_t);
}

void counting_free(voidpf opaque, voidpf address) {
  auto* block = reinterpret_cast<size_t*>(static_cast<char*>(address) - sizeof(max_align_t));
  *static_cast<size_t*>(opaque) -= *block;
  ::operator delete(block);
}

}  // namespace

zlib_stream_deflater::zlib_stream_deflater(int window_bits, int mem_level, int level)
    : window_bits_(window_bits), mem_level_(mem_level), level_(level) {}

zlib_stream_deflater::~zlib_stream_deflater() {
  if (state_) {
    deflateEnd(&state_->zs);
  }
}

void zlib_stream_deflater::compress(std::string_view message, std::string& out) {
  if (!state_) {
    auto st = std::make_unique<state>();
    st->zs.zalloc = counting_alloc;
    st->zs.zfree = counting_free;
    st->zs.opaque = &st->allocated;
    if (deflateInit2(&st->zs, level_, Z_DEFLATED, window_bits_, mem_level_, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      throw std::runtime_error("zlib_stream_deflater: deflateInit2 failed");
    }
    state_ = std::move(st);
  }
  z_stream& zs = state_->zs;
  if (message.empty() && zs.total_in + zs.total_out > 0) {
    // zlib refuses a second flush without new input (Z_BUF_ERROR, no output), but each
    // message must still end with the marker: after a sync flush the stream is byte aligned,
    // so an empty stored block (header byte, LEN 0000, NLEN ffff) is a valid continuation.
    out.append("\x00\x00\x00\xff\xff", 5);
    return;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  zs.avail_in = static_cast<uInt>(message.size());
  size_t start = out.size();
  // deflateBound is for a whole stream; a sync flush adds at most a few bytes on top.
  size_t room = deflateBound(&zs, static_cast<uLong>(message.size())) + 16;
  for (;;) {
    size_t used = out.size() - start;
    out.resize(start + used + room);
    zs.next_out = reinterpret_cast<Bytef*>(&out[start + used]);
    zs.avail_out = static_cast<uInt>(room);
    int rc = deflate(&zs, Z_SYNC_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw std::runtime_error("zlib_stream_deflater: deflate failed");
    }
    // Done when all input is consumed and zlib did not fill the output (flush complete).
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      return;
    }
    room = 1024;
  }
}

size_t zlib_stream_deflater::allocated_bytes() const noexcept {
  return state_ ? state_->allocated : 0;
}

}  // namespace herald::net
