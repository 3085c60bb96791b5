// SPDX-License-Identifier: Apache-2.0
// herald-bench soak-worker: one client process of the soak (protocol in soak_bench.hpp).
// Holds `connections` real WebSocket sessions on one io thread. On "churn" it drops some
// ready sessions (TCP close, no close frame: resumable) and resumes them with op 6, and
// closes others with 1000 and identifies them anew. Every session checks that `s` is
// gapless across resumes and that public messages arrive in order without holes; private
// messages (a channel its user cannot view) must never arrive.

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "tools/herald-bench/bench_client.hpp"
#include "tools/herald-bench/bench_util.hpp"
#include "tools/herald-bench/soak_bench.hpp"

namespace herald::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct soak_state;

/// One soak session; survives its connections (a resume or re-identify opens a new one).
class soak_session : public std::enable_shared_from_this<soak_session> {
public:
  soak_session(asio::io_context& io, soak_state& state) : io_(io), heartbeat_(io), state_(state) {}

  void connect();
  /// Drops the TCP connection without a close frame and resumes on a new one.
  void drop_and_resume();
  /// Closes with 1000 (ends the session) and identifies anew on a new connection.
  void close_and_reidentify();
  void stop();
  bool ready() const { return ready_ && !busy_ && !dead_ && !stopped_; }
  bool dead() const { return dead_; }
  /// Public messages this session still lacks out of `posted` (0 if it lost its history
  /// by re-identifying and has not seen a public message since).
  size_t missing_of(size_t posted) const {
    return synced_ && next_public_ < posted ? posted - next_public_ : 0;
  }

private:
  enum class next_step { identify, resume };
  void open(next_step step);
  void read_next(uint64_t gen);
  void on_message(std::string_view text);
  void on_dispatch(std::string_view text);
  void send(std::string text);
  void write_next(uint64_t gen);
  void schedule_heartbeat();
  void fail();

  asio::io_context& io_;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buffer_;
  asio::steady_timer heartbeat_;
  soak_state& state_;
  std::deque<std::string> outbox_;
  uint64_t gen_ = 0;  // bumped per connection: callbacks of an older one are ignored
  next_step step_ = next_step::identify;
  bool writing_ = false;
  bool ready_ = false;
  bool busy_ = false;       // a resume or re-identify is under way
  bool connected_ = false;  // the current connection finished its upgrade: writes may start
  bool dead_ = false;       // failed for good; counted in `closed`
  bool stopped_ = false;
  bool synced_ = true;    // next_public_ is meaningful
  bool settled_ = false;  // reported its first READY (or failure) to the state
  uint64_t heartbeat_ms_ = 41250;
  uint64_t last_s_ = 0;
  size_t next_public_ = 0;
  std::string session_id_;
};

struct soak_state {
  soak_state(const soak_worker_options& o, asio::io_context& ctx, tcp::endpoint ep)
      : opts(o), io(ctx), endpoint(ep), rng(o.seed) {}

  const soak_worker_options& opts;
  asio::io_context& io;
  tcp::endpoint endpoint;
  std::mt19937_64 rng;
  std::vector<std::shared_ptr<soak_session>> sessions;
  size_t next_to_open = 0;
  size_t in_flight = 0;
  size_t identified = 0;
  size_t failed = 0;
  size_t frames = 0;
  size_t gaps = 0;
  size_t leaked = 0;
  size_t duplicates = 0;
  size_t holes = 0;  // public messages skipped over by a later one
  size_t resumes_ok = 0;
  size_t resumes_failed = 0;
  size_t reidentifies = 0;
  size_t closed = 0;
  bool reported_ready = false;
  bool finished = false;
  std::vector<int64_t> last_ns;  // per public message: latest receive here

