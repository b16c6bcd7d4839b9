#!/usr/bin/env bash
# Installs the services the integration tests start their own throwaway instances of:
# redis-server/redis-cli and PostgreSQL (initdb, pg_ctl, psql), and the load generator the
# bench smoke test runs (wrk, for bench/wrk.sh), from Debian's packages, when missing. It never
# starts or touches the machine's own services.
#   scripts/deps.sh            (sourced or run by scripts/test.sh)
set -euo pipefail

missing=()
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server redis-tools)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null || missing+=(postgresql postgresql-client)
command -v wrk >/dev/null || missing+=(wrk)

if ((${#missing[@]})); then
    echo "== installing ${missing[*]} (Debian packages)"
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # The packages start their own services on the standard ports; tests never use those.
fi
