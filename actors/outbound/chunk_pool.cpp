// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/chunk_pool.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include <sys/mman.h>

namespace herald::session::detail {

namespace {

constexpr int min_shift = 9;                            // 512 B
constexpr int classes = 8;                              // 512 B … 64 KiB
constexpr size_t slab_bytes = size_t{2} << 20;          // one huge page
constexpr size_t region_bytes = size_t{64} << 20;       // mapped at a time
constexpr size_t thread_cache_bytes = size_t{1} << 20;  // per class per thread
// Free bytes the shared lists keep resident; beyond it freed blocks of 8 KiB
// and more give their pages back (MADV_DONTNEED) and fault in again on reuse.
constexpr uint64_t shared_resident_bytes = uint64_t{64} << 20;

// Shared lists hold CHAINS of free blocks: a thread whose cache is empty takes
// a whole chain (up to chunk_bytes_per_chain) under one lock acquisition. Why:
// after a quiet period every session's first append allocates a ring at once
// (100k in the first serial event of the fan-out bench), and popping blocks
// one at a time put each pop — a dependent cache miss on the block's link —
// under the one mutex, serialised across the partitions' threads. (Its share
// of the first event was not measured apart from the prefault fix below;
// docs/benchmarks.md, "Dispatch fan-out (dispatch-core issue)".)
constexpr size_t chunk_bytes_per_chain = size_t{64} << 10;

struct free_block {
  free_block* next;  // next block of the same chain (null at the chain's end)
  // Valid in a chain's head only (the block a shared list points at):
  free_block* next_chain;
  uint32_t count;  // blocks in the chain
};

int class_of(uint32_t size) noexcept {
  return __builtin_ctz(size) - min_shift;
}

struct shared_pool {
  std::mutex mu;
  free_block* lists[classes] = {};
  char* region_at = nullptr;
  char* region_end = nullptr;
  std::vector<char*> spare_regions;  // mapped and touched by chunk_pool_prefault
  // Blocks on each shared list; read without the lock so that a thread whose
  // cache is empty does not take the mutex just to find the list empty too.
  std::atomic<uint32_t> listed[classes] = {};
  uint64_t resident_free = 0;  // bytes of listed blocks whose pages are resident
  std::atomic<uint64_t> mapped{0};
  // Free bytes listed anywhere, thread caches included; each thread reports
  // its changes in steps of report_bytes (so it is approximate by that much
  // per thread): one shared counter updated per allocation was a contended
  // cache line between the partitions' threads.
  std::atomic<int64_t> free_bytes{0};
  // Bumped by chunk_pool_prefault: a thread whose slab predates it drops the
  // slab's untouched rest and takes a new (faulted-in) one.
  std::atomic<uint32_t> slab_epoch{0};
};
constexpr int64_t report_bytes = int64_t{256} << 10;

// Never destroyed: threads flush their caches into it at exit, in any order.
shared_pool& shared() {
  static auto* pool = new shared_pool;
  return *pool;
}

// A fresh region of region_bytes, aligned to 2 MiB. Caller holds mu.
char* map_region(shared_pool& p) {
  size_t len = region_bytes + slab_bytes;  // room to align to a huge page
  void* raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    throw std::bad_alloc{};
  }
  auto base = reinterpret_cast<uintptr_t>(raw);
  auto* aligned = reinterpret_cast<char*>((base + slab_bytes - 1) & ~(uintptr_t{slab_bytes} - 1));
  // Not MADV_HUGEPAGE: measured on this VM, a cold burst spent twice the CPU
  // zeroing 2 MiB pages (12.7 s vs 6.2 s events CPU, S=100k), warm was equal.
  p.mapped.fetch_add(len, std::memory_order_relaxed);
  return aligned;
}

char* take_slab(shared_pool& p) {
  std::lock_guard<std::mutex> guard{p.mu};
  if (p.region_at == nullptr || p.region_at + slab_bytes > p.region_end) {
    if (!p.spare_regions.empty()) {
      p.region_at = p.spare_regions.back();
      p.spare_regions.pop_back();
    } else {
      p.region_at = map_region(p);
    }
    p.region_end = p.region_at + region_bytes;
  }
  char* slab = p.region_at;
  p.region_at += slab_bytes;
  return slab;
}

// Trivially destructible, so it outlives its thread's other thread_locals;
// `flusher` returns its blocks to the shared lists when the thread ends.
struct thread_cache {
  free_block* lists[classes];
  uint32_t bytes[classes];
  char* slab_at;
  char* slab_end;
  uint32_t slab_epoch;  // shared().slab_epoch when this slab was taken
  int64_t unreported;   // change of free bytes not yet added to shared().free_bytes
  bool registered;
  bool dead;
};
thread_local thread_cache cache{};

void account(shared_pool& p, int64_t delta) noexcept {
  cache.unreported += delta;
  if (cache.unreported >= report_bytes || cache.unreported <= -report_bytes || cache.dead) {
    p.free_bytes.fetch_add(cache.unreported, std::memory_order_relaxed);
    cache.unreported = 0;
  }
}

void push_shared(shared_pool& p, free_block* b, uint32_t size) {
  bool resident = true;
  if (size >= 8192 && p.resident_free + size > shared_resident_bytes) {
    // Keep the first page (it holds the link), return the rest.
    ::madvise(reinterpret_cast<char*>(b) + 4096, size - 4096, MADV_DONTNEED);
    resident = false;
  }
  const int k = class_of(size);
  const auto chain_max = static_cast<uint32_t>(std::max<size_t>(1, chunk_bytes_per_chain / size));
  std::lock_guard<std::mutex> guard{p.mu};
  free_block* head = p.lists[k];
  if (head != nullptr && head->count < chain_max) {
    b->next = head;  // b becomes the head of head's chain
    b->next_chain = head->next_chain;
    b->count = head->count + 1;
  } else {
    b->next = nullptr;  // a new chain
    b->next_chain = head;
    b->count = 1;
  }
  p.lists[k] = b;
  p.listed[k].fetch_add(1, std::memory_order_relaxed);
  if (resident) {
    p.resident_free += size;
  }
}

struct cache_flusher {
  ~cache_flusher() {
    auto& p = shared();
    for (int k = 0; k < classes; ++k) {
      while (free_block* b = cache.lists[k]) {
        cache.lists[k] = b->next;
        push_shared(p, b, uint32_t{1} << (k + min_shift));
      }
      cache.bytes[k] = 0;
    }
    cache.dead = true;
    account(p, 0);  // reports what is left
  }
};
thread_local cache_flusher flusher;

void register_thread() {
  if (!cache.registered) {
    cache.registered = true;
    (void)&flusher;  // constructs it, so that it runs at thread exit
  }
}

}  // namespace

