// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one mapping from libpqxx exceptions (SQLSTATE codes) to store errors for postgres_store.
// Pure functions, any thread; call classify_current() only inside a catch block.
// Invariant: a lost connection is always reported with lost_ set, so the caller drops it; only a
// loss during COMMIT is in_doubt.

#include <string>
#include <string_view>

#include "actors/store/result.hpp"

namespace herald::store::detail {

struct pg_failure {
  store_error error_;
  bool lost_ = false;  ///< the connection is gone: drop it and reconnect before the next use
};

/// Maps a SQLSTATE to a store error code: 23xxx constraint; 40xxx (serialization failure,
/// deadlock), 08xxx, 57P0x (shutdown), 53xxx but 53100, 55P03, 57014 busy; 53100 io_error;
/// 22xxx (bad data, e.g. a NUL byte in text) invalid_argument; anything else internal.
store_errc errc_of_sqlstate(std::string_view sqlstate);

/// True when the SQLSTATE says the connection is gone (08xxx, 57P01-57P03: server shutting
/// down or the backend terminated).
bool means_connection_lost(std::string_view sqlstate);

/// True when the SQLSTATE concerns only the statement's own data (a failed batch), not the
/// transaction or the connection (23xxx, 22xxx, and other non-transient classes).
bool is_statement_failure(std::string_view sqlstate);

/// The exception being handled, as a store error; `what` names the call (e.g. "apply").
pg_failure classify_current(std::string_view what);

}  // namespace herald::store::detail
