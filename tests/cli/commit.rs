//! `--commit` in a real temporary git repository.

use crate::support;
use crate::support::cli::{files, filters, git, git_init, online};

use std::path::Path;

const DB: &str = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/commit-db:2\n";

/// A repository with two manifests and a note, all committed.
fn repository() -> tempfile::TempDir {
    let dir = files(&[
        (
            "k8s/web.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/commit-web:1\n",
        ),
        ("k8s/db.yaml", DB),
        ("notes.txt", "notes\n"),
    ]);
    git_init(dir.path(), "Test User", "test@example.com");
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

fn pin(dir: &Path, args: &[&str]) -> std::process::Output {
    online(
        dir,
        support::plain(),
        &[&["pin", "--commit"], args].concat(),
    )
}

#[test]
fn commit_holds_exactly_the_changed_files_and_lists_the_pins() {
    let r = support::plain();
    r.seed_index("team/commit-web", "1", "commit-web");
    r.seed_index("team/commit-db", "2", "commit-db");
    let web = r.digest("team/commit-web", "1");
    let dir = repository();
    // Something else is staged: it must stay staged and out of the commit.
    std::fs::write(dir.path().join("notes.txt"), "more notes\n").unwrap();
    git(dir.path(), &["add", "notes.txt"]);

    let out = pin(dir.path(), &["k8s/web.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = git(dir.path(), &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files, "k8s/web.yaml\n");
    let message = git(dir.path(), &["log", "-1", "--format=%B"]);
    let _filters = filters(&[dir.path()], &[(&web, "WEB")]).bind_to_scope();
    insta::assert_snapshot!(message);
    let status = git(dir.path(), &["status", "--porcelain"]);
    assert_eq!(
        status, "M  notes.txt\n",
        "only the unrelated staged change is left"
    );

    let out = pin(
        dir.path(),
        &["--commit-message", "chore: pin db", "k8s/db.yaml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        git(dir.path(), &["log", "-1", "--format=%s"]),
        "chore: pin db\n"
    );
}

#[test]
fn commit_is_refused_before_anything_is_written_when_a_file_has_changes() {
    let r = support::plain();
    r.seed_index("team/commit-web", "1", "commit-web");
    let dir = repository();
    let edited = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/commit-web:1\n# work in progress\n";
    std::fs::write(dir.path().join("k8s/web.yaml"), edited).unwrap();
    let head = git(dir.path(), &["rev-parse", "HEAD"]);

    let out = pin(dir.path(), &["k8s"]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("k8s/web.yaml")).unwrap(),
        edited
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("k8s/db.yaml")).unwrap(),
        DB
    );
    assert_eq!(git(dir.path(), &["rev-parse", "HEAD"]), head);
}
