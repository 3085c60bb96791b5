// SPDX-License-Identifier: Apache-2.0
#pragma once
// Tunables of the store writer (store_writer.hpp), with their defaults; heraldd sets them from
// the store.writer_* config keys (docs/configuration.md). Plain value, copied into the writer.
// Invariant: every limit is at least 1 once the writer runs (it clamps 0 up to 1).

#include <chrono>
#include <cstddef>

namespace herald::store {

struct writer_options {
  /// Most batches (typically guild batches) one group commit takes (store.writer_max_batches).
  std::size_t max_batches = 4096;
  /// How long the writer waits for more batches before a commit that is not full
  /// (store.writer_max_wait_us). 0: commit at once whatever queued while the previous commit ran
  /// (classic group commit, no added latency).
  std::chrono::microseconds max_wait{0};
  /// Most batches queued or being committed (store.writer_queue_batches); more are refused with
  /// store_errc::busy.
  std::size_t queue_batches = 65536;
  /// Most bytes (approximate, see store_writer::approx_bytes) queued or being committed
  /// (store.writer_queue_bytes); more are refused with store_errc::busy.
  std::size_t queue_bytes = std::size_t{256} << 20;
};

}  // namespace herald::store
