#!/usr/bin/env bash
# Installs every Debian 12 package herald needs to build, test and benchmark.
# Idempotent: runs `apt-get update` at most once, installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates curl
  libcaf-dev libprotobuf-dev protobuf-compiler
  libfmt-dev libspdlog-dev catch2 libboost-dev libboost-system-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libsqlite3-dev libpqxx-dev postgresql-15 zlib1g-dev libssl-dev openssl
  etcd-server
  clang-14 libfuzzer-14-dev libclang-rt-14-dev lld
  nodejs npm
  clang-format-14
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js and npm may come from outside Debian's archive on developer machines;
# a working `node`/`npm` on PATH is enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ $p == nodejs || $p == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The PostgreSQL tests and `herald-bench fanout --store postgres` run initdb and postgres, which
# refuse root: as root they run as this unprivileged system user
# (tools/local-postgres/local_postgres.cpp creates it too when missing).
if [[ $(id -u) -eq 0 ]] && ! id herald-test >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin herald-test
fi
echo "install-deps: all packages present"
