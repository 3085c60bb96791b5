// SPDX-License-Identifier: Apache-2.0
#include "actors/admin/request_errors.hpp"

#include <utility>

#include "actors/dispatch/commands.hpp"
#include "actors/services/dispatch_error.hpp"

namespace herald::admin {

namespace {

using node::request_error;

/// The string an error was made with ("" when it has none).
std::string detail_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (!ctx.empty() && ctx.match_element<std::string>(0)) {
    return ctx.get_as<std::string>(0);
  }
  return {};
}

/// "unknown user 42" from ("unknown user", "42"); the bare words without a detail.
std::string naming(const char* what, const std::string& detail) {
  return detail.empty() ? std::string{what} : std::string{what} + " " + detail;
}

/// A refused guild event: the guild's apply error is the detail (domain::to_string).
request_error from_invalid_event(const caf::error& err) {
  auto detail = detail_of(err);
  auto text = dispatch::describe(err);
  if (detail.find("exists") != std::string::npos) {
    return {409, "already_exists", text};
  }
  if (detail.rfind("unknown_", 0) == 0) {
    return {404, detail, text};
  }
  return {400, "bad_request", text};
}

/// What the REST mapping (dispatch::client_error_of) says of a command's error, in admin terms.
request_error from_client_error(const caf::error& err) {
  auto client = dispatch::client_error_of(err);
  switch (client.code) {
    case 10003:
      return {404, "unknown_channel", naming("unknown channel", detail_of(err))};
    case 10004:
      return {404, "unknown_guild", naming("unknown guild", detail_of(err))};
    case 10008:
      return {404, "unknown_message", naming("unknown message", detail_of(err))};
    case 10007:
      return {404, "unknown_member", naming("unknown member", detail_of(err))};
    case 10013:
      return {404, "unknown_user", naming("unknown user", detail_of(err))};
    default:
      break;
  }
  if (client.status == 403) {
    return {403, "forbidden", client.message};
  }
  if (client.status >= 500) {
    return {client.status, "internal", dispatch::describe(err)};
  }
  return {client.status, "bad_request", client.message};
}

}  // namespace

request_error bad_request(std::string message) {
  return {400, "bad_request", std::move(message)};
}

request_error from_dispatch(const caf::error& err) {
  if (dispatch::is_error(err, dispatch::dispatch_errc::invalid_event)) {
    return from_invalid_event(err);
  }
  if (dispatch::is_error(err, dispatch::dispatch_errc::store_error)) {
    return {500, "store_error", "store: " + detail_of(err)};
  }
  if (dispatch::is_retryable(err)) {
    return {503, "unavailable", dispatch::describe(err)};
  }
  return from_client_error(err);
}

request_error from_store(const store::store_error& err, caf::error if_not_found) {
  return from_dispatch(dispatch::from_store_error(err, std::move(if_not_found)));
}

request_error from_store_write(const store::store_error& err) {
  // A write's not_found (a row gone under an update) is a store failure like any other.
  return from_store(err, dispatch::make_error(dispatch::dispatch_errc::store_error,
                                              std::string{"not_found: "} + err.message_));
}

}  // namespace herald::admin
