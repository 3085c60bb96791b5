// SPDX-License-Identifier: Apache-2.0
#pragma once
// The part of a session that relays write into: identity facts the relay
// filters on and the outbound buffer. Created by dispatch::open_session (before the
// session actor starts) and shared by reference count with the connection, the session
// actor and each relay partition it is subscribed through.
// Invariant: identity fields never change after construction (a session that
// re-identifies is a new session), so relays may cache them; once closed,
// nothing more is appended.

#include <cstddef>
#include <cstdint>

#include <caf/intrusive_ptr.hpp>
#include <caf/ref_counted.hpp>

#include "actors/outbound/intents.hpp"
#include "actors/outbound/outbound_buffer.hpp"

namespace herald::session {

class session_output : public caf::ref_counted {
public:
  session_output(uint64_t session_id, uint64_t user_id, intents granted,
                 const outbound_limits* limits) noexcept
      : session_id_(session_id), user_id_(user_id), granted_(granted), buffer_(limits) {}

  uint64_t session_id() const noexcept { return session_id_; }
  uint64_t user_id() const noexcept { return user_id_; }
  intents granted() const noexcept { return granted_; }
  /// The session ended: relays write nothing more to it, even events already
  /// in flight to them (they check closed() and drop the session).
  void close() noexcept { buffer_.close(); }
  bool closed() const noexcept { return buffer_.closed(); }
  outbound_buffer& buffer() noexcept { return buffer_; }
  const outbound_buffer& buffer() const noexcept { return buffer_; }

  /// Outputs live in slots of large blocks kept for this type alone
  /// (session_output.cpp), not scattered over the heap between session actors.
  /// Why: the fan-out loop touches every subscriber's output once per event;
  /// 100k outputs on 100k different pages made each delivery a TLB miss plus
  /// a page walk (perf annotate: ~40 % of a cold event on the prefetch of the
  /// output, ~60 % on its lock), and a 64-byte-aligned heap block carries up
  /// to ~80 bytes of alignment and header overhead per session.
  static void* operator new(std::size_t bytes);
  static void operator delete(void* slot, std::size_t bytes) noexcept;

private:
  const uint64_t session_id_;
  const uint64_t user_id_;
  const intents granted_;
  outbound_buffer buffer_;
};

using session_output_ptr = caf::intrusive_ptr<session_output>;

}  // namespace herald::session
