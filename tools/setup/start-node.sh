#!/usr/bin/env bash
# The README's main command: installs what is needed, builds, starts one herald node in the
# background (config, data, log and pid in var/), waits until it is ready, seeds demo data
# once and prints the demo users' tokens and a discord.js v14 snippet.
# Idempotent: a re-run reuses the build, the running node (or restarts a stopped one with its
# data) and the demo data recorded in var/demo.json, and prints the same information.
# Environment (all optional): HERALD_VAR_DIR (default <repo>/var), HERALD_BUILD_DIR
# (default <repo>/build), HERALD_SKIP_SETUP=1 (no apt, no build), HERALD_ADMIN_PORT (9100)
# and HERALD_GATEWAY_PORT (8080), both used only when the config file is first written.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
var=${HERALD_VAR_DIR:-$root/var}
bin=${HERALD_BUILD_DIR:-$root/build}/bin
if [[ ${HERALD_SKIP_SETUP:-0} != 1 ]]; then
  "$root/tools/setup/install-deps.sh"
  HERALD_TARGETS="heraldd heraldctl" HERALD_BUILD_TYPE=Release "$root/tools/setup/build.sh" \
    -DHERALD_BUILD_TESTS=OFF
fi
mkdir -p "$var"
config=$var/heraldd.toml
if [[ ! -f $config ]]; then
  cat >"$config" <<TOML
# Demo single-node configuration; see docs/configuration.md for every key.
[node]
name = "herald-demo"
data_dir = "$var/herald-demo"

[admin]
listen = "127.0.0.1:${HERALD_ADMIN_PORT:-9100}"

[gateway]
listen = "127.0.0.1:${HERALD_GATEWAY_PORT:-8080}"

[features]
enabled = ["reactions", "pins"]
TOML
fi
# The effective listen addresses and data dir (the config may have been edited by hand).
effective=$("$bin/heraldd" --config "$config" --check-config)
setting() { sed -n "/^\[$1\]/,/^\[/s/^$2 = \"\(.*\)\"$/\1/p" <<<"$effective" | head -n 1; }
admin=$(setting admin listen)
gateway=$(setting gateway listen)
data_dir=$(setting node data_dir)
# The admin API needs the admin token: admin.token_file, else the one heraldd generates at its
# first start into the data dir.
token_file=$(setting admin token_file)
token_file=${token_file:-$data_dir/admin.token}
ctl() { "$bin/heraldctl" --node "$admin" --token-file "$token_file" "$@"; }
field() { sed -n "s/^$1=//p"; }