  void open_more() {
    while (in_flight < opts.connect_window && next_to_open < opts.connections) {
      auto s = std::make_shared<soak_session>(io, *this);
      sessions.push_back(s);
      ++next_to_open;
      ++in_flight;
      s->connect();
    }
  }
  void settled(bool ok) {
    --in_flight;
    ++(ok ? identified : failed);
    open_more();
    if (!reported_ready && identified + failed == opts.connections) {
      reported_ready = true;
      std::printf("ready %zu %zu\n", identified, failed);
      std::fflush(stdout);
    }
  }
  void public_received(size_t index) {
    ++frames;
    if (index >= last_ns.size()) {
      last_ns.resize(index + 1, 0);
    }
    last_ns[index] = std::max(last_ns[index], monotonic_ns());
  }
  void churn(size_t resumes, size_t reidentifies_wanted) {
    if (sessions.empty()) {
      return;
    }
    for (size_t i = 0, tries = 0; i < resumes + reidentifies_wanted && tries < 8 * sessions.size();
         ++tries) {
      auto& s = sessions[rng() % sessions.size()];
      if (!s->ready()) {
        continue;
      }
      if (i < resumes) {
        s->drop_and_resume();
      } else {
        s->close_and_reidentify();
      }
      ++i;
    }
  }
  void finish(size_t posted) {
    if (finished) {
      return;
    }
    finished = true;
    size_t missing = holes;
    for (auto& s : sessions) {
      if (!s->dead()) {
        missing += s->missing_of(posted);
      }
    }
    last_ns.resize(std::max(last_ns.size(), posted), 0);
    for (size_t i = 0; i < posted; ++i) {
      std::printf("recv %zu %lld\n", i, static_cast<long long>(last_ns[i]));
    }
    std::printf(
        "done frames=%zu gaps=%zu missing=%zu leaked=%zu resumes_ok=%zu resumes_failed=%zu "
        "reidentifies=%zu closed=%zu duplicates=%zu\n",
        frames, gaps, missing, leaked, resumes_ok, resumes_failed, reidentifies, closed,
        duplicates);
    std::fflush(stdout);
    for (auto& s : sessions) {
      s->stop();
    }
    io.stop();
  }
  /// True once every live session has every public message up to `posted`.
  bool caught_up(size_t posted) const {
    return std::all_of(sessions.begin(), sessions.end(),
                       [&](const auto& s) { return s->dead() || s->missing_of(posted) == 0; });
  }
};

void soak_session::connect() {
  open(next_step::identify);
}

void soak_session::open(next_step step) {
  step_ = step;
  connected_ = false;
  uint64_t gen = ++gen_;
  outbox_.clear();
  writing_ = false;
  buffer_.clear();
  ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(io_);
  ws_->read_message_max(1 << 20);
  beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds{30});
  beast::get_lowest_layer(*ws_).async_connect(
      state_.endpoint, [self = shared_from_this(), gen](beast::error_code ec) {
        if (gen != self->gen_) {
          return;
        }
        if (ec) {
          return self->fail();
        }
        beast::get_lowest_layer(*self->ws_).socket().set_option(tcp::no_delay{true});
        self->ws_->async_handshake(
            self->state_.opts.host + ":" + std::to_string(self->state_.opts.port),
            "/?v=10&encoding=json", [self, gen](beast::error_code ec2) {
              if (gen != self->gen_) {
                return;
              }
              if (ec2) {
                return self->fail();
              }
              beast::get_lowest_layer(*self->ws_).expires_never();
              self->connected_ = true;
              self->read_next(gen);
            });
      });
}

void soak_session::read_next(uint64_t gen) {
  ws_->async_read(buffer_, [self = shared_from_this(), gen](beast::error_code ec, size_t) {
    if (gen != self->gen_ || self->stopped_) {
      return;
    }
    if (ec) {
      return self->fail();
    }
    auto data = self->buffer_.cdata();
    self->on_message(std::string_view{static_cast<const char*>(data.data()), data.size()});
    self->buffer_.consume(self->buffer_.size());
    if (gen == self->gen_ && !self->dead_) {
      self->read_next(gen);
    }
  });
}

void soak_session::on_message(std::string_view text) {
  uint64_t op = 0;
  if (!find_uint(text, "\"op\":", op)) {
    return fail();
  }
  switch (op) {
    case 0:
      on_dispatch(text);
      break;
    case 1:
      send(heartbeat_frame(last_s_));
      break;
    case 9:  // invalid session: the resume failed, identify anew
      ++state_.resumes_failed;
      ++state_.reidentifies;
      last_s_ = 0;
      synced_ = false;
      step_ = next_step::identify;
      [[fallthrough]];
    case 10:
      if (op == 10) {
        heartbeat_ms_ = heartbeat_interval_of(text, heartbeat_ms_);
        schedule_heartbeat();
      }
      send(step_ == next_step::resume ? resume_frame(state_.opts.token, session_id_, last_s_)
                                      : identify_frame(state_.opts.token, "soak"));
      break;
    case 11:
      break;
    default:
      fail();
  }
}

void soak_session::on_dispatch(std::string_view text) {
  follow_seq(text, last_s_, state_.gaps);
  if (is_dispatch(text, "MESSAGE_CREATE")) {
    uint64_t index = 0;
    if (find_uint(text, "\"content\":\"soak-pub ", index)) {
      if (!synced_) {
        synced_ = true;
        next_public_ = index;
      }
      if (index < next_public_) {
        ++state_.duplicates;
      } else {
        // A hole can never be filled later (delivery is in order): count it now.
        state_.holes += index - next_public_;
        next_public_ = index + 1;
        state_.public_received(index);
      }
    } else if (text.find("\"content\":\"soak-priv ") != std::string_view::npos) {
      ++state_.leaked;
    }
  } else if (is_dispatch(text, "READY")) {
    auto ready = nlohmann::json::parse(text, nullptr, false);
    if (ready.is_discarded() || ready["d"]["guilds"].empty()) {
      return fail();
    }
    session_id_ = ready["d"]["session_id"].get<std::string>();
    ready_ = true;
    busy_ = false;
    if (!settled_) {
      settled_ = true;
      state_.settled(true);
    }
  } else if (is_dispatch(text, "RESUMED")) {
    ++state_.resumes_ok;
    busy_ = false;
  }
}

