#!/usr/bin/env bash
# inplay against the reference implementation (Fastify on Bun, and plain Bun.serve), same load.
#
#   bench/compare.sh [DURATION] [CONNECTIONS] [ROUNDS]      defaults: 10s 100 3
#
# Each round runs every server in turn (inplay, bun = Fastify on Bun, bun-native = Bun.serve,
# and with SERVERS="... floor" bench/http-floor: canned responses of the sizes inplay's had in
# the same round, one recv and one send per request, the most any server could get here),
# each freshly started on 127.0.0.1 and pinned to cpu 1, and loads it with wrk pinned to cpu 0
# (wrk -t1 -cCONNECTIONS -dDURATION --latency, under flock /tmp/bench.lock):
#   scores   GET /api/scores/<id>, cycling through the server's ids (inplay: every id its
#            /api/matches lists; reference: match-1 .. match-1000)
#   markets  GET /api/markets/football
# after WARMUP seconds of unrecorded load per endpoint (JIT warm-up). Before each round it waits
# (at most LOAD_WAIT s) for the 1-minute load average to drop to LOAD_MAX. At the end it prints the
# median of each column over the rounds and the ratios inplay/bun and inplay/bun-native.
# "other %" is the busy time of cpu 1 (user+system+irq+softirq) not used by the server process:
# other programs, plus softirq work not charged to the server (a few %). A run with other % above
# MAX_OTHER is redone, at most RETRIES times; the last attempt is kept, marked clean=no.
# A server that dies during a run is restarted and its round redone, once.
# Env: BENCH_BIN (benchmark this inplay binary instead of building one), WARMUP (3),
#      LOAD_MAX (1.5), LOAD_WAIT (120), MAX_OTHER (15), RETRIES (2), SERVERS ("inplay bun bun-native"),
#      REF_DIR (/work/shared/peers/original-fastify), OUT (results and logs; default a new
#      /tmp/inplay-compare-* directory), ACCEPT_ENCODING (send this Accept-Encoding to every
#      server, e.g. gzip; default none, like the original service's own benchmark).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DUR=${1:-10}; DUR=${DUR%s}
CONNS=${2:-100}
ROUNDS=${3:-3}
WARMUP=${WARMUP:-3}
LOAD_MAX=${LOAD_MAX:-1.5}
LOAD_WAIT=${LOAD_WAIT:-120}
MAX_OTHER=${MAX_OTHER:-15}
RETRIES=${RETRIES:-2}
SERVERS=${SERVERS:-"inplay bun bun-native"}
[[ $DUR =~ ^[0-9]+$ && $DUR -gt 0 ]] || die "duration must be a whole number of seconds, got '$1'"
[[ $CONNS =~ ^[0-9]+$ && $CONNS -gt 0 ]] || die "connections must be a positive number"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -gt 0 ]] || die "rounds must be a positive number"
[ "$NPROC" -ge 2 ] || die "needs 2 cpus (server on cpu 1, wrk on cpu 0)"
OUT=${OUT:-$(mktemp -d /tmp/inplay-compare-XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv

need_tools
# shellcheck source=../scripts/memlock.sh
source "$ROOT/scripts/memlock.sh" # glommio needs RLIMIT_MEMLOCK >= 512 KiB
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
case " $SERVERS " in *" inplay "*) build_inplay ;; esac
case " $SERVERS " in *" floor "*)
  log "building bench/http-floor (cargo build --release)"
  (cd "$ROOT/bench/http-floor" && timeout 600 cargo build --release --quiet) || die "building bench/http-floor failed"
  FLOOR_BIN=$OUT/http-floor
  cp "$ROOT/bench/http-floor/target/release/http-floor" "$FLOOR_BIN" ;;
