// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers shared by the outbound buffer tests: a listener that counts overflows and the frame
// text a buffer should produce for a seq and a tail. Header-only; one test thread.
// Invariant: frame() spells the prefix exactly as outbound_buffer formats it at collect.

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/outbound/outbound_buffer.hpp"

namespace herald::session::test {

struct null_listener : outbound_listener {
  int overflows = 0;
  void on_frames_ready() noexcept override {}
  void on_overflow() noexcept override { ++overflows; }
};

/// `{"op":0,"s":<seq>` followed by `tail`: one finished dispatch frame.
inline std::string frame(uint64_t seq, std::string_view tail) {
  return "{\"op\":0,\"s\":" + std::to_string(seq) + std::string(tail);
}

/// Every frame `buffer` holds now, collected as the gateway would and concatenated (prefix and
/// tail); the buffer is attached to a listener only meanwhile.
inline std::string collect_text(outbound_buffer& buffer) {
  null_listener listener;
  buffer.attach(&listener);
  outbound_batch batch;
  buffer.collect(batch);
  buffer.detach();
  std::string bytes;
  batch.for_each_frame(
      [&](std::string_view prefix, std::string_view tail) { bytes.append(prefix).append(tail); });
  return bytes;
}

}  // namespace herald::session::test
