#!/usr/bin/env bash
# WebSocket fan-out: N subscribers over M matches, updates published through Redis.
#
#   bench/fanout.sh [SUBSCRIBERS] [MATCHES] [RATE] [COUNT] [--compare] [--endpoint live|ws]
#                                               defaults: 1000 100 10 200 (20 s of publishing)
#
# Builds inplay and the generator (bench/fanout, binary inplay-fanout) in release, starts a
# throwaway redis-server on a free port (pinned to cpu 0, next to the generator), then for each
# server: starts it on 127.0.0.1 (a free port) pinned to cpu 1 with REDIS_URL pointing at that
# Redis, and runs the generator pinned to cpu 0 (under flock /tmp/bench.lock). The generator
# opens SUBSCRIBERS WebSocket connections (/live/<id>, or /ws with a subscribe message),
# reads the server's RSS with them idle, then PUBLISHes COUNT updates per match at RATE/s per
# match and prints delivered msgs/s, publish -> receive latency, losses, reorderings,
# duplicates, the server's RSS (and RSS per idle subscribed session) and CPU time.
#   inplay: INPLAY_SERVER_SHARDS=1, INPLAY_DEMO_ENABLED=false (only the generator's updates
#           flow), INPLAY_RATE_LIMIT_ENABLED=false, enough connections per shard for N, and
#           no per-address WebSocket caps (every subscriber comes from 127.0.0.1).
#   --compare: also the reference (REF_DIR/run.sh bun: Fastify on Bun) on the same Redis, with
#           BENCH=1 and its own feed's publishes and polling turned down (REF_ENV), alternating
#           inplay / reference for ROUNDS rounds, and prints the ratios.
# Every server is freshly started for each run, so the RSS figures are comparable.
# Env: ROUNDS (1), SERVER_ENV (more NAME=value words for inplay, e.g.
#      "INPLAY_WEBSOCKET_SEND_QUEUE=64"; not INPLAY_* itself: inplay refuses unknown INPLAY_*
#      variables), REF_SERVERS ("bun"; "bun bun-native" adds Bun.serve), REF_ENV, REF_DIR,
#      BENCH_BIN (benchmark this inplay binary instead of building), FANOUT_BIN (same for the
#      generator), LOAD_MAX (1.5) and LOAD_WAIT (120 s) as in compare.sh, SETTLE_MS (1000),
#      GRACE_MS (5000), MAX_SECS (cap per run; default from the load), OUT (results and logs;
#      default a new /tmp/inplay-fanout-* directory).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

COMPARE=0
ENDPOINT=live
POS=()
while [ $# -gt 0 ]; do
  case $1 in
    --compare) COMPARE=1 ;;
    --endpoint) ENDPOINT=${2:-}; shift ;;
    -h | --help) sed -n '2,/^# shellcheck/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) POS+=("$1") ;;
  esac
  shift
