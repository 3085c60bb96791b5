// SPDX-License-Identifier: Apache-2.0
#pragma once
// A session's outbound frame log: dispatch frames with their per-session seq,
// written by relay partitions (any scheduler thread) and drained by the
// connection writer. Owned by the session; shared with relays by pointer.
// Invariant: frames carry s = first_seq … next_seq-1 with no gaps; a frame is
// never evicted before the attached connection has collected it.
//
// Storage holds REFERENCES, not bytes: one entry per held frame, a pointer to
// the frame's immutable reference-counted tail (shared_tail.hpp) — the very
// bytes the guild encoded once for every recipient — in a ring indexed by seq
// (the seq itself is implicit: entry `seq & mask`). `{"op":0,"s":<seq>` is
// spliced in front of the tail only when the connection collects the frame for
// a socket write (outbound_batch formats the prefix, the WebSocket writer
// gathers prefix + tail into one message). The same entries serve as the write
// queue and the resume buffer. A collected batch holds its own reference per
// frame, so bytes handed to an in-flight socket write stay valid while
// writers append or evict.
//
// Memory bounds (queue_max_bytes, resume_max_bytes) still count each frame's
// full size (prefix + tail) per session, as when every session held a copy:
// the shared tail is counted once per session that references it, so the
// bounds keep their meaning for the client (how much it may have to replay)
// and over-state, never under-state, what a session pins.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "actors/outbound/outbound_limits.hpp"
#include "actors/outbound/shared_tail.hpp"

namespace herald::session {

/// Receives "frames are ready" edges. Called with the buffer's lock held, on
/// the appending thread: it must be non-blocking and must not touch the buffer
/// (post a wake-up to the writer's executor and return).
class outbound_listener {
public:
  virtual ~outbound_listener() = default;
  /// The buffer went from "nothing to collect" to "something to collect".
  virtual void on_frames_ready() noexcept = 0;
  /// The attached connection fell behind past the queue limits; close it
  /// resumably. Called once per attachment.
  virtual void on_overflow() noexcept = 0;
};

/// Frames collected for one socket write: per frame the seq prefix
/// `{"op":0,"s":<seq>` (formatted into batch-owned scratch at collect) and a
/// reference to the shared tail. Owned by the connection writer, reusable via
/// clear(); the views it hands out stay valid while it lives, uncleared.
class outbound_batch {
public:
  outbound_batch() = default;
  outbound_batch(const outbound_batch&) = delete;
  outbound_batch& operator=(const outbound_batch&) = delete;
  ~outbound_batch() { clear(); }

  uint32_t frames() const noexcept { return static_cast<uint32_t>(tails_.size()); }
  /// Size of each collected frame (prefix + tail) in seq order.
  std::vector<uint32_t> frame_sizes() const;
  /// Seq prefix of frame `i` (0-based, seq order).
  std::string_view prefix(size_t i) const noexcept {
    uint32_t from = i == 0 ? 0 : prefix_ends_[i - 1];
    return {prefixes_.data() + from, prefix_ends_[i] - from};
  }
  /// Tail of frame `i`.
  std::string_view tail(size_t i) const noexcept { return tails_[i]->view(); }
  /// For each collected frame in seq order calls `f(prefix, tail)` when F takes
  /// two string_views (writers: send the pieces as one message, no copy), else
  /// `f(frame)` with the two pieces joined into a scratch string, valid during
  /// the call only (tests, tools).
  template <class F>
  void for_each_frame(F&& f) const {
    if constexpr (std::is_invocable_v<F&, std::string_view, std::string_view>) {
      for (size_t i = 0; i < tails_.size(); ++i) {
        f(prefix(i), tail(i));
      }
    } else {
      std::string joined;
      for (size_t i = 0; i < tails_.size(); ++i) {
        joined.assign(prefix(i));
        joined.append(tail(i));
        f(std::string_view{joined});
      }
    }
  }
  uint64_t first_seq() const noexcept { return first_seq_; }
  size_t bytes() const noexcept;
  bool empty() const noexcept { return tails_.empty(); }
  void clear() noexcept;

private:
  friend class outbound_buffer;
  void add(uint64_t seq, tail_block* t);  // takes a new reference to t

