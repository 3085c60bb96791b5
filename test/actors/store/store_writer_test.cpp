// SPDX-License-Identifier: Apache-2.0
// store_writer: group commit of batches submitted from many threads, completions only after the
// commit holding them, bounded queue (busy), draining stop, per-key idle barrier. Faults are
// injected by hooked_store, a wrapper around the real SQLite store.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "actors/store/store_writer.hpp"
#include "test/actors/store/store_fixture.hpp"
#include "test/support/eventually.hpp"

using namespace herald::store;
using herald::store::test::open_ok;
using herald::store::test::options_for;
using herald::store::test::sample_message;
using herald::store::test::temp_dir;
using namespace std::chrono_literals;

namespace {

/// The real store with a hook that runs before every apply_group: it may block (a gate), throw
/// (a crashing writer round) or return results of its own (a failed commit).
class hooked_store final : public store {
public:
  using hook = std::function<std::optional<std::vector<result<void>>>(std::size_t call,
                                                                      std::size_t batches)>;
  explicit hooked_store(std::shared_ptr<sqlite_store> inner) : inner_(std::move(inner)) {}

  void set_hook(hook h) {
    std::lock_guard<std::mutex> guard(mutex_);
    hook_ = std::move(h);
  }
  std::size_t group_calls() const { return calls_.load(); }

  std::vector<result<void>> apply_group(const std::vector<const write_batch*>& batches) override {
    const std::size_t call = calls_.fetch_add(1) + 1;
    hook h;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      h = hook_;
    }
    if (h) {
      if (auto replaced = h(call, batches.size())) {
        return *replaced;
      }
    }
    return inner_->apply_group(batches);
  }
  result<void> apply(const write_batch& batch) override { return inner_->apply(batch); }
  result<herald::domain::guild_state> load_guild(snowflake id) override {
    return inner_->load_guild(id);
  }
  result<std::vector<snowflake>> list_guild_ids() override { return inner_->list_guild_ids(); }
  result<std::vector<snowflake>> guilds_of_user(snowflake id) override {
    return inner_->guilds_of_user(id);
  }
  result<herald::domain::user> get_user(snowflake id) override { return inner_->get_user(id); }
  result<herald::domain::message> get_message(snowflake id) override {
    return inner_->get_message(id);
  }
  result<std::vector<herald::domain::message>> recent_messages(snowflake channel_id,
                                                               std::size_t limit,
                                                               snowflake before) override {
    return inner_->recent_messages(channel_id, limit, before);
  }
  result<snowflake> guild_of_channel(snowflake channel_id) override {
    return inner_->guild_of_channel(channel_id);
  }
  result<guild_owner> claim_guild(snowflake guild_id, std::uint64_t node_id) override {
    return inner_->claim_guild(guild_id, node_id);
  }
  std::vector<result<guild_owner>> claim_guilds(const std::vector<snowflake>& guild_ids,
                                                std::uint64_t node_id) override {
    claim_calls_.fetch_add(1);
    return inner_->claim_guilds(guild_ids, node_id);
  }
  std::size_t claim_calls() const { return claim_calls_.load(); }
  result<guild_owner> guild_owner_of(snowflake guild_id) override {
    return inner_->guild_owner_of(guild_id);
  }
  result<std::uint64_t> token_epoch(snowflake user_id) override {
    return inner_->token_epoch(user_id);
  }
  result<std::uint64_t> bump_token_epoch(snowflake user_id) override {
    return inner_->bump_token_epoch(user_id);
  }

private:
  std::shared_ptr<sqlite_store> inner_;
  std::mutex mutex_;
  hook hook_;
  std::atomic<std::size_t> calls_{0};
  std::atomic<std::size_t> claim_calls_{0};
};

/// A gate the hook blocks on until the test opens it.
struct gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};

  void pass() {
    std::unique_lock<std::mutex> lock(mutex);
    ++waiting;
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> guard(mutex);
      open = true;
    }
    cv.notify_all();
  }
};

write_batch one_message(snowflake id) {
  write_batch b;
  b.add(write_op::insert_message{sample_message(id)});
  return b;
}

struct env {
  temp_dir dir;
  std::shared_ptr<sqlite_store> real{open_ok(options_for(dir, sync_mode::normal))};
  std::shared_ptr<hooked_store> hooked = std::make_shared<hooked_store>(real);
};

/// Completion outcomes, recorded from the writer thread.
struct outcomes {
  std::mutex mutex;
  std::vector<std::pair<snowflake, bool>> done;  // id, ok; in completion order
  std::atomic<int> count{0};
  std::atomic<int> acked_but_unreadable{0};

