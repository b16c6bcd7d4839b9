# shellcheck shell=bash
# Helpers shared by bench/wrk.sh and bench/compare.sh; sourced, not run.
# Everything listens on and loads 127.0.0.1 only, and every wait is bounded.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
REF_DIR=${REF_DIR:-/work/shared/peers/original-fastify}
LOCK=${LOCK:-/tmp/bench.lock}
CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools -----------------------------------------------------------------------------------

need_tools() {
  local t
  for t in curl taskset flock timeout awk; do
    command -v "$t" >/dev/null || die "$t is required"
  done
  if ! command -v wrk >/dev/null; then
    log "wrk not found; installing it (apt-get install -y wrk)"
    timeout 300 apt-get install -y wrk >/dev/null 2>&1 ||
      { timeout 300 apt-get update >/dev/null 2>&1 && timeout 300 apt-get install -y wrk >/dev/null 2>&1; } ||
      die "could not install wrk"
  fi
}

# Sets INPLAY_BIN to a private copy of the release binary; BENCH_BIN=path skips the build.
# (Not INPLAY_*: inplay refuses to start on an INPLAY_ variable that names no config key.)
build_inplay() {
  if [ -n "${BENCH_BIN:-}" ]; then
    [ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not an executable"
    log "not building: benchmarking BENCH_BIN=$BENCH_BIN"
    INPLAY_BIN=$OUT/inplay
    cp "$BENCH_BIN" "$INPLAY_BIN"
    return
  fi
  log "building inplay (cargo build --release)"
  (cd "$ROOT" && timeout 1800 cargo build --release --quiet) || die "cargo build --release failed"
  local built=${CARGO_TARGET_DIR:-$ROOT/target}/release/inplay
  [ -x "$built" ] || die "no binary at $built"
  # Run a private copy, so a rebuild by someone else during the benchmark cannot swap it.
  INPLAY_BIN=$OUT/inplay
  cp "$built" "$INPLAY_BIN"
}

# the commit the build came from, "+dirty" if the work tree had uncommitted changes
source_version() {
  git -C "$ROOT" describe --always --dirty=+dirty 2>/dev/null || echo unknown
}

# A TCP port nothing listens on right now.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' && return
  fi
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
  done
  die "no free port found"
}

# --- the machine -----------------------------------------------------------------------------

