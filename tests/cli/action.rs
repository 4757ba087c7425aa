//! The GitHub Action without GitHub: `scripts/action.sh` runs with the
//! environment a runner gives it (a pull_request event payload, output and
//! summary files, the workspace) over a real git repository with a base and a
//! head commit, against the test registry. `action.yml` is validated against
//! the GitHub action schema bundled with check-jsonschema.

use crate::support;
use crate::support::cli::{filters, git, git_init, rev_parse};
use crate::support::git_http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The manifest the pull request adds.
const APP: &str =
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/action-app:1\n";

struct PullRequest {
    _dir: tempfile::TempDir,
    remote: PathBuf,
    work: PathBuf,
    event: PathBuf,
    config: PathBuf,
    base: String,
    head: String,
}

impl PullRequest {
    /// Snapshot filters for this pull request's directory, its two commits
    /// and `named` values (value, name).
    fn filters(&self, named: &[(&str, &str)]) -> insta::Settings {
        let mut values = vec![(self.base.as_str(), "BASE"), (self.head.as_str(), "HEAD")];
        values.extend_from_slice(named);
        filters(&[self._dir.path()], &values)
    }
}

/// A repository whose `main` has an unpinned manifest, and a `feature`
/// branch (the pull request) adding another; the event names both commits.
fn pull_request(fork: bool) -> PullRequest {
    let registry = support::plain();
    registry.seed_index("team/action-app", "1", "action-app");
    registry.seed_index("library/nginx", "1.25", "library/nginx:1.25");
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
    std::fs::create_dir(&work).unwrap();
    git_init(&work, "Developer", "dev@example.com");
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
    let base = rev_parse(&work, "HEAD");
    git(&work, &["push", "-q", "origin", "main"]);
    git(&work, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(work.join("k8s/app.yaml"), APP).unwrap();
    std::fs::write(work.join("notes.md"), "not yaml\n").unwrap();
    // A Dockerfile is read too; its `.dockerignore` is not.
    std::fs::create_dir(work.join("app")).unwrap();
    std::fs::write(work.join("app/Dockerfile"), "FROM nginx:1.25\n").unwrap();
    std::fs::write(work.join("app/Dockerfile.dockerignore"), "target\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "add app"]);
    let head = rev_parse(&work, "HEAD");
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
        base,
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
    run_action_with(pr, mode, &[])
}

/// `run_action` with more (or other) environment variables.
fn run_action_with(pr: &PullRequest, mode: &str, env: &[(&str, &std::ffi::OsStr)]) -> Run {
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
        .env("DIGESTPIN_CACHE_TTL", "0")
        .env("DOCKER_CONFIG", pr.event.with_file_name("docker"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(env.iter().copied())
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
    // Only the files the pull request changes: base.yaml is not named.
    let nginx = support::plain().digest("library/nginx", "1.25");
    let _filters = pr
        .filters(&[(&digest, "DIGEST"), (&nginx, "NGINX")])
        .bind_to_scope();
    insta::assert_snapshot!(stdout);
    insta::assert_snapshot!(run.summary);
    assert_eq!(
        output_json(&run.outputs, "changed-files"),
        serde_json::json!(["app/Dockerfile", "k8s/app.yaml"])
    );
    let pins = output_json(&run.outputs, "pins");
    assert_eq!(pins[1]["file"], "k8s/app.yaml");
    assert_eq!(pins[1]["line"], 5);
    assert_eq!(pins[1]["reference"], "team/action-app:1");
    assert_eq!(pins[1]["digest"], digest.as_str());
    assert_eq!(pins[0]["file"], "app/Dockerfile");
    assert_eq!(pins[0]["digest"], nginx.as_str());
    // Nothing was written.
    assert_eq!(
        std::fs::read_to_string(pr.work.join("k8s/app.yaml")).unwrap(),
        APP
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
    let digest = support::plain().digest("team/action-app", "1");
    let nginx = support::plain().digest("library/nginx", "1.25");
    let _filters = pr
        .filters(&[(&digest, "DIGEST"), (&nginx, "NGINX")])
        .bind_to_scope();
    insta::assert_snapshot!(run.summary);
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
    let pushed = rev_parse(&pr.remote, "feature");
    assert_ne!(pushed, pr.head);
    assert_eq!(rev_parse(&pr.remote, "feature^"), pr.head);
    assert_eq!(
        git(&pr.remote, &["log", "-1", "--format=%an <%ae>", "feature"]),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>\n"
    );
    assert_eq!(
        git(&pr.remote, &["show", "--name-only", "--format=", "feature"]),
        "app/Dockerfile\nk8s/app.yaml\n"
    );
    let message = git(&pr.remote, &["log", "-1", "--format=%B", "feature"]);
    let nginx = support::plain().digest("library/nginx", "1.25");
    let _filters = pr
        .filters(&[(&digest, "DIGEST"), (&pushed, "PUSHED"), (&nginx, "NGINX")])
        .bind_to_scope();
    insta::assert_snapshot!(message);
    insta::assert_snapshot!(run.summary);
    assert_eq!(
        output_json(&run.outputs, "changed-files"),
        serde_json::json!(["app/Dockerfile", "k8s/app.yaml"])
    );
}

#[test]
fn commit_mode_does_nothing_on_a_fork() {
    let pr = pull_request(true);
    let run = run_action(&pr, "commit");
    assert_eq!(run.out.status.code(), Some(0));
    let _filters = pr.filters(&[]).bind_to_scope();
    insta::assert_snapshot!(run.summary);
    assert_eq!(rev_parse(&pr.remote, "feature"), pr.head);
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

/// Rewrites the event's base commit to one that no remote has.
fn with_unknown_base(pr: &PullRequest) {
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pr.event).unwrap()).unwrap();
    event["pull_request"]["base"]["sha"] = serde_json::json!("1".repeat(40));
    std::fs::write(&pr.event, event.to_string()).unwrap();
}

#[test]
fn changed_only_fails_closed_when_the_base_cannot_be_fetched() {
    let pr = pull_request(false);
    with_unknown_base(&pr);
    let run = run_action(&pr, "check");
    let stdout = String::from_utf8_lossy(&run.out.stdout);
    let stderr = String::from_utf8_lossy(&run.out.stderr);
    assert_eq!(run.out.status.code(), Some(1), "{stdout}{stderr}");
    let base = "1".repeat(40);
    // Every path is scanned (base.yaml, which the pull request does not
    // change, included), and the log and the summary say why.
    assert_eq!(
        stdout,
        format!(
            "::warning title=digestpin::cannot diff the base commit {base} with the head {} \
             (fetch them, e.g. actions/checkout with fetch-depth: 0); scanning every path instead of the changed files\n\
             ::error file=app/Dockerfile,line=1,col=6,title=digestpin not-pinned::nginx:1.25: not pinned by digest\n\
             ::error file=k8s/app.yaml,line=5,col=14,title=digestpin not-pinned::team/action-app:1: not pinned by digest\n\
             ::error file=k8s/base.yaml,line=5,col=14,title=digestpin not-pinned::nginx:1.25: not pinned by digest\n",
            pr.head
        )
    );
    // git's two processes report in either order.
    let mut errors: Vec<&str> = stderr.lines().collect();
    errors.sort_unstable();
    assert_eq!(
        errors,
        [
            format!("fatal: git upload-pack: not our ref {base}"),
            format!("fatal: remote error: upload-pack: not our ref {base}"),
        ]
    );
    let app = support::plain().digest("team/action-app", "1");
    let nginx = support::plain().digest("library/nginx", "1.25");
    let _filters = pr
        .filters(&[(&app, "APP"), (&nginx, "NGINX")])
        .bind_to_scope();
    insta::assert_snapshot!(run.summary);
    assert_eq!(
        output_json(&run.outputs, "changed-files"),
        serde_json::json!(["app/Dockerfile", "k8s/app.yaml", "k8s/base.yaml"])
    );
}

/// A directory holding a `git` that logs its arguments to `log` and runs
/// the real git.
fn logging_git(dir: &Path, log: &Path) -> PathBuf {
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("git"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"git $*\" >>'{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn commit_mode_pushes_with_the_token_whether_or_not_checkout_persisted_credentials() {
    const TOKEN: &str = "ghs_input-token-for-the-test";
    // Not persisted; persisted in .git/config (actions/checkout up to v5);
    // persisted in a file that .git/config includes for this git directory
    // (v6).
    for persisted in ["no", "config", "included"] {
        let pr = pull_request(false);
        let server = git_http::start(pr.remote.parent().unwrap(), TOKEN);
        let origin = format!("{}/remote.git", server.url);
        git(&pr.work, &["remote", "set-url", "origin", &origin]);
        // What actions/checkout persists (with an older token here, so
        // that a header that got through would be refused).
        let header = format!("AUTHORIZATION: {}", git_http::basic("ghs_stale"));
        let key = format!("http.{}/.extraheader", server.url);
        match persisted {
            "config" => {
                git(&pr.work, &["config", "--local", &key, &header]);
            }
            "included" => {
                let file = pr.event.with_file_name("git-credentials.gitconfig");
                let file = file.to_str().unwrap();
                git(&pr.work, &["config", "--file", file, &key, &header]);
                let gitdir = pr.work.join(".git");
                let include = format!("includeIf.gitdir:{}.path", gitdir.display());
                git(&pr.work, &["config", "--local", &include, file]);
            }
            _ => {}
        }
        let log = pr.event.with_file_name("git-commands.log");
        let bin = logging_git(pr.event.parent().unwrap(), &log);
        let run = run_action_with(
            &pr,
            "commit",
            &[
                ("INPUT_TOKEN", TOKEN.as_ref()),
                ("GITHUB_SERVER_URL", server.url.as_ref()),
                ("PATH", &support::path_with(&bin)),
            ],
        );
        let stderr = String::from_utf8_lossy(&run.out.stderr);
        assert_eq!(
            run.out.status.code(),
            Some(0),
            "persisted={persisted}: {stderr}"
        );
        assert_eq!(rev_parse(&pr.remote, "feature^"), pr.head);
        // Asked once for credentials, then one Authorization header, the
        // input token's, on every request: never checkout's as well.
        let authorized = vec![git_http::basic(TOKEN)];
        assert_eq!(
            *server.requests.lock().unwrap(),
            [
                (
                    "GET /remote.git/info/refs?service=git-receive-pack HTTP/1.1",
                    vec![]
                ),
                (
                    "GET /remote.git/info/refs?service=git-receive-pack HTTP/1.1",
                    authorized.clone()
                ),
                ("POST /remote.git/git-receive-pack HTTP/1.1", authorized),
            ]
            .map(|(line, auth)| (line.to_string(), auth)),
            "persisted={persisted}"
        );
        // The token is on no git command line (process listings show them).
        let commands = std::fs::read_to_string(&log).unwrap();
        let push = commands.lines().last().unwrap();
        let reset = if persisted == "no" {
            String::new()
        } else {
            format!("-c http.{}/.extraheader= ", server.url)
        };
        assert_eq!(
            push,
            format!(
                "git {reset}-c credential.helper= -c credential.helper=!f() {{ test \"$1\" = get || exit 0; \
                 echo username=x-access-token; echo \"password=$DIGESTPIN_GIT_TOKEN\"; }}; f \
                 push -q origin HEAD:refs/heads/feature"
            )
        );
        assert!(!commands.contains(TOKEN), "{commands}");
        assert!(
            !commands.contains(&git_http::basic(TOKEN)[6..]),
            "{commands}"
        );
    }
}

#[test]
fn file_names_cannot_start_workflow_commands() {
    let pr = pull_request(false);
    // The pull request adds files whose names hold workflow commands: one
    // after a newline, one with the legacy `##[` syntax, whose image does
    // not resolve (so its name reaches the failure messages).
    git(&pr.work, &["checkout", "-q", "feature"]);
    let hostile = [
        ("k8s/evil\n::error::injected.yaml", "team/action-app:1"),
        ("k8s/::warning::x ##[error]y.yaml", "team/not-there:1"),
    ];
    for (name, image) in hostile {
        std::fs::write(
            pr.work.join(name),
            format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: {image}\n"),
        )
        .unwrap();
    }
    git(&pr.work, &["add", "."]);
    git(&pr.work, &["commit", "-q", "-m", "hostile names"]);
    let head = rev_parse(&pr.work, "HEAD");
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pr.event).unwrap()).unwrap();
    event["pull_request"]["head"]["sha"] = serde_json::json!(head);
    std::fs::write(&pr.event, event.to_string()).unwrap();

    let run = run_action(&pr, "check");
    let stdout = String::from_utf8_lossy(&run.out.stdout);
    let stderr = String::from_utf8_lossy(&run.out.stderr);
    assert_eq!(run.out.status.code(), Some(2), "{stdout}{stderr}");
    let url = support::plain().url();
    // Each line is an annotation of digestpin's, the names escaped within.
    assert_eq!(
        stdout,
        format!(
            "::error file=app/Dockerfile,line=1,col=6,title=digestpin not-pinned::nginx:1.25: not pinned by digest\n\
             ::error file=k8s/%3A%3Awarning%3A%3Ax ##[error]y.yaml,line=5,col=14,title=digestpin not-pinned::team/not-there:1: not pinned by digest\n\
             ::error file=k8s/app.yaml,line=5,col=14,title=digestpin not-pinned::team/action-app:1: not pinned by digest\n\
             ::error file=k8s/evil%0A%3A%3Aerror%3A%3Ainjected.yaml,line=5,col=14,title=digestpin not-pinned::team/action-app:1: not pinned by digest\n\
             ::error file=k8s/%3A%3Awarning%3A%3Ax ##[error]y.yaml,line=5,col=14,title=digestpin resolve-failed::team/not-there:1: \
             repository not found ({url}/v2/team/not-there/manifests/1)\n"
        )
    );
    assert_eq!(
        stderr,
        "4 references in 4 files: 3 to pin, 0 already pinned, 0 skipped, 1 failed; 3 files would change\n"
    );

    // A branch name that git prints back in an error, in commit mode.
    git(&pr.work, &["checkout", "-q", "--detach"]);
    event["pull_request"]["head"]["ref"] =
        serde_json::json!("feature\n::error::injected ##[warning]x");
    std::fs::write(&pr.event, event.to_string()).unwrap();
    // (GIT_ADVICE=0: no version-dependent hints.)
    let run = run_action_with(&pr, "commit", &[("GIT_ADVICE", "0".as_ref())]);
    assert_eq!(run.out.status.code(), Some(128));
    assert_eq!(String::from_utf8_lossy(&run.out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&run.out.stderr),
        "fatal: 'feature\n%3A:error::injected #%23[warning]x' is not a valid branch name\n"
    );
}