done
N=${POS[0]:-1000}; M=${POS[1]:-100}; RATE=${POS[2]:-10}; COUNT=${POS[3]:-200}
ROUNDS=${ROUNDS:-1}
REF_SERVERS=${REF_SERVERS:-bun}
REF_ENV=${REF_ENV:-"BENCH=1 LIVE_AUTOPUBLISH=0 SCORES_POLL_MS=300000 ODDS_POLL_MS=300000"}
LOAD_MAX=${LOAD_MAX:-1.5}
LOAD_WAIT=${LOAD_WAIT:-120}
for v in N M COUNT ROUNDS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive whole number, got '${!v}'"
done
[[ $RATE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "RATE must be a number, got '$RATE'"
case $ENDPOINT in live | ws) ;; *) die "--endpoint is live or ws" ;; esac
[ $COMPARE = 0 ] || [ "$ENDPOINT" = live ] || die "--compare needs --endpoint live (the reference has no /ws)"
[ "$NPROC" -ge 2 ] || die "needs 2 cpus (server on cpu 1, generator on cpu 0)"
PUBLISH_S=$(awk -v c="$COUNT" -v r="$RATE" 'BEGIN { printf "%d", c / r + 0.999 }')
MAX_SECS=${MAX_SECS:-$((PUBLISH_S + 60 + N / 500))}
OUT=${OUT:-$(mktemp -d /tmp/inplay-fanout-XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
SERVER_CPU=1
GEN_CPU=0

for t in taskset flock timeout awk curl redis-server redis-cli; do
  command -v "$t" >/dev/null || die "$t is required (redis: scripts/deps.sh)"
done
# shellcheck source=../scripts/memlock.sh
source "$ROOT/scripts/memlock.sh" # glommio needs RLIMIT_MEMLOCK >= 512 KiB
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((N + 256)) ] || die "open-file limit $(ulimit -n) is too low for $N subscribers"
SOURCES=$((N / 20000 + 1)) # past ~28k connections one source address runs out of ports

# --- binaries: private copies, so a rebuild during the run cannot swap them ---------------
if [ -z "${BENCH_BIN:-}" ] || [ -z "${FANOUT_BIN:-}" ]; then
  log "building inplay and inplay-fanout (cargo build --release)"
  (cd "$ROOT" && timeout 1800 cargo build --release --quiet -p inplay -p inplay-fanout) ||
    die "cargo build --release failed"
fi
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/release
cp "${BENCH_BIN:-$TARGET/inplay}" "$OUT/inplay"
cp "${FANOUT_BIN:-$TARGET/inplay-fanout}" "$OUT/inplay-fanout"
if [ $COMPARE = 1 ]; then
  [ -x "$REF_DIR/run.sh" ] || die "no reference at $REF_DIR"
  if [ ! -d "$REF_DIR/node_modules" ]; then
    log "installing the reference's dependencies (npm ci in $REF_DIR)"
    (cd "$REF_DIR" && timeout 600 npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed"
  fi
fi

# --- throwaway Redis -----------------------------------------------------------------------
REDIS_PORT=$(free_port)
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
mkdir -p "$OUT/redis"
taskset -c $GEN_CPU redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$OUT/redis" >"$OUT/redis.log" 2>&1 </dev/null &
REDIS_PID=$!
cleanup() {
  stop_server
  if kill -0 "$REDIS_PID" 2>/dev/null; then kill -TERM "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "redis-server did not start (see $OUT/redis.log)"

SERVERS=inplay
[ $COMPARE = 1 ] && SERVERS="inplay $REF_SERVERS"
echo "inplay $(source_version), $(date -u +%FT%TZ), $NPROC cpus, load $(load1)"
echo "servers on cpu $SERVER_CPU (one core each); generator and redis-server ($REDIS_URL) on cpu $GEN_CPU"
echo "load: $N subscribers (/$ENDPOINT) over $M matches, $RATE updates/s per match, $COUNT per match (${PUBLISH_S} s); cap ${MAX_SECS} s per run"
echo "inplay: INPLAY_SERVER_SHARDS=1 INPLAY_DEMO_ENABLED=false INPLAY_RATE_LIMIT_ENABLED=false (rate limiting off for the benchmark)${SERVER_ENV:+ $SERVER_ENV}"
[ $COMPARE = 1 ] && echo "reference: $REF_DIR/run.sh ($REF_SERVERS) with REDIS_URL, $REF_ENV"
echo "$ROUNDS round(s) x ($SERVERS); results in $RESULTS, logs in $OUT"
echo

# Waits (<= 10 s) until the server listens to Redis: inplay psubscribes match:* at start-up.
wait_subscribed() {
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$REDIS_PORT" pubsub numpat 2>/dev/null)" -ge 1 ] 2>/dev/null && return 0
    sleep 0.1
  done
  log "inplay did not subscribe to Redis within 10 s"; return 1
}

# One server, one generator run; appends the JSON line to $OUT/runs.jsonl and a row to $RESULTS.
measure() { # round name
  local round=$1 name=$2 port line rc=0 out=$OUT/run-r$1-$2.txt
  port=$(free_port)
  case $name in
    inplay)
      # shellcheck disable=SC2086 # SERVER_ENV is a list of NAME=value words
      start_server inplay "$OUT/inplay.log" $SERVER_CPU -- \
        INPLAY_SERVER_SHARDS=1 INPLAY_SERVER_HOST=127.0.0.1 INPLAY_SERVER_PORT="$port" \
        INPLAY_RATE_LIMIT_ENABLED=false INPLAY_DEMO_ENABLED=false REDIS_URL="$REDIS_URL" \
        INPLAY_HTTP_MAX_CONNECTIONS_PER_SHARD=$((N + 1000)) \
        INPLAY_WEBSOCKET_MAX_CONNECTIONS_PER_IP=10000000 \
        INPLAY_WEBSOCKET_MAX_SUBSCRIPTIONS_PER_IP=10000000 ${SERVER_ENV:-} -- "$OUT/inplay" ;;
    *)
      # shellcheck disable=SC2086 # REF_ENV is a list of NAME=value words
      start_server "$name" "$OUT/$name.log" $SERVER_CPU -- \
        $REF_ENV PORT="$port" HOST=127.0.0.1 REDIS_URL="$REDIS_URL" -- "$REF_DIR/run.sh" "$name" ;;
  esac
  wait_http "http://127.0.0.1:$port/health" 60 || { stop_server; return 1; }
  if [ "$name" = inplay ]; then wait_subscribed || { stop_server; return 1; }; fi
  local args=(--port "$port" --redis "$REDIS_URL" --pid "$SERVER_PID" -n "$N" --matches "$M"
    --rate "$RATE" --count "$COUNT" --endpoint "$ENDPOINT" --threads 1 --sources "$SOURCES"
    --max-secs "$MAX_SECS" --settle-ms "${SETTLE_MS:-1000}" --grace-ms "${GRACE_MS:-5000}"
    --prefix "fan$round-" --label "$name/r$round")
  exec 9>>"$LOCK"
  timeout 900 flock 9 || { exec 9>&-; die "could not get $LOCK within 900 s"; }
  timeout $((MAX_SECS + 30)) taskset -c $GEN_CPU "$OUT/inplay-fanout" "${args[@]}" >"$out" 2>"$out.err" || rc=$?
  exec 9>&-
  kill -0 "$SERVER_PID" 2>/dev/null || echo "  !! $name exited during the run (see $OUT/$name.log)"
  stop_server
  grep -v '^{' "$out" | sed "s/^/  [$name] /" || true
  line=$(grep '^{' "$out" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "  !! the generator failed (exit $rc):"; sed 's/^/     /' "$out.err"; return 1
  fi
  [ $rc = 0 ] || echo "  !! the generator exited $rc (nothing delivered?)"
  printf '%s\n' "$line" >>"$OUT/runs.jsonl"
  local f row=$round$'\t'$name
  for f in "${COLS[@]}"; do row+=$'\t'$(jget "$f" "$line"); done
  printf '%s\n' "$row" >>"$RESULTS"
}

# A field of the generator's flat JSON line ("-" for null or missing).
jget() { # field json
  local v
  v=$(sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" <<<"$2" | tr -d '"')
  [ -z "$v" ] || [ "$v" = null ] && v=-
  printf '%s' "$v"
}

COLS=(connected failed delivered_per_s latency_p50_us latency_p99_us latency_p999_us latency_max_us
  expected delivered lost out_of_order duplicates closed_early undelivered close_codes rss_before_kib
  rss_connected_kib rss_peak_kib rss_per_session_bytes server_cpu_pct client_cpu_pct other_cpu_pct
  server_cpu_us_per_msg client_cpu_us_per_msg)
(IFS=$'\t'; printf 'round\tserver\t%s\n' "${COLS[*]}") >"$RESULTS"
for round in $(seq "$ROUNDS"); do
  for name in $SERVERS; do
    load=$(wait_quiet "$LOAD_MAX" "$LOAD_WAIT")
    echo "round $round/$ROUNDS: $name  $(date +%T)  load before: $load"
    measure "$round" "$name" || echo "  !! $name: no result for round $round"
  done
done

# --- summary: medians over the rounds --------------------------------------------------------
median() { grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { # server column-name -> median
  local i
  for i in "${!COLS[@]}"; do [ "${COLS[$i]}" = "$2" ] && break; done
  awk -F'\t' -v s="$1" -v c=$((i + 3)) 'NR > 1 && $2 == s { print $c }' "$RESULTS" | median
}
total() { awk -F'\t' -v s="$1" -v c="$2" 'NR > 1 && $2 == s { t += $c } END { print t + 0 }' "$RESULTS"; }
ms() { awk -v u="$1" 'BEGIN { if (u == "-") print "-"; else printf "%.2f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "medians over $ROUNDS round(s): $N subscribers, $M matches, $RATE/s per match, $COUNT per match"
FMT='%-10s %9s %9s %9s %9s %9s %7s %5s %5s %6s %11s %11s %6s %7s %7s\n'
# shellcheck disable=SC2059 # one format for the header and the rows
printf "$FMT" server msgs/s p50_ms p99_ms p999_ms max_ms lost ooo dup closed undelivered B/session \
  cpu% srv_us gen_us
for name in $SERVERS; do
  # shellcheck disable=SC2059
  printf "$FMT" "$name" "$(col "$name" delivered_per_s)" \
    "$(ms "$(col "$name" latency_p50_us)")" "$(ms "$(col "$name" latency_p99_us)")" \
    "$(ms "$(col "$name" latency_p999_us)")" "$(ms "$(col "$name" latency_max_us)")" \
    "$(total "$name" 12)" "$(total "$name" 13)" "$(total "$name" 14)" "$(total "$name" 15)" \
    "$(total "$name" 16)" "$(col "$name" rss_per_session_bytes)" "$(col "$name" server_cpu_pct)" \
    "$(col "$name" server_cpu_us_per_msg)" "$(col "$name" client_cpu_us_per_msg)"
done
echo "(lost = gaps, ooo = out of order, dup, closed = closed by the server early, undelivered = not"
echo " arrived when the run ended: totals over the rounds; B/session = server RSS per idle subscribed"
echo " session; cpu% = server cpu from the first publish to the end of the drain, 100 = one core;"
echo " srv_us, gen_us = server and generator cpu per delivered message, µs)"
for name in $SERVERS; do
  if awk -v s="$(col "$name" server_cpu_us_per_msg)" -v g="$(col "$name" client_cpu_us_per_msg)" \
    'BEGIN { exit !(s != "-" && g != "-" && g + 0 >= s + 0) }'; then
    echo "note: $name: gen_us >= srv_us: a burst reached its last subscriber no sooner than the generator"
    echo "      could read it, so these latencies bound the generator as much as the server"
  fi
done
if [ $COMPARE = 1 ]; then
  echo
  echo "ratios (inplay / reference; msgs/s: higher is better for inplay, p99 and RSS: lower is better):"
  for ref in $REF_SERVERS; do
    printf '  inplay/%-10s delivered msgs/s x%s   p99 x%s   RSS per session x%s   cpu per message x%s\n' \
      "$ref" "$(ratio "$(col inplay delivered_per_s)" "$(col "$ref" delivered_per_s)")" \
      "$(ratio "$(col inplay latency_p99_us)" "$(col "$ref" latency_p99_us)")" \
      "$(ratio "$(col inplay rss_per_session_bytes)" "$(col "$ref" rss_per_session_bytes)")" \
      "$(ratio "$(col inplay server_cpu_us_per_msg)" "$(col "$ref" server_cpu_us_per_msg)")"
  done
fi
