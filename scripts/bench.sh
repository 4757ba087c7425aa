#!/usr/bin/env bash
# Benchmarks, in two parts (`bash scripts/bench.sh [corpus|monorepo|all]`,
# default all):
#
# corpus: speed of the offline commands over the real-world corpus
# (../shared/corpus), reported as a ratio against a baseline measured in the
# same run on the same files: `grep -rl image`, which reads every file once.
# The machine is shared and noisy, so each command runs several times and the
# median counts.
#
# monorepo: a generated monorepo (scripts/bench-gen.py: 2,000 manifests,
# 10,000 references to 400 tags) against a real docker-registry seeded with
# skopeo, reached through examples/latency_proxy.rs (RTT_MS, default 50 ms
# round trip) once over TLS (HTTP/2 by ALPN) and once over plain HTTP/1.1.
# It prints pin, pin --diff, a second pin --diff, check, a sampled
# `skopeo inspect` loop, `rg image:`, the network floor (400 HEADs in flight
# at once, with curl), peak RSS, and the ratios against the goals.
# JOBS_SWEEP="8 32 128" also times `pin --diff` at each --jobs value;
# PROFILE=debug runs a debug build (a quick check of the script itself).
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
runs=${RUNS:-9}
profile=${PROFILE:-release}
cargo_profile=(--release)
[ "$profile" = release ] || cargo_profile=()
cargo build "${cargo_profile[@]}" --quiet --bin digestpin --example latency_proxy --example network_floor
bin=$PWD/target/$profile/digestpin

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

corpus_bench() {
  local corpus=${DIGESTPIN_CORPUS:-../shared/corpus}
  if [ ! -d "$corpus" ]; then
    echo "corpus: $corpus not found, skipped (set DIGESTPIN_CORPUS)"
    return
  fi
  files=$(find "$corpus" -name '*.y*ml' | wc -l)
  base=$(median_ms grep -rl image "$corpus")
  [ "$base" -gt 0 ] || base=1
  echo "corpus: $files YAML files; baseline grep -rl image: ${base} ms"
  for cmd in "check" "list" "unpin --check"; do
    # shellcheck disable=SC2086
    t=$(median_ms "$bin" $cmd "$corpus")
    echo "digestpin $cmd: ${t} ms ($(awk "BEGIN { printf \"%.1f\", $t / $base }")x baseline)"
  done
}

# ---------------------------------------------------------------- monorepo

pids=()
work=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -z "$work" ] || rm -rf "$work"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # port: waits until something listens on 127.0.0.1:port
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

certificates() { # dir: a CA and a certificate for 127.0.0.1 it signed
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$d/san.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/san.ext" -out "$d/server.crt" 2>/dev/null
}

