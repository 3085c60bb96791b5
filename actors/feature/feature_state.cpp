// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/feature_state.hpp"

#include <utility>

#include "actors/services/dispatch_error.hpp"
#include "actors/services/store_error_mapping.hpp"

namespace herald::feature {

namespace {

struct to_proto {
  proto::custom_dispatch& custom;

  void operator()(const store::write_op::put_feature_state& op) const {
    auto* w = custom.add_state_writes();
    w->set_op(proto::feature_state_write::PUT);
    w->set_feature(op.feature_);
    w->set_key(op.key_);
    w->set_value(op.value_);
  }
  void operator()(const store::write_op::erase_feature_state& op) const {
    auto* w = custom.add_state_writes();
    w->set_op(op.prefix_ ? proto::feature_state_write::ERASE_PREFIX
                         : proto::feature_state_write::ERASE);
    w->set_feature(op.feature_);
    w->set_key(op.key_);
  }
  template <class Other>
  void operator()(const Other&) const {}  // state_writes holds only the two above
};

caf::error commit_error(const store::store_error& err) {
  return dispatch::from_commit_error(err);
}

}  // namespace

state_writes::state_writes(std::string feature) : feature_(std::move(feature)) {}

state_writes& state_writes::put(std::string key, std::string value) {
  ops_.emplace_back(store::write_op::put_feature_state{feature_, std::move(key), std::move(value)});
  return *this;
}

state_writes& state_writes::erase(std::string key) {
  ops_.emplace_back(store::write_op::erase_feature_state{feature_, std::move(key), false});
  return *this;
}

state_writes& state_writes::erase_prefix(std::string prefix) {
  ops_.emplace_back(store::write_op::erase_feature_state{feature_, std::move(prefix), true});
  return *this;
}

void state_writes::apply_to(proto::custom_dispatch& custom) const {
  for (const auto& op : ops_) {
    std::visit(to_proto{custom}, op);
  }
}

void state_writes::add_to(store::write_batch& batch) const {
  for (const auto& op : ops_) {
    std::visit([&batch](const auto& x) { batch.add(x); }, op);
  }
}

feature_state::feature_state(dispatch::services_ptr svc, std::string feature)
    : svc_(std::move(svc)), feature_(std::move(feature)) {}

caf::expected<std::vector<state_entry>> feature_state::load(const std::string& prefix) const {
  auto loaded = svc_->store->load_feature_state(feature_, prefix);
  if (!loaded) {
    return dispatch::from_store_error(loaded.error(), caf::error{});
  }
  return std::move(loaded).value();
}

caf::error feature_state::submit(const state_writes& writes, completion done) const {
  if (writes.empty()) {
    if (done) {
      done(caf::error{});
    }
    return {};
  }
  store::write_batch batch;
  writes.add_to(batch);
  auto submitted = svc_->writer->submit(0, std::move(batch), 0,
                                        [done = std::move(done)](const store::result<void>& r) {
                                          if (done) {
                                            done(r ? caf::error{} : commit_error(r.error()));
                                          }
                                        });
  if (!submitted) {
    return dispatch::from_commit_error(submitted.error());
  }
  return {};
}

}  // namespace herald::feature
