// SPDX-License-Identifier: Apache-2.0
#include "actors/session/chunk_pool.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include <sys/mman.h>

namespace herald::session::detail {

namespace {

#if defined(__SANITIZE_ADDRESS__)
// Under ASan every block comes from operator new, so use-after-free of a
// chunk is still caught.
constexpr bool pooling = false;
#else
constexpr bool pooling = true;
#endif

constexpr int min_shift = 9;  // 512 B
constexpr int classes = 8;    // 512 B … 64 KiB
constexpr size_t slab_bytes = size_t{2} << 20;      // one huge page
constexpr size_t region_bytes = size_t{64} << 20;   // mapped at a time
constexpr size_t thread_cache_bytes = size_t{1} << 20;  // per class per thread
// Free bytes the shared lists keep resident; beyond it freed blocks of 8 KiB
// and more give their pages back (MADV_DONTNEED) and fault in again on reuse.
constexpr uint64_t shared_resident_bytes = uint64_t{64} << 20;

struct free_block {
  free_block* next;
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
  std::atomic<uint64_t> free_bytes{0};  // listed anywhere, thread caches included
};

// Never destroyed: threads flush their caches into it at exit, in any order.
shared_pool& shared() {
  static auto* pool = new shared_pool;
  return *pool;
}

// A fresh region of region_bytes, aligned to 2 MiB. Caller holds mu.
char* map_region(shared_pool& p) {
  size_t len = region_bytes + slab_bytes;  // room to align to a huge page
  void* raw =
    ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
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
  bool registered;
  bool dead;
};
thread_local thread_cache cache{};

void push_shared(shared_pool& p, free_block* b, uint32_t size) {
  bool resident = true;
  if (size >= 8192 && p.resident_free + size > shared_resident_bytes) {
    // Keep the first page (it holds the link), return the rest.
    ::madvise(reinterpret_cast<char*>(b) + 4096, size - 4096, MADV_DONTNEED);
    resident = false;
  }
  std::lock_guard<std::mutex> guard{p.mu};
  b->next = p.lists[class_of(size)];
  p.lists[class_of(size)] = b;
  p.listed[class_of(size)].fetch_add(1, std::memory_order_relaxed);
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
    return ::operator new(size, std::align_val_t{64});
  }
  auto& p = shared();
  int k = class_of(size);
  if (!cache.dead) {
    if (free_block* b = cache.lists[k]) {
      cache.lists[k] = b->next;
      cache.bytes[k] -= size;
      p.free_bytes.fetch_sub(size, std::memory_order_relaxed);
      return b;
    }
  }
  register_thread();
  if (p.listed[k].load(std::memory_order_relaxed) > 0) {
    std::lock_guard<std::mutex> guard{p.mu};
    if (free_block* b = p.lists[k]) {
      p.lists[k] = b->next;
      p.listed[k].fetch_sub(1, std::memory_order_relaxed);
      p.resident_free -= std::min<uint64_t>(p.resident_free, size);
      p.free_bytes.fetch_sub(size, std::memory_order_relaxed);
      return b;
    }
  }
  if (cache.dead) {
    return ::operator new(size, std::align_val_t{64});  // thread is exiting
  }
  if (cache.slab_at == nullptr || cache.slab_at + size > cache.slab_end) {
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
    ::operator delete(block, std::align_val_t{64});
    return;
  }
  auto& p = shared();
  p.free_bytes.fetch_add(size, std::memory_order_relaxed);
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
  if (!pooling) {
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
}

chunk_pool_stats chunk_pool_usage() noexcept {
  auto& p = shared();
  return {p.free_bytes.load(std::memory_order_relaxed), p.mapped.load(std::memory_order_relaxed)};
}

}  // namespace herald::session::detail
