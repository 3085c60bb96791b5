// SPDX-License-Identifier: Apache-2.0
#pragma once
// Which channels each view class may see: an immutable table published by
// the guild actor and read by relay partitions on any thread.
// Invariant: class ids and channel slots are stable for a guild incarnation;
// a snapshot is never mutated after it is shared (publish a new one instead).

#include <cstdint>
#include <utility>
#include <vector>

#include <caf/intrusive_ptr.hpp>
#include <caf/ref_counted.hpp>

namespace herald::relay {

class view_snapshot : public caf::ref_counted {
public:
  view_snapshot(uint32_t classes, uint32_t slots)
      : classes_(classes),
        words_((slots + 63) / 64),
        bits_(static_cast<size_t>(classes) * words_, 0) {}

  /// A snapshot from its rows (`classes` rows of `words` words, class-major), as a remote
  /// relay receives it. The caller checks bits.size() == classes * words.
  view_snapshot(uint32_t classes, uint32_t words, std::vector<uint64_t> bits)
      : classes_(classes), words_(words), bits_(std::move(bits)) {}

  uint32_t classes() const noexcept { return classes_; }
  uint32_t words() const noexcept { return words_; }
  const std::vector<uint64_t>& bits() const noexcept { return bits_; }
  uint32_t slots() const noexcept { return words_ * 64; }

  bool can_view(uint32_t view_class, uint32_t slot) const noexcept {
    if (view_class >= classes_ || slot / 64 >= words_) {
      return false;
    }
    return (bits_[static_cast<size_t>(view_class) * words_ + slot / 64] >> (slot % 64)) & 1u;
  }

  /// Only while building, before the snapshot is shared.
  void allow(uint32_t view_class, uint32_t slot) noexcept {
    bits_[static_cast<size_t>(view_class) * words_ + slot / 64] |= uint64_t{1} << (slot % 64);
  }

private:
  uint32_t classes_;
  uint32_t words_;
  std::vector<uint64_t> bits_;  // class-major rows of `words_` words
};

using view_snapshot_ptr = caf::intrusive_ptr<const view_snapshot>;

}  // namespace herald::relay
