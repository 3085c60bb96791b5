// SPDX-License-Identifier: Apache-2.0
#include "actors/services/dispatch_error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

#include "runtime/registry/ensure_started.hpp"
#include "runtime/supervision/errors.hpp"

namespace herald::dispatch {

caf::atom_value dispatch_category() noexcept {
  return caf::atom("dispatch");
}

std::string to_string(dispatch_errc x) {
  switch (x) {
    case dispatch_errc::unknown_guild:
      return "unknown_guild";
    case dispatch_errc::not_member:
      return "not_member";
    case dispatch_errc::invalid_event:
      return "invalid_event";
    case dispatch_errc::persist_failed:
      return "persist_failed";
    case dispatch_errc::unavailable:
      return "unavailable";
    case dispatch_errc::already_started:
      return "already_started";
    case dispatch_errc::store_error:
      return "store_error";
    case dispatch_errc::missing_permission:
      return "missing_permission";
    case dispatch_errc::unknown_message:
      return "unknown_message";
    case dispatch_errc::missing_access:
      return "missing_access";
    case dispatch_errc::not_author:
      return "not_author";
    case dispatch_errc::unknown_user:
      return "unknown_user";
    case dispatch_errc::unknown_member:
      return "unknown_member";
  }
  return "unknown";
}

caf::error make_error(dispatch_errc x, std::string detail) {
  if (detail.empty()) {
    return caf::error{static_cast<uint8_t>(x), dispatch_category()};
  }
  return caf::error{static_cast<uint8_t>(x), dispatch_category(),
                    caf::make_message(std::move(detail))};
}

bool is_error(const caf::error& err, dispatch_errc x) noexcept {
  // An empty caf::error has no category (CAF 0.17 dereferences null).
  return static_cast<bool>(err) && err.category() == dispatch_category() &&
         err.code() == static_cast<uint8_t>(x);
}

bool is_retryable(const caf::error& err) noexcept {
  if (!err) {
    return false;
  }
  if (err.category() == dispatch_category()) {
    auto code = static_cast<dispatch_errc>(err.code());
    return code == dispatch_errc::persist_failed || code == dispatch_errc::unavailable;
  }
  if (err.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(err.code());
    return code == caf::sec::request_timeout || code == caf::sec::request_receiver_down;
  }
  return false;
}

caf::error from_start_error(caf::error err) {
  if (err && err.category() == registry::start_category()) {
    const auto& ctx = err.context();
    std::string detail = registry::to_string(static_cast<registry::start_errc>(err.code()));
    if (!ctx.empty() && ctx.match_element<std::string>(0)) {
      detail += ": " + ctx.get_as<std::string>(0);
    }
    return make_error(dispatch_errc::unavailable, std::move(detail));
  }
  return err;
}

std::string describe(const caf::error& err) {
  if (!err || err.category() != dispatch_category()) {
    return supervision::describe(err);
  }
  std::string out = "dispatch::" + to_string(static_cast<dispatch_errc>(err.code()));
  const auto& ctx = err.context();
  if (!ctx.empty() && ctx.match_element<std::string>(0)) {
    out += ": " + ctx.get_as<std::string>(0);
  }
  return out;
}

}  // namespace herald::dispatch
