// SPDX-License-Identifier: Apache-2.0
#include "actors/rest/message_decorator.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace herald::rest {
namespace {

// One top-level member of a JSON object: its key (without quotes, escapes kept) and where its
// value starts and ends in the text.
struct member_span {
  std::string_view key;
  size_t value_begin = 0;
  size_t value_end = 0;
};

// The end of the string token starting at text[i] == '"' (one past its closing quote).
size_t skip_string(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return text.size();
}

// The top-level members of `text`, the inside of an object without its braces, as the
// encoders write it (no whitespace between tokens). Scanning stops at anything else.
std::vector<member_span> top_level_members(std::string_view text, size_t offset) {
  std::vector<member_span> out;
  size_t i = 0;
  while (i < text.size() && text[i] == '"') {
    const size_t key_end = skip_string(text, i);
    if (key_end >= text.size() || text[key_end] != ':') {
      break;
    }
    member_span m;
    m.key = text.substr(i + 1, key_end - i - 2);
    m.value_begin = key_end + 1;
    int depth = 0;
    size_t j = m.value_begin;
    for (; j < text.size(); ++j) {
      const char c = text[j];
      if (c == '"') {
        j = skip_string(text, j) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    m.value_end = j;
    m.value_begin += offset;
    m.value_end += offset;
    out.push_back(m);
    i = j + 1;
  }
  return out;
}

}  // namespace

void splice_members(std::string& object, const std::string& members) {
  if (members.empty() || object.size() < 2 || object.front() != '{' || object.back() != '}') {
    return;
  }
  const auto existing = top_level_members(std::string_view{object}.substr(1, object.size() - 2), 1);
  std::string appended;
  // Values replaced from the last to the first keep the earlier spans valid.
  std::vector<std::pair<const member_span*, std::string_view>> replaced;
  for (const auto& m : top_level_members(members, 0)) {
    const std::string_view value =
        std::string_view{members}.substr(m.value_begin, m.value_end - m.value_begin);
    const member_span* same = nullptr;
    for (const auto& e : existing) {
      if (e.key == m.key) {
        same = &e;
      }
    }
    if (same != nullptr) {
      replaced.emplace_back(same, value);
    } else {
      appended += (appended.empty() ? "" : ",");
      appended.append(members, m.value_begin - m.key.size() - 3,
                      m.value_end - (m.value_begin - m.key.size() - 3));
    }
  }
  std::sort(replaced.begin(), replaced.end(), [](const auto& a, const auto& b) {
    return a.first->value_begin < b.first->value_begin;
  });
  for (auto it = replaced.rbegin(); it != replaced.rend(); ++it) {
    object.replace(it->first->value_begin, it->first->value_end - it->first->value_begin,
                   it->second);
  }
  if (appended.empty()) {
    return;
  }
  object.pop_back();
  if (object.back() != '{') {
    object.push_back(',');
  }
  object += appended;
  object.push_back('}');
}

}  // namespace herald::rest
