#!/usr/bin/env bash
# Restarts herald nodes one at a time without dropping a client: each node is drained
# (`heraldctl drain --wait`: it leaves the guild ring, its gateway sessions reconnect to the other
# nodes), restarted with the command given for it, and the script waits until the node answers
# /readyz and every node it knows is up again (`heraldctl nodes`) before the next one.
# docs/operations.md, "Draining a node / rolling restart" is the runbook.
#
# Usage: rolling-restart.sh [options] ADMIN=COMMAND [ADMIN=COMMAND ...]
#   ADMIN    the node's admin API, HOST:PORT (its node.admin_listen)
#   COMMAND  a shell command that restarts that node's heraldd (it runs with `sh -c`), e.g.
#            'systemctl restart herald@na' or 'ssh nb sudo systemctl restart herald'
# Options:
#   --heraldctl PATH   heraldctl to use (default: heraldctl on PATH)
#   --token-file FILE  the admin token file, passed to heraldctl (default: heraldctl's own lookup)
#   --timeout S        per step: the drain, readiness, all nodes up (default 300)
#   --no-wait-up       do not wait for every node to be up (a cluster with a node down already)
# Exit codes: 0 every node restarted; 1 a step failed or timed out (the script stops there: the
# node it was on is named, still draining or not ready); 2 usage error.
set -euo pipefail

heraldctl=heraldctl
timeout_s=300
wait_up=1
token_args=()

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --heraldctl) heraldctl=${2:?}; shift 2 ;;
    --token-file) token_args=(--token-file "${2:?}"); shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --no-wait-up) wait_up=0; shift ;;
    -h|--help) usage ;;
    --*) echo "rolling-restart: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || usage
[[ "$timeout_s" =~ ^[0-9]+$ ]] || { echo "rolling-restart: --timeout expects seconds" >&2; exit 2; }
for spec in "$@"; do
  [[ "$spec" == *=* && -n "${spec%%=*}" && -n "${spec#*=}" ]] ||
    { echo "rolling-restart: expected ADMIN=COMMAND, got '$spec'" >&2; exit 2; }
done

log() { echo "rolling-restart: $(date -u +%H:%M:%S) $*"; }
fail() { echo "rolling-restart: $*" >&2; exit 1; }

ctl() { "$heraldctl" --node "$admin" "${token_args[@]}" "$@"; }

# Polls `$@` once a second until it succeeds, at most timeout_s seconds.
wait_for() {
  local deadline=$((SECONDS + timeout_s))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

ready() { curl -fsS -o /dev/null --max-time 5 "http://$admin/readyz"; }

# Every member the node lists is up (none down, none draining).
all_up() {
  local nodes total up
  nodes=$(ctl nodes --json 2>/dev/null) || return 1
  total=$(grep -o '"status":"[a-z]*"' <<<"$nodes" | wc -l)
  up=$(grep -o '"status":"up"' <<<"$nodes" | wc -l)
  ((total > 0 && total == up))
}

n=0
for spec in "$@"; do
  admin=${spec%%=*}
  restart=${spec#*=}
  n=$((n + 1))
  log "[$n/$#] $admin: draining"
  ctl drain --wait --timeout "$timeout_s" | sed "s/^/  /" ||
    fail "$admin: drain did not finish within $timeout_s s; the node is still draining (see docs/operations.md)"
  log "[$n/$#] $admin: restarting: $restart"
  sh -c "$restart" || fail "$admin: the restart command failed: $restart"
  # The old process may answer /readyz 503 "draining" until it exits: wait for a ready one.
  wait_for ready || fail "$admin: not ready within $timeout_s s after the restart"
  if ((wait_up)); then
    wait_for all_up || fail "$admin: not every node is up within $timeout_s s (heraldctl nodes)"
  fi
  log "[$n/$#] $admin: ready$( ((wait_up)) && echo ", every node up")"
done
log "done: $# node(s) restarted"
