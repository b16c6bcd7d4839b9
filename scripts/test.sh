#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh machine or a developer's.
#   scripts/test.sh            fmt check, clippy, every test (unit, property, integration)
# Installs what it needs (a Rust toolchain must exist), raises the locked-memory limit the
# server's io_uring needs, and never touches services on the standard ports.
set -euo pipefail
cd "$(dirname "$0")/.."

# io_uring (glommio) needs at least 512 KiB of locked memory; see README "Locked memory".
source scripts/memlock.sh

command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Redis and PostgreSQL binaries for the throwaway instances integration tests start.
scripts/deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets
# Doc tests need the lib targets only.
cargo test --workspace --doc
