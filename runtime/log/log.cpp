// SPDX-License-Identifier: Apache-2.0
#include "runtime/log/log.hpp"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "runtime/config/validators.hpp"
#include "runtime/log/escape.hpp"

namespace herald::log {

namespace {

// One JSON object per line. spdlog's pattern formatter cannot escape the
// message, so this formatter writes the object by hand.
class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(msg.time);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time - secs).count();
    std::time_t t = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    append(dest, "{\"ts\":\"");
    append(dest, ts);
    append(dest, "\",\"level\":\"");
    auto level = spdlog::level::to_string_view(msg.level);
    dest.append(level.data(), level.data() + level.size());
    append(dest, "\",\"logger\":\"");
    escape(dest, std::string_view{msg.logger_name.data(), msg.logger_name.size()});
    append(dest, "\",\"msg\":\"");
    escape(dest, std::string_view{msg.payload.data(), msg.payload.size()});
    append(dest, "\"}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }

private:
  static void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
  }

  static void escape(spdlog::memory_buf_t& dest, std::string_view s) {
    for (char c : s) {
      switch (c) {
        case '"':
          append(dest, "\\\"");
          break;
        case '\\':
          append(dest, "\\\\");
          break;
        case '\n':
          append(dest, "\\n");
          break;
        case '\r':
          append(dest, "\\r");
          break;
        case '\t':
          append(dest, "\\t");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            append(dest, buf);
          } else {
            dest.push_back(c);
          }
      }
    }
  }
};

// The text line: the message's control characters escaped (escape.hpp), so text that came
// from users (names, contents, paths) can neither forge a log line nor reach the terminal as
// an escape sequence, whichever call site logged it.
class text_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload{msg.payload.data(), msg.payload.size()};
    if (!needs_escaping(payload)) {
      pattern_.format(msg, dest);
      return;
    }
    std::string escaped = escape_controls(payload);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t{escaped.data(), escaped.size()};
    pattern_.format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<text_formatter>();
  }

private:
  spdlog::pattern_formatter pattern_{"%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v",
                                     spdlog::pattern_time_type::utc};
};

struct shared_state {
  shared_state() { sink->set_formatter(make_formatter(format::text)); }

  std::mutex mutex;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  format fmt = format::text;
};

shared_state& state() {
  static shared_state s;
  return s;
}

}  // namespace

std::unique_ptr<spdlog::formatter> make_formatter(format f) {
  if (f == format::json) {
    return std::make_unique<json_formatter>();
  }
  return std::make_unique<text_formatter>();
}

void register_config_keys(config::schema& s) {
  s.add({"log.level", config::value_type::string,
         "Minimum level written: trace, debug, info, warn, error, critical or off.", "`info`",
         config::fixed(std::string{"info"}),
         config::one_of({"trace", "debug", "info", "warn", "error", "critical", "off"})});
  s.add({"log.format", config::value_type::string,
         "Log line format: `text` for humans, `json` for one JSON object per line.", "`text`",
         config::fixed(std::string{"text"}), config::one_of({"text", "json"})});
}

void setup(std::string_view level, format f) {
  auto& st = state();
  std::lock_guard<std::mutex> guard{st.mutex};
  st.level = spdlog::level::from_str(std::string{level});
  st.fmt = f;
  st.sink->set_formatter(make_formatter(f));
  auto main_logger = std::make_shared<spdlog::logger>("herald", st.sink);
  main_logger->set_level(st.level);
  spdlog::set_default_logger(main_logger);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(st.level); });
}

void setup(const config::config& cfg) {
  setup(cfg.get_string("log.level"),
        cfg.get_string("log.format") == "json" ? format::json : format::text);
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  auto& st = state();
  std::lock_guard<std::mutex> guard{st.mutex};
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  auto l = std::make_shared<spdlog::logger>(name, st.sink);
  l->set_level(st.level);
  spdlog::register_logger(l);
  return l;
}

}  // namespace herald::log
