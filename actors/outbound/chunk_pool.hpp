// SPDX-License-Identifier: Apache-2.0
#pragma once
// Memory for the session outbound path: power-of-two blocks (512 B – 64 KiB)
// carved from large mapped regions, recycled through per-thread caches. It
// holds each outbound buffer's entry ring (8 bytes per held frame
// reference). Process-wide; any thread may allocate and free. Invariant: a block is freed with the
// size it was allocated with; the bytes each thread caches and the bytes kept resident on the
// shared free lists are bounded.
//
// Why: after a quiet period every session's first append allocates a ring at
// once (100k in one event of the fan-out bench); from malloc that was a page
// fault and arena growth per ring. Freed blocks are reused warm from the
// caches, and chunk_pool_prefault() can fault memory in ahead of a burst.
// (Transparent huge pages were tried: see the .cpp.)

#include <cstddef>
#include <cstdint>

namespace herald::session::detail {

/// Whether the session allocators (chunk pool, output slots) pool memory. Off under ASan:
/// every block then comes from operator new, so a use-after-free is still caught.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool pooling = false;
#else
inline constexpr bool pooling = true;
#endif

/// Smallest and largest pooled block; other sizes go to operator new.
inline constexpr uint32_t pool_min_bytes = 512;
inline constexpr uint32_t pool_max_bytes = 64u << 10;

/// The block size used for a request of `bytes`: the next power of two for
/// pooled sizes, else `bytes` rounded up to 64.
uint32_t chunk_block_size(uint32_t bytes) noexcept;

/// A block of chunk_block_size(bytes) bytes, 64-byte aligned.
void* chunk_alloc(uint32_t bytes);

/// Frees a block from chunk_alloc(bytes) (same `bytes`).
void chunk_free(void* block, uint32_t bytes) noexcept;

/// Maps and faults in about `bytes` of chunk memory now, so that later
/// chunk allocations find it resident (a node expecting a burst, or a
/// benchmark separating first-touch cost from fan-out cost). Blocks until
/// done; the memory stays with the pool. New slabs come from this memory
/// first: the untouched rest of the region slabs were being cut from is left
/// unused (virtual address space only, never faulted in).
void chunk_pool_prefault(uint64_t bytes);

/// Bytes in free pooled blocks (all threads' caches and the shared lists;
/// approximate: each thread reports its changes in 256 KiB steps) and bytes
/// of regions mapped so far (exact); for tests and benchmarks.
struct chunk_pool_stats {
  uint64_t free_bytes;
  uint64_t mapped_bytes;
};
chunk_pool_stats chunk_pool_usage() noexcept;

}  // namespace herald::session::detail
