//! The pre-commit hooks with the real `pre-commit` (PyPI): it builds
//! digestpin from this repository's committed `HEAD` with cargo, so this test
//! takes a few minutes the first time; the build is cached under `target/`.

mod support;

use support::cli::{git, git_command, git_init, rev_parse};

use std::path::Path;
use std::process::{Command, Output};

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn hooks_fail_an_unpinned_commit_and_pass_once_pinned() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let head = rev_parse(manifest_dir, "HEAD");
    let registry = support::plain();
    registry.seed_index("library/nginx", "1.27", "pre-commit");
    let digest = registry.digest("library/nginx", "1.27");

    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git_init(repo, "Test User", "test@example.com");
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {head}\n    hooks:\n      - id: digestpin-check\n      - id: digestpin-pin\n        stages: [manual]\n        args: [--loopback-only, --mirror, '*={}']\n",
        manifest_dir.display(),
        registry.url()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
    std::fs::write(
        repo.join("deploy.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.27\n",
    )
    .unwrap();
    std::fs::write(repo.join("Dockerfile.prod"), "FROM nginx:1.27 AS web\n").unwrap();
    std::fs::write(
        repo.join("README.md"),
        "not yaml: never passed to the hook\n",
    )
    .unwrap();
    git(repo, &["add", "."]);

    let pre_commit = |args: &[&str]| {
        Command::new("python3")
            .current_dir(repo)
            .args(["-m", "pre_commit"])
            .args(args)
            .env(
                "PRE_COMMIT_HOME",
                manifest_dir.join("target/pre-commit-home"),
            )
            // `cargo install` reuses this build directory instead of a fresh
            // temporary one for each hook environment.
            .env(
                "CARGO_TARGET_DIR",
                manifest_dir.join("target/pre-commit-build"),
            )
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("DOCKER_CONFIG", repo)
            .env("DIGESTPIN_CACHE_TTL", "0")
            .output()
            .expect("python3 with pre-commit (scripts/install-test-deps.sh)")
    };
    ok(pre_commit(&["install"]));

    // The commit fails, naming the file and line.
    let out = git_command(repo, &["commit", "-q", "-m", "add deploy"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an unpinned reference must fail the commit"
    );
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        output.contains("deploy.yaml:5:14: nginx:1.27: not pinned by digest"),
        "{output}"
    );
    assert!(
        output.contains("Dockerfile.prod:1:6: nginx:1.27: not pinned by digest"),
        "{output}"
    );

    // digestpin-pin rewrites the file (pre-commit reports a failure because a
    // file changed); the user stages the result and the commit passes.
    let out = pre_commit(&[
        "run",
        "--hook-stage",
        "manual",
        "digestpin-pin",
        "--files",
        "deploy.yaml",
        "Dockerfile.prod",
    ]);
    assert!(
        !out.status.success(),
        "pre-commit fails a hook that modified files"
    );
    let pinned = std::fs::read_to_string(repo.join("deploy.yaml")).unwrap();
    assert!(
        pinned.contains(&format!("image: nginx@{digest} # 1.27\n")),
        "{pinned}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("Dockerfile.prod")).unwrap(),
        format!("FROM nginx:1.27@{digest} AS web\n")
    );
    git(repo, &["add", "deploy.yaml", "Dockerfile.prod"]);
    let out = git_command(repo, &["commit", "-q", "-m", "add deploy"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
