// SPDX-License-Identifier: Apache-2.0
#pragma once
// A feature's own CAF error category in three lines: an enum of uint8_t codes, its names, and
// how REST shows each (Discord status, code, message). Pure, any thread. Errors of other
// categories (dispatch, CAF) pass through describe() and client_error_of() unchanged.
//
//   enum class pins_errc : uint8_t { too_many = 1 };
//   const feature::error_category<pins_errc> pins_errors{
//       caf::atom("pins"), "pins", [](pins_errc) { return "too_many"; },
//       [](pins_errc) { return dispatch::client_error{400, 30003, "Maximum pins reached", {}}; }};

#include <cstdint>
#include <string>
#include <utility>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/services/dispatch_error.hpp"

namespace herald::feature {

template <class Errc>
struct error_category {
  caf::atom_value atom;  ///< the CAF category, e.g. caf::atom("reactions")
  const char* prefix;    ///< describe()'s "<prefix>::<name>"
  const char* (*name_of)(Errc);
  dispatch::client_error (*client_error_of)(Errc);

  caf::error make(Errc x, std::string detail = {}) const {
    if (detail.empty()) {
      return caf::error{static_cast<uint8_t>(x), atom};
    }
    return caf::error{static_cast<uint8_t>(x), atom, caf::make_message(std::move(detail))};
  }

  bool is(const caf::error& err, Errc x) const noexcept {
    return static_cast<bool>(err) && err.category() == atom &&
           err.code() == static_cast<uint8_t>(x);
  }

  /// "reactions::invalid_emoji: detail"; errors of other categories as dispatch::describe.
  std::string describe(const caf::error& err) const {
    if (!err || err.category() != atom) {
      return dispatch::describe(err);
    }
    std::string out = std::string{prefix} + "::" + name_of(static_cast<Errc>(err.code()));
    const auto& ctx = err.context();
    if (!ctx.empty() && ctx.match_element<std::string>(0)) {
      out += ": " + ctx.get_as<std::string>(0);
    }
    return out;
  }

  /// How a client API shows `err`: this category's mapping, else dispatch::client_error_of.
  dispatch::client_error client_error(const caf::error& err) const {
    if (err && err.category() == atom) {
      return client_error_of(static_cast<Errc>(err.code()));
    }
    return dispatch::client_error_of(err);
  }
};

}  // namespace herald::feature
