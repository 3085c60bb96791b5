// SPDX-License-Identifier: Apache-2.0
#pragma once
// The bounds of a session's outbound buffer, a plain value held in dispatch_config (heraldd
// reads them from gateway.queue_* / gateway.resume_*; tests and benchmarks set them) and read by
// every buffer through a pointer. Invariant: immutable while any buffer refers to it.

#include <cstdint>

namespace herald::session {

/// Bounds of one session's buffer, with their defaults (docs/gateway.md, "Limits", states
/// them for clients).
struct outbound_limits {
  /// Frames written but not yet collected by the attached connection before
  /// the session overflows (slow consumer → resumable close 4000). Default 2048.
  uint32_t queue_max_frames = 2048;
  /// Bytes written but not yet collected before overflow. Default 1 MiB;
  /// at most 2 GiB (as resume_max_bytes).
  uint32_t queue_max_bytes = 1u << 20;
  /// Frames kept for resume (collected or not). Default 4096.
  uint32_t resume_max_frames = 4096;
  /// Bytes kept for resume. Default 2 MiB; at most 2 GiB.
  uint32_t resume_max_bytes = 2u << 20;
  /// Bytes of a session's first entry ring (8 bytes per held frame, rounded
  /// up to a power of two, at least 512: 64 frames); it doubles when full and
  /// is freed when the session holds no frame. Default 512 bytes.
  uint32_t first_chunk_bytes = 512;
};

}  // namespace herald::session
