// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/shared_tail.hpp"

#include <cstring>
#include <new>

#include "actors/outbound/chunk_pool.hpp"

namespace herald::session {

namespace {

// Why pooled: a fan-out keeps every event's tail alive in its recipients' resume buffers, so
// each new tail is fresh memory. From malloc that was heap growth (sysmalloc, one mprotect of
// the arena per top extension) and a page fault per tail, half the CPU of a small-guild burst
// (docs/benchmarks.md, issue #11). The chunk pool hands out blocks from large mapped regions
// that chunk_pool_prefault can fault in ahead of a burst, and recycles freed ones warm.
// Its blocks are powers of two: only sizes that waste at most a quarter of their block go
// there (the rest, e.g. small typing or delete tails, stay with operator new).
bool pooled(std::size_t bytes) noexcept {
  if (bytes < session::detail::pool_min_bytes || bytes > session::detail::pool_max_bytes) {
    return false;
  }
  return bytes * 4 >=
         std::size_t{session::detail::chunk_block_size(static_cast<uint32_t>(bytes))} * 3;
}

}  // namespace

bool tail_block_pooled(std::size_t size) noexcept {
  return pooled(sizeof(tail_block) + size);
}

tail_block* make_unfilled_tail_block(std::size_t size) {
  const std::size_t total = sizeof(tail_block) + size;
  void* mem = pooled(total) ? session::detail::chunk_alloc(static_cast<uint32_t>(total))
                            : ::operator new(total);
  auto* t = new (mem) tail_block;
  t->refs.store(1, std::memory_order_relaxed);
  t->size = static_cast<uint32_t>(size);
  return t;
}

tail_block* make_tail_block(std::string_view bytes) {
  auto* t = make_unfilled_tail_block(bytes.size());
  if (!bytes.empty()) {
    std::memcpy(t->data(), bytes.data(), bytes.size());
  }
  return t;
}

void release_tail(tail_block* t, uint32_t n) noexcept {
  if (t->refs.fetch_sub(n, std::memory_order_acq_rel) == n) {
    const std::size_t total = sizeof(tail_block) + t->size;
    t->~tail_block();
    if (pooled(total)) {
      session::detail::chunk_free(t, static_cast<uint32_t>(total));
    } else {
      ::operator delete(static_cast<void*>(t));
    }
  }
}

}  // namespace herald::session
