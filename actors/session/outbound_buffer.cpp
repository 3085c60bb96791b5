// SPDX-License-Identifier: Apache-2.0
#include "actors/session/outbound_buffer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <new>

#include "actors/session/chunk_pool.hpp"

namespace herald::session {

namespace detail {

// Frame storage, "slotted": frame bytes grow up from data(), frame sizes grow
// down from the end as uint32 slots (slot i, frame i, is slots_end()[-1-i]).
// Only the owning buffer writes a chunk, under its lock; bytes of a written
// frame are immutable, so batches read them without the lock while they hold
// a reference. `frames` is valid once the chunk is no longer the tail (the
// buffer tracks the tail's count in its own hot line).
struct chunk {
  std::atomic<uint32_t> refs;
  uint32_t capacity;  // bytes of data and slots together; a multiple of 32
  uint32_t frames;
  uint32_t block_bytes;  // size of the chunk_pool block holding this chunk
  uint64_t first_seq;    // seq of frame 0
  chunk* next;           // the next newer chunk of the buffer, or null
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  uint32_t* slots_end() noexcept { return reinterpret_cast<uint32_t*>(data() + capacity); }
};
static_assert(sizeof(chunk) == 32, "chunk header is half a cache line");

// A chunk filling one pool block of at least `min_block` bytes.
chunk* make_chunk(uint32_t min_block, uint64_t first_seq) {
  uint32_t block = chunk_block_size(min_block);
  auto* c = static_cast<chunk*>(chunk_alloc(block));
  c->refs.store(1, std::memory_order_relaxed);
  c->capacity = block - static_cast<uint32_t>(sizeof(chunk));
  c->frames = 0;
  c->block_bytes = block;
  c->first_seq = first_seq;
  c->next = nullptr;
  return c;
}

void retain(chunk* c) noexcept {
  c->refs.fetch_add(1, std::memory_order_relaxed);
}

void release(chunk* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    chunk_free(c, c->block_bytes);
  }
}

}  // namespace detail

using detail::chunk;

namespace {

constexpr std::string_view dispatch_prefix = "{\"op\":0,\"s\":";
constexpr uint32_t slot_bytes = sizeof(uint32_t);
// The session's first frame is READY (session_actor.hpp); it is a snapshot.
constexpr std::string_view ready_prefix = ",\"t\":\"READY\",";

}  // namespace

const char* to_string(resume_status s) noexcept {
  switch (s) {
    case resume_status::ok:
      return "ok";
    case resume_status::seq_never_sent:
      return "seq_never_sent";
    case resume_status::too_old:
      return "too_old";
  }
  return "unknown";
}

// -- outbound_batch -----------------------------------------------------------

size_t outbound_batch::bytes() const noexcept {
  size_t n = 0;
  for (const auto& s : spans_) {
    n += s.size;
  }
  return n;
}

void outbound_batch::clear() noexcept {
  for (auto* c : chunks_) {
    detail::release(c);
  }
  chunks_.clear();
  spans_.clear();
  frame_sizes_.clear();
  frames_ = 0;
  first_seq_ = 0;
}

void outbound_batch::add(chunk* c, const char* data, uint32_t size) {
  if (chunks_.empty() || chunks_.back() != c) {
    detail::retain(c);
    chunks_.push_back(c);
    spans_.push_back({data, size});
  } else if (spans_.back().data + spans_.back().size == data) {
    spans_.back().size += size;  // frames written back to back: one span
  } else {
    spans_.push_back({data, size});
  }
  frame_sizes_.push_back(size);
  ++frames_;
}

// -- outbound_buffer: storage -------------------------------------------------

outbound_buffer::~outbound_buffer() {
  release_storage();
}

void outbound_buffer::release_storage() noexcept {
  // The buffer owns one reference to each chunk from the head's to the tail.
  chunk* c = head_.chunk != nullptr ? head_.chunk : tail_;
  while (c != nullptr) {
    chunk* next = c == tail_ ? nullptr : c->next;
    detail::release(c);
    c = next;
  }
  tail_ = nullptr;
  head_ = {};
  collect_ = {};
  write_at_.store(nullptr, std::memory_order_relaxed);
  slot_at_.store(nullptr, std::memory_order_relaxed);
}

uint32_t outbound_buffer::frames_in(const chunk* c) const noexcept {
  if (c == tail_) {
    auto* end = const_cast<chunk*>(c)->slots_end();
    return static_cast<uint32_t>(end - slot_at_.load(std::memory_order_relaxed));
  }
  return c->frames;
}

uint32_t outbound_buffer::size_at(const cursor& at) const noexcept {
  return at.chunk->slots_end()[-1 - static_cast<int64_t>(at.index)];
}

