// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/shared_tail.hpp"

#include <cstring>
#include <new>

namespace herald::session {

tail_block* make_tail_block(std::string_view bytes) {
  void* mem = ::operator new(sizeof(tail_block) + bytes.size());
  auto* t = new (mem) tail_block;
  t->refs.store(1, std::memory_order_relaxed);
  t->size = static_cast<uint32_t>(bytes.size());
  if (!bytes.empty()) {
    std::memcpy(const_cast<char*>(t->data()), bytes.data(), bytes.size());
  }
  return t;
}

void release_tail(tail_block* t, uint32_t n) noexcept {
  if (t->refs.fetch_sub(n, std::memory_order_acq_rel) == n) {
    t->~tail_block();
    ::operator delete(static_cast<void*>(t));
  }
}

}  // namespace herald::session