esac
case " $SERVERS " in *" bun"*)
  [ -x "$REF_DIR/run.sh" ] || die "no reference at $REF_DIR"
  if [ ! -d "$REF_DIR/node_modules" ]; then
    log "installing the reference's dependencies (npm ci in $REF_DIR)"
    (cd "$REF_DIR" && timeout 600 npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed"
  fi ;;
esac
seq -f 'match-%g' 1 1000 >"$OUT/ref-ids.txt"
# The floor's response sizes: inplay's in the latest run (the demo feed's, until one ran).
FLOOR_SCORES_BYTES=493
FLOOR_MARKETS_BYTES=153242

SERVER_CPU=1
WRK_CPU=0
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

echo "inplay $(source_version), $(date -u +%FT%TZ), $NPROC cpus"
echo "servers on cpu $SERVER_CPU (one core each), wrk on cpu $WRK_CPU: wrk -t1 -c$CONNS -d${DUR}s --latency, ${WARMUP}s warm-up per endpoint"
echo "inplay: INPLAY_SERVER_SHARDS=1, INPLAY_RATE_LIMIT_ENABLED=false (rate limiting off for the benchmark)"
echo "bun:    $REF_DIR/run.sh bun (Fastify on Bun), BENCH=1; bun-native: run.sh bun-native (Bun.serve), BENCH=1"
case " $SERVERS " in *" floor "*) echo "floor:  bench/http-floor, canned responses the size of inplay's in the same round (epoll, one recv + one send per request)" ;; esac
[ -n "${ACCEPT_ENCODING:-}" ] && echo "every request: Accept-Encoding: $ACCEPT_ENCODING (inplay gzips its lists for it; the references send JSON as it is)"
echo "$ROUNDS rounds x ($SERVERS); results in $RESULTS, logs in $OUT"
echo

