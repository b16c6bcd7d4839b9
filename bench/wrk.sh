#!/usr/bin/env bash
# HTTP throughput and latency of inplay under wrk, on this machine.
#
#   bench/wrk.sh [DURATION] [CONNECTIONS] [SERVER_CORES]      defaults: 10s 100 1
#
# Builds inplay in release, starts it on 127.0.0.1 (a free port) with SERVER_CORES shards
# pinned to cpus 1..SERVER_CORES (taskset; all cpus if SERVER_CORES >= nproc), rate limiting
# off, waits for /health, then loads it with wrk (1 thread, pinned to cpu 0, under
# flock /tmp/bench.lock):
#   scores   GET /api/scores/<id>, cycling through every id /api/matches lists
#   markets  GET /api/markets/football
# and prints req/s, p50/p90/p99/max latency, errors, bytes per response, the server's cpu use
# and its peak RSS (VmHWM).
# Env: BENCH_BIN (benchmark this inplay binary instead of building one), WARMUP (2 s of load
#      per endpoint before measuring, 0 = none), PORT (default: a free one),
#      OUT (where logs go; default a new /tmp/inplay-wrk-* directory), ACCEPT_ENCODING (send
#      this Accept-Encoding, e.g. gzip, as browsers and mobile clients do; default none, like
#      the original service's own benchmark).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DUR=${1:-10}; DUR=${DUR%s}
CONNS=${2:-100}
CORES=${3:-1}
WARMUP=${WARMUP:-2}
[[ $DUR =~ ^[0-9]+$ && $DUR -gt 0 ]] || die "duration must be a whole number of seconds, got '$1'"
[[ $CONNS =~ ^[0-9]+$ && $CONNS -gt 0 ]] || die "connections must be a positive number"
[[ $CORES =~ ^[0-9]+$ && $CORES -gt 0 ]] || die "server cores must be a positive number"
OUT=${OUT:-$(mktemp -d /tmp/inplay-wrk-XXXXXX)}
mkdir -p "$OUT"

need_tools
# shellcheck source=../scripts/memlock.sh
source "$ROOT/scripts/memlock.sh" # glommio needs RLIMIT_MEMLOCK >= 512 KiB
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
build_inplay

CPUS=$(server_cpus "$CORES")
WRK_CPU=0
PORT=${PORT:-$(free_port)}
BASE=http://127.0.0.1:$PORT
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

echo "inplay $(source_version), $(date -u +%FT%TZ), $NPROC cpus, load $(load1)"
echo "server: $CORES shard(s) on cpu $CPUS, $BASE; INPLAY_RATE_LIMIT_ENABLED=false (rate limiting off for the benchmark)"
[ -n "${ACCEPT_ENCODING:-}" ] && echo "every request: Accept-Encoding: $ACCEPT_ENCODING"
echo "load:   wrk -t1 -c$CONNS -d${DUR}s --latency on cpu $WRK_CPU, ${WARMUP}s warm-up per endpoint; logs in $OUT"
if [[ ",$CPUS," == *",$WRK_CPU,"* ]]; then
  echo "note:   the server uses cpu $WRK_CPU too, so wrk competes with it for that core"
fi

start_server inplay "$OUT/inplay.log" "$CPUS" -- \
  INPLAY_SERVER_SHARDS="$CORES" INPLAY_SERVER_HOST=127.0.0.1 INPLAY_SERVER_PORT="$PORT" \
  INPLAY_RATE_LIMIT_ENABLED=false -- "$INPLAY_BIN"
wait_http "$BASE/health" 60 || { tail -20 "$OUT/inplay.log" >&2; exit 1; }
fetch_inplay_ids "$BASE" "$OUT/ids.txt"
echo "ids:    $(wc -l <"$OUT/ids.txt") match ids from /api/matches"
echo

printf '%-8s %9s %8s %8s %8s %8s %7s %7s %8s %5s %5s %9s\n' endpoint req/s p50_ms p90_ms p99_ms max_ms non2xx sockerr B/resp cpu% cpu0% peakRSS
status=0
for ep in scores markets; do
  if [ "$ep" = scores ]; then url=$BASE/api/scores/; extra=("$OUT/ids.txt" /api/scores/)
  else url=$BASE/api/markets/football; extra=(); fi
  if [ "$WARMUP" -gt 0 ]; then run_wrk "$url" "$WARMUP" "$CONNS" "$WRK_CPU" "${extra[@]}" || true; fi
  run_wrk "$url" "$DUR" "$CONNS" "$WRK_CPU" "${extra[@]}" || { status=1; continue; }
  printf '%s\n' "${R[raw]}" >"$OUT/wrk-$ep.txt"
  printf '%-8s %9s %8s %8s %8s %8s %7s %7s %8s %5s %5s %5s MiB\n' "$ep" "${R[rps]}" "${R[p50]}" "${R[p90]}" \
    "${R[p99]}" "${R[max]}" "${R[non2xx]}" "${R[sockerr]}" "${R[bytes_per_resp]}" "${R[srv_cpu]}" \
    "${R[wrk_cpu]}" "${R[hwm_mib]}"
  [ "${R[non2xx]}" = 0 ] && [ "${R[sockerr]}" = 0 ] || status=1
  [ "${R[alive]}" = yes ] || { echo "inplay is no longer running!" >&2; status=1; break; }
done
echo
echo "peak RSS (VmHWM) of inplay: $(($(hwm_kib "$SERVER_PID") / 1024)) MiB. cpu% = inplay's cpu time / wall time"
echo "(100 = one core; softirq time is not in it); cpu0% = how busy wrk's cpu was (near 100: wrk may be the limit)"
warns=$(grep -cE '"level":"(WARN|ERROR)"' "$OUT/inplay.log" || true)
[ "$warns" = 0 ] || echo "inplay logged $warns WARN/ERROR lines (see $OUT/inplay.log)"
exit $status
