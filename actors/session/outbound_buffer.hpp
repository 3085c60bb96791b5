// SPDX-License-Identifier: Apache-2.0
#pragma once
// A session's outbound frame log: dispatch frames with their per-session seq,
// written by relay partitions (any scheduler thread) and drained by the
// connection writer. Owned by the session; shared with relays by pointer.
// Invariant: frames carry s = first_seq … next_seq-1 with no gaps; a frame is
// never evicted before the attached connection has collected it.
//
// The same bytes serve as the write queue and the resume buffer: a frame is
// written once (seq spliced in front of the shared payload tail) and kept,
// bounded by the resume limits, after the writer has taken it. Storage is a
// list of reference-counted "slotted" chunks — frame bytes grow up from the
// chunk's start, each frame's size is a 4-byte slot growing down from its end
// — so that bytes handed to an in-flight socket write stay valid while writers
// append or evict, and an append touches only the buffer's first cache lines
// and the chunk's write position (no separate frame index to miss on).

#include <atomic>
#include <cstdint>
#include <string_view>
#include <thread>
#include <vector>

namespace herald::session {

/// Bounds of one session's buffer. Defaults are stated here and in
/// docs/configuration.md ([session] section).
struct outbound_limits {
  /// Frames written but not yet collected by the attached connection before
  /// the session overflows (slow consumer → resumable close 4000). Default 2048.
  uint32_t queue_max_frames = 2048;
  /// Bytes written but not yet collected before overflow. Default 1 MiB;
  /// at most 2 GiB (as resume_max_bytes).
  uint32_t queue_max_bytes = 1u << 20;
  /// Frames kept for resume (collected or not). Default 4096.
  uint32_t resume_max_frames = 4096;
  /// Bytes kept for resume. Default 2 MiB; at most 2 GiB.
  uint32_t resume_max_bytes = 2u << 20;
  /// Largest allocation unit of the frame storage (a chunk, its 32-byte
  /// header included, rounded up to a power of two; see chunk_pool.hpp); a
  /// session's first chunk is small (an idle session holds little) and each
  /// next one doubles up to this. Larger frames get a chunk of their own
  /// size. Default 16 KiB.
  uint32_t chunk_bytes = 16u << 10;
  /// Size of a session's first chunk. Default 512 bytes.
  uint32_t first_chunk_bytes = 512;
};

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

namespace detail {
struct chunk;
void retain(chunk* c) noexcept;
void release(chunk* c) noexcept;
}  // namespace detail

/// Contiguous bytes of one or more whole frames, valid while the batch that
/// holds it lives.
struct frame_span {
  const char* data;
  size_t size;
};

/// Frames collected for one socket write. Holds references to the chunks its
/// spans point into; owned by the connection writer, reusable via clear().
class outbound_batch {
public:
  outbound_batch() = default;
  outbound_batch(const outbound_batch&) = delete;
  outbound_batch& operator=(const outbound_batch&) = delete;
  ~outbound_batch() { clear(); }

  const std::vector<frame_span>& spans() const noexcept { return spans_; }
  uint32_t frames() const noexcept { return frames_; }
  /// Size of each collected frame in seq order; the frames lie back to back
  /// across spans(), so frame boundaries follow from these sizes (a WebSocket
  /// writer sends one message per frame).
  const std::vector<uint32_t>& frame_sizes() const noexcept { return frame_sizes_; }
  /// Calls `f(std::string_view frame)` for each collected frame in seq order.
  template <class F>
  void for_each_frame(F&& f) const {
    size_t span = 0;
    size_t offset = 0;
    for (uint32_t size : frame_sizes_) {
      if (offset == spans_[span].size) {
        ++span;
        offset = 0;
      }
      f(std::string_view{spans_[span].data + offset, size});
      offset += size;
    }
  }
  uint64_t first_seq() const noexcept { return first_seq_; }
  size_t bytes() const noexcept;
  bool empty() const noexcept { return frames_ == 0; }
  void clear() noexcept;

private:
  friend class outbound_buffer;
  void add(detail::chunk* c, const char* data, uint32_t size);

