# SPDX-License-Identifier: Apache-2.0
# Locates every dependency from Debian 12 packages; nothing is downloaded.

find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(Protobuf REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED)

# CAF 0.17 ships no CMake config on Debian: find it by hand.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
find_library(CAF_OPENSSL_LIBRARY caf_openssl REQUIRED)
add_library(herald::caf INTERFACE IMPORTED)
target_include_directories(herald::caf SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(herald::caf INTERFACE ${CAF_OPENSSL_LIBRARY}
  ${CAF_IO_LIBRARY} ${CAF_CORE_LIBRARY} OpenSSL::SSL OpenSSL::Crypto
  Threads::Threads)

# libpqxx 6.4 over libpq (the PostgreSQL store): Debian ships no CMake config for either.
find_path(PQXX_INCLUDE_DIR pqxx/pqxx REQUIRED)
find_path(PQ_INCLUDE_DIR libpq-fe.h PATH_SUFFIXES postgresql REQUIRED)
find_library(PQXX_LIBRARY pqxx REQUIRED)
find_library(PQ_LIBRARY pq REQUIRED)
add_library(herald::pqxx INTERFACE IMPORTED)
target_include_directories(herald::pqxx SYSTEM INTERFACE ${PQXX_INCLUDE_DIR} ${PQ_INCLUDE_DIR})
target_link_libraries(herald::pqxx INTERFACE ${PQXX_LIBRARY} ${PQ_LIBRARY})

# Header-only libraries: CLI11, toml++, nlohmann-json.
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
find_path(TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)
find_path(NLOHMANN_JSON_INCLUDE_DIR nlohmann/json.hpp REQUIRED)
add_library(herald::headers INTERFACE IMPORTED)
target_include_directories(herald::headers SYSTEM INTERFACE
  ${CLI11_INCLUDE_DIR} ${TOMLPP_INCLUDE_DIR} ${NLOHMANN_JSON_INCLUDE_DIR}
  ${Boost_INCLUDE_DIRS})

if(HERALD_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
