#!/usr/bin/env bash
# Speed of `digestpin history` over a generated repository of 10,000 commits
# (COMMITS to change), against a baseline measured in the same run on the same
# paths: `git log -p -- k8s`, which reads the same commits and blobs and
# prints their diffs. Half the commits bump a digest in one of 20 manifests
# under k8s/, the other half change files elsewhere; every 1,000th commit
# renames a manifest. The repository is written with `git fast-import` from a
# generated stream (seconds). The machine is shared and noisy, so each command
# runs several times and the median counts.
#
#   scripts/bench-history.sh            # builds --release first
#   DIGESTPIN=path/to/digestpin scripts/bench-history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${COMMITS:-10000}
runs=${RUNS:-5}
if [ -z "${DIGESTPIN:-}" ]; then
  cargo build --release --quiet
  DIGESTPIN=$PWD/target/release/digestpin
fi

median_ms() { # command...: median wall time of $runs runs, in milliseconds
  local times=() start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

repo=$(mktemp -d)
trap 'rm -rf "$repo"' EXIT
git -C "$repo" init -q -b main

# The fast-import stream: commit i at a fixed time, one file changed.
awk -v n="$commits" 'BEGIN {
  for (i = 1; i <= n; i++) {
    printf "commit refs/heads/main\nmark :%d\n", i
    printf "committer Bench <bench@example.com> %d +0000\n", 1767225600 + i * 60
    msg = "change " i
    printf "data %d\n%s\n", length(msg), msg
    if (i % 2 == 0) {
      k = (i / 2) % 20
      name = "k8s/app-" k ".yaml"
      if (renamed[k]) name = "k8s/renamed/app-" k ".yaml"
      if (i % 1000 == 0 && !renamed[k]) {
        printf "R %s k8s/renamed/app-%d.yaml\n", name, k
        renamed[k] = 1
        name = "k8s/renamed/app-" k ".yaml"
      }
      body = sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: app-%d\nspec:\n  containers:\n    - image: registry.example/team/app-%d@sha256:%064x # v%d\n      name: app\n", k, k, i, i)
    } else {
      name = "src/file-" (i % 50) ".txt"
      body = sprintf("line %d\n", i)
    }
    printf "M 100644 inline %s\ndata %d\n%s\n", name, length(body), body
  }
}' | git -C "$repo" fast-import --quiet
git -C "$repo" checkout -q main

changes=$(cd "$repo" && "$DIGESTPIN" history -- k8s | wc -l)
expected=$((commits / 2))
if [ "$changes" -ne "$expected" ]; then
  echo "history listed $changes changes, expected $expected" >&2
  exit 1
fi

base=$(cd "$repo" && median_ms git log -p -- k8s)
oneline=$(cd "$repo" && median_ms git log --oneline -- k8s)
t=$(cd "$repo" && median_ms "$DIGESTPIN" history -- k8s)
[ "$base" -gt 0 ] || base=1
echo "repository: $commits commits, $changes pin changes under k8s/"
echo "baseline git log -p -- k8s: ${base} ms (git log --oneline -- k8s: ${oneline} ms)"
awk -v t="$t" -v b="$base" 'BEGIN { printf "digestpin history -- k8s: %d ms, %.1fx the baseline\n", t, t / b }'