  std::vector<frame_span> spans_;
  std::vector<detail::chunk*> chunks_;  // one reference each
  std::vector<uint32_t> frame_sizes_;
  uint32_t frames_ = 0;
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
/// session invariant; recognised by its `,"t":"READY",` tail) and frames written with append_snapshot() while every frame
/// still held is a snapshot frame (a session's initial GUILD_CREATEs). Once
/// the attached connection has collected them they are released instead of
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

  /// Several appends under one lock acquisition: a relay partition writing a
  /// batch of events to one session locks it once. Hold it briefly (the
  /// connection's collect waits) and never across a blocking call.
  class writer {
  public:
    explicit writer(outbound_buffer& b) noexcept : buf_(b), guard_(b.lock_) {}
    /// As append_dispatch.
    uint64_t append(std::string_view tail) { return buf_.append_locked(tail, false); }

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

  /// Moves every frame not yet collected into `batch` (appending to it) and
  /// returns how many were added. Called by the attached connection's writer.
  uint32_t collect(outbound_batch& batch);

  /// Hints the CPU to fetch what the next append writes: the buffer's two
  /// header lines, the next frame's first line and its size slot. Lock-free
  /// and approximate by design: fan-out loops call it a few sessions ahead so
  /// that the append finds its memory in cache.
  /// `bytes`: how much the next append will write (its lines are all
  /// prefetched, so that the lock of the append after it does not wait for
  /// their stores to drain, one cache miss after another).
  void prefetch_next_write(size_t bytes = 64) const noexcept {
    __builtin_prefetch(this, 1);
    if (const char* at = write_at_.load(std::memory_order_relaxed)) {
      const char* end = at + bytes;
      const char* slots = reinterpret_cast<const char*>(slot_at_.load(std::memory_order_relaxed));
      for (const char* line = at; line < end && line < slots; line += 64) {
        __builtin_prefetch(line, 1);
      }
      __builtin_prefetch(slots - 1, 1);
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
  /// A frame position: frame `index` of `chunk`, starting `offset` bytes
  /// into its data.
  struct cursor {
    detail::chunk* chunk = nullptr;
    uint32_t index = 0;
    uint32_t offset = 0;
  };

  uint64_t append_locked(std::string_view tail, bool snapshot);
  void grow(uint32_t size);
  uint32_t frames_in(const detail::chunk* c) const noexcept;
  uint32_t size_at(const cursor& at) const noexcept;
  void advance(cursor& at) const noexcept;
  cursor position_of(uint64_t seq) const noexcept;
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
  // Next frame byte and lowest used size slot of the tail chunk (null when
  // no storage). Atomic only so that prefetch_next_write may read them
  // without the lock; written under it.
  std::atomic<char*> write_at_{nullptr};
  std::atomic<uint32_t*> slot_at_{nullptr};
  outbound_listener* listener_ = nullptr;  // non-null while a connection is attached
  uint64_t collect_seq_ = 1;               // next seq the attached connection collects
  const outbound_limits* limits_;
  // Byte counts fit 32 bits: they stay within the (32-bit) resume bound plus
  // one frame, and the bounds are at most 2 GiB (docs/configuration.md).
  uint32_t held_bytes_ = 0;
  uint32_t pending_bytes_ = 0;  // bytes of held frames with seq >= collect_seq_
  // -- second cache line: chunk list and cursors (appends rarely touch it) ---
  detail::chunk* tail_ = nullptr;  // newest chunk, appended into
  cursor head_;                    // oldest held frame (chunks head_ … tail_ are owned)
  cursor collect_;                 // frame collect_seq_ (may sit at a chunk's end)
  uint32_t snapshots_ = 0;         // leading held frames that are snapshot frames
};

}  // namespace herald::session
