#!/usr/bin/env bash
# The README's main command: installs what is needed, builds, and starts one
# herald node in the foreground with its config in var/ (Ctrl-C stops it
# cleanly). Idempotent: a second run reuses the build and the node's data.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tools/setup/install-deps.sh"
HERALD_TARGETS="heraldd heraldctl" HERALD_BUILD_TYPE=Release "$root/tools/setup/build.sh" -DHERALD_BUILD_TESTS=OFF
mkdir -p "$root/var"
config=$root/var/heraldd.toml
if [[ ! -f $config ]]; then
  cat >"$config" <<TOML
# Demo single-node configuration; see docs/configuration.md for every key.
[node]
name = "herald-demo"
data_dir = "$root/var/herald-demo"

[admin]
listen = "127.0.0.1:9100"
TOML
fi
echo "start-node: heraldd with $config (admin http://127.0.0.1:9100; try: $root/build/bin/heraldctl status)"
exec "$root/build/bin/heraldd" --config "$config"
