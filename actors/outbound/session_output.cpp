// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/session_output.hpp"

#include <mutex>
#include <new>

#include "actors/outbound/chunk_pool.hpp"

namespace herald::session {

namespace {

using detail::pooling;

constexpr std::size_t slot_bytes = sizeof(session_output);
constexpr std::size_t slot_align = alignof(session_output);
static_assert(slot_bytes % slot_align == 0);
constexpr std::size_t block_bytes = std::size_t{1} << 20;  // 5,461 slots of 192 bytes

// Process-wide free list of slots; blocks are never returned (they are reused
// by the next sessions). Taken once per session open and close, so one mutex
// is enough.
struct slot_pool {
  struct free_slot {
    free_slot* next;
  };
  std::mutex mu;
  free_slot* free = nullptr;
  char* at = nullptr;  // next never-used slot of the newest block
  char* end = nullptr;
};

// Never destroyed: outputs may be released during static destruction.
slot_pool& pool() {
  static auto* p = new slot_pool;
  return *p;
}

}  // namespace

void* session_output::operator new(std::size_t bytes) {
  if (!pooling || bytes != slot_bytes) {
    return ::operator new (bytes, std::align_val_t{slot_align});
  }
  auto& p = pool();
  std::lock_guard<std::mutex> guard{p.mu};
  if (auto* s = p.free) {
    p.free = s->next;
    return s;
  }
  if (p.at == nullptr || p.at + slot_bytes > p.end) {
    p.at = static_cast<char*>(::operator new (block_bytes, std::align_val_t{slot_align}));
    p.end = p.at + block_bytes;
  }
  void* out = p.at;
  p.at += slot_bytes;
  return out;
}

void session_output::operator delete(void* slot, std::size_t bytes) noexcept {
  if (slot == nullptr) {
    return;
  }
  if (!pooling || bytes != slot_bytes) {
    ::operator delete (slot, std::align_val_t{slot_align});
    return;
  }
  auto& p = pool();
  auto* s = static_cast<slot_pool::free_slot*>(slot);
  std::lock_guard<std::mutex> guard{p.mu};
  s->next = p.free;
  p.free = s;
}

}  // namespace herald::session
