// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/errors.hpp"

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace herald::supervision {

namespace {

std::string render_context(const caf::message& msg) {
  std::string out;
  for (size_t i = 0; i < msg.size(); ++i) {
    if (!out.empty()) {
      out += ": ";
    }
    if (msg.match_element<std::string>(i)) {
      out += msg.get_as<std::string>(i);
    } else {
      out += msg.stringify(i);
    }
  }
  return out;
}

}  // namespace

caf::atom_value supervision_category() noexcept {
  return caf::atom("supervisor");
}

std::string to_string(supervision_errc x) {
  switch (x) {
    case supervision_errc::start_failed:
      return "start_failed";
    case supervision_errc::invalid_start:
      return "invalid_start";
    case supervision_errc::max_restarts_exceeded:
      return "max_restarts_exceeded";
    case supervision_errc::no_such_child:
      return "no_such_child";
    case supervision_errc::shutting_down:
      return "shutting_down";
    case supervision_errc::timeout:
      return "timeout";
  }
  return "unknown";
}

caf::error make_error(supervision_errc x, std::string detail) {
  if (detail.empty()) {
    return caf::error{static_cast<uint8_t>(x), supervision_category()};
  }
  return caf::error{static_cast<uint8_t>(x), supervision_category(),
                    caf::make_message(std::move(detail))};
}

bool is_error(const caf::error& err, supervision_errc x) noexcept {
  // An empty caf::error has no category: CAF 0.17 dereferences null there.
  return static_cast<bool>(err) && err.category() == supervision_category() &&
         err.code() == static_cast<uint8_t>(x);
}

bool is_normal_exit(const caf::error& err) noexcept {
  if (!err) {
    return true;
  }
  if (err.category() != caf::atom("exit")) {
    return false;
  }
  auto code = static_cast<caf::exit_reason>(err.code());
  return code == caf::exit_reason::normal || code == caf::exit_reason::user_shutdown;
}

std::string describe(const caf::error& err) {
  if (!err) {
    return "none";
  }
  std::string head;
  if (err.category() == caf::atom("exit")) {
    head = "exit_reason::" + caf::to_string(static_cast<caf::exit_reason>(err.code()));
  } else if (err.category() == caf::atom("system")) {
    head = "sec::" + caf::to_string(static_cast<caf::sec>(err.code()));
  } else if (err.category() == supervision_category()) {
    head = "supervisor::" + to_string(static_cast<supervision_errc>(err.code()));
  } else {
    head = caf::to_string(err.category()) + "::" + std::to_string(err.code());
  }
  auto ctx = render_context(err.context());
  return ctx.empty() ? head : head + ": " + ctx;
}

}  // namespace herald::supervision
