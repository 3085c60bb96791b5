// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/request_error.hpp"

#include <nlohmann/json.hpp>

namespace herald::node {

net::http_response error_response(const request_error& e) {
  nlohmann::json body{{"error", e.message}, {"code", e.code}};
  // replace: a message quoting bad input must not make the body invalid UTF-8 (dump throws).
  return {e.status,
          "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
          {{"Cache-Control", "no-store"}}};
}

}  // namespace herald::node
