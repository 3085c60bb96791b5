// SPDX-License-Identifier: Apache-2.0
// Renders and classifies call errors.
#include "runtime/server/call.hpp"

#include <caf/atom.hpp>
#include <caf/sec.hpp>

namespace herald::server {

std::string to_string(call_error e) {
  switch (e) {
    case call_error::timeout:
      return "timeout";
    case call_error::actor_down:
      return "actor_down";
    case call_error::unexpected_reply:
      return "unexpected_reply";
    case call_error::unhandled_request:
      return "unhandled_request";
    case call_error::actor_error:
      return "actor_error";
  }
  return "unknown_call_error";
}

call_error classify(const caf::error& err) {
  if (err == caf::sec::request_timeout) {
    return call_error::timeout;
  }
  // A request still queued when its receiver dies is bounced with
  // request_receiver_down; exit reasons (category "exit") mean the same.
  if (err == caf::sec::request_receiver_down || err.category() == caf::atom("exit")) {
    return call_error::actor_down;
  }
  if (err == caf::sec::unexpected_response) {
    return call_error::unexpected_reply;
  }
  if (err == caf::sec::unexpected_message) {
    return call_error::unhandled_request;
  }
  return call_error::actor_error;
}

}  // namespace herald::server
