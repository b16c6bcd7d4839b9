#!/usr/bin/env bash
# Two inplay builds against each other, at the same time on the same core.
#
#   bench/ab.sh BIN_A BIN_B [ROUNDS] [DURATION] [ENDPOINT]      defaults: 5 rounds, 8s, scores
#
# This machine's speed swings by 20-40 % from minute to minute (other tenants of the VM), so two
# builds run one after the other differ by more than most changes do. Here both servers run at
# once, each with one shard, both pinned to cpu 1, each loaded by its own wrk (-t1 -c50, both
# pinned to cpu 0, under flock /tmp/bench.lock). The scheduler splits cpu 1 between them, so
# each answers in proportion to how cheap its requests are, and a swing of the machine slows
# both alike: B/A is the ratio of their costs per request. The two swap ports and start order
# every round. Same build against itself gave 0.99 (one round).
#   scores   GET /api/scores/<id>, cycling through every id /api/matches lists
#   markets  GET /api/markets/football
# It prints each round's req/s and B/A, then the geometric mean of B/A over the rounds.
# Absolute req/s here are about half of a server alone: they are for the ratio only.
# Env: WARMUP (2 s of load before each round), LOCK (/tmp/bench.lock), OUT (logs; default a new
#      /tmp/inplay-ab-* directory).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: bench/ab.sh BIN_A BIN_B [ROUNDS] [DURATION] [scores|markets]"
BIN_A=$(realpath "$1"); BIN_B=$(realpath "$2")
ROUNDS=${3:-5}
DUR=${4:-8}; DUR=${DUR%s}
ENDPOINT=${5:-scores}
WARMUP=${WARMUP:-2}
for b in "$BIN_A" "$BIN_B"; do [ -x "$b" ] || die "not an executable: $b"; done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -gt 0 ]] || die "rounds must be a positive number, got '$3'"
[[ $DUR =~ ^[0-9]+$ && $DUR -gt 0 ]] || die "duration must be a whole number of seconds, got '$4'"
[[ $ENDPOINT == scores || $ENDPOINT == markets ]] || die "endpoint is scores or markets, got '$5'"
OUT=${OUT:-$(mktemp -d /tmp/inplay-ab-XXXXXX)}
mkdir -p "$OUT"
need_tools
# shellcheck source=../scripts/memlock.sh
source "$ROOT/scripts/memlock.sh" # glommio needs RLIMIT_MEMLOCK >= 512 KiB
[ "$NPROC" -ge 2 ] || die "needs 2 cpus (servers on cpu 1, wrk on cpu 0)"

PIDS=()
declare -A PID_OF # port -> server pid
stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start_one() { # bin port log -> pid in PIDS
  env INPLAY_SERVER_SHARDS=1 INPLAY_SERVER_HOST=127.0.0.1 INPLAY_SERVER_PORT="$2" \
    INPLAY_RATE_LIMIT_ENABLED=false taskset -c 1 "$1" >>"$3" 2>&1 </dev/null &
  PIDS+=($!)
  PID_OF[$2]=$!
}

wrk_args() { # port ids_file -> wrk command for the endpoint
  local a=(wrk -t1 -c50 -d"$DUR"s --timeout 5s -s "$BENCH_DIR/wrk.lua")
  if [ "$ENDPOINT" = scores ]; then
    a+=("http://127.0.0.1:$1/" -- "$2" /api/scores/)
  else
    a+=("http://127.0.0.1:$1/api/markets/football")
  fi
  printf '%s\n' "${a[@]}"
}

rps_of() { # wrk output file -> req/s from its BENCHSTAT line (nothing if there is none)
  awk '/^BENCHSTAT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         if (v["duration_us"] > 0) printf "%.0f", v["requests"] / v["duration_us"] * 1e6 }' "$1"
}

echo "inplay A/B, $(date -u +%FT%TZ), $NPROC cpus, load $(load1)"
echo "A: $BIN_A"
echo "B: $BIN_B"
echo "both servers at once on cpu 1 (1 shard each, INPLAY_RATE_LIMIT_ENABLED=false); one wrk -t1 -c50 -d${DUR}s each on cpu 0; $ENDPOINT; logs in $OUT"
printf '%-6s %12s %12s %8s\n' round "A req/s" "B req/s" "B/A"
RATIOS=()
for r in $(seq "$ROUNDS"); do
  pa=$(free_port); pb=$(free_port)
  while [ "$pb" = "$pa" ]; do pb=$(free_port); done
  if [ $((r % 2)) -eq 1 ]; then
    start_one "$BIN_A" "$pa" "$OUT/a.log"; start_one "$BIN_B" "$pb" "$OUT/b.log"
  else
    start_one "$BIN_B" "$pb" "$OUT/b.log"; start_one "$BIN_A" "$pa" "$OUT/a.log"
  fi
  for p in "$pa" "$pb"; do
    SERVER_PID=${PID_OF[$p]} SERVER_NAME="inplay on port $p"
    wait_http "http://127.0.0.1:$p/health" 60 || die "a server on port $p did not start (see $OUT)"
  done
  fetch_inplay_ids "http://127.0.0.1:$pa" "$OUT/ids-a.txt"
  fetch_inplay_ids "http://127.0.0.1:$pb" "$OUT/ids-b.txt"
  mapfile -t wa < <(wrk_args "$pa" "$OUT/ids-a.txt")
  mapfile -t wb < <(wrk_args "$pb" "$OUT/ids-b.txt")
  exec 9>>"$LOCK"
  timeout 900 flock 9 || die "could not get $LOCK within 900 s"
  if [ "$WARMUP" -gt 0 ]; then
    taskset -c 0 "${wa[@]/-d${DUR}s/-d${WARMUP}s}" >/dev/null 2>&1 &
    wpid=$!
    taskset -c 0 "${wb[@]/-d${DUR}s/-d${WARMUP}s}" >/dev/null 2>&1 || true
    wait "$wpid" || true
  fi
  timeout $((DUR + 60)) taskset -c 0 "${wa[@]}" >"$OUT/wrk-a-$r.txt" 2>&1 &
  wpid=$!
  timeout $((DUR + 60)) taskset -c 0 "${wb[@]}" >"$OUT/wrk-b-$r.txt" 2>&1 || true
  wait "$wpid" || true
  exec 9>&-
  stop_all
  ra=$(rps_of "$OUT/wrk-a-$r.txt"); rb=$(rps_of "$OUT/wrk-b-$r.txt")
  [ -n "$ra" ] && [ -n "$rb" ] && [ "$ra" -gt 0 ] || die "round $r: wrk gave no numbers (see $OUT/wrk-*-$r.txt)"
  ratio=$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.3f", b / a }')
  RATIOS+=("$ratio")
  printf '%-6s %12s %12s %8s\n' "$r" "$ra" "$rb" "$ratio"
done
awk 'BEGIN { s = 0; n = 0; lo = 1e9; hi = 0 }
     { s += log($1); n++; if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
     END { printf "B/A geometric mean over %d rounds: %.3f (%.3f-%.3f)\n", n, exp(s / n), lo, hi }' \
  < <(printf '%s\n' "${RATIOS[@]}")
