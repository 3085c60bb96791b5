// SPDX-License-Identifier: Apache-2.0
#include "actors/session/outbound_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <new>

namespace herald::session {

namespace detail {

// Frame storage. `used` and `data` are only written by the buffer under its
// lock; bytes below `used` are immutable once written, so batches may read
// them without the lock while they hold a reference.
struct chunk {
  std::atomic<uint32_t> refs;
  uint32_t capacity;
  uint32_t used;
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
};

chunk* make_chunk(uint32_t capacity) {
  void* raw = ::operator new(sizeof(chunk) + capacity);
  auto* c = static_cast<chunk*>(raw);
  c->refs.store(1, std::memory_order_relaxed);
  c->capacity = capacity;
  c->used = 0;
  return c;
}

void retain(chunk* c) noexcept {
  c->refs.fetch_add(1, std::memory_order_relaxed);
}

void release(chunk* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    ::operator delete(c);
  }
}

}  // namespace detail

using detail::chunk;

namespace {

constexpr std::string_view dispatch_prefix = "{\"op\":0,\"s\":";

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

// -- outbound_buffer ----------------------------------------------------------

outbound_buffer::~outbound_buffer() {
  // The buffer holds one reference per chunk that holds frames, plus the tail.
  chunk* last_released = nullptr;
  for (uint32_t i = 0; i < ring_count_; ++i) {
    chunk* c = ring_[(ring_head_ + i) & (ring_cap_ - 1)].chunk;
    if (c != last_released && c != tail_chunk_) {
      detail::release(c);
      last_released = c;
    }
  }
  if (tail_chunk_ != nullptr) {
    detail::release(tail_chunk_);
  }
  delete[] ring_;
}

outbound_buffer::frame_ref& outbound_buffer::frame_at(uint64_t seq) noexcept {
  uint64_t first = next_seq_ - ring_count_;
  return ring_[(ring_head_ + static_cast<uint32_t>(seq - first)) & (ring_cap_ - 1)];
}

char* outbound_buffer::reserve(uint32_t size, chunk*& where) {
  if (tail_chunk_ == nullptr || tail_chunk_->capacity - tail_chunk_->used < size) {
    uint32_t grown = tail_chunk_ == nullptr
                       ? limits_->first_chunk_bytes
                       : std::min(limits_->chunk_bytes, tail_chunk_->capacity * 2);
    chunk* fresh = detail::make_chunk(std::max(size, grown));
    // The old tail keeps its reference only while a held frame points into it.
    bool old_tail_holds_frames =
        tail_chunk_ != nullptr && ring_count_ > 0 &&
        frame_at(next_seq_ - 1).chunk == tail_chunk_;
    if (tail_chunk_ != nullptr && !old_tail_holds_frames) {
      detail::release(tail_chunk_);
    }
    tail_chunk_ = fresh;
  }
  where = tail_chunk_;
  char* out = tail_chunk_->data() + tail_chunk_->used;
  tail_chunk_->used += size;
  return out;
}

void outbound_buffer::push_frame(chunk* c, uint32_t offset, uint32_t size) {
  if (ring_count_ == ring_cap_) {
    uint32_t cap = ring_cap_ == 0 ? 16 : ring_cap_ * 2;
    auto* grown = new frame_ref[cap];
    for (uint32_t i = 0; i < ring_count_; ++i) {
      grown[i] = ring_[(ring_head_ + i) & (ring_cap_ - 1)];
    }
    delete[] ring_;
    ring_ = grown;
    ring_cap_ = cap;
    ring_head_ = 0;
  }
  ring_[(ring_head_ + ring_count_) & (ring_cap_ - 1)] = {c, offset, size};
  ++ring_count_;
  held_bytes_ += size;
  pending_bytes_ += size;
}

void outbound_buffer::evict_oldest() {
  frame_ref oldest = ring_[ring_head_];
  ring_head_ = (ring_head_ + 1) & (ring_cap_ - 1);
  --ring_count_;
  held_bytes_ -= oldest.size;
  if (next_seq_ - ring_count_ - 1 >= collect_seq_) {
    pending_bytes_ -= oldest.size;  // evicted before it was collected
    collect_seq_ = next_seq_ - ring_count_;
  }
  chunk* next = ring_count_ > 0 ? ring_[ring_head_].chunk : nullptr;
  if (oldest.chunk != next && oldest.chunk != tail_chunk_) {
    detail::release(oldest.chunk);
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
  while (ring_count_ > limits_->resume_max_frames ||
         (held_bytes_ > limits_->resume_max_bytes && ring_count_ > 1)) {
    uint64_t first = next_seq_ - ring_count_;
    if (listener_ != nullptr && !overflowed_ && first >= collect_seq_) {
      // Evicting a frame the connection has not written would open a gap.
      overflowed_ = true;
      listener_->on_overflow();
    }
    evict_oldest();
  }
}

uint64_t outbound_buffer::append_dispatch(std::string_view tail) {
  char digits[24];
  lock_guard guard{lock_};
  uint64_t seq = next_seq_;
  auto digits_end = std::to_chars(digits, digits + sizeof(digits), seq).ptr;
  auto digits_len = static_cast<size_t>(digits_end - digits);
  auto size = static_cast<uint32_t>(dispatch_prefix.size() + digits_len + tail.size());
  chunk* c = nullptr;
  char* out = reserve(size, c);
  std::memcpy(out, dispatch_prefix.data(), dispatch_prefix.size());
  std::memcpy(out + dispatch_prefix.size(), digits, digits_len);
  std::memcpy(out + dispatch_prefix.size() + digits_len, tail.data(), tail.size());
  push_frame(c, static_cast<uint32_t>(out - c->data()), size);
  write_hint_.store(out + size, std::memory_order_relaxed);
  ++next_seq_;
  bool was_idle = collect_seq_ == seq;
  enforce_bounds();
  if (was_idle && listener_ != nullptr && !overflowed_) {
    listener_->on_frames_ready();
  }
  return seq;
}

void outbound_buffer::attach(outbound_listener* listener) {
  lock_guard guard{lock_};
  listener_ = listener;
  start_collecting_at(next_seq_ - ring_count_);
}

void outbound_buffer::start_collecting_at(uint64_t seq) {
  overflowed_ = false;
  collect_seq_ = seq;
  pending_bytes_ = 0;
  for (uint64_t s = seq; s < next_seq_; ++s) {
    pending_bytes_ += frame_at(s).size;
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
  if (last_seq + 1 < next_seq_ - ring_count_) {
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
    const frame_ref& f = frame_at(collect_seq_);
    batch.add(f.chunk, f.chunk->data() + f.offset, f.size);
  }
  pending_bytes_ = 0;
  return added;
}

uint64_t outbound_buffer::last_seq() const {
  lock_guard guard{lock_};
  return next_seq_ - 1;
}

uint64_t outbound_buffer::first_held_seq() const {
  lock_guard guard{lock_};
  return next_seq_ - ring_count_;
}

uint32_t outbound_buffer::held_frames() const {
  lock_guard guard{lock_};
  return ring_count_;
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
