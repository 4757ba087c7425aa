#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine and a fresh clone:
# installs what the tests need, only if missing (scripts/install-test-deps.sh:
# docker-registry, skopeo and shellcheck with apt, the Python tools with pip),
# then runs every test, lint and format check. The corpus test runs when a
# corpus is there ($DIGESTPIN_CORPUS or ../shared/corpus) and says so when not.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets --quiet -- -D warnings
cargo test --locked
