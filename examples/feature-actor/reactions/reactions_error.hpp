// SPDX-License-Identifier: Apache-2.0
#pragma once
// Errors of the reactions feature (CAF error category "reactions").
// Pure functions, any thread; callers also get dispatch and CAF errors as is.
// Invariant: a refused reaction changes no count and dispatches nothing.

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace herald::reactions {

enum class reactions_errc : uint8_t {
  unknown_message = 1,  ///< no such message in that channel (or it was deleted)
  invalid_emoji = 2,    ///< empty name or longer than max_emoji_name bytes
};

caf::atom_value reactions_category() noexcept;
std::string to_string(reactions_errc x);
caf::error make_error(reactions_errc x, std::string detail = {});
bool is_error(const caf::error& err, reactions_errc x) noexcept;
/// "reactions::unknown_message: 42", else dispatch::describe(err).
std::string describe(const caf::error& err);

}  // namespace herald::reactions
