// SPDX-License-Identifier: Apache-2.0
#pragma once
// Turns store.postgres_url (a libpq URI or key=value string) and a password read from a file
// into the key=value connection string libpq gets, and a password-free description for logs.
// Pure functions, any thread.
// Invariant: the password is never part of description(), and never parsed from the URL's
// text by us (libpq parses the URL; we only append our keys, quoted).

#include <string>

#include "actors/store/result.hpp"

namespace herald::store::detail {

/// Seconds libpq waits for a connection when the URL sets no connect_timeout: a reconnect
/// attempt is bounded even when the server's host does not answer.
constexpr int default_connect_timeout_s = 3;

struct pg_conninfo {
  std::string conninfo_;     ///< for PQconnectdb / pqxx::connection (may hold the password)
  std::string description_;  ///< "host:port/dbname as user", no password
};

/// Errors: invalid_argument with libpq's parse message (e.g. "invalid URI query parameter").
result<pg_conninfo> make_conninfo(const std::string& url, const std::string& password);

}  // namespace herald::store::detail