# GET /readyz on the admin API without curl: 0 when it answers 200.
ready() {
  local host=${admin%:*} port=${admin##*:} status
  { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
  read -r -t 2 _ status _ <&3 || status=
  exec 3<&- 3>&-
  [[ $status == 200 ]]
}

pidfile=$var/heraldd.pid
log=$var/heraldd.log
alive() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
# Waits up to 30 s: 0 once ready, 1 if the node process is gone, 2 on timeout.
wait_ready() {
  for _ in $(seq 1 300); do
    ready && return 0
    alive || return 1
    sleep 0.1
  done
  return 2
}
start_heraldd() {
  setsid nohup "$bin/heraldd" --config "$config" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  echo "start-node: started heraldd (pid $!, log $log)"
}
if ready; then
  echo "start-node: a node already answers on http://$admin; reusing it"
else
  status=1
  if alive; then
    # Starting up, or still draining after a stop: wait for either outcome.
    echo "start-node: heraldd (pid $(cat "$pidfile")) runs but is not ready; waiting"
    wait_ready && status=0 || status=$?
  fi
  if [[ $status == 1 ]]; then
    start_heraldd
    wait_ready && status=0 || status=$?
  fi
  if [[ $status != 0 ]]; then
    echo "start-node: heraldd is not ready (see $log); last log lines:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
fi

demo=$var/demo.json
# Demo data is recorded once; a wiped data dir (no store file) means seed again.
if [[ -f $demo && ! -f $data_dir/herald.db ]]; then
  echo "start-node: $data_dir has no store; seeding the demo data again"
  rm -f "$demo"
fi
if [[ ! -f $demo ]]; then
  out=$(ctl user create --name alice)
  alice_id=$(field id <<<"$out"); alice_token=$(field token <<<"$out")
  out=$(ctl user create --name bob)
  bob_id=$(field id <<<"$out"); bob_token=$(field token <<<"$out")
  out=$(ctl user create --name herald-bot --bot)
  bot_id=$(field id <<<"$out"); bot_token=$(field token <<<"$out")
  guild_id=$(ctl guild create --name "herald demo" --owner "$alice_id" | field id)
  general_id=$(ctl channel create --guild "$guild_id" --name general | field id)
  staff_id=$(ctl channel create --guild "$guild_id" --name staff --private | field id)
  # A "staff" role without extra guild permissions; #staff's overwrite gives it VIEW_CHANNEL
  # (1024). alice owns the guild, so she sees #staff anyway; bob has no role and does not.
  staff_role_id=$(ctl role create --guild "$guild_id" --name staff --permissions 0 | field id)
  ctl member add --guild "$guild_id" --user "$bob_id" >/dev/null
  ctl member add --guild "$guild_id" --user "$bot_id" --role "$staff_role_id" >/dev/null
  ctl overwrite set --channel "$staff_id" --role "$staff_role_id" --allow 1024 --deny 0 >/dev/null
  cat >"$demo.tmp" <<JSON
{
  "admin": "$admin",
  "gateway": "$gateway",
  "rest": "http://$gateway/api",
  "guild_id": "$guild_id",
  "channels": {"general": "$general_id", "staff": "$staff_id"},
  "roles": {"staff": "$staff_role_id"},
  "users": {
    "alice": {"id": "$alice_id", "token": "$alice_token"},
    "bob": {"id": "$bob_id", "token": "$bob_token"},
    "bot": {"id": "$bot_id", "name": "herald-bot", "token": "$bot_token"}
  }
}
JSON
  chmod 600 "$demo.tmp"
  mv "$demo.tmp" "$demo"
  echo "start-node: seeded the demo guild (recorded in $demo)"
fi

# Reads "key": "value" from demo.json; every value there is a plain string.
demo_get() { sed -n "/\"$1\"/{s/.*\"$2\": \"\([^\"]*\)\".*/\1/p}" "$demo" | head -n 1; }
alice_token=$(demo_get alice token)
bob_token=$(demo_get bob token)
bot_token=$(demo_get bot token)
cat <<INFO

herald is running: gateway ws://$gateway, REST http://$gateway/api/v10, admin http://$admin
  admin token in $token_file; for heraldctl: export HERALD_ADMIN_TOKEN_FILE=$token_file
  guild "herald demo" $(demo_get guild_id guild_id): #general $(demo_get general general), #staff $(demo_get staff staff) (private: alice and herald-bot only)
  alice       $(demo_get alice id)  token $alice_token
  bob         $(demo_get bob id)  token $bob_token
  herald-bot  $(demo_get bot id)  token $bot_token
  (ids and tokens also in $demo)

Post as alice:
  curl -s -X POST http://$gateway/api/v10/channels/$(demo_get general general)/messages \\
    -H 'Authorization: Bot $alice_token' -H 'Content-Type: application/json' \\
    -d '{"content":"hello from alice"}'

discord.js v14 (npm install discord.js@14), bot.js:
---8<---
const { Client, GatewayIntentBits } = require('discord.js');
const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages,
            GatewayIntentBits.MessageContent],
  rest: { api: 'http://$gateway/api', version: '10' },
});
client.once('ready', () => console.log(\`ready as \${client.user.tag}\`));
client.on('messageCreate', (m) =>
  console.log(\`#\${m.channel.name} \${m.author.username}: \${m.content}\`));
client.login('$bot_token');
---8<---

Stop the node: kill \$(cat $pidfile)   (graceful drain; log in $log)
INFO
