#!/usr/bin/env bash
# The GitHub Action's entrypoint (see action.yml). Inputs arrive as INPUT_*
# environment variables, never interpolated into this script; arguments are
# built as arrays. Runs digestpin over the pull request's changed files (or the
# given paths), annotates unpinned references, writes the fix as a diff to the
# job summary and the outputs `changed-files` and `pins`; in commit mode it
# pins, commits and pushes to the pull request's branch; in update mode (for
# schedule and workflow_dispatch) it updates moved pins on a branch and opens
# or refreshes one pull request with the gh CLI.
set -euo pipefail

# GitHub reads workflow commands from every line a step prints, on standard
# output and standard error. Every line this script prints that carries
# repository data (file and branch names, messages of git and digestpin) goes
# through `escape`: `%`, CR and LF as GitHub documents for command data, the
# legacy `##[` command syntax, and a `:` that would start the line's text (a
# command begins with `::` after blanks), so no such line can start a
# command. Annotations come from `digestpin --format github` alone.
escape() {
  local s=$1
  s=${s//'%'/%25}
  s=${s//$'\r'/%0D}
  s=${s//$'\n'/%0A}
  s=${s//'##['/'#%23['}
  if [[ $s =~ ^([[:space:]]*): ]]; then
    s="${BASH_REMATCH[1]}%3A${s:${#BASH_REMATCH[0]}}"
  fi
  printf '%s\n' "$s"
}
# Each line of standard input, escaped.
escape_lines() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    escape "$line"
  done
}

mode=${INPUT_MODE:-check}
case $mode in
  check | diff | commit | update) ;;
  *)
    echo "::error title=digestpin::mode must be check, diff, commit or update, not $(escape "$mode")"
    exit 2
    ;;
esac
action_path=${DIGESTPIN_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
output=${GITHUB_OUTPUT:-/dev/null}
cd "${GITHUB_WORKSPACE:-$PWD}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The binary: DIGESTPIN_BIN if set (a digestpin you installed yourself);
# else the release archive of this action's version (`version` in its
# Cargo.toml, or the `version` input), downloaded from DIGESTPIN_RELEASE_URL
# (default: this project's GitHub releases) and run only when its SHA-256
# matches both the release's SHA256SUMS and the table committed in the action
# (action/checksums/v<version>.sha256); a mismatch fails the job. When there is
# no table for that version or runner, or the release has no such archive,
# the action's own source is built with cargo (CARGO, default `cargo`; its
# target/ is cached), and the job summary says why.
release_url=${DIGESTPIN_RELEASE_URL:-https://github.com/digestpin/digestpin/releases/download}
# The version the action is: `version = "…"` in its Cargo.toml's [package].
action_version() {
  sed -n '/^\[package\]/,/^\[/s/^version = "\([^"]*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1
}
# The release target of this runner, and its archive's suffix.
release_target() {
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) echo x86_64-unknown-linux-musl tar.gz ;;
    Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl tar.gz ;;
    Darwin/x86_64) echo x86_64-apple-darwin tar.gz ;;
    Darwin/arm64) echo aarch64-apple-darwin tar.gz ;;
    MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64) echo x86_64-pc-windows-msvc zip ;;
  esac
}
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}
# The checksum `sums` (sha256sum's format) gives the file `name`, if any.
sum_for() {
  awk -v name="$2" '($2 == name || $2 == "*" name) { print $1; exit }' "$1"
}
# Builds the action's source; $1 says why, in the summary and a warning.
build_from_source() {
  local status=0
  printf '**digestpin was built from source**: %s.\n\n' "$1" >>"$summary"
  echo "::warning title=digestpin::$(escape "building digestpin from source: $1")" >&2
  "${CARGO:-cargo}" build --release --locked --quiet --manifest-path "$action_path/Cargo.toml" 2>"$work/cargo.err" || status=$?
  escape_lines <"$work/cargo.err" >&2
  [ "$status" -eq 0 ] || exit 2
  echo "${CARGO_TARGET_DIR:-$action_path/target}/release/digestpin"
}
binary() {
  if [ -n "${DIGESTPIN_BIN-}" ]; then
    echo "$DIGESTPIN_BIN"
    return
  fi
  local version target suffix table archive url expected published actual dir
  version=${INPUT_VERSION:-$(action_version)}
  version=${version#v}
  read -r target suffix <<<"$(release_target)" || true
  table="action/checksums/v$version.sha256"
  if [ -z "$target" ]; then
    build_from_source "no release binary for this runner ($(uname -s) $(uname -m))"
    return
  fi
  archive="digestpin-$version-$target.$suffix"
  if [ ! -f "$action_path/$table" ]; then
    build_from_source "the action has no checksum table for v$version ($table)"
    return
  fi
  expected=$(sum_for "$action_path/$table" "$archive")
  if [ -z "$expected" ]; then
    build_from_source "the checksum table $table has no entry for $archive"
    return
  fi
  url="$release_url/v$version"
  if ! curl -fsSL --retry 3 -o "$work/$archive" "$url/$archive" 2>"$work/curl.err" ||
    ! curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$url/SHA256SUMS" 2>>"$work/curl.err"; then
    escape_lines <"$work/curl.err" >&2
    build_from_source "$archive or SHA256SUMS could not be downloaded from $url"
    return
  fi
  actual=$(sha256_of "$work/$archive")
  published=$(sum_for "$work/SHA256SUMS" "$archive")
  if [ "$actual" != "$expected" ] || [ "$actual" != "$published" ]; then
    echo "::error title=digestpin::$(escape "refusing $archive from $url: its SHA-256 is $actual, the action's table ($table) says $expected and the release's SHA256SUMS says ${published:-nothing}")" >&2
    exit 2
  fi
  dir="digestpin-$version-$target"
  if [ "$suffix" = zip ]; then
    unzip -q "$work/$archive" -d "$work" >&2
    echo "$work/$dir/digestpin.exe"
  else
    tar -xzf "$work/$archive" -C "$work" "$dir/digestpin" >&2
    echo "$work/$dir/digestpin"
  fi
}
bin=$(binary)

# The pull request, from the event payload.
event=${GITHUB_EVENT_NAME-}
pr_field() {
  python3 - "$1" "${GITHUB_EVENT_PATH-}" <<'PY'
import json, sys
field, path = sys.argv[1], sys.argv[2]
try:
    value = json.load(open(path))
    for key in field.split("."):
        value = value[key]
    print(value if value is not None else "")
except (OSError, KeyError, TypeError, ValueError):
    print("")
PY
}
is_pr=false
case $event in pull_request | pull_request_target) is_pr=true ;; esac
base_sha='' head_sha='' head_ref='' head_repo='' base_repo=''
if $is_pr; then
  base_sha=$(pr_field pull_request.base.sha)
  head_sha=$(pr_field pull_request.head.sha)
  head_ref=$(pr_field pull_request.head.ref)
  head_repo=$(pr_field pull_request.head.repo.full_name)
  base_repo=$(pr_field pull_request.base.repo.full_name)