  store_writer::completion for_id(snowflake id, store& check) {
    return [this, id, &check](const result<void>& r) {
      // An ack must follow the commit holding it: the message is readable right now.
      if (r.ok() && !check.get_message(id).ok()) {
        ++acked_but_unreadable;
      }
      std::lock_guard<std::mutex> guard(mutex);
      done.emplace_back(id, r.ok());
      ++count;
    };
  }
};

}  // namespace

TEST_CASE("batches_submitted_concurrently_share_transactions_and_all_commit") {
  env e;
  gate first_commit;
  // The first round blocks until every thread has queued its batches, so later rounds hold many.
  e.hooked->set_hook(
      [&](std::size_t call, std::size_t) -> std::optional<std::vector<result<void>>> {
        if (call == 1) {
          first_commit.pass();
        }
        return std::nullopt;
      });
  store_writer writer(e.hooked);
  outcomes out;
  constexpr int threads = 8;
  constexpr int per_thread = 50;
  std::vector<std::thread> producers;
  std::atomic<int> refused{0};
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const snowflake id = 1000 + static_cast<snowflake>(t * per_thread + i);
        if (!writer.submit(static_cast<std::uint64_t>(t), one_message(id), 1,
                           out.for_id(id, *e.real))) {
          ++refused;  // Catch2 assertions are not thread-safe: checked below
        }
      }
    });
  }
  for (auto& p : producers) {
    p.join();
  }
  REQUIRE(refused == 0);
  first_commit.release();
  REQUIRE(
      herald::testing::eventually([&] { return out.count.load() == threads * per_thread; }, 20s));
  auto totals = writer.totals();
  CHECK(totals.batches == threads * per_thread);
  CHECK(totals.events == threads * per_thread);
  CHECK(totals.commits < totals.batches / 10);
  CHECK(out.acked_but_unreadable == 0);
  for (auto& [id, ok] : out.done) {
    CHECK(ok);
  }
  // Order within one submitter survives: its completions come in submission order.
  for (int t = 0; t < threads; ++t) {
    snowflake last = 0;
    for (auto& [id, ok] : out.done) {
      if ((id - 1000) / per_thread == static_cast<snowflake>(t)) {
        CHECK(id > last);
        last = id;
      }
    }
  }
}

TEST_CASE("claims_queued_while_a_commit_runs_share_one_claim_transaction_and_fail_alone") {
  env e;
  constexpr int claimers = 6;  // guilds 500..504 exist, 505 does not
  for (snowflake g = 500; g < 500 + claimers - 1; ++g) {
    REQUIRE(e.real->upsert_guild(herald::domain::guild{g, "g" + std::to_string(g), 1}));
  }
  gate commit;
  e.hooked->set_hook([&](std::size_t, std::size_t) -> std::optional<std::vector<result<void>>> {
    commit.pass();
    return std::nullopt;
  });
  store_writer writer(e.hooked);
  outcomes out;
  // The writer is busy with a commit while every claimer queues its claim.
  REQUIRE(writer.submit(1, one_message(1), 1, out.for_id(1, *e.real)));
  REQUIRE(herald::testing::eventually([&] { return commit.waiting.load() == 1; }, 20s));
  std::vector<std::optional<result<guild_owner>>> answers(claimers);
  std::vector<std::thread> threads;
  for (int i = 0; i < claimers; ++i) {
    threads.emplace_back([&, i] { answers[i].emplace(writer.claim(500 + i, 3)); });
  }
  REQUIRE(herald::testing::eventually(
      [&] { return writer.queued_claims() == static_cast<std::size_t>(claimers); }, 20s));
  commit.release();
  for (auto& t : threads) {
    t.join();
  }
  auto totals = writer.totals();
  CHECK(totals.claims == claimers);
  CHECK(totals.claim_commits == 1);
  CHECK(e.hooked->claim_calls() == 1);
  for (int i = 0; i < claimers - 1; ++i) {
    REQUIRE(answers[i].has_value());
    REQUIRE(answers[i]->ok());
    CHECK(answers[i]->value().epoch_ == 1);
    CHECK(answers[i]->value().node_id_ == 3);
    auto row = e.real->guild_owner_of(500 + i);
    REQUIRE(row);
    CHECK(row.value().epoch_ == 1);
  }
  REQUIRE(answers[claimers - 1].has_value());
  REQUIRE_FALSE(answers[claimers - 1]->ok());
  CHECK(answers[claimers - 1]->error().code_ == store_errc::not_found);
  // A later claim of one of them is a transaction of its own and raises the epoch again.
  auto again = writer.claim(500, 4);
  REQUIRE(again);
  CHECK(again.value().epoch_ == 2);
  CHECK(writer.totals().claim_commits == 2);
  writer.stop();
  auto late = writer.claim(500, 5);
  REQUIRE_FALSE(late);
  CHECK(late.error().code_ == store_errc::closed);
}

