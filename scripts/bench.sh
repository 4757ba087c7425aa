#!/usr/bin/env bash
# Speed of the offline commands over the real-world corpus (../shared/corpus),
# reported as a ratio against a baseline measured in the same run on the same
# files: `grep -rl image`, which reads every file once. The machine is shared
# and noisy, so each command runs several times and the median counts.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${DIGESTPIN_CORPUS:-../shared/corpus}
runs=${RUNS:-9}
cargo build --release --quiet
bin=$PWD/target/release/digestpin

median_ms() { # command...: median wall time of $runs runs, in milliseconds
  local times=() start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

files=$(find "$corpus" -name '*.y*ml' | wc -l)
base=$(median_ms grep -rl image "$corpus")
[ "$base" -gt 0 ] || base=1
echo "corpus: $files YAML files; baseline grep -rl image: ${base} ms"
for cmd in "check" "list" "unpin --check"; do
  # shellcheck disable=SC2086
  t=$(median_ms "$bin" $cmd "$corpus")
  echo "digestpin $cmd: ${t} ms ($(awk "BEGIN { printf \"%.1f\", $t / $base }")x baseline)"
done
