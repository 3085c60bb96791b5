// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_errors.hpp"

#include <pqxx/except>

namespace herald::store::detail {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// a store error is one line.
std::string trimmed(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) {
      continue;
    }
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

}  // namespace

bool means_connection_lost(std::string_view state) {
  return starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03";
}

store_errc errc_of_sqlstate(std::string_view state) {
  if (starts_with(state, "23")) {
    return store_errc::constraint;
  }
  if (starts_with(state, "22")) {
    return store_errc::invalid_argument;
  }
  if (state == "53100") {
    return store_errc::io_error;  // disk full
  }
  if (starts_with(state, "40") || starts_with(state, "53") || means_connection_lost(state) ||
      state == "55P03" || state == "57014") {
    return store_errc::busy;
  }
  return store_errc::internal;
}

bool is_statement_failure(std::string_view state) {
  return starts_with(state, "23") || starts_with(state, "22");
}

pg_failure classify_current(std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    return {{store_errc::in_doubt,
             prefix + "connection lost during COMMIT, outcome unknown: " + trimmed(e.what())},
            true};
  } catch (const pqxx::broken_connection& e) {
    return {{store_errc::busy, prefix + "connection lost or refused: " + trimmed(e.what())}, true};
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    return {{errc_of_sqlstate(state), prefix + trimmed(e.what()) + " (SQLSTATE " + state + ")"},
            means_connection_lost(state)};
  } catch (const std::exception& e) {
    return {{store_errc::internal, prefix + trimmed(e.what())}, false};
  }
}

}  // namespace herald::store::detail