TEST_CASE("a_failed_commit_fails_only_the_batches_of_its_round_and_acks_follow_commits") {
  env e;
  // Round 2's commit fails as a lost disk would: every batch in it gets the error.
  e.hooked->set_hook(
      [](std::size_t call, std::size_t batches) -> std::optional<std::vector<result<void>>> {
        if (call == 2) {
          return std::vector<result<void>>(
              batches, result<void>{store_error{store_errc::io_error, "injected commit failure"}});
        }
        return std::nullopt;
      });
  store_writer writer(e.hooked);
  outcomes out;
  for (snowflake id = 1; id <= 30; ++id) {
    REQUIRE(writer.submit(1, one_message(id), 1, out.for_id(id, *e.real)));
    if (id % 10 == 0) {
      REQUIRE(herald::testing::eventually([&] { return out.count.load() == int(id); }, 20s));
    }
  }
  writer.stop();
  REQUIRE(out.count == 30);
  CHECK(out.acked_but_unreadable == 0);
  int failed = 0;
  for (auto& [id, ok] : out.done) {
    // Acked exactly when stored; a failed batch left nothing behind.
    CHECK(ok == e.real->get_message(id).ok());
    failed += ok ? 0 : 1;
  }
  CHECK(failed >= 1);
  CHECK(failed < 30);
}

TEST_CASE("a_round_whose_store_call_throws_fails_its_batches_and_the_writer_goes_on") {
  env e;
  e.hooked->set_hook([](std::size_t call, std::size_t) -> std::optional<std::vector<result<void>>> {
    if (call == 1) {
      throw std::runtime_error("injected writer crash");
    }
    return std::nullopt;
  });
  store_writer writer(e.hooked);
  outcomes out;
  REQUIRE(writer.submit(1, one_message(7), 1, out.for_id(7, *e.real)));
  REQUIRE(herald::testing::eventually([&] { return out.count.load() == 1; }, 20s));
  REQUIRE(writer.submit(1, one_message(8), 1, out.for_id(8, *e.real)));
  writer.stop();
  REQUIRE(out.done.size() == 2);
  CHECK_FALSE(out.done[0].second);
  CHECK_FALSE(e.real->get_message(7).ok());
  CHECK(out.done[1].second);
  CHECK(e.real->get_message(8).ok());
}

TEST_CASE("a_full_writer_queue_refuses_with_busy_and_loses_nothing_it_accepted") {
  env e;
  gate blocked;
  e.hooked->set_hook([&](std::size_t, std::size_t) -> std::optional<std::vector<result<void>>> {
    blocked.pass();
    return std::nullopt;
  });
  writer_options o;
  o.queue_batches = 5;
  store_writer writer(e.hooked, o);
  outcomes out;
  std::vector<snowflake> accepted;
  int busy = 0;
  for (snowflake id = 100; id < 120; ++id) {
    auto r = writer.submit(id, one_message(id), 1, out.for_id(id, *e.real));
    if (r) {
      accepted.push_back(id);
    } else {
      CHECK(r.error().code_ == store_errc::busy);
      CHECK(r.error().retryable());
      ++busy;
    }
  }
  CHECK(accepted.size() == 5);
  CHECK(busy == 15);
  CHECK_FALSE(writer.has_room());
  CHECK(writer.totals().refused == 15);
  blocked.release();
  writer.stop();
  CHECK(out.count == 5);
  CHECK(out.acked_but_unreadable == 0);
  for (auto id : accepted) {
    CHECK(e.real->get_message(id).ok());
  }
  CHECK_FALSE(e.real->get_message(119).ok());
}

TEST_CASE("a_queue_byte_limit_refuses_big_batches_but_always_takes_one") {
  env e;
  gate blocked;
  e.hooked->set_hook([&](std::size_t, std::size_t) -> std::optional<std::vector<result<void>>> {
    blocked.pass();
    return std::nullopt;
  });
  writer_options o;
  o.queue_bytes = 1;  // smaller than any batch
  store_writer writer(e.hooked, o);
  outcomes out;
  CHECK(writer.submit(1, one_message(1), 1, out.for_id(1, *e.real)));
  auto refused = one_message(2);
  auto second = writer.submit(2, std::move(refused), 1, out.for_id(2, *e.real));
  REQUIRE_FALSE(second);
  CHECK(second.error().code_ == store_errc::busy);
  // A refused batch stays with its submitter (a guild retries the same batch later).
  CHECK(refused.size() == 1);
  blocked.release();
  REQUIRE(herald::testing::eventually([&] { return out.count.load() == 1; }, 20s));
  CHECK(writer.submit(2, std::move(refused), 1, out.for_id(2, *e.real)));
  writer.stop();
  CHECK(out.count == 2);
  CHECK(e.real->get_message(1).ok());
  CHECK(e.real->get_message(2).ok());
}

