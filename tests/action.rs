//! The GitHub Action without GitHub: `scripts/action.sh` runs with the
//! environment a runner gives it (a pull_request event payload, output and
//! summary files, the workspace) over a real git repository with a base and a
//! head commit, against the test registry. `action.yml` is validated against
//! the GitHub action schema bundled with check-jsonschema.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

struct PullRequest {
    _dir: tempfile::TempDir,
    remote: PathBuf,
    work: PathBuf,
    event: PathBuf,
    config: PathBuf,
    head: String,
}

/// A repository whose `main` has an unpinned manifest, and a `feature`
/// branch (the pull request) adding another; the event names both commits.
fn pull_request(fork: bool) -> PullRequest {
    let registry = support::plain();
    registry.seed_index("team/action-app", "1", "action-app");
    registry.seed_index("library/nginx", "1.25", "action-base");
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote.git");
    let work = dir.path().join("work");
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
    git(
        dir.path(),
        &["init", "-q", "-b", "main", work.to_str().unwrap()],
    );
    git(&work, &["config", "user.name", "Developer"]);
    git(&work, &["config", "user.email", "dev@example.com"]);
    git(
        &work,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    std::fs::create_dir(work.join("k8s")).unwrap();
    std::fs::write(
        work.join("k8s/base.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.25\n",
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "base"]);
    let base = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["push", "-q", "origin", "main"]);
    git(&work, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        work.join("k8s/app.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/action-app:1\n",
    )
    .unwrap();
    std::fs::write(work.join("notes.md"), "not yaml\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "add app"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["push", "-q", "origin", "feature"]);

    let head_repo = if fork { "someone/fork" } else { "octo/shop" };
    // The fields of GitHub's pull_request event payload the action reads,
    // in their documented places.
    let event = serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "state": "open",
            "base": {"ref": "main", "sha": base, "repo": {"full_name": "octo/shop", "fork": false}},
            "head": {"ref": "feature", "sha": head, "repo": {"full_name": head_repo, "fork": fork}},
        },
        "repository": {"full_name": "octo/shop"},
    });
    let event_path = dir.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let config = dir.path().join("digestpin.toml");
    std::fs::write(&config, format!("mirrors = [\"*={}\"]\n", registry.url())).unwrap();
    PullRequest {
        remote,
        work,
        event: event_path,
        config,
        head,
        _dir: dir,
    }
}

struct Run {
    out: Output,
    outputs: String,
    summary: String,
}

fn run_action(pr: &PullRequest, mode: &str) -> Run {
    let outputs = pr.event.with_file_name("github_output");
    let summary = pr.event.with_file_name("step_summary");
    std::fs::write(&outputs, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action.sh"))
        .current_dir(&pr.work)
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &pr.event)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", &pr.work)
        .env("INPUT_MODE", mode)
        .env("INPUT_PATHS", ".")
        .env("INPUT_CHANGED_ONLY", "auto")
        .env("INPUT_CONFIG", &pr.config)
        .env("INPUT_TOKEN", "")
        .env("DIGESTPIN_BIN", env!("CARGO_BIN_EXE_digestpin"))
        .env("DIGESTPIN_LOOPBACK_ONLY", "1")
        .env("DOCKER_CONFIG", pr.event.with_file_name("docker"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    Run {
        out,
        outputs: std::fs::read_to_string(outputs).unwrap(),
        summary: std::fs::read_to_string(summary).unwrap(),
    }
}

fn output_json(outputs: &str, name: &str) -> serde_json::Value {
    let line = outputs
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {outputs}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn check_mode_annotates_the_changed_files_and_shows_the_fix() {
    let pr = pull_request(false);
    let digest = support::plain().digest("team/action-app", "1");
    let run = run_action(&pr, "check");
    let stdout = String::from_utf8_lossy(&run.out.stdout);
    assert_eq!(
        run.out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&run.out.stderr)
    );
    assert!(
        stdout.contains("::error file=k8s/app.yaml,line=5,col=14,title=digestpin not-pinned::team/action-app:1: not pinned by digest"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("base.yaml"),
        "only the files the pull request changes: {stdout}"
    );
    assert!(
        run.summary
            .contains("```diff\n--- a/k8s/app.yaml\n+++ b/k8s/app.yaml\n"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains(&format!("+    - image: team/action-app@{digest} # 1\n")),
        "{}",
        run.summary
    );
    assert_eq!(
        output_json(&run.outputs, "changed-files"),
        serde_json::json!(["k8s/app.yaml"])
    );
    let pins = output_json(&run.outputs, "pins");
    assert_eq!(pins[0]["file"], "k8s/app.yaml");
    assert_eq!(pins[0]["line"], 5);
    assert_eq!(pins[0]["reference"], "team/action-app:1");
    assert_eq!(pins[0]["digest"], digest.as_str());
    // Nothing was written.
    assert!(
        !std::fs::read_to_string(pr.work.join("k8s/app.yaml"))
            .unwrap()
            .contains("sha256")
    );
}

#[test]
fn diff_mode_fails_with_the_change_in_the_summary() {
    let pr = pull_request(false);
    let run = run_action(&pr, "diff");
    assert_eq!(
        run.out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.out.stderr)
    );
    assert!(
        run.summary.contains("The change `digestpin pin` makes:"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("+++ b/k8s/app.yaml"),
        "{}",
        run.summary
    );
}

#[test]
fn commit_mode_pushes_a_bot_commit_to_the_head_branch() {
    let pr = pull_request(false);
    let digest = support::plain().digest("team/action-app", "1");
    let run = run_action(&pr, "commit");
    assert_eq!(
        run.out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&run.out.stdout),
        String::from_utf8_lossy(&run.out.stderr)
    );
    let pushed = git(&pr.remote, &["rev-parse", "feature"]);
    assert_ne!(pushed, pr.head);
    assert_eq!(git(&pr.remote, &["rev-parse", "feature^"]), pr.head);
    assert_eq!(
        git(&pr.remote, &["log", "-1", "--format=%an <%ae>", "feature"]),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
    assert_eq!(
        git(&pr.remote, &["show", "--name-only", "--format=", "feature"]),
        "k8s/app.yaml"
    );
    let message = git(&pr.remote, &["log", "-1", "--format=%B", "feature"]);
    assert!(
        message.contains(&format!("team/action-app:1 -> {digest}")),
        "{message}"
    );
    assert!(
        run.summary
            .contains(&format!("Pinned and pushed commit `{pushed}` to `feature`")),
        "{}",
        run.summary
    );
    assert_eq!(
        output_json(&run.outputs, "changed-files"),
        serde_json::json!(["k8s/app.yaml"])
    );
}

#[test]
fn commit_mode_does_nothing_on_a_fork() {
    let pr = pull_request(true);
    let run = run_action(&pr, "commit");
    assert_eq!(run.out.status.code(), Some(0));
    assert!(
        run.summary.contains("comes from the fork `someone/fork`"),
        "{}",
        run.summary
    );
    assert_eq!(git(&pr.remote, &["rev-parse", "feature"]), pr.head);
}

#[test]
fn action_yml_validates_against_the_github_action_schema() {
    let out = Command::new("python3")
        .args([
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-actions",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .output()
        .expect("python3 with check-jsonschema (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