# One server, both endpoints; appends its rows to $RESULTS. A run during which other processes
# used more than MAX_OTHER % of the server's cpu is redone (up to RETRIES times, after waiting for
# the load to drop); the rejected runs go to $OUT/contaminated.tsv.
# Returns 1 if the server did not start, 2 if it died during a run (its rows are then dropped).
measure_server() { # round server load
  local round=$1 name=$2 load=$3 port base ids prefix ep url row rows="" attempt clean sig
  port=$(free_port); base=http://127.0.0.1:$port
  echo "--- round $round: $name $(date +%T)" >>"$OUT/$name.log"
  case $name in
    inplay)
      start_server inplay "$OUT/inplay.log" "$SERVER_CPU" -- \
        INPLAY_SERVER_SHARDS=1 INPLAY_SERVER_HOST=127.0.0.1 INPLAY_SERVER_PORT="$port" \
        INPLAY_RATE_LIMIT_ENABLED=false -- "$INPLAY_BIN" ;;
    bun | bun-native)
      start_server "$name" "$OUT/$name.log" "$SERVER_CPU" -- \
        BENCH=1 PORT="$port" HOST=127.0.0.1 -- "$REF_DIR/run.sh" "$name" ;;
    floor)
      start_server floor "$OUT/floor.log" "$SERVER_CPU" -- -- \
        "$FLOOR_BIN" "$port" "$FLOOR_SCORES_BYTES" "$FLOOR_MARKETS_BYTES" ;;
  esac
  wait_http "$base/health" 60 || { stop_server; return 1; }
  if [ "$name" = inplay ]; then
    ids=$OUT/inplay-ids.txt
    fetch_inplay_ids "$base" "$ids" || { stop_server; return 1; }
  else
    ids=$OUT/ref-ids.txt
  fi
  for ep in scores markets; do
    if [ $ep = scores ]; then url=$base/api/scores/; prefix=/api/scores/
    else url=$base/api/markets/football; prefix=; fi
    local extra=()
    [ -n "$prefix" ] && extra=("$ids" "$prefix")
    [ "$WARMUP" -gt 0 ] && { run_wrk "$url" "$WARMUP" "$CONNS" "$WRK_CPU" "${extra[@]}" || true; }
    attempt=0
    while :; do
      attempt=$((attempt + 1))
      if ! run_wrk "$url" "$DUR" "$CONNS" "$WRK_CPU" "${extra[@]}"; then
        row=$(printf '%s\t%s\t%s\t%s\tFAILED' "$round" "$name" "$ep" "$load"); break
      fi
      if [ "${R[alive]}" != yes ]; then
        sig=$(tail -n 20 "$OUT/$name.log" | grep -o '"message":"Shutting down","signal":[0-9]*' | grep -o '[0-9]*$' || true)
        echo "  !! $name exited during the $ep run${sig:+ after receiving signal $sig, not sent by this script}; tail of $OUT/$name.log:"
        tail -n 5 "$OUT/$name.log" | cut -c1-200 | sed 's/^/     /'
        stop_server; return 2
      fi
      clean=yes
      if [ "${R[other_cpu]}" != - ] && [ "${R[other_cpu]}" -gt "$MAX_OTHER" ]; then clean=no; fi
      row=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$round" "$name" "$ep" "$load" \
        "${R[rps]}" "${R[p50]}" "${R[p90]}" "${R[p99]}" "${R[max]}" "${R[non2xx]}" "${R[sockerr]}" \
        "${R[bytes_per_resp]}" "${R[srv_cpu]}" "${R[other_cpu]}" "${R[steal]}" "${R[hwm_mib]}" "${R[alive]}" \
        "${R[wrk_cpu]}" "$clean")
      printf '%s\n' "${R[raw]}" >"$OUT/wrk-r$round-$name-$ep-a$attempt.txt"
      if [ "$name" = inplay ] && [[ ${R[bytes_per_resp]} =~ ^[0-9]+$ ]]; then
        if [ $ep = scores ]; then FLOOR_SCORES_BYTES=${R[bytes_per_resp]}; else FLOOR_MARKETS_BYTES=${R[bytes_per_resp]}; fi
      fi
      printf '  %-10s %-7s %8s req/s  p50 %6s  p90 %6s  p99 %7s  max %7s ms  non2xx %s  sockerr %s  %s B/resp  cpu %s%%  other %s%%  cpu0 %s%%  steal %s%%  peak RSS %s MiB\n' \
        "$name" "$ep" "${R[rps]}" "${R[p50]}" "${R[p90]}" "${R[p99]}" "${R[max]}" "${R[non2xx]}" "${R[sockerr]}" \
        "${R[bytes_per_resp]}" "${R[srv_cpu]}" "${R[other_cpu]}" "${R[wrk_cpu]}" "${R[steal]}" "${R[hwm_mib]}"
      [ $clean = yes ] || [ "$attempt" -gt "$RETRIES" ] && break
      printf '%s\n' "$row" >>"$OUT/contaminated.tsv"
      echo "  ~ other processes used ${R[other_cpu]}% of cpu $SERVER_CPU during that run (> $MAX_OTHER%): redoing it"
      wait_quiet "$LOAD_MAX" "$LOAD_WAIT" >/dev/null
    done
    rows+=$row$'\n'
  done
  stop_server
  printf '%s' "$rows" >>"$RESULTS"
}

printf 'round\tserver\tendpoint\tload\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\tsockerr\tbytes_per_resp\tserver_cpu_pct\tother_cpu_pct\tsteal_pct\tpeak_rss_mib\talive\twrk_cpu0_busy_pct\tclean\n' >"$RESULTS"
cp "$RESULTS" "$OUT/contaminated.tsv"
for round in $(seq "$ROUNDS"); do
  load=$(wait_quiet "$LOAD_MAX" "$LOAD_WAIT")
  echo "round $round/$ROUNDS  $(date +%T)  load before: $load ($(cut -d' ' -f1-3 /proc/loadavg))"
  for name in $SERVERS; do
    rc=0; measure_server "$round" "$name" "$load" || rc=$?
    if [ $rc = 2 ]; then
      echo "  restarting $name and redoing its round"
      rc=0; measure_server "$round" "$name" "$load" || rc=$?
    fi
    [ $rc = 0 ] || echo "  !! $name: no results for round $round (see $OUT/$name.log)"
  done
