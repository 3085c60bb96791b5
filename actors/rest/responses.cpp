// SPDX-License-Identifier: Apache-2.0
#include "actors/rest/responses.hpp"

namespace herald::rest {

net::http_response json_response(unsigned status, std::string body) {
  net::http_response r;
  r.status = status;
  r.content_type = json_type;
  r.body = std::move(body);
  return r;
}

net::http_response json_response(unsigned status, const nlohmann::json& body) {
  return json_response(status, body.dump());
}

net::http_response error_response(unsigned status, int code, const std::string& message,
                                  const nlohmann::json* errors) {
  nlohmann::json body{{"message", message}, {"code", code}};
  if (errors != nullptr) {
    body["errors"] = *errors;
  }
  return json_response(status, body);
}

net::http_response unauthorized() {
  return error_response(401, 0, "401: Unauthorized");
}

net::http_response unavailable(int retry_after_s) {
  auto r = error_response(503, 0, "503: Service Unavailable");
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

net::http_response from_client_error(const dispatch::client_error& e) {
  auto r = error_response(e.status, e.code, e.message);
  if (e.retry_after_s) {
    r.headers.emplace_back("Retry-After", std::to_string(*e.retry_after_s));
  }
  return r;
}

net::http_response no_content() {
  net::http_response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace herald::rest