fi

# Git over HTTPS with the token, for fetching the base commit and pushing.
# The token never appears on a command line (process listings show those): a
# credential helper reads it from the environment of the one git command that
# needs it. Extra headers that actions/checkout persisted (its
# `http.<server>/.extraheader` AUTHORIZATION, in .git/config or in a file
# included from there) are reset for that command, so exactly one
# Authorization header is sent whether or not checkout persisted credentials
# (GitHub rejects two). Only for an origin on this GitHub server.
server=${GITHUB_SERVER_URL:-https://github.com}
git_auth=()
if [ -n "${INPUT_TOKEN-}" ] && origin=$(git remote get-url origin 2>/dev/null) &&
  [[ $origin == "$server"/* ]]; then
  while IFS= read -r key; do
    git_auth+=(-c "$key=")
  done < <(git config --includes --name-only --get-regexp '^http\.(.*\.)?extraheader$' | sort -u)
  # shellcheck disable=SC2016 # expanded by the helper's shell, not here
  git_auth+=(-c credential.helper= -c 'credential.helper=!f() { test "$1" = get || exit 0; echo username=x-access-token; echo "password=$DIGESTPIN_GIT_TOKEN"; }; f')
fi
# git with the token (when it applies), never prompting, its messages escaped.
git_authed() {
  local status=0 token=''
  [ ${#git_auth[@]} -eq 0 ] || token=${INPUT_TOKEN-}
  GIT_TERMINAL_PROMPT=0 DIGESTPIN_GIT_TOKEN=$token git "${git_auth[@]}" "$@" 2>"$work/git.err" || status=$?
  escape_lines <"$work/git.err" >&2
  return "$status"
}

# What to scan.
set -f
# shellcheck disable=SC2206 # paths are split on blanks, without globbing
paths=(${INPUT_PATHS:-.})
set +f
changed_only=${INPUT_CHANGED_ONLY:-auto}
[ "$changed_only" = auto ] && changed_only=$is_pr
targets=("${paths[@]}")
scope="every path given (\`paths\`)"
if [ "$changed_only" = true ]; then
  if [ -z "$base_sha" ] || [ -z "$head_sha" ]; then
    echo "::error title=digestpin::changed-only needs a pull_request event with base and head commits"
    exit 2
  fi
  # The files the pull request changes, from base to head. When either commit
  # cannot be had or the diff fails, fail closed: scan every path, and say so.
  have_commits() {
    git cat-file -e "$base_sha^{commit}" 2>/dev/null && git cat-file -e "$head_sha^{commit}" 2>/dev/null
  }
  have_commits || git_authed fetch -q --no-tags --depth=1 origin "$base_sha" "$head_sha" || true
  : >"$work/git.err"
  if have_commits &&
    git diff -z --no-renames --name-only --diff-filter=ACMRT "$base_sha" "$head_sha" -- "${paths[@]}" >"$work/changed" 2>"$work/git.err"; then
    changed_files=()
    shopt -s nocasematch
    while IFS= read -r -d '' file; do
      # The files digestpin reads: YAML, JSON manifests, kustomizations and
      # Dockerfiles (not `.dockerignore` files), matched in any case.
      case $file in
        *.dockerignore | *.containerignore) ;;
        *.yaml | *.yml | *.json | kustomization | */kustomization | \
          dockerfile | */dockerfile | dockerfile.* | */dockerfile.* | *.dockerfile | \
          containerfile | */containerfile | containerfile.* | */containerfile.* | *.containerfile)
          [ -f "$file" ] && changed_files+=("$file") ;;
      esac
    done <"$work/changed"
    shopt -u nocasematch
    if [ ${#changed_files[@]} -eq 0 ]; then
      {
        echo "## digestpin"
        echo
        echo "No file that can name an image (YAML, JSON, kustomization, Dockerfile) changed in this pull request."
      } >>"$summary"
      echo "changed-files=[]" >>"$output"
      echo "pins=[]" >>"$output"
      exit 0
    fi
    targets=("${changed_files[@]}")
    scope="the files this pull request changes"
  else
    [ -s "$work/git.err" ] && escape_lines <"$work/git.err" >&2
    echo "::warning title=digestpin::$(escape "cannot diff the base commit $base_sha with the head $head_sha (fetch them, e.g. actions/checkout with fetch-depth: 0); scanning every path instead of the changed files")"
    scope="every path given: the changed files could not be found (the base commit $base_sha could not be fetched or diffed)"
  fi
fi

global=()
[ -n "${INPUT_CONFIG-}" ] && global+=(--config "$INPUT_CONFIG")
pin_args=()
[ -n "${INPUT_STYLE-}" ] && pin_args+=(--style "$INPUT_STYLE")
[ -n "${INPUT_PLATFORM-}" ] && pin_args+=(--platform "$INPUT_PLATFORM")

# ghcr.io credentials from the token, unless Docker's config already has some.
if [ -n "${INPUT_TOKEN-}" ]; then
  docker_config=${DOCKER_CONFIG:-$HOME/.docker}
  mkdir -p "$work/docker"
  python3 - "$docker_config/config.json" "$work/docker/config.json" <<'PY'
import base64, json, os, sys
source, target = sys.argv[1], sys.argv[2]
try:
    config = json.load(open(source))
except (OSError, ValueError):
    config = {}
auths = config.setdefault("auths", {})
if "ghcr.io" not in auths and "ghcr.io" not in config.get("credHelpers", {}):
    token = os.environ["INPUT_TOKEN"]
    auths["ghcr.io"] = {"auth": base64.b64encode(f"x-access-token:{token}".encode()).decode()}
fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    json.dump(config, out)
PY
  export DOCKER_CONFIG="$work/docker"
fi

# digestpin, its standard error escaped (it names files and references).
digestpin() {
  local status=0
  "$bin" "$@" 2>"$work/digestpin.err" || status=$?
  escape_lines <"$work/digestpin.err" >&2
  return "$status"
}

# Annotations on the references that failed to resolve, by the CLI's own
# `--format github` (a dry run, after the real one: it writes nothing). Only
# the annotations are kept; the job summary has the diff.
annotate_failures() {
  local failed
  failed=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])).get("summary") or {}; print(s.get("failed", 0) + s.get("file_errors", 0))' "$work/pin.json")
  [ "$failed" -gt 0 ] || return 0
  digestpin "${global[@]}" --format github pin --diff "${pin_args[@]}" -- "${targets[@]}" >"$work/failures" || true
  grep '^::error ' "$work/failures" || true
}

# Outputs and summary from a `--format json` document.
report() {
  python3 - "$1" "$2" "$3" "$output" "$summary" <<'PY'
import json, sys
document, heading, scope, output, summary = sys.argv[1:6]
doc = json.load(open(document))
records = doc.get("records", [])
pins = [
    {"file": r.get("path", "").removeprefix("./"), "line": r.get("line"), "reference": r.get("reference"), "digest": r.get("digest") or (r.get("to") or "").rpartition("@")[2]}
    for r in records if r.get("rule") in ("pinned", "rewritten")
]
failures = [r for r in records if r.get("level") == "error"]
with open(output, "a") as out:
    out.write("changed-files=" + json.dumps(doc.get("changed_files", [])) + "\n")
    out.write("pins=" + json.dumps(pins) + "\n")
s = doc.get("summary") or {}
def count(n, one, many):
    return f"{n} {one if n == 1 else many}"
with open(summary, "a") as out:
    out.write(f"## digestpin\n\n{heading}\n\nScanned: {scope}.\n\n")
    out.write(f"{count(s.get('references', 0), 'reference', 'references')} in "
              f"{count(s.get('files', 0), 'file', 'files')}: "
              f"{len(pins)} to pin, {s.get('already_pinned', 0)} already pinned, "
              f"{s.get('skipped', 0)} skipped, {s.get('failed', 0)} failed.\n\n")
    if failures:
        out.write("Failures:\n\n")
        for r in failures:
            where = ":".join(str(r[k]) for k in ("path", "line") if r.get(k))
            out.write(f"- `{where}`: {r['message']}\n")
        out.write("\n")
    if doc.get("diff"):
        out.write("```diff\n" + doc["diff"] + "```\n")
PY
}

# update mode: `digestpin update` on a branch (INPUT_BRANCH, default
# digestpin/update) made from the checked-out branch, one commit pushed with
# --force-with-lease against the branch as it was on origin, and one pull
# request opened (`gh pr create`) or refreshed (`gh pr edit`) with a table of
# the moved digests, their tags and the new images' revisions. When nothing
# moved: no push, no pull request, an open one left as it is.
update_mode() {
  local base branch before after status=0 lease number
  branch=${INPUT_BRANCH:-digestpin/update}
  if ! git check-ref-format "refs/heads/$branch"; then
    echo "::error title=digestpin::$(escape "branch \`$branch\` is not a valid branch name")"
    return 2
  fi
  base=$(git symbolic-ref -q --short HEAD || true)
  base=${base:-${GITHUB_REF_NAME-}}
  if [ -z "$base" ] || [ "$base" = "$branch" ]; then
    echo "::error title=digestpin::$(escape "update mode needs the base branch checked out (not \`$branch\`): actions/checkout on the default branch")"
    return 2
  fi
  git checkout -q -B "$branch" 2>&1 | escape_lines >&2
  git config user.name "github-actions[bot]"
  git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
  before=$(git rev-parse HEAD)
  digestpin "${global[@]}" --format json update --commit -- "${targets[@]}" >"$work/update.json" || status=$?
  after=$(git rev-parse HEAD)
  if [ "$after" = "$before" ]; then
    report "$work/update.json" "No pinned digest moved: nothing to push; an open pull request is left as it is." "$scope"
    annotate_update_failures
    return "$status"
  fi
  # The new images' provenance, for the table (a failure leaves it out).
  git diff -z --name-only "$before" "$after" >"$work/moved"
  local moved_files=()
  while IFS= read -r -d '' file; do moved_files+=("$file"); done <"$work/moved"
  digestpin "${global[@]}" --format json list --provenance -- "${moved_files[@]}" >"$work/list.json" || true
  update_body "$work/update.json" "$work/list.json" "$base" >"$work/body.md"
  lease=$(git_authed ls-remote origin "refs/heads/$branch" | cut -f1)
  git_authed push -q --force-with-lease="refs/heads/$branch:$lease" origin "HEAD:refs/heads/$branch"
  local title="Update pinned image digests"
  number=$(GH_TOKEN=${INPUT_TOKEN-} gh pr list --head "$branch" --base "$base" --state open --json number --jq '.[].number' 2>"$work/gh.err") || {
    escape_lines <"$work/gh.err" >&2
    return 2
  }
  number=${number%%$'\n'*}
  if [ -n "$number" ]; then
    GH_TOKEN=${INPUT_TOKEN-} gh pr edit "$number" --title "$title" --body-file "$work/body.md" 2>&1 | escape_lines >&2
    report "$work/update.json" "Pushed \`$after\` to \`$branch\` and refreshed pull request #$number:" "$scope"
  else
    GH_TOKEN=${INPUT_TOKEN-} gh pr create --base "$base" --head "$branch" --title "$title" --body-file "$work/body.md" 2>&1 | escape_lines >&2
    report "$work/update.json" "Pushed \`$after\` to \`$branch\` and opened a pull request:" "$scope"
  fi
  annotate_update_failures
  return "$status"
}

# Annotations on the pins `update` could not check (its dry run, again).
annotate_update_failures() {
  local failed
  failed=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])).get("summary") or {}; print(s.get("failed", 0) + s.get("file_errors", 0))' "$work/update.json")
  [ "$failed" -gt 0 ] || return 0
  digestpin "${global[@]}" --format github update --diff -- "${targets[@]}" >"$work/failures" || true
  grep '^::error ' "$work/failures" || true
}

# The pull request's body: a markdown table of each moved digest (image,
# tag, old -> new, the new image's revision where its metadata names one),
# from `update`'s and `list --provenance`'s JSON documents.
update_body() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
update, listing, base = sys.argv[1:4]
records = json.load(open(update)).get("records", [])
try:
    listed = json.load(open(listing)).get("records", [])
except (OSError, ValueError):
    listed = []
at = {(r.get("path"), r.get("line")): r for r in listed}
def cell(text):
    text = " ".join(str(text).split())
    for c in "\\|`*_[]<>":
        text = text.replace(c, "\\" + c)
    return text
rows = []
for r in records:
    if r.get("rule") != "rewritten":
        continue
    old = r.get("reference", "").rpartition("@")[2]
    image, _, new = r.get("to", "").rpartition("@")
    found = at.get((r.get("path"), r.get("line")), {})
    revision = (found.get("provenance") or {}).get("revision", "")
    row = (image, found.get("tag", ""), old, new, revision)
    if row not in rows:
        rows.append(row)
print(f"Pinned image digests that moved since they were pinned (`digestpin update` against `{cell(base)}`).\n")
print("| Image | Tag | Old → new digest | Revision |")
print("| --- | --- | --- | --- |")
for image, tag, old, new, revision in rows:
    rev = f"`{cell(revision)}`" if revision else ""
    print(f"| `{cell(image)}` | {cell(tag)} | `{cell(old)}` → `{cell(new)}` | {rev} |")
PY
}

case $mode in
  update)
    # Not in a condition, so errexit holds inside: a failed push stops it.
    update_mode
    exit 0
    ;;
  check | diff)
    status=0
    # Annotations on each unpinned reference.
    digestpin "${global[@]}" --format github check -- "${targets[@]}" || status=$?
    pin_status=0
    digestpin "${global[@]}" --format json pin --diff "${pin_args[@]}" -- "${targets[@]}" >"$work/pin.json" || pin_status=$?
    if [ "$mode" = check ]; then
      heading="References not pinned by digest fail this check; the diff below pins them (\`digestpin pin\`)."
    else
      heading="The change \`digestpin pin\` makes:"
      changed=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["changed_files"]))' "$work/pin.json")
      [ "$changed" -gt 0 ] && [ "$status" -eq 0 ] && status=1
    fi
    report "$work/pin.json" "$heading" "$scope"
    annotate_failures
    [ "$pin_status" -eq 2 ] && status=2
    exit "$status"
    ;;
  commit)
    if $is_pr && [ -n "$head_repo" ] && [ "$head_repo" != "$base_repo" ]; then
      {
        echo "## digestpin"
        echo
        echo "This pull request comes from the fork \`$head_repo\`: the workflow cannot push to it, so nothing was committed. Use \`mode: check\` for pull requests from forks."
      } >>"$summary"
      echo "changed-files=[]" >>"$output"
      echo "pins=[]" >>"$output"
      exit 0
    fi
    if ! git symbolic-ref -q HEAD >/dev/null; then
      if [ -n "$head_ref" ]; then
        git checkout -q -B "$head_ref" "${head_sha:-HEAD}" 2>&1 | escape_lines >&2
      else
        echo "::error title=digestpin::commit mode needs a branch checked out (actions/checkout with ref: \${{ github.head_ref }})"
        exit 2
      fi
    fi
    git config user.name "github-actions[bot]"
    git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
    before=$(git rev-parse HEAD)
    status=0
    digestpin "${global[@]}" --format json pin --commit "${pin_args[@]}" -- "${targets[@]}" >"$work/pin.json" || status=$?
    branch=${head_ref:-$(git symbolic-ref --short HEAD)}
    after=$(git rev-parse HEAD)
    if [ "$after" != "$before" ]; then
      git_authed push -q origin "HEAD:refs/heads/$branch"
      report "$work/pin.json" "Pinned and pushed commit \`$after\` to \`$branch\`:" "$scope"
    else
      report "$work/pin.json" "Nothing to pin." "$scope"
    fi
    annotate_failures
    exit "$status"
    ;;
esac