done

# --- summary: medians over the rounds -------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { # server endpoint column -> median of that column
  awk -F'\t' -v s="$1" -v e="$2" -v c="$3" 'NR > 1 && $2 == s && $3 == e && $5 != "FAILED" { print $c }' "$RESULTS" | median
}
sum_col() { awk -F'\t' -v s="$1" -v e="$2" -v c="$3" 'NR > 1 && $2 == s && $3 == e && $5 != "FAILED" { t += $c } END { print t + 0 }' "$RESULTS"; }
runs() { awk -F'\t' -v s="$1" -v e="$2" 'NR > 1 && $2 == s && $3 == e && $5 != "FAILED" { n++; if ($19 == "no") u++ }
  END { printf "%d%s", n, u ? " (" u " not clean)" : "" }' "$RESULTS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo
echo "medians over $ROUNDS rounds (server on cpu $SERVER_CPU, wrk on cpu $WRK_CPU, -c$CONNS, ${DUR}s runs):"
printf '%-10s %-8s %9s %8s %8s %8s %10s %7s %8s %6s %5s\n' server endpoint req/s p50_ms p99_ms max_ms "peakRSS" non2xx sockerr B/resp runs
for ep in scores markets; do
  for name in $SERVERS; do
    printf '%-10s %-8s %9s %8s %8s %8s %6s MiB %7s %8s %6s %5s\n' "$name" "$ep" "$(col "$name" $ep 5)" "$(col "$name" $ep 6)" \
      "$(col "$name" $ep 8)" "$(col "$name" $ep 9)" "$(col "$name" $ep 16)" "$(sum_col "$name" $ep 10)" \
      "$(sum_col "$name" $ep 11)" "$(col "$name" $ep 12)" "$(runs "$name" $ep)"
  done
done
case " $SERVERS " in *" inplay "*)
  echo
  echo "ratios (medians; req/s: higher is better for inplay, p99 and RSS: lower is better):"
  for ref in bun bun-native floor; do
    case " $SERVERS " in *" $ref "*) ;; *) continue ;; esac
    for ep in scores markets; do
      printf '  inplay/%-10s %-8s req/s x%s   p99 x%s   peak RSS x%s\n' "$ref" "$ep" \
        "$(ratio "$(col inplay $ep 5)" "$(col "$ref" $ep 5)")" \
        "$(ratio "$(col inplay $ep 8)" "$(col "$ref" $ep 8)")" \
        "$(ratio "$(col inplay $ep 16)" "$(col "$ref" $ep 16)")"
    done
  done ;;
esac
if [[ " $SERVERS " == *" floor "* && " $SERVERS " == *" bun "* ]]; then
  echo "the floor against Fastify on Bun (no server answers faster here than one recv + one send per request):"
  for ep in scores markets; do
    printf '  floor/bun         %-8s req/s x%s   p99 x%s\n' "$ep" \
      "$(ratio "$(col floor $ep 5)" "$(col bun $ep 5)")" "$(ratio "$(col floor $ep 8)" "$(col bun $ep 8)")"
  done
fi
echo "(non2xx and sockerr are totals over the rounds; peak RSS is VmHWM after the endpoint's run;"
echo " runs = runs in the medians, \"not clean\" = other processes used > $MAX_OTHER % of cpu $SERVER_CPU in all its attempts)"
echo "rejected runs: $(($(wc -l <"$OUT/contaminated.tsv") - 1)) (in $OUT/contaminated.tsv)"
warns=$(grep -cE '"level":"(WARN|ERROR)"' "$OUT/inplay.log" 2>/dev/null || true)
[ "${warns:-0}" = 0 ] || echo "inplay logged $warns WARN/ERROR lines (see $OUT/inplay.log)"
