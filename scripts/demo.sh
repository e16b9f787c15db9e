#!/usr/bin/env bash
# The demo: a chat on a three-node Plexus cluster on 127.0.0.1, with
# simulated users, and one node killed (kill -9) halfway, then restarted.
# It prints where the rooms live as they move, and ends by reading every
# room's history back: no acknowledged message may be missing.
#
#   ./scripts/demo.sh [--keep] [--no-build]
#
#   --keep      leave the cluster running at the end (it prints the dashboard
#               URL, the chat ports and how to stop it)
#   --no-build  use what build/release holds (the tests run it this way)
#
# Installs what it needs (scripts/install-deps.sh) and builds the release
# preset first. Exit code: 0 if no acknowledged message was lost, else 1.
set -euo pipefail
export LC_ALL=C  # EPOCHREALTIME with a decimal point
cd "$(dirname "$0")/.."

keep=0
build=1
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo.sh: unknown option '$arg' (--keep, --no-build)" >&2
      exit 2
      ;;
  esac
done

if [ "$build" = 1 ]; then
  ./scripts/install-deps.sh
  cmake --preset release
  cmake --build --preset release -j2 --target plexus-chat chat-bots plexusctl basics
fi
bin=${PLEXUS_DEMO_BIN_DIR:-build/release/examples}
for tool in plexus-chat chat-bots plexusctl; do
  [ -x "$bin/$tool" ] || { echo "demo.sh: $bin/$tool is not built" >&2; exit 1; }
done

work=$(mktemp -d /tmp/plexus-demo.XXXXXX)
started=$EPOCHREALTIME
pids=()
# Seconds since the start, to a tenth.
elapsed() { awk -v now="$EPOCHREALTIME" -v t0="$started" 'BEGIN { printf "%.1f", now - t0 }'; }
say() { printf '[%5ss] %s\n' "$(elapsed)" "$*"; }

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
on_exit() {
  if [ "$keep" = 0 ]; then
    stop_all
    rm -rf "$work"
  fi
}
trap on_exit EXIT

# wait_for FILE REGEX SECONDS [PID]: until a line of FILE matches (false at
# the deadline, or if PID ends first).
wait_for() {
  local deadline=$(($(date +%s) + $3))
  while ! grep -qE "$2" "$1" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
}
# wait_progress N: until the bots have reported their progress N times (every
# 5 s), or have ended.
wait_progress() {
  while [ "$(grep -c 'progress:' "$work/bots.log" 2>/dev/null || true)" -lt "$1" ] &&
    kill -0 "$bots" 2>/dev/null; do
    sleep 0.1
  done
}

# A cookie only this user may read, as --cookie-file wants.
umask 077
head -c 18 /dev/urandom | base64 > "$work/cookie"
umask 022

# Node i's ports: node name, chat and HTTP; 0 picks a free one the first
# time, and the restart takes the same ones again.
declare -A name chat http pid
start_node() {
  local i=$1 seeds=$2
  local out="$work/chat$i.out"
  : > "$out"
  "$bin/plexus-chat" --name "${name[$i]}" --cookie-file "$work/cookie" ${seeds:+--seeds "$seeds"} \
    --chat-port "${chat[$i]}" --http-port "${http[$i]}" --tick-ms 3000 \
    --log-file "$work/chat$i.log" > "$out" &
  pid[$i]=$!
  pids+=("${pid[$i]}")
  if ! wait_for "$out" '^CHAT ' 20 "${pid[$i]}"; then
    echo "demo.sh: node $i did not start; its log:" >&2
    cat "$work/chat$i.log" >&2 || true
    exit 1
  fi
  name[$i]=$(awk '/^READY/ {print $2}' "$out")
  chat[$i]=$(awk '/^CHAT/ {print $2}' "$out" | sed 's/.*://')
  http[$i]=$(awk '/^HTTP/ {print $2}' "$out" | sed 's/.*://')
}