TEST_CASE("stopping_the_writer_commits_everything_accepted_then_refuses_with_closed") {
  env e;
  auto writer = std::make_unique<store_writer>(e.hooked);
  outcomes out;
  for (snowflake id = 200; id < 400; ++id) {
    REQUIRE(writer->submit(id % 7, one_message(id), 1, out.for_id(id, *e.real)));
  }
  writer->stop();
  CHECK(out.count == 200);
  for (auto& [id, ok] : out.done) {
    CHECK(ok);
  }
  auto late = writer->submit(1, one_message(999), 1, [](const result<void>&) {});
  REQUIRE_FALSE(late);
  CHECK(late.error().code_ == store_errc::closed);
  writer.reset();  // a second stop in the destructor is harmless
}

TEST_CASE("wait_idle_returns_only_after_the_keys_batches_are_settled") {
  env e;
  gate blocked;
  e.hooked->set_hook([&](std::size_t, std::size_t) -> std::optional<std::vector<result<void>>> {
    blocked.pass();
    return std::nullopt;
  });
  store_writer writer(e.hooked);
  std::atomic<bool> completed{false};
  REQUIRE(
      writer.submit(42, one_message(42), 1, [&](const result<void>& r) { completed = r.ok(); }));
  // Another key is idle at once.
  writer.wait_idle(43);
  std::atomic<bool> saw_completion{false};
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    writer.wait_idle(42);
    saw_completion = completed.load();
    returned = true;
  });
  REQUIRE(herald::testing::eventually([&] { return blocked.waiting.load() == 1; }, 20s));
  blocked.release();
  waiter.join();
  CHECK(returned);
  CHECK(saw_completion);
  CHECK(e.real->get_message(42).ok());
}

TEST_CASE("a_max_wait_gathers_batches_submitted_within_it_into_one_commit") {
  env e;
  writer_options o;
  o.max_wait = std::chrono::microseconds{std::chrono::seconds{30}};
  o.max_batches = 10;  // a full round commits at once, without waiting the 30 s
  store_writer writer(e.hooked, o);
  outcomes out;
  for (snowflake id = 500; id < 510; ++id) {
    REQUIRE(writer.submit(1, one_message(id), 1, out.for_id(id, *e.real)));
  }
  REQUIRE(herald::testing::eventually([&] { return out.count.load() == 10; }, 20s));
  CHECK(writer.totals().commits == 1);
  CHECK(out.acked_but_unreadable == 0);
}

TEST_CASE("a_writer_destroyed_by_its_own_completion_finishes_its_batches_without_joining_itself") {
  env e;
  auto writer = std::make_shared<store_writer>(e.hooked);
  gate first_done;  // the first completion waits here until the test dropped its reference
  outcomes out;
  std::promise<void> writer_gone_promise;
  auto writer_gone = writer_gone_promise.get_future();
  // The first completion holds a reference to the writer. Once the test dropped its own, that
  // completion's destruction on the writer thread runs ~store_writer there.
  struct last_owner {
    last_owner(std::shared_ptr<store_writer> w, std::promise<void>* g)
        : writer(std::move(w)), gone(g) {}
    ~last_owner() {
      writer.reset();  // ~store_writer, on the writer thread
      gone->set_value();
    }
    std::shared_ptr<store_writer> writer;
    std::promise<void>* gone;
  };
  auto owner = std::make_shared<last_owner>(writer, &writer_gone_promise);
  REQUIRE(writer->submit(1, one_message(1), 1, [&, owner](const result<void>& r) {
    out.for_id(1, *e.real)(r);
    first_done.pass();
  }));
  REQUIRE(herald::testing::eventually([&] { return first_done.waiting.load() == 1; }, 10s));
  // Queued behind the running round: accepted, so it must still commit after the writer is gone.
  REQUIRE(writer->submit(2, one_message(2), 1, out.for_id(2, *e.real)));
  owner.reset();
  writer.reset();  // the completion now holds the last reference
  first_done.release();
  REQUIRE(writer_gone.wait_for(10s) == std::future_status::ready);
  REQUIRE(herald::testing::eventually([&] { return out.count.load() == 2; }, 10s));
  CHECK(out.acked_but_unreadable == 0);
  CHECK(e.real->get_message(1).ok());
  CHECK(e.real->get_message(2).ok());
}
