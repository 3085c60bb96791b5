// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/worker.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include <caf/sec.hpp>

namespace herald::supervision {

namespace {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out{abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free};
  return status == 0 && out ? std::string{out.get()} : std::string{name};
}

}  // namespace

caf::error crash_reason(const std::exception_ptr& ex) {
  try {
    if (ex) {
      std::rethrow_exception(ex);
    }
  } catch (const std::exception& e) {
    return caf::make_error(caf::sec::runtime_error,
                           "exception " + demangle(typeid(e).name()) + ": " + e.what());
  } catch (...) {
    return caf::make_error(caf::sec::runtime_error, std::string{"exception of unknown type"});
  }
  return caf::make_error(caf::sec::runtime_error, std::string{"exception (null)"});
}

void install_crash_handler(caf::scheduled_actor* self) {
  self->set_exception_handler(
      [](caf::scheduled_actor*, std::exception_ptr& ex) { return crash_reason(ex); });
}

}  // namespace herald::supervision