uint32_t chunk_block_size(uint32_t bytes) noexcept {
  if (bytes <= pool_min_bytes) {
    return pool_min_bytes;
  }
  if (bytes <= pool_max_bytes) {
    return uint32_t{1} << (32 - __builtin_clz(bytes - 1));
  }
  return (bytes + 63u) & ~63u;
}

void* chunk_alloc(uint32_t bytes) {
  uint32_t size = chunk_block_size(bytes);
  if (!pooling || size > pool_max_bytes) {
    return ::operator new (size, std::align_val_t{64});
  }
  auto& p = shared();
  int k = class_of(size);
  if (!cache.dead) {
    if (free_block* b = cache.lists[k]) {
      cache.lists[k] = b->next;
      cache.bytes[k] -= size;
      account(p, -static_cast<int64_t>(size));
      return b;
    }
  }
  register_thread();
  if (p.listed[k].load(std::memory_order_relaxed) > 0) {
    free_block* chain = nullptr;
    {
      std::lock_guard<std::mutex> guard{p.mu};
      chain = p.lists[k];
      if (chain != nullptr) {
        p.lists[k] = chain->next_chain;
        p.listed[k].fetch_sub(chain->count, std::memory_order_relaxed);
        p.resident_free -= std::min<uint64_t>(p.resident_free, uint64_t{chain->count} * size);
      }
    }
    if (chain != nullptr) {
      // The chain's first block is returned; the rest become this thread's
      // cache (it was empty, and a chain holds at most chunk_bytes_per_chain).
      if (cache.dead) {
        while (free_block* rest = chain->next) {  // thread exiting: give them back
          chain->next = rest->next;
          push_shared(p, rest, size);
        }
      } else {
        cache.lists[k] = chain->next;
        cache.bytes[k] += (chain->count - 1) * size;
      }
      account(p, -static_cast<int64_t>(size));
      return chain;
    }
  }
  if (cache.dead) {
    return ::operator new (size, std::align_val_t{64});  // thread is exiting
  }
  const uint32_t epoch = p.slab_epoch.load(std::memory_order_relaxed);
  if (cache.slab_at == nullptr || cache.slab_at + size > cache.slab_end ||
      cache.slab_epoch != epoch) {
    cache.slab_epoch = epoch;
    cache.slab_at = take_slab(p);  // the old slab's tail (< 64 KiB) is left unused
    cache.slab_end = cache.slab_at + slab_bytes;
  }
  void* out = cache.slab_at;
  cache.slab_at += size;
  return out;
}

void chunk_free(void* block, uint32_t bytes) noexcept {
  uint32_t size = chunk_block_size(bytes);
  if (!pooling || size > pool_max_bytes) {
    ::operator delete (block, std::align_val_t{64});
    return;
  }
  auto& p = shared();
  account(p, size);
  auto* b = static_cast<free_block*>(block);
  int k = class_of(size);
  if (!cache.dead && cache.bytes[k] + size <= thread_cache_bytes) {
    register_thread();
    b->next = cache.lists[k];
    cache.lists[k] = b;
    cache.bytes[k] += size;
    return;
  }
  push_shared(p, b, size);
}

void chunk_pool_prefault(uint64_t bytes) {
  if (!pooling || bytes == 0) {
    return;
  }
  auto& p = shared();
  for (uint64_t done = 0; done < bytes; done += region_bytes) {
    char* region = nullptr;
    {
      std::lock_guard<std::mutex> guard{p.mu};
      region = map_region(p);
    }
    for (size_t at = 0; at < region_bytes; at += 4096) {
      static_cast<volatile char*>(region)[at] = 0;  // fault it in now
    }
    std::lock_guard<std::mutex> guard{p.mu};
    p.spare_regions.push_back(region);
  }
  // Slabs were cut from the current region until now; its rest was never
  // touched. Left as it is, the next ~64 MiB of slabs would fault in page by
  // page after all (measured: 12k faults in the first event after setup,
  // S = 100k; docs/benchmarks.md, "Dispatch fan-out (dispatch-core issue)"), so take_slab moves on
  // to the regions faulted in above.
  std::lock_guard<std::mutex> guard{p.mu};
  p.region_at = nullptr;
  p.region_end = nullptr;
  p.slab_epoch.fetch_add(1, std::memory_order_relaxed);  // and threads' current slabs
}

chunk_pool_stats chunk_pool_usage() noexcept {
  auto& p = shared();
  return {static_cast<uint64_t>(std::max<int64_t>(0, p.free_bytes.load(std::memory_order_relaxed))),
          p.mapped.load(std::memory_order_relaxed)};
}

}  // namespace herald::session::detail
