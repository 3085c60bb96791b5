// SPDX-License-Identifier: Apache-2.0
#include "examples/feature-actor/reactions/reactions_error.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "actors/services/dispatch_error.hpp"

namespace herald::reactions {

caf::atom_value reactions_category() noexcept {
  return caf::atom("reactions");
}

std::string to_string(reactions_errc x) {
  switch (x) {
    case reactions_errc::unknown_message:
      return "unknown_message";
    case reactions_errc::invalid_emoji:
      return "invalid_emoji";
  }
  return "unknown";
}

caf::error make_error(reactions_errc x, std::string detail) {
  if (detail.empty()) {
    return caf::error{static_cast<uint8_t>(x), reactions_category()};
  }
  return caf::error{static_cast<uint8_t>(x), reactions_category(),
                    caf::make_message(std::move(detail))};
}

bool is_error(const caf::error& err, reactions_errc x) noexcept {
  return static_cast<bool>(err) && err.category() == reactions_category() &&
         err.code() == static_cast<uint8_t>(x);
}

std::string describe(const caf::error& err) {
  if (!err || err.category() != reactions_category()) {
    return dispatch::describe(err);
  }
  std::string out = "reactions::" + to_string(static_cast<reactions_errc>(err.code()));
  const auto& ctx = err.context();
  if (!ctx.empty() && ctx.match_element<std::string>(0)) {
    out += ": " + ctx.get_as<std::string>(0);
  }
  return out;
}

}  // namespace herald::reactions