registry() { # name port [tls]: starts a docker-registry on $work/data
  local name=$1 port=$2 tls=${3-}
  {
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$work/data"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
    if [ -n "$tls" ]; then
      printf '  tls:\n    certificate: %s\n    key: %s\n' "$work/server.crt" "$work/server.key"
    fi
  } >"$work/$name.yml"
  docker-registry serve "$work/$name.yml" >>"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}

proxy() { # target-port: starts a latency proxy; sets $proxy_port
  proxy_port=$(free_port)
  "target/$profile/examples/latency_proxy" "127.0.0.1:$1" --listen "127.0.0.1:$proxy_port" \
    --rtt-ms "$rtt" >/dev/null &
  pids+=($!)
  wait_port "$proxy_port"
}

# fresh_copy: a new copy of the generated tree, in $copy. Copies are never
# removed before the end: this machine's ext4 has no journal, and there the
# allocator passes over the inodes freed in the last minute or more when it
# makes a file (`recently_deleted` in fs/ext4/ialloc.c). Removing the last
# copy right before a run charged that scan to the next command that makes
# files: `pin` took 1 s more, `pin --diff` (which makes none) nothing more.
copies=0
fresh_copy() {
  copies=$(( copies + 1 ))
  copy=$work/copies/$copies
  mkdir -p "$work/copies"
  cp -a "$work/gen/tree" "$copy"
}

# runs fresh label command...: the median of $mruns runs under /usr/bin/time,
# printed, in $secs and $kb. With fresh=copy each run is in its own fresh
# copy of the tree (so `pin` always has everything to do); with fresh=DIR
# the runs are in DIR, after one run not counted.
runs() {
  local fresh=$1 label=$2 results=() line status dirs=() dir
  shift 2
  if [ "$fresh" = copy ]; then
    for _ in $(seq "$mruns"); do
      fresh_copy
      dirs+=("$copy")
    done
    # The copies' dirty pages are written back now, not charged to the
    # command that writes next.
    sync
  else
    (cd "$fresh" && "$@" >/dev/null 2>&1) || true
    for _ in $(seq "$mruns"); do dirs+=("$fresh"); done
  fi
  for dir in "${dirs[@]}"; do
    status=0
    (cd "$dir" && /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err") || status=$?
    # 1 is a finding (pin --check, check); 2 is an error: a figure of a
    # failed run would mean nothing.
    if [ "$status" -ge 2 ]; then
      echo "  $label: failed (exit $status):" >&2
      head -n 5 "$work/err" >&2
      exit 2
    fi
    results+=("$(tail -n 1 "$work/time")")
  done
  line=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (mruns + 1) / 2 ))p")
  read -r secs kb <<<"$line"
  printf '  %-44s %7.2f s  %6d MB peak RSS\n' "$label" "$secs" $(( kb / 1024 ))
}

# median label command...: `runs` on fresh copies of the tree
median() { runs copy "$@"; }

ratio() { awk "BEGIN { printf \"%.1f\", $1 / $2 }"; }

verdict() { # value op goal
  if awk "BEGIN { exit !($1 $2 $3) }"; then echo met; else echo MISSED; fi
}

# floor base-url [ca-file]: 400 HEADs of the tags' manifests all in flight
# (examples/network_floor.rs); sets $secs and $one_rtt
floor() {
  read -r one_rtt secs < <("target/$profile/examples/network_floor" "$1" "$work/gen/images.txt" "${@:2}")
}

