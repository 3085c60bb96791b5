// SPDX-License-Identifier: Apache-2.0
#pragma once
// An immutable, reference-counted frame tail (`,"t":"…","d":{…}}`): encoded once
// (by a guild for an event, or by a session for its own READY / GUILD_CREATE) and
// then referenced — not copied — by every outbound buffer that delivers it.
// Invariant: the bytes never change after creation; freed when the last reference goes.
//
// Why: copying a ~900-byte frame into each of 100k session buffers was 42 % of the
// fan-out time (memmove) plus 26 % first-touching the copies (docs/benchmarks.md).
// A buffer now stores 8 bytes per frame (a tail_block*); the seq prefix is spliced in
// front of the tail only when the connection collects it for a socket write.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace herald::session {

/// Header of one tail allocation; the bytes follow it. Outbound buffers hold
/// raw blocks (8 bytes per frame) with one counted reference each.
struct tail_block {
  std::atomic<uint32_t> refs;
  uint32_t size;
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  /// The bytes, for the producer of a block from make_unfilled_tail_block before it shares it.
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  std::string_view view() const noexcept { return {data(), size}; }
};

/// A new block holding a copy of `bytes`, with one reference. Blocks whose size fits one of
/// the chunk pool's classes well come from the pool (chunk_pool.hpp; prefaulted by
/// chunk_pool_prefault), the others from operator new.
tail_block* make_tail_block(std::string_view bytes);

/// A new block of `size` bytes that its producer writes in place (through data()) before it
/// shares it, with one reference; allocated like make_tail_block. Saves the copy of a tail
/// that arrives as bytes elsewhere (the cross-node relay reads it straight from the wire).
tail_block* make_unfilled_tail_block(std::size_t size);

/// Whether a tail of `size` bytes is allocated from the chunk pool (benchmarks size their
/// prefault with it; tests).
bool tail_block_pooled(std::size_t size) noexcept;

/// Batched reference counting, for fan-out loops: take `n` references in one
/// atomic add before the loop (one per recipient, handed to
/// outbound_buffer::writer::append_counted), give the unused ones back with
/// release_tail after it, so the loop itself touches no shared cache line.
/// The caller must already hold a reference while it does so.
inline void retain_tail(tail_block* t, uint32_t n = 1) noexcept {
  t->refs.fetch_add(n, std::memory_order_relaxed);
}

/// Drops `n` references; frees the block when they were the last.
void release_tail(tail_block* t, uint32_t n = 1) noexcept;

/// Owning handle of a tail (one reference). Assignable from text, which it copies
/// once; copies of the handle share the bytes.
class shared_tail {
public:
  shared_tail() noexcept = default;
  shared_tail(std::string_view text) : block_(text.empty() ? nullptr : make_tail_block(text)) {}
  shared_tail(const std::string& text) : shared_tail(std::string_view{text}) {}
  shared_tail(const char* text) : shared_tail(std::string_view{text}) {}
  shared_tail(const shared_tail& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) {
      retain_tail(block_);
    }
  }
  shared_tail(shared_tail&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  /// Takes over the one reference the caller holds on `block` (may be null).
  static shared_tail adopt(tail_block* block) noexcept {
    shared_tail t;
    t.block_ = block;
    return t;
  }
  shared_tail& operator=(shared_tail other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~shared_tail() {
    if (block_ != nullptr) {
      release_tail(block_);
    }
  }

  std::string_view view() const noexcept {
    return block_ != nullptr ? block_->view() : std::string_view{};
  }
  operator std::string_view() const noexcept { return view(); }
  size_t size() const noexcept { return block_ != nullptr ? block_->size : 0; }
  bool empty() const noexcept { return size() == 0; }
  /// The block, for outbound buffers (null when empty).
  tail_block* block() const noexcept { return block_; }
  /// References currently held (for tests).
  uint32_t use_count() const noexcept {
    return block_ != nullptr ? block_->refs.load(std::memory_order_relaxed) : 0;
  }

private:
  tail_block* block_ = nullptr;
};

}  // namespace herald::session
