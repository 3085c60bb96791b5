// SPDX-License-Identifier: Apache-2.0
#include "actors/rest/message_decorator.hpp"

namespace herald::rest {

void splice_members(std::string& object, const std::string& members) {
  if (members.empty() || object.size() < 2 || object.back() != '}') {
    return;
  }
  object.pop_back();
  if (object.back() != '{') {
    object.push_back(',');
  }
  object += members;
  object.push_back('}');
}

}  // namespace herald::rest
