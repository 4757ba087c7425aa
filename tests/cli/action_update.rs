//! The Action's `mode: update` without GitHub: `scripts/action.sh` with a
//! scheduled run's environment, over a repository whose origin is a local
//! bare repository, against the test registry where a tag moved, with a
//! stand-in `gh` on PATH that records its arguments (and the body file)
//! and answers `gh pr list` from a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;
use crate::support::cli::{git, git_init, rev_parse};
use crate::support::image::Metadata;

const GH: &str = r#"#!/bin/sh
# A stand-in for the gh CLI: one line per call, the body file's content
# kept aside, `pr list` answered from $GH_PR_LIST.
line="GH_TOKEN=$GH_TOKEN"
body=
for arg in "$@"; do
  if [ "$body" = next ]; then
    cat "$arg" >"$GH_LOG.body"
    arg=BODY
    body=done
  fi
  [ "$arg" = --body-file ] && body=next
  line="$line [$arg]"
done
printf '%s\n' "$line" >>"$GH_LOG"
if [ "$1 $2" = "pr list" ]; then cat "$GH_PR_LIST"; fi
"#;

struct Repo {
    dir: tempfile::TempDir,
    remote: PathBuf,
    work: PathBuf,
    bin: PathBuf,
}

impl Repo {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The file at `path` on origin's `branch`.
    fn origin_file(&self, branch: &str, path: &str) -> String {
        git(&self.remote, &["show", &format!("{branch}:{path}")])
    }

    fn gh_log(&self) -> String {
        std::fs::read_to_string(self.path("gh.log")).unwrap_or_default()
    }

    fn gh_body(&self) -> String {
        std::fs::read_to_string(self.path("gh.log.body")).unwrap_or_default()
    }
}

fn labelled(revision: &str) -> Metadata {
    Metadata {
        labels: vec![
            ("org.opencontainers.image.revision".into(), revision.into()),
            (
                "org.opencontainers.image.source".into(),
                "https://github.com/acme/web".into(),
            ),
        ],
        annotations: Vec::new(),
    }
}

fn web(digest: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: registry.example/upd/web@{digest} # 1.0\n"
    )
}

fn db(digest: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: registry.example/upd/db@{digest} # 2\n"
    )
}

