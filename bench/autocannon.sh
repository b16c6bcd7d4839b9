#!/usr/bin/env bash
# The original service's own benchmark, `autocannon -c 100 -d 30`, against inplay.
#
#   bench/autocannon.sh [DURATION] [CONNECTIONS] [SERVER_CORES]     defaults: 30 100 1
#
# Builds inplay in release, starts it on 127.0.0.1 (a free port) with SERVER_CORES shards
# pinned to cpus 1..SERVER_CORES, rate limiting off, then runs autocannon pinned to cpu 0
# (under flock /tmp/bench.lock) on /api/scores/<a live match id> and /api/markets/football, and
# prints req/s, latency percentiles and the server's peak RSS. autocannon is installed with npm
# into ~/.cache/inplay-bench if it is missing. Note: autocannon itself tops out near 30k req/s
# on one core here, so use wrk.sh / compare.sh for ratios; this script answers "what does the
# original's benchmark command say". autocannon reports p50/p90/p97.5/p99 (no p95).
# Env: BENCH_BIN (benchmark this inplay binary instead of building one), PORT, OUT.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DUR=${1:-30}; DUR=${DUR%s}
CONNS=${2:-100}
CORES=${3:-1}
[[ $DUR =~ ^[0-9]+$ && $DUR -gt 0 ]] || die "duration must be a whole number of seconds, got '$1'"
[[ $CONNS =~ ^[0-9]+$ && $CONNS -gt 0 ]] || die "connections must be a positive number"
[[ $CORES =~ ^[0-9]+$ && $CORES -gt 0 ]] || die "server cores must be a positive number"
OUT=${OUT:-$(mktemp -d /tmp/inplay-autocannon-XXXXXX)}
mkdir -p "$OUT"

need_tools
command -v npm >/dev/null || die "npm is needed to install autocannon (apt-get install -y npm)"
AC_DIR=${AC_DIR:-$HOME/.cache/inplay-bench}
AC=$AC_DIR/node_modules/.bin/autocannon
if [ ! -x "$AC" ]; then
  log "installing autocannon into $AC_DIR"
  mkdir -p "$AC_DIR"
  timeout 600 npm install --prefix "$AC_DIR" --no-audit --no-fund autocannon@7 >"$OUT/npm.log" 2>&1 ||
    { tail -20 "$OUT/npm.log" >&2; die "npm install autocannon failed"; }
fi
# shellcheck source=../scripts/memlock.sh
source "$ROOT/scripts/memlock.sh" # glommio needs RLIMIT_MEMLOCK >= 512 KiB
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
build_inplay

CPUS=$(server_cpus "$CORES")
PORT=${PORT:-$(free_port)}
BASE=http://127.0.0.1:$PORT
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

echo "inplay $(source_version), $(date -u +%FT%TZ), $NPROC cpus, load $(load1)"
echo "server: $CORES shard(s) on cpu $CPUS, $BASE; INPLAY_RATE_LIMIT_ENABLED=false (rate limiting off for the benchmark)"
echo "load:   autocannon -c $CONNS -d $DUR on cpu 0; logs in $OUT"
start_server inplay "$OUT/inplay.log" "$CPUS" -- \
  INPLAY_SERVER_SHARDS="$CORES" INPLAY_SERVER_HOST=127.0.0.1 INPLAY_SERVER_PORT="$PORT" \
  INPLAY_RATE_LIMIT_ENABLED=false -- "$INPLAY_BIN"
wait_http "$BASE/health" 60 || { tail -20 "$OUT/inplay.log" >&2; exit 1; }
fetch_inplay_ids "$BASE" "$OUT/ids.txt"
LIVE=$(curl -sf --max-time 10 "$BASE/api/matches?status=live" | grep -o '"matchId":"[^"]*"' | head -1 | cut -d'"' -f4)
[ -n "$LIVE" ] || die "no live match to benchmark"
echo

printf '%-8s %9s %8s %8s %8s %8s %8s %7s %9s\n' endpoint req/s p50_ms p90_ms p97.5_ms p99_ms max_ms non2xx peakRSS
status=0
for ep in scores markets; do
  if [ "$ep" = scores ]; then url=$BASE/api/scores/$LIVE; else url=$BASE/api/markets/football; fi
  json=$OUT/autocannon-$ep.json
  flock "$LOCK" timeout $((DUR + 60)) taskset -c 0 "$AC" -c "$CONNS" -d "$DUR" -j "$url" >"$json" 2>"$OUT/autocannon-$ep.err" ||
    { log "autocannon failed on $ep (see $OUT/autocannon-$ep.err)"; status=1; continue; }
  python3 - "$json" "$ep" "$(($(hwm_kib "$SERVER_PID") / 1024))" <<'PY' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
lat, non2xx = r["latency"], r.get("non2xx", 0) + r.get("errors", 0) + r.get("timeouts", 0)
print(f'{sys.argv[2]:<8} {r["requests"]["average"]:>9.0f} {lat["p50"]:>8} {lat["p90"]:>8} '
      f'{lat["p97_5"]:>8} {lat["p99"]:>8} {lat["max"]:>8} {non2xx:>7} {sys.argv[3]:>5} MiB')
sys.exit(1 if non2xx else 0)
PY
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "inplay is no longer running!" >&2; status=1; break; }
done
exit $status