// Steps past the frame at `at`; a cursor at the end of a chunk moves to the
// start of the next one when there is one (otherwise it waits at the end of
// the tail for the next append).
void outbound_buffer::advance(cursor& at) const noexcept {
  at.offset += size_at(at);
  ++at.index;
  if (at.index == frames_in(at.chunk) && at.chunk != tail_) {
    at = {at.chunk->next, 0, 0};
  }
}

outbound_buffer::cursor outbound_buffer::position_of(uint64_t seq) const noexcept {
  cursor at = head_;
  for (uint64_t s = next_seq_ - held_frames_; s < seq; ++s) {
    advance(at);
  }
  return at;
}

void outbound_buffer::grow(uint32_t size) {
  // Block sizes (chunk header included) double from first_chunk_bytes up to
  // chunk_bytes; a frame larger than that gets a block of its own size.
  uint32_t grown = tail_ == nullptr ? limits_->first_chunk_bytes
                                    : std::min(limits_->chunk_bytes, tail_->block_bytes * 2);
  uint32_t need = size + slot_bytes + static_cast<uint32_t>(sizeof(chunk));
  chunk* fresh = detail::make_chunk(std::max(need, grown), next_seq_);
  if (tail_ == nullptr) {
    head_ = {fresh, 0, 0};
    collect_ = head_;  // nothing is held, so collect_seq_ == next_seq_
  } else {
    tail_->frames = frames_in(tail_);
    tail_->next = fresh;
    bool head_at_tail_end = head_.chunk == tail_ && head_.index == tail_->frames;
    bool collect_at_tail_end = collect_.chunk == tail_ && collect_.index == tail_->frames;
    if (head_at_tail_end) {
      // Every frame of the old tail was evicted: it owns nothing any more.
      detail::release(tail_);
      head_ = {fresh, 0, 0};
    }
    if (collect_at_tail_end) {
      collect_ = {fresh, 0, 0};
    }
  }
  tail_ = fresh;
  write_at_.store(fresh->data(), std::memory_order_relaxed);
  slot_at_.store(fresh->slots_end(), std::memory_order_relaxed);
}

void outbound_buffer::evict_oldest() {
  uint32_t size = size_at(head_);
  bool was_pending = next_seq_ - held_frames_ >= collect_seq_;
  chunk* old = head_.chunk;
  head_.offset += size;
  ++head_.index;
  --held_frames_;
  held_bytes_ -= size;
  if (snapshots_ > 0) {
    --snapshots_;
  }
  if (held_frames_ == 0) {
    // Nothing left to keep: free the storage (an idle session holds no
    // chunk); the next append starts a small first chunk again.
    if (was_pending) {
      pending_bytes_ = 0;
      collect_seq_ = next_seq_;
    }
    release_storage();
    return;
  }
  if (head_.index == frames_in(old)) {
    head_ = {old->next, 0, 0};  // not the tail: it still holds frames
    if (collect_.chunk == old) {
      collect_ = head_;  // it sat at old's end, which is head_'s start
    }
    detail::release(old);
  }
  if (was_pending) {
    pending_bytes_ -= size;  // evicted before it was collected
    collect_seq_ = next_seq_ - held_frames_;
    collect_ = head_;
  }
}

void outbound_buffer::enforce_bounds() {
  if (listener_ != nullptr && !overflowed_) {
    overflowed_ = next_seq_ - collect_seq_ > limits_->queue_max_frames ||
                  pending_bytes_ > limits_->queue_max_bytes;
    if (overflowed_) {
      listener_->on_overflow();
    }
  }
  while (held_frames_ > limits_->resume_max_frames ||
         (held_bytes_ > limits_->resume_max_bytes && held_frames_ > 1)) {
    uint64_t first = next_seq_ - held_frames_;
    if (listener_ != nullptr && !overflowed_ && first >= collect_seq_) {
      // Evicting a frame the connection has not written would open a gap.
      overflowed_ = true;
      listener_->on_overflow();
    }
    evict_oldest();
  }
}

// -- outbound_buffer: appends -------------------------------------------------