monorepo_bench() {
  for tool in docker-registry skopeo openssl curl python3; do
    command -v "$tool" >/dev/null || { echo "monorepo: needs $tool (scripts/install-test-deps.sh)"; exit 2; }
  done
  if ! command -v rg >/dev/null; then
    echo "installing ripgrep" >&2
    apt-get install -y -qq ripgrep >/dev/null
  fi
  [ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
  rtt=${RTT_MS:-50}
  mruns=${MONO_RUNS:-3}
  work=$(mktemp -d)
  trap cleanup EXIT

  local host=registry.bench.example start end
  start=$(date +%s%N)
  # The 50,000-file tree for check is made after the runs that write, so
  # that the file system is not still taking in 50,000 new files while pin
  # replaces 2,000.
  python3 scripts/bench-gen.py "$work/gen" "$host" monorepo
  local generated
  generated=$(date +%s%N)
  certificates "$work"
  local plain_port tls_port
  plain_port=$(free_port)
  tls_port=$(free_port)
  registry plain "$plain_port"
  registry tls "$tls_port" tls
  # Both registries serve one storage: seed it once, through the plain one:
  # each repository's first tag with skopeo (layer, config, manifest), the
  # nine others by a PUT of their manifest (same blobs, a distinct digest).
  # shellcheck disable=SC2016 # expanded by sh, not here
  awk -v p="$plain_port" '$2 ~ /:v0$/ { print $1, $2, p }' "$work/gen/images.txt" \
    | xargs -P 4 -L 1 sh -c 'skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
      "oci:$0/gen/layout:$1" "docker://127.0.0.1:$3/$2"' "$work"
  awk -v p="$plain_port" -v l="$work/gen/layout" '$2 !~ /:v0$/ {
      split($2, rt, ":")
      print "url = \"http://127.0.0.1:" p "/v2/" rt[1] "/manifests/" rt[2] "\""
      print "upload-file = \"" l "/" $3 "\""
      print "output = /dev/null"
    }' "$work/gen/images.txt" >"$work/put.cfg"
  curl -sS --no-progress-meter --fail --parallel --parallel-max 16 \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' -K "$work/put.cfg"
  end=$(date +%s%N)
  echo "monorepo: 2,000 manifests, 10,000 references, 400 tags; 50,000-file tree for check;"
  echo "  generated in $(( (generated - start) / 1000000000 )) s, registry seeded in $(( (end - generated) / 1000000000 )) s; round trip added by the proxy: ${rtt} ms"
  echo "  machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"

  local tls_proxy plain_proxy
  proxy "$tls_port"
  tls_proxy=$proxy_port
  proxy "$plain_port"
  plain_proxy=$proxy_port
  # The cache lives in the work directory; the first runs send every
  # request (--cache-ttl 0), the second run is answered by a warm cache.
  export DIGESTPIN_CACHE_DIR="$work/cache"
  local cache_note="cache: not available in this build"
  local cold_args=() cache_args=()
  if "$bin" pin --help | grep -q -- '--cache-ttl'; then
    cache_note="warm cache, --cache-ttl 5m"
    cold_args=(--cache-ttl 0)
    cache_args=(--cache-ttl 5m)
  fi
  declare -A pin diff diff2 rss floor_s

  for transport in tls plain; do
    local url args
    if [ "$transport" = tls ]; then
      url="https://127.0.0.1:$tls_proxy"
      args=(--mirror "*=$url" --ca-file "$work/ca.crt")
      echo "over TLS (HTTP/2 by ALPN), ${rtt} ms round trip:"
      floor "$url" "$work/ca.crt"
    else
      url="http://127.0.0.1:$plain_proxy"
      args=(--mirror "*=$url")
      echo "over plain HTTP/1.1, ${rtt} ms round trip:"
      floor "$url"
    fi
    floor_s[$transport]=$secs
    printf '  %-44s %7.3f s\n' "one HEAD on an open connection" "$one_rtt"
    printf '  %-44s %7.2f s\n' "network floor: 400 HEADs in flight" "$secs"
    median "pin --diff" "$bin" pin --diff "${args[@]}" "${cold_args[@]}" .
    diff[$transport]=$secs
    median "pin" "$bin" pin "${args[@]}" "${cold_args[@]}" .
    pin[$transport]=$secs
    rss[$transport]=$kb
    rm -rf "$DIGESTPIN_CACHE_DIR"
    (cd "$work/gen/tree" && "$bin" pin --diff "${args[@]}" "${cache_args[@]}" . >/dev/null 2>&1) || true
    median "pin --diff, second run ($cache_note)" "$bin" pin --diff "${args[@]}" "${cache_args[@]}" .
    diff2[$transport]=$secs
    for jobs in ${JOBS_SWEEP-}; do
      median "pin --diff --jobs $jobs" "$bin" pin --diff --jobs "$jobs" "${args[@]}" "${cold_args[@]}" .
    done
  done

  # The same work by hand, over TLS: per tag, `skopeo inspect` for the
  # digest, then grep for the files naming the tag and sed to pin them. The
  # loop is sampled: 40 of the 400 tags, the time scaled by 10.
  local sample=40 by_hand
  fresh_copy
  start=$(date +%s%N)
  while read -r _ ref _; do
    digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://127.0.0.1:$tls_proxy/$ref")
    name=$host/${ref%:*}
    tag=${ref##*:}
    grep -rlZ -- "image: $name:$tag\$" "$copy" \
      | xargs -0 -r sed -i "s|image: ${name//./[.]}:$tag\$|image: $name@$digest # $tag|"
  done < <(head -n "$sample" "$work/gen/images.txt")
  end=$(date +%s%N)
  by_hand=$(awk "BEGIN { printf \"%.2f\", ($end - $start) / 1e9 * 400 / $sample }")
  echo "by hand, over TLS:"
  printf '  %-44s %7.2f s  (%d tags timed, scaled x%d)\n' "skopeo inspect + grep + sed loop, 400 tags" "$by_hand" "$sample" $(( 400 / sample ))

  # What the file system charges for replacing the 2,000 files, measured
  # without digestpin: `sed -i` writes each through a temporary file and a
  # rename as pin does, but syncs nothing and checks nothing.
  local sed_s
  fresh_copy
  sync
  start=$(date +%s%N)
  find "$copy" -name '*.yaml' -print0 | xargs -0 sed -i 's/^\(      image: .*\)$/\1 /'
  end=$(date +%s%N)
  sed_s=$(awk "BEGIN { printf \"%.2f\", ($end - $start) / 1e9 }")
  echo "the file system alone:"
  printf '  %-44s %7.2f s\n' "sed -i over the 2,000 files (no sync)" "$sed_s"

  python3 scripts/bench-gen.py "$work/gen" "$host" big
  sync
  echo "offline (median of $mruns runs after one not counted):"
  local check_s rg_s
  runs "$work/gen/tree" "check (2,000 files)" "$bin" check .
  runs "$work/gen/tree" "rg image: (2,000 files)" rg image: .
  runs "$work/gen/big" "check (50,000 files)" "$bin" check .
  check_s=$secs
  runs "$work/gen/big" "rg image: (50,000 files)" rg image: .
  rg_s=$secs

  echo "ratios (goal):"
  local mb=$(( rss[tls] / 1024 ))
  printf '  %-44s %6sx  (>= 50x: %s)\n' "skopeo loop / pin, TLS" "$(ratio "$by_hand" "${pin[tls]}")" "$(verdict "$by_hand / ${pin[tls]}" '>=' 50)"
  printf '  %-44s %6sx  (<= 5x: %s)\n' "pin / network floor, TLS" "$(ratio "${pin[tls]}" "${floor_s[tls]}")" "$(verdict "${pin[tls]} / ${floor_s[tls]}" '<=' 5)"
  printf '  %-44s %6sx  (<= 5x: %s)\n' "pin / network floor, plain HTTP" "$(ratio "${pin[plain]}" "${floor_s[plain]}")" "$(verdict "${pin[plain]} / ${floor_s[plain]}" '<=' 5)"
  printf '  %-44s %6sx  (<= 1.5x: %s)\n' "pin / pin --diff, TLS" "$(ratio "${pin[tls]}" "${diff[tls]}")" "$(verdict "${pin[tls]} / ${diff[tls]}" '<=' 1.5)"
  printf '  %-44s %6sx\n' "  its writing (pin - pin --diff) / sed -i" "$(awk "BEGIN { printf \"%.1f\", (${pin[tls]} - ${diff[tls]}) / $sed_s }")"
  printf '  %-44s %6s MB (<= 64 MB: %s)\n' "peak RSS of pin, TLS" "$mb" "$(verdict "$mb" '<=' 64)"
  printf '  %-44s %6sx  (<= 2x: %s)\n' "check / rg, 50,000 files" "$(ratio "$check_s" "$rg_s")" "$(verdict "$check_s / $rg_s" '<=' 2)"
  printf '  %-44s %6sx\n' "second pin --diff / first, TLS ($cache_note)" "$(ratio "${diff2[tls]}" "${diff[tls]}")"
}

case $part in
  corpus) corpus_bench ;;
  monorepo) monorepo_bench ;;
  all) corpus_bench; monorepo_bench ;;
  *) echo "usage: scripts/bench.sh [corpus|monorepo|all]" >&2; exit 2 ;;
esac