/// main pins upd/web:1.0 and upd/db:2 as they are now; pushed to origin.
fn repo(web_digest: &str, db_digest: &str) -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("origin.git");
    let work = dir.path().join("work");
    let bin = dir.path().join("bin");
    git(
        dir.path(),
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    std::fs::create_dir_all(work.join("deploy")).unwrap();
    git_init(&work, "Developer", "dev@example.com");
    git(
        &work,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    std::fs::write(work.join("deploy/web.yaml"), web(web_digest)).unwrap();
    std::fs::write(work.join("deploy/db.yaml"), db(db_digest)).unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "pin"]);
    git(&work, &["push", "-q", "origin", "main"]);
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(bin.join("gh"), GH).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(bin.join("gh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("digestpin.toml");
    std::fs::write(
        &config,
        format!("mirrors = [\"*={}\"]\n", support::plain().url()),
    )
    .unwrap();
    Repo {
        dir,
        remote,
        work,
        bin,
    }
}

/// A scheduled run of the action on main, `pr_list` being what `gh pr
/// list` prints.
fn run(repo: &Repo, pr_list: &str) -> (Output, String) {
    git(&repo.work, &["checkout", "-q", "main"]);
    std::fs::write(repo.path("pr-list"), pr_list).unwrap();
    std::fs::write(repo.path("gh.log"), "").unwrap();
    std::fs::write(repo.path("output"), "").unwrap();
    let _ = std::fs::remove_file(repo.path("gh.log.body"));
    let summary = repo.path("summary");
    std::fs::write(&summary, "").unwrap();
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action.sh"))
        .current_dir(&repo.work)
        .env("PATH", support::path_with(&repo.bin))
        .env("DIGESTPIN_CACHE_TTL", "0")
        .env("GITHUB_EVENT_NAME", "schedule")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_OUTPUT", repo.path("output"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", &repo.work)
        .env("INPUT_MODE", "update")
        .env("INPUT_PATHS", "deploy")
        .env("INPUT_CHANGED_ONLY", "auto")
        .env("INPUT_CONFIG", repo.path("digestpin.toml"))
        .env("INPUT_TOKEN", "test-token")
        .env("INPUT_BRANCH", "digestpin/update")
        .env("GH_LOG", repo.path("gh.log"))
        .env("GH_PR_LIST", repo.path("pr-list"))
        .env("DIGESTPIN_BIN", env!("CARGO_BIN_EXE_digestpin"))
        .env("DIGESTPIN_LOOPBACK_ONLY", "1")
        .env("DOCKER_CONFIG", repo.path("docker"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let summary = std::fs::read_to_string(summary).unwrap();
    (out, summary)
}

fn body(old: &str, new: &str, revision: &str) -> String {
    format!(
        "Pinned image digests that moved since they were pinned (`digestpin update` against `main`).\n\n\
         | Image | Tag | Old → new digest | Revision |\n\
         | --- | --- | --- | --- |\n\
         | `registry.example/upd/web` | 1.0 | `{old}` → `{new}` | `{revision}` |\n"
    )
}

const LIST: &str = "GH_TOKEN=test-token [pr] [list] [--head] [digestpin/update] [--base] [main] [--state] [open] [--json] [number] [--jq] [.[].number]\n";

#[test]
fn update_mode_pushes_a_branch_and_opens_then_refreshes_one_pull_request() {
    let r = support::plain();
    r.seed_single_with("upd/web", "1.0", "upd-web-a", &labelled("aaa111"));
    r.seed_single("upd/db", "2", "upd-db", "amd64");
    let (a, d) = (r.digest("upd/web", "1.0"), r.digest("upd/db", "2"));
    let repo = repo(&a, &d);
    let main = rev_parse(&repo.work, "main");

    // The tag moves: a pull request is opened from a new branch.
    r.seed_single_with("upd/web", "1.0", "upd-web-b", &labelled("bbb222"));
    let b = r.digest("upd/web", "1.0");
    let (out, summary) = run(&repo, "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        repo.origin_file("digestpin/update", "deploy/web.yaml"),
        web(&b)
    );
    assert_eq!(
        repo.origin_file("digestpin/update", "deploy/db.yaml"),
        db(&d)
    );
    assert_eq!(rev_parse(&repo.remote, "digestpin/update^"), main);
    assert_eq!(
        git(
            &repo.remote,
            &["log", "-1", "--format=%an <%ae>", "digestpin/update"]
        ),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>\n"
    );
    assert_eq!(
        repo.gh_log(),
        format!(
            "{LIST}GH_TOKEN=test-token [pr] [create] [--base] [main] [--head] [digestpin/update] \
             [--title] [Update pinned image digests] [--body-file] [BODY]\n"
        )
    );
    assert_eq!(repo.gh_body(), body(&a, &b, "bbb222"));
    let outputs = std::fs::read_to_string(repo.path("output")).unwrap();
    assert_eq!(
        outputs,
        format!(
            "changed-files=[\"deploy/web.yaml\"]\npins=[{{\"file\": \"deploy/web.yaml\", \"line\": 5, \"reference\": \"registry.example/upd/web@{a}\", \"digest\": \"{b}\"}}]\n"
        )
    );
    let first = rev_parse(&repo.remote, "digestpin/update");
    assert_eq!(
        summary,
        format!(
            "## digestpin\n\nPushed `{first}` to `digestpin/update` and opened a pull request:\n\n\
             Scanned: every path given (`paths`).\n\n\
             2 references in 2 files: 1 to pin, 1 already pinned, 0 skipped, 0 failed.\n\n"
        )
    );

    // It moves again while the pull request is open: the branch is
    // replaced (made again from main) and the pull request edited.
    r.seed_single_with("upd/web", "1.0", "upd-web-c", &labelled("ccc333"));
    let c = r.digest("upd/web", "1.0");
    let (out, _) = run(&repo, "12\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        repo.origin_file("digestpin/update", "deploy/web.yaml"),
        web(&c)
    );
    assert_eq!(rev_parse(&repo.remote, "digestpin/update^"), main);
    assert_ne!(rev_parse(&repo.remote, "digestpin/update"), first);
    assert_eq!(
        repo.gh_log(),
        format!(
            "{LIST}GH_TOKEN=test-token [pr] [edit] [12] [--title] [Update pinned image digests] \
             [--body-file] [BODY]\n"
        )
    );
    assert_eq!(repo.gh_body(), body(&a, &c, "ccc333"));

    // The pull request is merged; nothing moves after: no push, no gh call
    // at all (an open pull request would be left as it is).
    let second = rev_parse(&repo.remote, "digestpin/update");
    git(&repo.work, &["checkout", "-q", "main"]);
    git(
        &repo.work,
        &["merge", "-q", "--ff-only", "digestpin/update"],
    );
    git(&repo.work, &["push", "-q", "origin", "main"]);
    let (out, summary) = run(&repo, "12\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.gh_log(), "");
    assert_eq!(rev_parse(&repo.remote, "digestpin/update"), second);
    assert_eq!(rev_parse(&repo.remote, "main"), second);
    assert_eq!(
        summary,
        "## digestpin\n\nNo pinned digest moved: nothing to push; an open pull request is left as it is.\n\n\
         Scanned: every path given (`paths`).\n\n\
         2 references in 2 files: 0 to pin, 2 already pinned, 0 skipped, 0 failed.\n\n"
    );
}
