// SPDX-License-Identifier: Apache-2.0
#include "actors/services/store_error_mapping.hpp"

#include <string>

#include "actors/services/dispatch_error.hpp"

namespace herald::dispatch {

caf::error from_store_error(const store::store_error& err, caf::error if_not_found) {
  if (err.code_ == store::store_errc::not_found) {
    return if_not_found;
  }
  if (err.retryable()) {
    // busy: the store (or its writer queue) is saturated, not broken; the caller may retry.
    return make_error(dispatch_errc::unavailable,
                      std::string{"store "} + store::to_string(err.code_) + ": " + err.message_);
  }
  return make_error(dispatch_errc::store_error,
                    std::string{store::to_string(err.code_)} + ": " + err.message_);
}

caf::error from_commit_error(const store::store_error& err) {
  if (err.code_ == store::store_errc::fenced) {
    // Another node took the guild: nothing was written; the producer retries and reaches the
    // new owner.
    return make_error(dispatch_errc::unavailable,
                      std::string{store::to_string(err.code_)} + ": " + err.message_);
  }
  if (err.code_ == store::store_errc::in_doubt) {
    return make_error(dispatch_errc::store_error,
                      std::string{store::to_string(err.code_)} + ": " + err.message_);
  }
  return make_error(dispatch_errc::persist_failed, err.message_);
}

}  // namespace herald::dispatch
