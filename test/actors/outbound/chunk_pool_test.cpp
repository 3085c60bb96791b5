// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/chunk_pool.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

using namespace herald::session::detail;

TEST_CASE("chunk_blocks_are_powers_of_two_from_512_b_to_64_kib_larger_sizes_round_to_64") {
  CHECK(chunk_block_size(1) == 512);
  CHECK(chunk_block_size(512) == 512);
  CHECK(chunk_block_size(513) == 1024);
  CHECK(chunk_block_size(16384) == 16384);
  CHECK(chunk_block_size(16385) == 32768);
  CHECK(chunk_block_size(65536) == 65536);
  CHECK(chunk_block_size(65537) == 65600);
}

TEST_CASE("chunk_blocks_are_aligned_writable_distinct_while_live_and_reusable_once_freed") {
  std::vector<std::pair<void*, uint32_t>> live;
  for (uint32_t i = 0; i < 200; ++i) {
    uint32_t bytes = 300 + (i * 997) % 70000;
    void* b = chunk_alloc(bytes);
    REQUIRE(reinterpret_cast<uintptr_t>(b) % 64 == 0);
    std::memset(b, static_cast<int>(i), chunk_block_size(bytes));
    live.emplace_back(b, bytes);
  }
  for (uint32_t i = 0; i < live.size(); ++i) {
    auto* bytes = static_cast<unsigned char*>(live[i].first);
    uint32_t size = chunk_block_size(live[i].second);
    CHECK(bytes[0] == static_cast<unsigned char>(i));
    CHECK(bytes[size - 1] == static_cast<unsigned char>(i));  // no overlap with a neighbour
  }
  for (auto& [b, bytes] : live) {
    chunk_free(b, bytes);
  }
  // Blocks freed on one thread are allocated again on another.
  std::thread other{[] {
    for (int i = 0; i < 1000; ++i) {
      void* b = chunk_alloc(4000);
      std::memset(b, 1, 4096);
      chunk_free(b, 4000);
    }
  }};
  other.join();
}

TEST_CASE("prefaulting_maps_chunk_memory_ahead_of_use") {
  auto before = chunk_pool_usage();
  chunk_pool_prefault(1);
  auto after = chunk_pool_usage();
#if defined(__SANITIZE_ADDRESS__)
  CHECK(after.mapped_bytes == before.mapped_bytes);  // no pool under ASan
#else
  CHECK(after.mapped_bytes > before.mapped_bytes);
#endif
}