void soak_session::drop_and_resume() {
  busy_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(*ws_).socket().close(ignored);
  open(next_step::resume);
}

void soak_session::close_and_reidentify() {
  busy_ = true;
  connected_ = false;
  ++state_.reidentifies;
  uint64_t gen = ++gen_;  // the old connection's reads are ignored from here
  auto old = std::shared_ptr<websocket::stream<beast::tcp_stream>>(std::move(ws_));
  old->async_close(websocket::close_code::normal,
                   [self = shared_from_this(), old, gen](beast::error_code) {
                     if (gen != self->gen_ || self->stopped_) {
                       return;
                     }
                     self->last_s_ = 0;
                     self->synced_ = false;
                     self->open(next_step::identify);
                   });
  ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(io_);  // placeholder until open
}

void soak_session::send(std::string text) {
  outbox_.push_back(std::move(text));
  if (!writing_) {
    write_next(gen_);
  }
}

void soak_session::write_next(uint64_t gen) {
  if (outbox_.empty() || dead_ || gen != gen_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_->text(true);
  ws_->async_write(asio::buffer(outbox_.front()),
                   [self = shared_from_this(), gen](beast::error_code ec, size_t) {
                     if (gen != self->gen_) {
                       return;
                     }
                     self->outbox_.pop_front();
                     if (ec) {
                       return self->fail();
                     }
                     self->write_next(gen);
                   });
}

void soak_session::schedule_heartbeat() {
  heartbeat_.expires_after(std::chrono::milliseconds{heartbeat_ms_});
  heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->dead_ || self->stopped_) {
      return;
    }
    // Between connections (a resume or re-identify under way) there is nothing to write
    // to: the next Hello restarts the heartbeat on the new connection.
    if (self->connected_) {
      self->send(heartbeat_frame(self->last_s_));
    }
    self->schedule_heartbeat();
  });
}

void soak_session::fail() {
  if (dead_ || stopped_) {
    return;
  }
  dead_ = true;
  heartbeat_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(*ws_).socket().close(ignored);
  if (!settled_) {
    settled_ = true;
    state_.settled(false);
  } else {
    ++state_.closed;
  }
}

void soak_session::stop() {
  stopped_ = true;
  heartbeat_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(*ws_).socket().close(ignored);
}

}  // namespace

std::string soak_public_content(size_t i) {
  return "soak-pub " + std::to_string(i);
}

std::string soak_private_content(size_t i) {
  return "soak-priv " + std::to_string(i);
}

int run_soak_worker(const soak_worker_options& opts) {
  asio::io_context io{1};
  soak_state state{opts, io, tcp::endpoint{asio::ip::make_address(opts.host), opts.port}};
  state.sessions.reserve(opts.connections);
  asio::steady_timer catch_up{io};
  size_t posted = 0;  // written by the stdin reader before on_stdin_end is posted
  worker_loop loop;
  loop.name = "soak-worker";
  loop.timeout_s = opts.timeout_s;
  loop.begin = [&] { state.open_more(); };
  loop.on_line = [&](const std::string& line) {
    size_t a = 0;
    size_t b = 0;
    if (std::sscanf(line.c_str(), "churn %zu %zu", &a, &b) == 2) {
      asio::post(io, [&state, a, b] { state.churn(a, b); });
    } else if (std::sscanf(line.c_str(), "stop %zu", &posted) == 1) {
      return false;
    }
    return true;
  };
  // Frames still in flight get up to 20 s to arrive before the final check.
  loop.on_stdin_end = [&] {
    auto deadline = monotonic_ns() + 20'000'000'000LL;
    auto check = std::make_shared<std::function<void()>>();
    *check = [&, deadline, check] {
      if (state.caught_up(posted) || monotonic_ns() > deadline) {
        return state.finish(posted);
      }
      catch_up.expires_after(std::chrono::milliseconds{100});
      catch_up.async_wait([check](beast::error_code) { (*check)(); });
    };
    (*check)();
  };
  loop.on_timeout = [&] { state.finish(0); };
  run_worker_loop(io, loop);
}

void add_soak_worker_command(CLI::App& app) {
  auto opts = std::make_shared<soak_worker_options>();
  auto* cmd = app.add_subcommand("soak-worker", "Client process of `herald-bench soak`");
  cmd->group("");
  cmd->add_option("--host", opts->host);
  cmd->add_option("--port", opts->port)->required();
  cmd->add_option("--token", opts->token)->required();
  cmd->add_option("--connections", opts->connections)->required();
  cmd->add_option("--timeout", opts->timeout_s);
  cmd->add_option("--seed", opts->seed);
  cmd->callback([opts] { std::exit(run_soak_worker(*opts)); });
}

}  // namespace herald::bench