uint64_t outbound_buffer::append_locked(std::string_view tail, bool snapshot) {
  if (closed_.load(std::memory_order_relaxed)) {
    return 0;
  }
  char digits[24];
  uint64_t seq = next_seq_;
  auto digits_end = std::to_chars(digits, digits + sizeof(digits), seq).ptr;
  auto digits_len = static_cast<size_t>(digits_end - digits);
  auto size = static_cast<uint32_t>(dispatch_prefix.size() + digits_len + tail.size());
  char* out = write_at_.load(std::memory_order_relaxed);
  uint32_t* slot = slot_at_.load(std::memory_order_relaxed);
  if (static_cast<size_t>(reinterpret_cast<char*>(slot) - out) < size + slot_bytes) {
    grow(size);
    out = write_at_.load(std::memory_order_relaxed);
    slot = slot_at_.load(std::memory_order_relaxed);
  }
  std::memcpy(out, dispatch_prefix.data(), dispatch_prefix.size());
  std::memcpy(out + dispatch_prefix.size(), digits, digits_len);
  std::memcpy(out + dispatch_prefix.size() + digits_len, tail.data(), tail.size());
  *--slot = size;
  write_at_.store(out + size, std::memory_order_relaxed);
  slot_at_.store(slot, std::memory_order_relaxed);
  if ((snapshot || (seq == 1 && tail.substr(0, ready_prefix.size()) == ready_prefix)) &&
      snapshots_ == held_frames_) {
    ++snapshots_;
  }
  ++held_frames_;
  held_bytes_ += size;
  pending_bytes_ += size;
  ++next_seq_;
  bool was_idle = collect_seq_ == seq;
  enforce_bounds();
  if (was_idle && listener_ != nullptr && !overflowed_) {
    listener_->on_frames_ready();
  }
  return seq;
}

uint64_t outbound_buffer::append_dispatch(std::string_view tail) {
  lock_guard guard{lock_};
  return append_locked(tail, false);
}

uint64_t outbound_buffer::append_snapshot(std::string_view tail) {
  lock_guard guard{lock_};
  return append_locked(tail, true);
}

void outbound_buffer::close() noexcept {
  lock_guard guard{lock_};
  closed_.store(true, std::memory_order_release);
}

// -- outbound_buffer: connection side ------------------------------------------

void outbound_buffer::attach(outbound_listener* listener) {
  lock_guard guard{lock_};
  listener_ = listener;
  start_collecting_at(next_seq_ - held_frames_);
}

void outbound_buffer::start_collecting_at(uint64_t seq) {
  overflowed_ = false;
  collect_seq_ = seq;
  collect_ = position_of(seq);
  pending_bytes_ = 0;
  cursor at = collect_;
  for (uint64_t s = seq; s < next_seq_; ++s) {
    pending_bytes_ += size_at(at);
    advance(at);
  }
  if (collect_seq_ < next_seq_) {
    listener_->on_frames_ready();
  }
}

resume_status outbound_buffer::attach_resumed(outbound_listener* listener,
                                              uint64_t last_seq) {
  lock_guard guard{lock_};
  if (last_seq >= next_seq_) {
    return resume_status::seq_never_sent;
  }
  if (last_seq + 1 < next_seq_ - held_frames_) {
    return resume_status::too_old;
  }
  listener_ = listener;
  start_collecting_at(last_seq + 1);
  return resume_status::ok;
}

void outbound_buffer::detach() noexcept {
  lock_guard guard{lock_};
  listener_ = nullptr;
}

uint32_t outbound_buffer::collect(outbound_batch& batch) {
  lock_guard guard{lock_};
  if (listener_ == nullptr || overflowed_) {
    return 0;
  }
  uint32_t added = 0;
  if (batch.frames_ == 0) {
    batch.first_seq_ = collect_seq_;
  }
  for (; collect_seq_ < next_seq_; ++collect_seq_, ++added) {
    if (collect_.index == frames_in(collect_.chunk)) {
      collect_ = {collect_.chunk->next, 0, 0};  // waited at a chunk's end
    }
    uint32_t size = size_at(collect_);
    batch.add(collect_.chunk, collect_.chunk->data() + collect_.offset, size);
    collect_.offset += size;
    ++collect_.index;
  }
  pending_bytes_ = 0;
  // Collected snapshot frames are not kept for resume (class comment).
  while (snapshots_ > 0 && next_seq_ - held_frames_ < collect_seq_) {
    evict_oldest();
  }
  return added;
}

uint64_t outbound_buffer::last_seq() const {
  lock_guard guard{lock_};
  return next_seq_ - 1;
}

uint64_t outbound_buffer::first_held_seq() const {
  lock_guard guard{lock_};
  return next_seq_ - held_frames_;
}

uint32_t outbound_buffer::held_frames() const {
  lock_guard guard{lock_};
  return held_frames_;
}

uint64_t outbound_buffer::held_bytes() const {
  lock_guard guard{lock_};
  return held_bytes_;
}

bool outbound_buffer::overflowed() const {
  lock_guard guard{lock_};
  return overflowed_;
}

}  // namespace herald::session