# cpus for a server of N cores: cpus 1..N (wrk keeps cpu 0), or every cpu if N >= nproc.
server_cpus() { # cores
  local n=$1
  if [ "$n" -ge "$NPROC" ]; then seq -s, 0 $((NPROC - 1)); else seq -s, 1 "$n"; fi
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# Wait until the 1-minute load is <= max, at most max_wait seconds; prints the load it went on at.
wait_quiet() { # max_load max_wait_s
  local max=$1 deadline=$((SECONDS + $2)) l
  l=$(load1)
  while awk -v l="$l" -v m="$max" 'BEGIN { exit !(l > m) }'; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "load $l is still above $max after $2 s; going on anyway (noted in the results)"
      break
    fi
    log "load $l > $max: waiting (up to $2 s) for other work on this machine to finish"
    sleep 10
    l=$(load1)
  done
  echo "$l"
}

# busy (user+nice+system+irq+softirq) and steal jiffies summed over a comma list of cpus
cpu_jiffies() { # cpus -> "busy steal"
  awk -v list="$1" 'BEGIN { n = split(list, c, ","); for (i = 1; i <= n; i++) want["cpu" c[i]] = 1 }
    want[$1] { busy += $2 + $3 + $4 + $7 + $8; steal += $9 } END { print busy + 0, steal + 0 }' /proc/stat
}

# utime+stime of a process (all its threads), in jiffies
proc_jiffies() { # pid
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  stat=${stat##*) }
  awk '{ print $12 + $13 }' <<<"$stat"
}

hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- servers ---------------------------------------------------------------------------------

SERVER_PID=
SERVER_NAME=
SERVER_CPUS=

# start_server NAME LOG CPUS -- ENV... -- CMD...   (taskset execs, so $! is the server itself)
start_server() {
  local name=$1 logf=$2 cpus=$3; shift 4
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" taskset -c "$cpus" "$@" >>"$logf" 2>&1 </dev/null &
  SERVER_PID=$!
  SERVER_NAME=$name
  SERVER_CPUS=$cpus
}

# Wait for GET url to answer 2xx, up to timeout_s; fail at once if the server died.
wait_http() { # url timeout_s
  local deadline=$((SECONDS + $2))
  until curl -sf --max-time 2 -o /dev/null "$1"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { log "$SERVER_NAME exited during start-up"; return 1; }
    [ "$SECONDS" -ge "$deadline" ] && { log "$SERVER_NAME did not answer $1 within $2 s"; return 1; }
    sleep 0.2
  done
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && { log "$SERVER_NAME ignored SIGTERM for 10 s; killing it"; kill -KILL "$SERVER_PID" 2>/dev/null; }
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# inplay's ids, one a line, from its /api/matches (the "matchId" fields). The demo feed fills
# the world during the first second after /health answers, so wait (<= 30 s) for two equal counts.
fetch_inplay_ids() { # base_url out_file
  local deadline=$((SECONDS + 30)) n prev=-1
  while :; do
    curl -sf --max-time 10 "$1/api/matches" | grep -o '"matchId":"[^"]*"' | cut -d'"' -f4 >"$2" || true
    n=$(wc -l <"$2")
    [ "$n" -gt 0 ] && [ "$n" = "$prev" ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && break
    prev=$n
    sleep 1
  done
  [ "$n" -gt 0 ] || { log "no match ids from $1/api/matches"; return 1; }
  log "the match count from $1/api/matches did not settle in 30 s; using the $n ids of the last read"
}

# --- one wrk run -----------------------------------------------------------------------------

# run_wrk URL DURATION_S CONNS WRK_CPU [IDS_FILE PREFIX]
# With ACCEPT_ENCODING set, every request carries that Accept-Encoding header.
# Holds $LOCK for the run, samples the server's cpu and the machine around it, and sets
# R[...]: rps p50 p90 p99 max (ms) non2xx sockerr bytes_per_resp srv_cpu other_cpu wrk_cpu steal
# hwm_kib hwm_mib alive raw (wrk's output)
declare -A R
run_wrk() {
  local url=$1 dur=$2 conns=$3 wrkcpu=$4 ids=${5:-} prefix=${6:-} out rc=0 scpus=$SERVER_CPUS
  local j0 j1 t0 t1 busy0 busy1 steal0 steal1 line kv p wbusy0 wbusy1 _s
  local args=(wrk -t1 -c"$conns" -d"${dur}s" --latency --timeout 5s -s "$BENCH_DIR/wrk.lua")
  [ -n "${ACCEPT_ENCODING:-}" ] && args+=(-H "Accept-Encoding: $ACCEPT_ENCODING")
  args+=("$url")
  [ -n "$ids" ] && args+=(-- "$ids" "$prefix")
  exec 9>>"$LOCK"
  timeout 900 flock 9 || { exec 9>&-; die "could not get $LOCK within 900 s"; }
  read -r busy0 steal0 < <(cpu_jiffies "$scpus")
  read -r wbusy0 _s < <(cpu_jiffies "$wrkcpu")
  j0=$(proc_jiffies "$SERVER_PID"); t0=$(date +%s%N)
  out=$(timeout $((dur + 60)) taskset -c "$wrkcpu" "${args[@]}" 2>&1) || rc=$?
  t1=$(date +%s%N); j1=$(proc_jiffies "$SERVER_PID")
  read -r busy1 steal1 < <(cpu_jiffies "$scpus")
  read -r wbusy1 _s < <(cpu_jiffies "$wrkcpu")
  exec 9>&-
  R=()
  R[hwm_kib]=$(hwm_kib "$SERVER_PID")
  R[hwm_mib]=$(awk -v k="${R[hwm_kib]}" 'BEGIN { printf "%.0f", k / 1024 }')
  R[alive]=yes; kill -0 "$SERVER_PID" 2>/dev/null || R[alive]=no
  line=$(grep '^BENCHSTAT ' <<<"$out" | tail -1)
  if [ $rc -ne 0 ] || [ -z "$line" ]; then
    log "wrk failed (exit $rc):"; printf '%s\n' "$out" >&2
    R[rps]=0; return 1
  fi
  # shellcheck disable=SC2086 # split the key=value words on purpose
  for kv in ${line#BENCHSTAT }; do R[${kv%%=*}]=${kv#*=}; done
  local secs ncpu
  ncpu=$(tr ',' '\n' <<<"$scpus" | grep -c .)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  R[rps]=$(awk -v n="${R[requests]}" -v d="${R[duration_us]}" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  for p in p50 p90 p99 max; do
    R[$p]=$(awk -v u="${R[${p}_us]}" 'BEGIN { printf "%.2f", u / 1000 }')
  done
  R[non2xx]=${R[status]}
  R[sockerr]=$((R[connect] + R[read] + R[write] + R[timeout]))
  R[bytes_per_resp]=$(awk -v b="${R[bytes]}" -v n="${R[requests]}" 'BEGIN { printf "%.0f", n ? b / n : 0 }')
  # server cpu in % of one core; "other" = busy time on the server's cpus not used by the server
  # (only meaningful when wrk is not on those cpus); steal in % of the server's cpus.
  R[srv_cpu]=$(awk -v j=$((j1 - j0)) -v s="$secs" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", 100 * j / hz / s }')
  if tr ',' '\n' <<<"$scpus" | grep -qx "$wrkcpu"; then
    R[other_cpu]=-
  else
    R[other_cpu]=$(awk -v b=$((busy1 - busy0)) -v j=$((j1 - j0)) -v s="$secs" -v hz="$CLK_TCK" \
      'BEGIN { o = 100 * (b - j) / hz / s; printf "%.0f", o < 0 ? 0 : o }')
  fi
  # how busy wrk's cpu was (wrk + anything else there): near 100 means the load generator, not
  # the server, may be the limit
  R[wrk_cpu]=$(awk -v b=$((wbusy1 - wbusy0)) -v s="$secs" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", 100 * b / hz / s }')
  R[steal]=$(awk -v st=$((steal1 - steal0)) -v s="$secs" -v hz="$CLK_TCK" -v n="$ncpu" \
    'BEGIN { printf "%.0f", 100 * st / hz / s / n }')
  R[raw]=$out
}
