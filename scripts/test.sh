#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need (docker-registry and skopeo, with apt, only if missing), then runs every
# test, lint and format check.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets --quiet -- -D warnings
cargo test --locked