  std::vector<tail_block*> tails_;     // one reference each
  std::string prefixes_;               // every frame's prefix, back to back
  std::vector<uint32_t> prefix_ends_;  // end offset of each prefix in prefixes_
  uint64_t first_seq_ = 0;
};

/// Outcome of attaching a resumed connection at the client's last seq.
enum class resume_status {
  ok,              ///< every frame after the client's seq is still held
  seq_never_sent,  ///< the client claims a seq this session never wrote (4007)
  too_old,         ///< frames after the client's seq were evicted (op 9 false)
};
const char* to_string(resume_status s) noexcept;

/// Snapshot frames: the session's first frame when it is READY (s = 1, the
/// session invariant; recognised by its `,"t":"READY",` tail) and frames written with
/// append_snapshot() while every frame still held is a snapshot frame (a session's initial
/// GUILD_CREATEs). Once the attached connection has collected them they are released instead of
/// being kept for resume, so an idle session holds no frame bytes. A client
/// resuming from before them (it lost the connection while READY or a
/// GUILD_CREATE was in flight) gets `too_old` and identifies again.
class alignas(64) outbound_buffer {
  class lock_guard {
  public:
    explicit lock_guard(std::atomic_flag& f) noexcept : flag_(f) {
      for (int spins = 0; flag_.test_and_set(std::memory_order_acquire); ++spins) {
        if (spins > 64) {
          std::this_thread::yield();
        }
      }
    }
    ~lock_guard() { flag_.clear(std::memory_order_release); }
    lock_guard(const lock_guard&) = delete;
    lock_guard& operator=(const lock_guard&) = delete;

  private:
    std::atomic_flag& flag_;
  };

public:
  explicit outbound_buffer(const outbound_limits* limits) noexcept : limits_(limits) {}
  outbound_buffer(const outbound_buffer&) = delete;
  outbound_buffer& operator=(const outbound_buffer&) = delete;
  ~outbound_buffer();

  /// Writes `{"op":0,"s":<next seq>` followed by `tail` (which must start with
  /// `,` and close the object, e.g. `,"t":"X","d":{…}}`) and returns the seq.
  /// Thread-safe. Never fails: past the queue bound the attached connection is
  /// told to close (on_overflow) and the frame is kept for resume. Returns 0
  /// (and writes nothing) once the buffer is closed.
  uint64_t append_dispatch(std::string_view tail);
  /// As append_dispatch, for a snapshot frame (see the class comment).
  uint64_t append_snapshot(std::string_view tail);
  /// As append_dispatch, referencing `tail` instead of copying it (one atomic
  /// increment on the tail; fan-out loops use writer::append_counted instead).
  uint64_t append_shared(const shared_tail& tail);

  /// Several appends under one lock acquisition: a relay partition writing a
  /// batch of events to one session locks it once. Hold it briefly (the
  /// connection's collect waits) and never across a blocking call.
  class writer {
  public:
    explicit writer(outbound_buffer& b) noexcept : buf_(b), guard_(b.lock_) {}
    /// As append_dispatch.
    uint64_t append(std::string_view tail) {
      return buf_.append_locked(make_tail_block(tail), false);
    }
    /// Appends a frame referencing `tail` and ADOPTS one reference to it that
    /// the caller already took (whatever the outcome: on 0 it was dropped).
    /// Why: a partition adds, per event, one reference per session it may
    /// write to in a single fetch_add before its loop and gives back the
    /// unused ones after it, instead of one atomic per delivery on the
    /// tail's shared cache line (partition_core.cpp).
    uint64_t append_counted(tail_block* tail) { return buf_.append_locked(tail, false); }

  private:
    outbound_buffer& buf_;
    lock_guard guard_;
  };

