#!/usr/bin/env bash
# The demo: builds digestpin, starts a registry on 127.0.0.1, seeds it with the
# images that fixtures/demo/ names, and shows `digestpin pin --diff` over them.
# Everything stays on this machine: every registry is mirrored to the local one.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh --registry-only
cargo build --quiet

work=$(mktemp -d)
registry_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# blob FILE: stores FILE under blobs/sha256 of the layout and prints "digest size".
blob() {
  local sum size
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$layout/blobs/sha256/$sum"
  echo "sha256:$sum $size"
}

# layout DIR SALT: writes a two-platform image (linux/amd64, linux/arm64) as
# an OCI layout whose content depends on SALT, tagged "demo".
layout() {
  layout=$1
  local salt=$2 entries=() arch layer layer_size config config_size manifest manifest_size index index_size
  mkdir -p "$layout/blobs/sha256" "$work/root"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  for arch in amd64 arm64; do
    echo "digestpin demo: $salt for linux/$arch" >"$work/root/hello"
    tar -C "$work/root" --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" hello
    read -r layer layer_size < <(blob "$work/layer.tar")
    printf '{"architecture":"%s","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
      "$arch" "$layer" >"$work/config.json"
    read -r config config_size < <(blob "$work/config.json")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
      "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
    read -r manifest manifest_size < <(blob "$work/manifest.json")
    entries+=("$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"}}' "$manifest" "$manifest_size" "$arch")")
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' \
    "${entries[0]}" "${entries[1]}" >"$work/index.json"
  read -r index index_size < <(blob "$work/index.json")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"demo"}}]}' \
    "$index" "$index_size" >"$layout/index.json"
}

# Every image the demo files name, as repository:tag at the local registry
# (Docker Hub's official images live under library/).
images=$(grep -hoE '^[^#]*image: *["'\'']?[^"'\'' #$*]+' fixtures/demo/*.yaml | sed -E 's/.*image: *["'\'']?//' | sort -u)
images+=$'\n'$(grep -hoE '&[a-z-]+ +[a-z0-9./:-]+' fixtures/demo/*.yaml | awk '{print $2}')
for image in $images; do
  name=${image%:*} tag=${image##*:}
  first=${name%%/*}
  if [[ $name == */* && ( $first == *.* || $first == *:* || $first == localhost ) ]]; then
    repo=${name#*/}
  elif [[ $name == */* ]]; then
    repo=$name
  else
    repo=library/$name
  fi
  layout "$work/layout-${repo//\//-}-$tag" "$image"
  skopeo --insecure-policy copy --quiet --all --dest-tls-verify=false "oci:$layout:demo" "docker://127.0.0.1:$port/$repo:$tag"
done

echo "\$ digestpin pin --diff fixtures/demo   (every registry mirrored to 127.0.0.1:$port)" >&2
set +e
./target/debug/digestpin pin --diff --loopback-only --mirror "*=http://127.0.0.1:$port" fixtures/demo
status=$?
set -e
# 0: nothing to do or done; the demo expects a diff and no error.
exit "$status"
