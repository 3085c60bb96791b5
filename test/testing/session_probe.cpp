// SPDX-License-Identifier: Apache-2.0
#include "test/testing/session_probe.hpp"

#include <string_view>
#include <thread>

#include <caf/send.hpp>

#include "actors/session/session_actor.hpp"

namespace herald::testing {

// The connection side of the buffer; the probe polls instead of waking up.
class session_probe::listener final : public session::outbound_listener {
public:
  void on_frames_ready() noexcept override {}
  void on_overflow() noexcept override {}
};

session_probe::session_probe(dispatch::opened_session opened)
    : opened_(std::move(opened)), listener_(std::make_unique<listener>()) {
  opened_.output->buffer().attach(listener_.get());
}

session_probe::~session_probe() {
  opened_.output->buffer().detach();
  if (opened_.actor) {
    caf::anon_send(opened_.actor, session::close_atom::value);
  }
}

size_t session_probe::drain() {
  session::outbound_batch batch;
  opened_.output->buffer().collect(batch);
  size_t added = 0;
  batch.for_each_frame([&](std::string_view frame) {
    frames_.push_back(json::parse(frame));
    ++added;
  });
  return added;
}

bool session_probe::drain_until(const std::function<bool(const std::vector<json>&)>& done,
                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    drain();
    if (done(frames_)) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
}

std::optional<session_probe::json> session_probe::wait_for(
    const std::string& type, const std::function<bool(const json&)>& match,
    std::chrono::milliseconds timeout) {
  std::optional<json> found;
  drain_until(
      [&](const std::vector<json>& frames) {
        for (const auto& f : frames) {
          if (f.value("t", json{}) == type && (!match || match(f.at("d")))) {
            found = f;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::vector<session_probe::json> session_probe::of_type(const std::string& type) const {
  std::vector<json> out;
  for (const auto& f : frames_) {
    if (f.value("t", json{}) == type) {
      out.push_back(f);
    }
  }
  return out;
}

}  // namespace herald::testing
