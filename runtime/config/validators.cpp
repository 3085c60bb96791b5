// SPDX-License-Identifier: Apache-2.0
#include "runtime/config/validators.hpp"

#include <algorithm>
#include <charconv>

namespace herald::config {

namespace {

std::string quoted(const std::string& s) {
  return render(value{s});
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? ", " : "") + items[i];
  }
  return out;
}

}  // namespace

std::optional<endpoint> parse_endpoint(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned long p = 0;
  const char* end = port.data() + port.size();
  auto [ptr, ec] = std::from_chars(port.data(), end, p);
  if (host.empty() || port.empty() || ec != std::errc{} || ptr != end || p > 65535) {
    return std::nullopt;
  }
  return endpoint{host, static_cast<uint16_t>(p)};
}

std::string to_string(const endpoint& e) {
  if (e.host.find(':') != std::string::npos) {
    return "[" + e.host + "]:" + std::to_string(e.port);
  }
  return e.host + ":" + std::to_string(e.port);
}

validator listen_address() {
  return [](const value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    if (parse_endpoint(s)) {
      return std::nullopt;
    }
    return "expected HOST:PORT, got " + quoted(s);
  };
}

validator one_of(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) {
      return std::nullopt;
    }
    return "expected one of " + joined(allowed) + ", got " + quoted(s);
  };
}

validator each_one_of(std::vector<std::string> allowed, bool non_empty) {
  return [allowed = std::move(allowed), non_empty](const value& v) -> std::optional<std::string> {
    const auto& list = std::get<string_list>(v);
    if (non_empty && list.empty()) {
      return "expected at least one of " + joined(allowed) + ", got an empty list";
    }
    for (const auto& s : list) {
      if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
        return "expected each entry to be one of " + joined(allowed) + ", got " + quoted(s);
      }
    }
    return std::nullopt;
  };
}

validator int_range(int64_t lo, int64_t hi) {
  return [lo, hi](const value& v) -> std::optional<std::string> {
    auto i = std::get<int64_t>(v);
    if (i >= lo && i <= hi) {
      return std::nullopt;
    }
    return "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
           std::to_string(i);
  };
}

std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  if (text == "0") {
    return std::chrono::seconds{0};
  }
  if (text.size() < 2 || text.size() > 12) {
    return std::nullopt;
  }
  int64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    n = n * 10 + (text[i] - '0');
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  constexpr int64_t century_s = int64_t{100} * 366 * 86400;
  if (n > century_s / unit) {
    return std::nullopt;
  }
  return std::chrono::seconds{n * unit};
}

validator duration() {
  return [](const value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    if (parse_duration(s)) {
      return std::nullopt;
    }
    return "expected 0 or a duration like 90s, 30m, 12h or 30d, got \"" + s + "\"";
  };
}

validator node_name() {
  return [](const value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    auto ok = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    };
    if (!s.empty() && std::all_of(s.begin(), s.end(), ok)) {
      return std::nullopt;
    }
    return "expected a non-empty name of letters, digits, '.', '_' or '-', got " + quoted(s);
  };
}

validator non_empty() {
  return [](const value& v) -> std::optional<std::string> {
    if (!std::get<std::string>(v).empty()) {
      return std::nullopt;
    }
    return "expected a non-empty string";
  };
}

default_fn fixed(value v) {
  return [v = std::move(v)](const config&) { return v; };
}

}  // namespace herald::config
