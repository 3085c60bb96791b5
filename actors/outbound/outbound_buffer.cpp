// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/outbound_buffer.hpp"

#include <algorithm>
#include <charconv>

#include "actors/outbound/chunk_pool.hpp"
#include "runtime/base/expects.hpp"

namespace herald::session {

namespace {

constexpr std::string_view dispatch_prefix = "{\"op\":0,\"s\":";
// The session's first frame is READY (session_actor.hpp); it is a snapshot.
constexpr std::string_view ready_prefix = ",\"t\":\"READY\",";

uint32_t digits_of(uint64_t v) noexcept {
  uint32_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Bytes of frame `seq` on the wire: `{"op":0,"s":<seq>` + tail.
uint32_t frame_size(uint64_t seq, const tail_block* t) noexcept {
  return static_cast<uint32_t>(dispatch_prefix.size()) + digits_of(seq) + t->size;
}

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

std::vector<uint32_t> outbound_batch::frame_sizes() const {
  std::vector<uint32_t> out;
  out.reserve(tails_.size());
  for (size_t i = 0; i < tails_.size(); ++i) {
    out.push_back(static_cast<uint32_t>(prefix(i).size() + tails_[i]->size));
  }
  return out;
}

size_t outbound_batch::bytes() const noexcept {
  size_t n = prefixes_.size();
  for (const auto* t : tails_) {
    n += t->size;
  }
  return n;
}

void outbound_batch::clear() noexcept {
  for (auto* t : tails_) {
    release_tail(t);
  }
  tails_.clear();
  prefixes_.clear();
  prefix_ends_.clear();
  first_seq_ = 0;
}

void outbound_batch::add(uint64_t seq, tail_block* t) {
  if (tails_.empty()) {
    first_seq_ = seq;
  }
  // A batch is one gap-free run of seqs (class invariant of outbound_buffer).
  HERALD_ASSERT(seq == first_seq_ + tails_.size());
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), seq).ptr;
  prefixes_.append(dispatch_prefix);
  prefixes_.append(digits, end);
  prefix_ends_.push_back(static_cast<uint32_t>(prefixes_.size()));
  retain_tail(t);
  tails_.push_back(t);
}

// -- outbound_buffer: storage -------------------------------------------------

outbound_buffer::~outbound_buffer() {
  release_storage();
}

void outbound_buffer::release_storage() noexcept {
  // The buffer owns one reference to each held frame's tail.
  for (uint64_t seq = next_seq_ - held_frames_; seq < next_seq_; ++seq) {
    release_tail(entry(seq));
  }
  held_frames_ = 0;
  held_bytes_ = 0;
  snapshots_ = 0;
  if (ring_ != nullptr) {
    detail::chunk_free(ring_, (ring_mask_ + 1) * static_cast<uint32_t>(sizeof(tail_block*)));
  }
  ring_ = nullptr;
  ring_mask_ = 0;
  write_slot_.store(nullptr, std::memory_order_relaxed);
}

void outbound_buffer::grow() {
  // Capacities are powers of two of at least detail::pool_min_bytes bytes, so
  // rings come from the chunk pool's per-thread caches.
  uint32_t bytes = ring_ == nullptr
                       ? std::max(limits_->first_chunk_bytes, detail::pool_min_bytes)
                       : (ring_mask_ + 1) * static_cast<uint32_t>(sizeof(tail_block*)) * 2;
  uint32_t capacity = 1;
  while (capacity * sizeof(tail_block*) < bytes) {
    capacity *= 2;
  }
  auto** fresh = static_cast<tail_block**>(
      detail::chunk_alloc(capacity * static_cast<uint32_t>(sizeof(tail_block*))));
  uint32_t mask = capacity - 1;
  for (uint64_t seq = next_seq_ - held_frames_; seq < next_seq_; ++seq) {
    fresh[seq & mask] = entry(seq);
  }
  if (ring_ != nullptr) {
    detail::chunk_free(ring_, (ring_mask_ + 1) * static_cast<uint32_t>(sizeof(tail_block*)));
  }
  ring_ = fresh;
  ring_mask_ = mask;
}

void outbound_buffer::evict_oldest() {
  HERALD_ASSERT(held_frames_ > 0);
  uint64_t first = next_seq_ - held_frames_;
  tail_block* t = entry(first);
  uint32_t size = frame_size(first, t);
  HERALD_ASSERT(held_bytes_ >= size);
  bool was_pending = first >= collect_seq_;
  release_tail(t);
  --held_frames_;
  held_bytes_ -= size;
  if (snapshots_ > 0) {
    --snapshots_;
  }
  if (was_pending) {
    pending_bytes_ -= size;  // evicted before it was collected
    collect_seq_ = first + 1;
  }
  if (held_frames_ == 0) {
    // Nothing left to keep: free the ring (an idle session holds nothing).
    release_storage();
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

uint64_t outbound_buffer::append_locked(tail_block* tail, bool snapshot) {
  if (closed_.load(std::memory_order_relaxed)) {
    release_tail(tail);
    return 0;
  }
  uint64_t seq = next_seq_;
  if (ring_ == nullptr || held_frames_ == ring_mask_ + 1) {
    grow();
  }
  // The ring has a free slot, so entry(seq) does not overwrite a held frame.
  HERALD_ASSERT(held_frames_ < ring_mask_ + 1);
  entry(seq) = tail;
  uint32_t size = frame_size(seq, tail);
  if ((snapshot || (seq == 1 && tail->view().substr(0, ready_prefix.size()) == ready_prefix)) &&
      snapshots_ == held_frames_) {
    ++snapshots_;
  }
  ++held_frames_;
  held_bytes_ += size;
  pending_bytes_ += size;
  ++next_seq_;
  write_slot_.store(&entry(next_seq_), std::memory_order_relaxed);
  bool was_idle = collect_seq_ == seq;
  enforce_bounds();
  if (was_idle && listener_ != nullptr && !overflowed_) {
    listener_->on_frames_ready();
  }
  return seq;
}

uint64_t outbound_buffer::append_dispatch(std::string_view tail) {
  lock_guard guard{lock_};
  return append_locked(make_tail_block(tail), false);
}

uint64_t outbound_buffer::append_snapshot(std::string_view tail) {
  lock_guard guard{lock_};
  return append_locked(make_tail_block(tail), true);
}

uint64_t outbound_buffer::append_shared(const shared_tail& tail) {
  tail_block* t = tail.block();
  if (t == nullptr) {
    return append_dispatch(std::string_view{});
  }
  retain_tail(t);
  lock_guard guard{lock_};
  return append_locked(t, false);
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
  pending_bytes_ = 0;
  for (uint64_t s = seq; s < next_seq_; ++s) {
    pending_bytes_ += frame_size(s, entry(s));
  }
  if (collect_seq_ < next_seq_) {
    listener_->on_frames_ready();
  }
}

resume_status outbound_buffer::attach_resumed(outbound_listener* listener, uint64_t last_seq) {
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

void outbound_buffer::start_at(uint64_t next_seq) noexcept {
  lock_guard guard{lock_};
  HERALD_EXPECTS(held_frames_ == 0 && next_seq_ == 1 && next_seq >= 1);
  next_seq_ = next_seq;
  collect_seq_ = next_seq;
  if (ring_ != nullptr) {
    write_slot_.store(&entry(next_seq_), std::memory_order_relaxed);
  }
}

resume_status outbound_buffer::frames_after(uint64_t last_seq,
                                            std::vector<shared_tail>& out) const {
  lock_guard guard{lock_};
  if (last_seq >= next_seq_) {
    return resume_status::seq_never_sent;
  }
  if (last_seq + 1 < next_seq_ - held_frames_) {
    return resume_status::too_old;
  }
  for (uint64_t s = last_seq + 1; s < next_seq_; ++s) {
    tail_block* t = entry(s);
    retain_tail(t);
    out.push_back(shared_tail::adopt(t));
  }
  return resume_status::ok;
}

uint32_t outbound_buffer::collect(outbound_batch& batch) {
  lock_guard guard{lock_};
  if (listener_ == nullptr || overflowed_) {
    return 0;
  }
  uint32_t added = 0;
  for (; collect_seq_ < next_seq_; ++collect_seq_, ++added) {
    batch.add(collect_seq_, entry(collect_seq_));
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
