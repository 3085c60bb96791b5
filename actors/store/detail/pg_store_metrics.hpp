// SPDX-License-Identifier: Apache-2.0
#pragma once
// postgres_store's metrics: the same families as sqlite_store's, labelled backend="postgres".
// Any thread (the registry's metrics are thread-safe).

#include "actors/store/result.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::store::detail {

struct pg_store_metrics {
  metrics::counter& batches_;
  metrics::counter& ops_;
  metrics::histogram& commit_seconds_;

  static pg_store_metrics& get() {
    auto& reg = metrics::registry::global();
    const metrics::labels l{{"backend", "postgres"}};
    static pg_store_metrics m{
        reg.get_counter("herald_store_batches_total", "Write batches committed", l),
        reg.get_counter("herald_store_ops_total", "Write ops committed", l),
        reg.get_histogram("herald_store_commit_seconds", "Time to apply and commit one write batch",
                          l)};
    return m;
  }

  static void count_error(const store_error& error) {
    metrics::registry::global()
        .get_counter("herald_store_errors_total", "Store calls that failed",
                     {{"backend", "postgres"}, {"code", to_string(error.code_)}})
        .inc();
  }

  template <class T>
  static result<T> counted(result<T> r) {
    if (!r) {
      count_error(r.error());
    }
    return r;
  }
};

}  // namespace herald::store::detail
