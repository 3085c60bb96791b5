// SPDX-License-Identifier: Apache-2.0
#include "features/reactions/reactions_error.hpp"

#include "actors/feature/error_category.hpp"

namespace herald::reactions {

namespace {

const char* name_of(reactions_errc x) {
  switch (x) {
    case reactions_errc::unknown_message:
      return "unknown_message";
    case reactions_errc::invalid_emoji:
      return "invalid_emoji";
  }
  return "unknown";
}

dispatch::client_error rest_error_of(reactions_errc x) {
  if (x == reactions_errc::unknown_message) {
    return {404, 10008, "Unknown Message", std::nullopt};
  }
  return {400, 10014, "Unknown Emoji", std::nullopt};
}

const feature::error_category<reactions_errc> category{caf::atom("reactions"), "reactions", name_of,
                                                       rest_error_of};

}  // namespace

caf::error make_error(reactions_errc x, std::string detail) {
  return category.make(x, std::move(detail));
}

bool is_error(const caf::error& err, reactions_errc x) noexcept {
  return category.is(err, x);
}

std::string describe(const caf::error& err) {
  return category.describe(err);
}

dispatch::client_error client_error_of(const caf::error& err) {
  return category.client_error(err);
}

}  // namespace herald::reactions