# ctl NODE ARGS...: plexusctl against NODE, with the cluster's cookie.
ctl() { PLEXUS_COOKIE=$(cat "$work/cookie") "$bin/plexusctl" --node "$1" "${@:2}" 2>/dev/null; }
# members NODE HUB: how many members NODE's hub HUB lists.
members() {
  ctl "$1" hub "$2" status |
    sed -n 's/.*nodes=\[\([^]]*\)\].*/\1/p' | wc -w
}
# wait_cluster N: until both hubs of every node list N members.
wait_cluster() {
  local deadline=$(($(date +%s) + 30)) i hub
  for i in 1 2 3; do
    [ -n "${pid[$i]:-}" ] && kill -0 "${pid[$i]}" 2>/dev/null || continue
    for hub in chat_rooms chat_sessions; do
      while [ "$(members "${name[$i]}" "$hub")" != "$1" ]; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
          echo "demo.sh: the nodes did not form one cluster in 30 s" >&2
          exit 1
        fi
        sleep 0.1
      done
    done
  done
}

# Where the sessions (one copy each) run: "chat1 9, chat2 8, ...".
sessions_by_node() {
  ctl "${name[1]}" hub chat_sessions list |
    sed -n 's/.*nodes=\[{node=\([^@]*\)@.*/\1/p' | sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}'
}

say "starting three plexus-chat nodes on 127.0.0.1 (plexus-node with the chat example in it)"
for i in 1 2 3; do
  name[$i]="chat$i@127.0.0.1:0"
  chat[$i]=0
  http[$i]=0
  start_node "$i" "$([ "$i" = 1 ] || echo "${name[1]}")"
  say "  ${name[$i]}: chat on 127.0.0.1:${chat[$i]}, dashboard http://127.0.0.1:${http[$i]}/"
done

wait_cluster 3
say "the three nodes form one cluster: both hubs (chat_rooms, chat_sessions) list them all"

say "24 bots join 6 rooms through the three nodes' chat ports and post for 40 s;"
say "each room is a hub child with two copies: the active one acknowledges a message"
say "(\"ok ROOM INDEX\") only once its passive copy holds it too"
"$bin/chat-bots" --nodes "127.0.0.1:${chat[1]},127.0.0.1:${chat[2]},127.0.0.1:${chat[3]}" \
  --users 24 --rooms 6 --seconds 40 --t0 "$started" > "$work/bots.log" 2>&1 &
bots=$!
tail -n +1 -f --pid="$bots" "$work/bots.log" &
tail_pid=$!
pids+=("$bots" "$tail_pid")  # stopped with the nodes if the story ends early

# 10 s in: a node dies without a word.
wait_progress 2
say "sessions (one copy each) by node: $(sessions_by_node)"
say "kill -9 ${name[3]} (pid ${pid[3]}): the rooms active there fail over to their copies,"
say "its sessions start again on the others, and its bots reconnect through other nodes"
kill -9 "${pid[3]}"
wait "${pid[3]}" 2>/dev/null || true
killed_at=$(elapsed)

# 20 s in: it comes back.
wait_progress 4
say "sessions by node without chat3: $(sessions_by_node)"
say "restarting ${name[3]}: rooms move back to it; each new copy takes the log from the other"
start_node 3 "${name[1]}"
back_at=$(elapsed)
wait_cluster 3
say "  ${name[3]} is back in both hubs"

bots_rc=0
wait "$bots" || bots_rc=$?
wait "$tail_pid" 2>/dev/null || true
say "sessions by node at the end: $(sessions_by_node)"

summary=$(sed -n 's/.*summary: //p' "$work/bots.log")
echo
echo "== Summary"
echo "  3 nodes, 24 bots, 6 rooms with 2 copies each, the sessions with one"
echo "  chat3 killed (kill -9) at ${killed_at} s, back at ${back_at} s; the story took $(elapsed) s"
echo "  ${summary:-the bots gave no summary}"
if [ "$bots_rc" = 0 ]; then
  echo "  every acknowledged message is in its room's history, once, at its index"
else
  echo "  SOME ACKNOWLEDGED MESSAGES ARE MISSING (see above)"
fi
echo

if [ "$keep" = 1 ]; then
  echo "The cluster keeps running:"
  for i in 1 2 3; do
    echo "  ${name[$i]}: dashboard http://127.0.0.1:${http[$i]}/   chat: nc 127.0.0.1 ${chat[$i]}"
  done
  echo "  logs in $work; stop it with: kill ${pid[1]} ${pid[2]} ${pid[3]}"
else
  echo "Stopped the cluster. To keep it running and look at it (the dashboard, nc):"
  echo "  ./scripts/demo.sh --keep    (it prints each node's dashboard URL, http://127.0.0.1:PORT/)"
  echo "The single-node tour of the runtime: ./build/release/examples/basics"
fi
exit "$bots_rc"
