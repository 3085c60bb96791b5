// SPDX-License-Identifier: Apache-2.0
#pragma once
// postgres_store's read connections: a fixed number of connection slots (store.postgres_readers),
// so that reads from several threads (guild starts on every scheduler thread, REST handlers,
// gateway identifies) run on the server in parallel instead of queueing behind one round trip
// after another.
// Thread-safety: any thread. A call leases one free slot for its whole duration (the slot is
// then used by that thread alone, so it needs no mutex of its own) and hands it back at the end;
// when every slot is leased it waits on a condition variable, at most `wait_bound`, then fails
// `busy` (retryable) rather than blocking its caller without bound.
// Invariant: a slot index is either in free_ or leased to exactly one call. Free slots are reused
// last-in first-out, so a lightly loaded node keeps using the same warm connection(s).
// Each slot keeps the single reader's reconnect policy (connection_slot::run): a lost connection
// is dropped and reopened by that slot alone; the other slots keep theirs.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "actors/store/detail/pg_connection.hpp"

namespace herald::store {

namespace detail {
/// Session settings of every reader connection: each transaction, including the implicit one
/// of a multi-statement query (load_guild's pipeline), reads one snapshot and writes nothing.
inline constexpr const char* reader_session_sql =
    "SET default_transaction_isolation TO 'repeatable read'; "
    "SET default_transaction_read_only TO on";
}  // namespace detail

class postgres_store::reader_pool {
public:
  /// `slots` are the connections (at least one), connected or not (a slot connects on use).
  reader_pool(std::vector<std::unique_ptr<connection_slot>> slots,
              std::chrono::milliseconds wait_bound);

  /// Runs body(connection) on a free slot (see connection_slot::run for the retry policy).
  /// Error: busy when no slot came free within the wait bound; else the body's or the
  /// connection's error.
  template <class T, class Body>
  result<T> run(std::string_view what, Body&& body) {
    auto leased = acquire(what);
    if (!leased) {
      return leased.error();
    }
    const std::size_t index = leased.value();
    struct release_on_exit {
      reader_pool& pool_;
      std::size_t index_;
      ~release_on_exit() { pool_.release(index_); }
    } release{*this, index};
    return slots_[index]->template run<T>(what, std::forward<Body>(body));
  }

  std::size_t size() const { return slots_.size(); }

private:
  result<std::size_t> acquire(std::string_view what);
  void release(std::size_t index);

  const std::vector<std::unique_ptr<connection_slot>> slots_;
  const std::chrono::milliseconds wait_bound_;
  std::mutex mutex_;               // guards free_
  std::condition_variable freed_;  // signalled when a slot is released
  std::vector<std::size_t> free_;  // indexes of the slots no call holds
};

}  // namespace herald::store
