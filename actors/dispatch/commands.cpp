// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/commands.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>

#include "actors/dispatch/route_publish.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/store_error_mapping.hpp"
#include "runtime/registry/ensure_started.hpp"

namespace herald::dispatch {

namespace {

caf::atom_value command_category() {
  return caf::atom("command");
}

bool is_command_error(const caf::error& err, command_errc x) {
  return static_cast<bool>(err) && err.category() == command_category() &&
         err.code() == static_cast<uint8_t>(x);
}

/// The string context of an error ("unknown_channel" for invalid_event refusals).
std::string context_of(const caf::error& err) {
  if (!err) {
    return {};
  }
  const auto& ctx = err.context();
  if (!ctx.empty() && ctx.match_element<std::string>(0)) {
    return ctx.get_as<std::string>(0);
  }
  return {};
}

/// Calls the wrapped callback at most once; later calls are ignored. Shared by the helper
/// actor's handlers and its exit hook, so a killed helper still answers.
template <class T>
class once_callback {
public:
  explicit once_callback(std::function<void(T)> f) : f_(std::move(f)) {}
  void operator()(T value) {
    if (!called_.exchange(true)) {
      f_(std::move(value));
    }
  }

private:
  std::function<void(T)> f_;
  std::atomic<bool> called_{false};
};

template <class T>
using once_ptr = std::shared_ptr<once_callback<T>>;

/// Spawns a helper actor running `body(self)`; if it exits before `done` was called, `done`
/// gets `unavailable`. The helper quits once `body`'s requests are answered (CAF keeps an
/// actor alive while it awaits responses).
template <class T, class Body>
void run_helper(const services_ptr& svc, once_ptr<caf::expected<T>> done, Body body) {
  svc->system.spawn([done, body = std::move(body)](caf::event_based_actor* self) mutable {
    self->attach_functor([done](const caf::error&) {
      (*done)(caf::expected<T>{make_error(dispatch_errc::unavailable, "command aborted")});
    });
    body(self);
  });
}

/// Publishes from inside a helper actor (to the guild's owner, here or on another node), then
/// quits the helper.
template <class Done>
void publish_from(caf::event_based_actor* self, const services_ptr& svc, proto::event event,
                  std::chrono::milliseconds timeout, Done done) {
  publish_routed(self, svc, std::move(event), timeout,
                 [self, done](caf::expected<guild::publish_ack> ack) mutable {
                   done(std::move(ack));
                   self->quit();
                 });
}

/// Parses `<@id>`, `<@!id>` and `<@&id>` mentions out of `content`.
void add_mentions(const std::string& content, proto::message& msg) {
  size_t pos = 0;
  while ((pos = content.find("<@", pos)) != std::string::npos) {
    size_t start = pos + 2;
    bool role = false;
    if (start < content.size() && (content[start] == '!' || content[start] == '&')) {
      role = content[start] == '&';
      ++start;
    }
    size_t end = content.find('>', start);
    if (end == std::string::npos) {
      break;
    }
    auto id = domain::parse_snowflake(std::string_view{content}.substr(start, end - start));
    if (id) {
      auto* list = role ? msg.mutable_mention_roles() : msg.mutable_mentions();
      if (std::find(list->begin(), list->end(), *id) == list->end()) {
        list->Add(*id);
      }
    }
    pos = end;
  }
}

command_result result_of(uint64_t guild_id, uint64_t message_id, guild::publish_ack ack) {
  command_result out;
  out.guild_id = guild_id;
  out.message_id = message_id;
  out.json = std::string(ack.payload());
  return out;
}

using result_once = once_ptr<caf::expected<command_result>>;

result_once make_once(command_callback done) {
  return std::make_shared<once_callback<caf::expected<command_result>>>(std::move(done));
}

}  // namespace

caf::error make_error(command_errc x, std::string detail) {
  if (detail.empty()) {
    return caf::error{static_cast<uint8_t>(x), command_category()};
  }
  return caf::error{static_cast<uint8_t>(x), command_category(),
                    caf::make_message(std::move(detail))};
}

caf::expected<uint64_t> guild_of_channel(const services_ptr& svc, uint64_t channel_id) {
  auto found = svc->store->guild_of_channel(channel_id);
  if (!found) {
    return from_store_error(found.error(),
                            make_error(command_errc::unknown_channel, std::to_string(channel_id)));
  }
  return static_cast<uint64_t>(found.value());
}

namespace {

/// What a channel command publishes, and the message id its result names (0: none).
struct prepared_event {
  proto::event event;
  uint64_t message_id = 0;
};

struct no_finish {
  void operator()(command_result&) const {}
};

/// The shape every channel command shares: resolve the channel's guild, let `prepare(guild_id)`
/// check and build the event (or refuse with an error), publish it through the guild, let
/// `finish` amend the result, and answer `done` exactly once (also if the helper dies).
template <class Prepare, class Finish = no_finish>
void run_channel_command(const services_ptr& svc, uint64_t channel_id,
                         std::chrono::milliseconds timeout, command_callback done, Prepare prepare,
                         Finish finish = {}) {
  auto once = make_once(std::move(done));
  run_helper<command_result>(
      svc, once,
      [svc, channel_id, timeout, once, prepare = std::move(prepare),
       finish = std::move(finish)](caf::event_based_actor* self) mutable {
        auto guild_id = guild_of_channel(svc, channel_id);
        auto prepared = guild_id ? prepare(*guild_id)
                                 : caf::expected<prepared_event>{std::move(guild_id.error())};
        if (!prepared) {
          (*once)(std::move(prepared.error()));
          self->quit();
          return;
        }
        publish_from(self, svc, std::move(prepared->event), timeout,
                     [once, gid = *guild_id, message_id = prepared->message_id,
                      finish](caf::expected<guild::publish_ack> ack) mutable {
                       if (!ack) {
                         (*once)(std::move(ack.error()));
                         return;
                       }
                       auto out = result_of(gid, message_id, std::move(*ack));
                       finish(out);
                       (*once)(std::move(out));
                     });
      });
}

/// Discord echoes a create's nonce in the created message: appends it JSON-escaped.
void append_nonce(command_result& out, const std::string& nonce) {
  if (out.json.empty() || out.json.back() != '}') {
    return;
  }
  std::string escaped;
  for (char c : nonce) {
    if (c == '"' || c == '\\') {
      escaped.push_back('\\');
    }
    if (static_cast<unsigned char>(c) >= 0x20) {
      escaped.push_back(c);
    }
  }
  out.json.insert(out.json.size() - 1, ",\"nonce\":\"" + escaped + "\"");
}

}  // namespace

void post_message(const services_ptr& svc, post_message_args args,
                  std::chrono::milliseconds timeout, command_callback done) {
  auto nonce = args.nonce;
  uint64_t channel_id = args.channel_id;
  run_channel_command(
      svc, channel_id, timeout, std::move(done),
      [args = std::move(args), ids = svc->ids](uint64_t guild_id) -> caf::expected<prepared_event> {
        prepared_event out;
        out.message_id = ids->next();
        out.event.set_guild_id(guild_id);
        auto* m = out.event.mutable_message_create();
        m->set_id(out.message_id);
        m->set_guild_id(guild_id);
        m->set_channel_id(args.channel_id);
        m->set_author_id(args.author_id);
        m->set_content(args.content);
        add_mentions(args.content, *m);
        return out;
      },
      [nonce = std::move(nonce)](command_result& out) {
        if (nonce) {
          append_nonce(out, *nonce);
        }
      });
}

void edit_message(const services_ptr& svc, uint64_t channel_id, uint64_t message_id,
                  uint64_t editor_id, std::string content, std::chrono::milliseconds timeout,
                  command_callback done) {
  run_channel_command(svc, channel_id, timeout, std::move(done),
                      [channel_id, message_id, editor_id, content = std::move(content)](
                          uint64_t guild_id) -> caf::expected<prepared_event> {
                        // VIEW_CHANNEL, existence and authorship are checked by the guild, in
                        // that order, in the step that applies the edit.
                        prepared_event out;
                        out.message_id = message_id;
                        out.event.set_guild_id(guild_id);
                        auto* m = out.event.mutable_message_update();
                        m->set_id(message_id);
                        m->set_channel_id(channel_id);
                        m->set_guild_id(guild_id);
                        m->set_author_id(editor_id);
                        m->set_content(content);
                        return out;
                      });
}

void delete_message(const services_ptr& svc, uint64_t channel_id, uint64_t message_id,
                    uint64_t user_id, std::chrono::milliseconds timeout, command_callback done) {
  run_channel_command(
      svc, channel_id, timeout, std::move(done),
      [channel_id, message_id, user_id](uint64_t guild_id) -> caf::expected<prepared_event> {
        // VIEW_CHANNEL, existence and (for a non-author) MANAGE_MESSAGES are checked by the
        // guild, in that order, in the step that applies the delete.
        prepared_event out;
        out.message_id = message_id;
        out.event.set_guild_id(guild_id);
        auto* m = out.event.mutable_message_delete();
        m->set_id(message_id);
        m->set_channel_id(channel_id);
        m->set_actor_id(user_id);
        return out;
      });
}

void trigger_typing(const services_ptr& svc, uint64_t channel_id, uint64_t user_id,
                    std::chrono::milliseconds timeout, command_callback done) {
  run_channel_command(svc, channel_id, timeout, std::move(done),
                      [channel_id, user_id](uint64_t guild_id) -> caf::expected<prepared_event> {
                        // Membership and VIEW_CHANNEL + SEND_MESSAGES are checked by the guild as
                        // it applies it.
                        prepared_event out;
                        out.event.set_guild_id(guild_id);
                        auto* t = out.event.mutable_typing_start();
                        t->set_channel_id(channel_id);
                        t->set_user_id(user_id);
                        return out;
                      });
}

void kick_member(const services_ptr& svc, uint64_t guild_id, uint64_t user_id, uint64_t actor_id,
                 std::chrono::milliseconds timeout, command_callback done) {
  auto once = make_once(std::move(done));
  proto::event event;
  event.set_guild_id(guild_id);
  auto* remove = event.mutable_guild_member_remove();
  remove->set_user_id(user_id);
  remove->set_actor_id(actor_id);  // the guild checks KICK_MEMBERS as it applies the removal
  run_helper<command_result>(
      svc, once,
      [svc, event = std::move(event), timeout, once](caf::event_based_actor* self) mutable {
        uint64_t gid = event.guild_id();
        publish_from(self, svc, std::move(event), timeout,
                     [once, gid](caf::expected<guild::publish_ack> ack) {
                       if (!ack) {
                         (*once)(std::move(ack.error()));
                         return;
                       }
                       (*once)(result_of(gid, 0, std::move(*ack)));
                     });
      });
}

client_error client_error_of(const caf::error& err) {
  client_error out;
  if (!err) {
    out.message = "500: Internal Server Error";
    return out;
  }
  if (is_command_error(err, command_errc::unknown_channel)) {
    return {404, 10003, "Unknown Channel", std::nullopt};
  }
  if (is_command_error(err, command_errc::not_member)) {
    return {403, 50001, "Missing Access", std::nullopt};
  }
  if (is_command_error(err, command_errc::not_author)) {
    return {403, 50005, "Cannot edit a message authored by another user", std::nullopt};
  }
  if (is_error(err, dispatch_errc::unknown_message)) {
    return {404, 10008, "Unknown Message", std::nullopt};
  }
  if (is_error(err, dispatch_errc::missing_access)) {
    return {403, 50001, "Missing Access", std::nullopt};
  }
  if (is_error(err, dispatch_errc::not_author)) {
    return {403, 50005, "Cannot edit a message authored by another user", std::nullopt};
  }
  if (is_error(err, dispatch_errc::missing_permission)) {
    return {403, 50013, "Missing Permissions", std::nullopt};
  }
  if (is_error(err, dispatch_errc::not_member)) {
    return {403, 50001, "Missing Access", std::nullopt};
  }
  if (is_error(err, dispatch_errc::unknown_guild)) {
    return {404, 10004, "Unknown Guild", std::nullopt};
  }
  if (is_error(err, dispatch_errc::unknown_user)) {
    return {404, 10013, "Unknown User", std::nullopt};
  }
  if (is_error(err, dispatch_errc::unknown_member)) {
    return {404, 10007, "Unknown Member", std::nullopt};
  }
  if (is_error(err, dispatch_errc::invalid_event)) {
    auto why = context_of(err);
    if (why == "unknown_channel") {
      return {404, 10003, "Unknown Channel", std::nullopt};
    }
    if (why == "unknown_member") {
      return {403, 50001, "Missing Access", std::nullopt};
    }
    return {400, 50035, "Invalid Form Body", std::nullopt};
  }
  if (is_retryable(err)) {
    return {503, 0, "503: Service Unavailable", 1};
  }
  out.message = "500: Internal Server Error";
  return out;
}

}  // namespace herald::dispatch
