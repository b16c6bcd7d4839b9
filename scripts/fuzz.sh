#!/usr/bin/env bash
# Short fuzz runs of the parsers that face the network (not part of CI or scripts/test.sh).
#   scripts/fuzz.sh [SECONDS]     each target for SECONDS (default 60), one after the other
# Targets (fuzz/fuzz_targets/): http_request (the HTTP/1.1 request parser, pipelined),
# ws_client_msg (the JSON depth scan and the WebSocket client-message parsers) and ws_frames
# (the RFC 6455 frame decoder, frame after frame), all from the inplay-wire crate. cargo-fuzz
# needs a nightly toolchain: installed with rustup if missing, as is cargo-fuzz itself. Seeds
# come from fuzz/seeds/<target>/; the growing corpus stays in fuzz/corpus/ (git-ignored).
# A crash leaves its input in fuzz/artifacts/<target>/: reproduce
# it with `cargo +nightly fuzz run <target> <file>`, fix it, and add the input as a regression
# test next to the parser (wire/src/). Exits non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] || { echo "usage: scripts/fuzz.sh [SECONDS]  (a whole number > 0)" >&2; exit 64; }

command -v rustup >/dev/null || { echo "fuzz.sh: rustup not found: cargo-fuzz needs a nightly toolchain installed through rustup (https://rustup.rs)" >&2; exit 69; }
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "== rustup toolchain install nightly (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal || {
    echo "fuzz.sh: cannot install the nightly toolchain here, and cargo-fuzz needs it (-Zsanitizer):" \
         "install nightly by hand (rustup toolchain install nightly), then run again" >&2
    exit 69
  }
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked || { echo "fuzz.sh: cannot install cargo-fuzz (cargo install cargo-fuzz)" >&2; exit 69; }
fi

echo "== cargo fuzz build"
cargo +nightly fuzz build || { echo "fuzz.sh: the fuzz targets do not build (see above)" >&2; exit 1; }

crashed=()
for target in $(cargo +nightly fuzz list); do
  corpus=fuzz/corpus/$target
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz $target for ${secs}s"
  # -rss_limit_mb: a parser that balloons memory is a finding too.
  if ! cargo +nightly fuzz run "$target" "$corpus" -- \
      -max_total_time="$secs" -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1; then
    crashed+=("$target")
  fi
done

if ((${#crashed[@]})); then
  echo "fuzz.sh: crashes in: ${crashed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no crash in $(cargo +nightly fuzz list | wc -l) targets, ${secs}s each"
