// SPDX-License-Identifier: Apache-2.0
#pragma once
// Errors of the reactions feature (CAF error category "reactions"), built on
// feature::error_category. Pure functions, any thread; callers also get
// dispatch and CAF errors as is.
// Invariant: a refused reaction changes no count and dispatches nothing.

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "actors/dispatch/commands.hpp"

namespace herald::reactions {

enum class reactions_errc : uint8_t {
  unknown_message = 1,  ///< no such message in that channel (or it was deleted): 404 10008
  invalid_emoji = 2,    ///< empty name or longer than max_emoji_name bytes: 400 10014
};

caf::error make_error(reactions_errc x, std::string detail = {});
bool is_error(const caf::error& err, reactions_errc x) noexcept;
/// "reactions::unknown_message: 42", else dispatch::describe(err).
std::string describe(const caf::error& err);
/// How REST answers `err` (this category's codes, else dispatch::client_error_of).
dispatch::client_error client_error_of(const caf::error& err);

}  // namespace herald::reactions