  /// Refuses every later append (they return 0): the session ended, and an
  /// event already in flight to a relay partition must not reach it (bug A).
  /// Frames already written stay collectable. Idempotent.
  void close() noexcept;
  /// True once close() was called. Lock-free; relays poll it to drop the
  /// session early.
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  /// Attaches a fresh connection: it will collect frames written from now on.
  void attach(outbound_listener* listener);
  /// Attaches a resuming connection that last received `last_seq`; on ok it
  /// will collect exactly the frames after it, in order.
  resume_status attach_resumed(outbound_listener* listener, uint64_t last_seq);
  /// Detaches the connection; after return the listener is never called again.
  void detach() noexcept;

  /// For a session migrated from another node (docs/cluster.md, "Session migration"): the
  /// first frame written gets seq `next_seq` instead of 1. Precondition: nothing written yet.
  void start_at(uint64_t next_seq) noexcept;
  /// Copies a reference to every held frame after `last_seq`, in seq order, into `out` (a
  /// migration hands them to another node), as attach_resumed would check them: ok, or
  /// seq_never_sent / too_old with `out` unchanged. The buffer is unchanged.
  resume_status frames_after(uint64_t last_seq, std::vector<shared_tail>& out) const;

  /// Moves every frame not yet collected into `batch` (appending to it) and
  /// returns how many were added. Called by the attached connection's writer.
  uint32_t collect(outbound_batch& batch);

  /// Hints the CPU to fetch what the next append writes: the buffer's two
  /// header lines, the next frame's first line and its size slot. Lock-free
  /// and approximate by design: fan-out loops call it a few sessions ahead so
  /// that the append finds its memory in cache. A frame is one 8-byte
  /// reference, so its slot is one line whatever the frame's size.
  void prefetch_next_write() const noexcept {
    __builtin_prefetch(this, 1);
    if (tail_block* const* at = write_slot_.load(std::memory_order_relaxed)) {
      __builtin_prefetch(at, 1);
    }
  }

  /// Seq of the last frame written (0 before the first).
  uint64_t last_seq() const;
  /// Seq of the oldest frame still held (next seq if none).
  uint64_t first_held_seq() const;
  uint32_t held_frames() const;
  uint64_t held_bytes() const;
  bool overflowed() const;

private:
  /// Adopts one reference to `tail` (released here if nothing is written).
  uint64_t append_locked(tail_block* tail, bool snapshot);
  tail_block*& entry(uint64_t seq) const noexcept { return ring_[seq & ring_mask_]; }
  void grow();
  void evict_oldest();
  void release_storage() noexcept;
  void enforce_bounds();
  void start_collecting_at(uint64_t seq);

  // -- first cache line: everything an append reads or writes ---------------
  mutable std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
  bool overflowed_ = false;
  std::atomic<bool> closed_{false};
  uint32_t held_frames_ = 0;
  uint64_t next_seq_ = 1;
  // Ring of held frames' tails: entry(seq) for seq in [next_seq_ -
  // held_frames_, next_seq_); capacity ring_mask_ + 1 (a power of two), null
  // when nothing is held.
  tail_block** ring_ = nullptr;
  // &entry(next_seq_), for prefetch_next_write without the lock (written under it).
  std::atomic<tail_block**> write_slot_{nullptr};
  outbound_listener* listener_ = nullptr;  // non-null while a connection is attached
  const outbound_limits* limits_;
  // -- second cache line -----------------------------------------------------
  uint64_t collect_seq_ = 1;  // next seq the attached connection collects
  // Byte counts fit 32 bits: they stay within the (32-bit) resume bound plus
  // one frame, and the bounds are at most 2 GiB (outbound_limits).
  uint32_t held_bytes_ = 0;
  uint32_t pending_bytes_ = 0;  // bytes of held frames with seq >= collect_seq_
  uint32_t ring_mask_ = 0;
  uint32_t snapshots_ = 0;  // leading held frames that are snapshot frames
};

}  // namespace herald::session
