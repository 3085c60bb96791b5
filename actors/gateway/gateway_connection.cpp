// SPDX-License-Identifier: Apache-2.0
#include "actors/gateway/gateway_connection.hpp"

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/dispatch/session_migration.hpp"
#include "actors/encoding/encode.hpp"
#include "actors/gateway/detail/gateway_context.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/store_error_mapping.hpp"
#include "actors/session/session_actor.hpp"
#include "runtime/base/thread_role.hpp"

namespace herald::gateway {

namespace {

time_point now() {
  return std::chrono::steady_clock::now();
}

inbound_error to_inbound(net::ws_error e) {
  switch (e) {
    case net::ws_error::message_too_big:
      return inbound_error::too_big;
    case net::ws_error::binary_message:
      return inbound_error::binary;
    case net::ws_error::bad_frame:
      return inbound_error::bad_frame;
  }
  return inbound_error::bad_frame;
}

/// Parses READY's session_id (16 hex digits).
std::optional<uint64_t> parse_session_id(const std::string& text) {
  if (text.empty() || text.size() > 16) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

/// An async session result on its way to the connection's strand. If the post is dropped
/// (the connection ended first) or the result is not taken, the destructor leaves the
/// session as it should be without a connection: `Atom` (close for a fresh Identify, none
/// for a Resume, whose session was never marked connected by it).
struct pending_session {
  caf::expected<dispatch::opened_session> result{caf::error{}};
  bool close_if_unused = false;
  bool taken = false;

  ~pending_session() {
    if (!taken && close_if_unused && result) {
      caf::anon_send(result->actor, session::close_atom::value);
    }
  }
};

/// Per io thread scratch of the dispatch writer: the batch collected for the write in
/// progress and its gather list. A write that completes inside write_parts_now leaves them
/// here for the next connection; one that is queued takes the batch along as its keepalive.
struct write_scratch {
  std::shared_ptr<session::outbound_batch> batch;
  std::vector<std::string_view> views;  // prefix, tail per frame
  std::vector<uint32_t> pieces;         // 2 per frame
};
thread_local write_scratch tl_scratch;

/// Frames deflated for one write (compress=zlib-stream): owns the bytes the views point to.
struct deflated_batch {
  std::vector<std::string> messages;
};

}  // namespace

gateway_connection::gateway_connection(std::shared_ptr<detail::gateway_context> ctx,
                                       net::ws_connection_ptr conn)
    : ctx_(std::move(ctx)), conn_(std::move(conn)), proto_(ctx_->opts), timer_(conn_->executor()) {}

gateway_connection::~gateway_connection() = default;

void gateway_connection::start() {
  auto self = shared_from_this();
  // Open the protocol (Hello) before reading starts: both run on the strand in post order,
  // and a frame the client sent right behind its handshake would otherwise reach on_text
  // while the protocol is still `connecting`, which drops it.
  conn_->post([self] {
    auto acts = self->proto_.on_open(self->conn_->upgrade_request().query, now());
    self->conn_->release_upgrade_request();  // the query was all the gateway needed
    if (self->proto_.zlib_stream()) {
      self->deflater_ = std::make_unique<net::zlib_stream_deflater>();
    }
    self->execute(std::move(acts));
    self->arm_timer();
  });
  conn_->start(self);
}

void gateway_connection::drain() {
  if (drain_told_.exchange(true)) {
    return;  // told once: a node drain's pacing and then a shutdown do not repeat op 7
  }
  auto self = shared_from_this();
  conn_->post([self] {
    self->execute(self->proto_.on_drain());
    auto timer = std::make_shared<boost::asio::steady_timer>(self->conn_->executor());
    timer->expires_after(self->ctx_->opts.drain_close_delay);
    timer->async_wait([self, timer](const boost::system::error_code&) {
      self->execute(self->proto_.close_resumable());
    });
  });
}

void gateway_connection::revoke_user(uint64_t user_id) {
  revocations_.fetch_add(1);  // before the post: an Identify/Resume lookup in flight retries
  auto self = shared_from_this();
  conn_->post([self, user_id] {
    if (self->user_id_ == user_id) {
      self->execute(self->proto_.on_credentials_revoked());
    }
  });
}

void gateway_connection::execute(actions acts) {
  // An exception here (the injected authenticator, zlib out of memory) must not reach the
  // io thread: the connection closes 4000 and its session stays resumable.
  try {
    for (auto& a : acts) {
      if (auto* f = std::get_if<send_frame>(&a)) {
        send_control(std::move(f->frame));
      } else if (auto* o = std::get_if<open_session>(&a)) {
        start_identify(std::move(o->request));
      } else if (auto* r = std::get_if<resume_session>(&a)) {
        start_resume(std::move(r->request));
      } else if (auto* c = std::get_if<close_connection>(&a)) {
        close_with(*c);
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("gateway connection {}: {}", id(), e.what());
    auto closing = proto_.close_resumable();
    if (!closing.empty()) {
      close_with(std::get<close_connection>(closing.front()));
    }
  }
}

void gateway_connection::send_control(std::string frame) {
  ctx_->stats.frames_sent.inc();
  if (!deflater_) {
    conn_->send_text(std::move(frame));
    return;
  }
  auto out = std::make_shared<std::string>();
  deflater_->compress(frame, *out);
  std::vector<std::string_view> views{*out};
  conn_->send(views, net::ws_opcode::binary, out);
}

// -- dispatch frames --------------------------------------------------------------------

void gateway_connection::on_frames_ready() noexcept {
  if (wake_pending_.exchange(true)) {
    return;  // already queued; its flush will collect everything
  }
  auto self = weak_from_this().lock();
  if (!self) {
    return;
  }
  // One flush task per burst of ready sessions instead of one strand post each: the io
  // thread is woken once and the relay thread allocates nothing per session.
  try {
    ctx_->ready->push(std::move(self));
  } catch (const std::bad_alloc&) {
    wake_pending_.store(false);  // the next frame retries
  }
}

void gateway_connection::flush_ready() {
  wake_pending_.store(false);
  write_more();
}

void gateway_connection::post_flush_ready() {
  auto self = shared_from_this();
  conn_->post([self] { self->flush_ready(); });
}

void gateway_connection::on_overflow() noexcept {
  auto self = weak_from_this().lock();
  if (!self) {
    return;
  }
  conn_->post([self] { self->execute(self->proto_.on_overflow()); });
}

void gateway_connection::write_more() {
  if (writing_ || !conn_->is_open()) {
    return;
  }
  auto& batch = tl_scratch.batch;
  if (!batch) {
    batch = std::make_shared<session::outbound_batch>();
  }
  {
    std::lock_guard<std::mutex> guard{output_mutex_};
    if (output_) {
      output_->buffer().collect(*batch);
    }
  }
  if (batch->empty()) {
    return;
  }
  send_batch(batch);
}

void gateway_connection::write_done() {
  writing_ = false;
  write_more();
}

void gateway_connection::send_batch(std::shared_ptr<session::outbound_batch> batch) {
  if (batch->empty()) {
    return;
  }
  ctx_->stats.frames_sent.inc(batch->frames());
  // Unowned `this`: on_written never runs after on_closed, and until on_closed the
  // transport holds this handler and ctx_ lists it. A captured weak_ptr would cost a heap
  // allocation per write (std::function keeps only trivially copyable captures inline).
  gateway_connection* self = this;
  if (deflater_) {
    writing_ = true;
    send_deflated(*batch, [self] { self->write_done(); });
    batch->clear();  // the deflated copies are what the transport holds
    return;
  }
  // One message per frame made of two pieces, the batch's seq prefix and the shared
  // event tail, gathered by the writer without joining them (issue #3).
  auto& views = tl_scratch.views;
  auto& pieces = tl_scratch.pieces;
  views.clear();
  pieces.assign(batch->frames(), 2);
  batch->for_each_frame([&](std::string_view prefix, std::string_view tail) {
    views.push_back(prefix);
    views.push_back(tail);
  });
  bool scratch = batch == tl_scratch.batch;
  if (conn_->write_parts_now(views, pieces, net::ws_opcode::text, batch,
                             [self] { self->write_done(); })) {
    batch->clear();  // written in the call: drop the tail references, keep the capacity
    return;
  }
  // Queued: the transport keeps the batch until written; the next write collects into a
  // fresh scratch batch.
  writing_ = true;
  if (scratch) {
    tl_scratch.batch.reset();
  }
}

void gateway_connection::send_deflated(const session::outbound_batch& batch,
                                       std::function<void()> written) {
  std::vector<std::string_view> views;
  views.reserve(batch.frames());
  auto deflated = std::make_shared<deflated_batch>();
  deflated->messages.reserve(batch.frames());
  try {
    // zlib-stream: the frame is joined (one small copy) before deflate, which costs
    // far more than the copy and runs only for connections that asked for it.
    batch.for_each_frame([&](std::string_view frame) {
      deflated->messages.emplace_back();
      deflater_->compress(frame, deflated->messages.back());
    });
  } catch (const std::exception& e) {
    spdlog::error("gateway connection {}: {}", id(), e.what());
    execute(proto_.close_resumable());
    return;
  }
  for (const auto& m : deflated->messages) {
    views.emplace_back(m);
  }
  conn_->send(views, net::ws_opcode::binary, deflated, std::move(written));
}

// -- inbound ------------------------------------------------------------------------------

void gateway_connection::on_text(std::string_view message) {
  ctx_->stats.frames_received.inc();
  execute(proto_.on_text(message, now()));
}

void gateway_connection::on_error(net::ws_error e) {
  execute(proto_.on_transport_error(to_inbound(e)));
}

void gateway_connection::on_control_frame() {
  execute(proto_.on_control_frame(now()));
}

void gateway_connection::arm_timer() {
  if (proto_.state() == protocol_state::closed) {
    return;
  }
  timer_.expires_at(proto_.next_deadline());
  std::weak_ptr<gateway_connection> weak = shared_from_this();
  timer_.async_wait([weak](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) {
      return;
    }
    self->execute(self->proto_.on_tick(now()));
    self->arm_timer();
  });
}

// -- identify and resume --------------------------------------------------------------------

/// What Identify's lookups found, computed off the io thread by lookup_identify.
struct identify_lookup {
  std::optional<identify_failure> failure;  // set: the Identify fails with it
  uint64_t user_id = 0;                     // the token's user (when authenticated)
  session::session_params params;           // without failure: the session to open
};

namespace {

/// An Identify lookup's store error, after the one store mapping (dispatch::from_store_error):
/// the token's user does not exist → bad_token (4004); anything else → unavailable (4000).
identify_failure identify_failure_of(const caf::error& err) {
  return dispatch::is_error(err, dispatch::dispatch_errc::unknown_user)
             ? identify_failure::bad_token
             : identify_failure::unavailable;
}

/// Identify's blocking part: the token (its epoch may be read from the store), the user and
/// the user's guilds. Runs in a short-lived CAF actor (a scheduler thread), never on an io
/// thread (docs/conventions.md#threading). Reads only thread-safe objects.
identify_lookup lookup_identify(detail::gateway_context& ctx, const identify_request& req) {
  identify_lookup out;
  auto user_id = ctx.authenticate(req.token);
  if (!user_id) {
    out.failure = identify_failure::bad_token;
    return out;
  }
  out.user_id = *user_id;
  if (ctx.identify_budget.take(*user_id) != identify_limiter::verdict::allowed) {
    ctx.identify_refusals.inc();
    out.failure = identify_failure::rate_limited;
    return out;
  }
  auto& store = *ctx.svc->store;
  auto user = store.get_user(*user_id);
  if (!user) {
    out.failure = identify_failure_of(dispatch::from_store_error(
        user.error(),
        dispatch::make_error(dispatch::dispatch_errc::unknown_user, std::to_string(*user_id))));
    return out;
  }
  auto guilds = store.guilds_of_user(*user_id);
  if (!guilds) {
    // A user with no guilds has an empty list: any error here is a store failure.
    out.failure = identify_failure_of(dispatch::from_store_error(
        guilds.error(), dispatch::make_error(dispatch::dispatch_errc::store_error,
                                             "not_found: " + guilds.error().message_)));
    return out;
  }
  out.params.user = std::move(user).value();
  out.params.granted = req.intents;
  out.params.shard = req.shard;
  out.params.guild_ids = filter_shard(guilds.value(), req.shard);
  return out;
}

/// Runs `fn` once in a short-lived CAF actor: the place for blocking work an io-thread
/// handler must not do. `fn` posts its result back to the connection's strand.
void run_off_io_thread(caf::actor_system& system, std::function<void()> fn) {
  system.spawn([fn = std::move(fn)](caf::event_based_actor*) { fn(); });
}

}  // namespace

void gateway_connection::start_identify(identify_request req) {
  auto self = shared_from_this();
  run_off_io_thread(ctx_->svc->system, [self, req = std::move(req)] {
    uint64_t revocations = self->revocations_.load();
    std::shared_ptr<identify_lookup> found;
    std::optional<std::string> thrown;
    try {
      found = std::make_shared<identify_lookup>(lookup_identify(*self->ctx_, req));
    } catch (const std::exception& e) {
      thrown = e.what();
    }
    self->conn_->post([self, req, found, thrown, revocations]() mutable {
      if (thrown) {
        self->lookup_threw(*thrown);
        return;
      }
      if (self->revocations_.load() != revocations) {
        // A revoke_user ran while the token was checked off the strand: it could not see
        // this connection's user yet, so check the token again.
        if (self->proto_.state() == protocol_state::identifying) {
          self->start_identify(std::move(req));
        }
        return;
      }
      self->identify_looked_up(std::move(*found));
    });
  });
}

void gateway_connection::lookup_threw(const std::string& what) {
  HERALD_EXPECTS_IO_THREAD();  // posted back to the strand by start_identify/start_resume
  // As execute() does for an exception on the strand: close 4000, the session stays resumable.
  spdlog::error("gateway connection {}: {}", id(), what);
  auto closing = proto_.close_resumable();
  if (!closing.empty()) {
    close_with(std::get<close_connection>(closing.front()));
  }
}

void gateway_connection::identify_looked_up(identify_lookup found) {
  HERALD_EXPECTS_IO_THREAD();  // posted back to the strand by start_identify/start_resume
  if (proto_.state() != protocol_state::identifying) {
    return;  // the connection closed meanwhile: no session was opened
  }
  if (found.user_id != 0) {
    user_id_ = found.user_id;
  }
  if (found.failure) {
    execute(proto_.on_identify_failed(*found.failure));
    return;
  }
  auto& svc = ctx_->svc;
  ctx_->stats.identifies.inc();
  auto self = shared_from_this();
  dispatch::open_session_async(svc, std::move(found.params), ctx_->opts.session_timeout,
                               [self](caf::expected<dispatch::opened_session> opened) {
                                 auto pending = std::make_shared<pending_session>();
                                 pending->result = std::move(opened);
                                 pending->close_if_unused = true;
                                 self->conn_->post([self, pending] {
                                   pending->taken = true;
                                   if (self->proto_.state() != protocol_state::identifying) {
                                     pending->taken =
                                         false;  // the connection closed meanwhile: end the session
                                     return;
                                   }
                                   self->identified(std::move(pending->result));
                                 });
                               });
}

void gateway_connection::identified(caf::expected<dispatch::opened_session> opened) {
  if (!opened) {
    spdlog::warn("gateway: session start failed: {}", caf::to_string(opened.error()));
    execute(proto_.on_identify_failed(identify_failure::unavailable));
    return;
  }
  auto sid = opened->output->session_id();
  ctx_->claim(sid, shared_from_this());
  {
    std::lock_guard<std::mutex> guard{output_mutex_};
    session_ = opened->actor;
    output_ = opened->output;
    output_->buffer().attach(this);  // READY (and any GUILD_CREATE) is already held
  }
  execute(proto_.on_session_opened());
}

void gateway_connection::start_resume(resume_request req) {
  // The token's epoch may be read from the store: authenticate off the io thread.
  auto self = shared_from_this();
  run_off_io_thread(ctx_->svc->system, [self, req = std::move(req)]() mutable {
    uint64_t revocations = self->revocations_.load();
    std::optional<uint64_t> user_id;
    std::optional<std::string> thrown;
    try {
      user_id = self->ctx_->authenticate(req.token);
    } catch (const std::exception& e) {
      thrown = e.what();
    }
    self->conn_->post([self, req = std::move(req), user_id, thrown, revocations]() mutable {
      if (thrown) {
        self->lookup_threw(*thrown);
        return;
      }
      if (self->revocations_.load() != revocations) {
        // As for Identify: a revoke_user could not see this connection's user yet.
        if (self->proto_.state() == protocol_state::resuming) {
          self->start_resume(std::move(req));
        }
        return;
      }
      self->resume_authenticated(std::move(req), user_id);
    });
  });
}

void gateway_connection::resume_authenticated(resume_request req, std::optional<uint64_t> user_id) {
  HERALD_EXPECTS_IO_THREAD();  // posted back to the strand by start_identify/start_resume
  if (proto_.state() != protocol_state::resuming) {
    return;  // the connection closed meanwhile
  }
  if (!user_id) {
    ctx_->stats.resumes_failed.inc();
    execute(proto_.on_resume_failed(resume_failure::bad_token));
    return;
  }
  auto sid = parse_session_id(req.session_id);
  if (!sid) {
    ctx_->stats.resumes_failed.inc();
    execute(proto_.on_resume_failed(resume_failure::invalid_session));
    return;
  }
  user_id_ = *user_id;
  auto self = shared_from_this();
  uint64_t uid = *user_id;
  uint64_t seq = req.seq;
  dispatch::resume_anywhere_async(ctx_->svc, *sid, uid, seq, ctx_->opts.session_timeout,
                                  [self, uid, seq](caf::expected<dispatch::opened_session> found) {
                                    auto pending = std::make_shared<pending_session>();
                                    pending->result = std::move(found);
                                    self->conn_->post([self, pending, uid, seq] {
                                      pending->taken = true;
                                      self->resumed(std::move(pending->result), uid, seq);
                                    });
                                  });
}

void gateway_connection::resumed(caf::expected<dispatch::opened_session> found, uint64_t user_id,
                                 uint64_t seq) {
  if (proto_.state() != protocol_state::resuming) {
    return;  // closed meanwhile; the session was not touched
  }
  if (!found || !found->output || found->output->user_id() != user_id) {
    ctx_->stats.resumes_failed.inc();
    execute(proto_.on_resume_failed(resume_failure::invalid_session));
    return;
  }
  // The previous connection (if still attached) stops collecting before we attach.
  ctx_->claim(found->output->session_id(), shared_from_this());
  session::resume_status status;
  auto replay = std::make_shared<session::outbound_batch>();
  {
    std::lock_guard<std::mutex> guard{output_mutex_};
    status = found->output->buffer().attach_resumed(this, seq);
    if (status == session::resume_status::ok) {
      session_ = found->actor;
      output_ = found->output;
      // The replay is collected before RESUMED is appended: a backlog above the queue
      // bound would otherwise overflow on that very append and close the resumed
      // connection at once (4000), again and again.
      output_->buffer().collect(*replay);
      // RESUMED is a dispatch with its own seq, after the replayed frames.
      output_->buffer().append_dispatch(encoding::resumed_tail());
      caf::anon_send(session_, session::connected_atom::value);
    }
  }
  if (status == session::resume_status::ok) {
    (found->migrated ? ctx_->stats.resumes_migrated : ctx_->stats.resumes_ok).inc();
    execute(proto_.on_resumed());
    send_batch(std::move(replay));  // nothing was in flight: no session was attached
    return;
  }
  ctx_->disown(found->output->session_id(), this);
  ctx_->stats.resumes_failed.inc();
  if (status == session::resume_status::seq_never_sent) {
    // A previous connection may have been released by claim(): the session has no
    // connection now, so its resume window starts (again).
    caf::anon_send(found->actor, session::disconnected_atom::value);
    execute(proto_.on_resume_failed(resume_failure::seq_never_sent));
    return;
  }
  // Frames after the client's seq are gone: the session can never be resumed; end it.
  caf::anon_send(found->actor, session::close_atom::value);
  execute(proto_.on_resume_failed(resume_failure::invalid_session));
}

// -- closing ------------------------------------------------------------------------------

template <class Atom>
void gateway_connection::end_attachment(Atom atom) {
  uint64_t sid = 0;
  {
    std::lock_guard<std::mutex> guard{output_mutex_};
    if (!output_) {
      return;
    }
    output_->buffer().detach();
    sid = output_->session_id();
    // Sent under the lock: a connection resuming this session claims it only after, so its
    // connected_atom follows this in the session's mailbox.
    caf::anon_send(session_, atom);
    output_.reset();
    session_ = caf::actor{};
  }
  ctx_->disown(sid, this);
}

void gateway_connection::release_session() {
  {
    std::lock_guard<std::mutex> guard{output_mutex_};
    if (!output_) {
      return;
    }
    output_->buffer().detach();
    output_.reset();
    session_ = caf::actor{};
  }
  // Posted: the caller holds the context lock, and closing may end up in on_closed.
  auto self = shared_from_this();
  conn_->post([self] {
    self->proto_.on_peer_closed();
    self->ctx_->stats.closed(static_cast<uint16_t>(close_code::unknown_error));
    self->conn_->close(static_cast<uint16_t>(close_code::unknown_error), "session resumed");
  });
}

void gateway_connection::close_with(const close_connection& c) {
  ctx_->stats.closed(c.code);
  if (c.error) {
    ctx_->stats.inbound(*c.error);
  }
  if (c.end_session) {
    end_attachment(session::close_atom::value);
  } else {
    end_attachment(session::disconnected_atom::value);
  }
  if (c.drop_unsent) {
    conn_->close_dropping_unsent(c.code);
  } else {
    conn_->close(c.code);
  }
}

void gateway_connection::on_closed(uint16_t code, bool by_peer) {
  proto_.on_peer_closed();
  timer_.cancel();
  if (by_peer && peer_close_ends_session(code)) {
    end_attachment(session::close_atom::value);
  } else {
    end_attachment(session::disconnected_atom::value);
  }
  ctx_->remove(id());
}

}  // namespace herald::gateway
