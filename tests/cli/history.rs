//! After the pin: `history`, `rollback`, `set` and `promote`, in temporary
//! git repositories built commit by commit with git2 (fixed authors and
//! times, so commit ids and dates are the same on every run) and, for
//! `set`, against the real test registry.

use std::path::Path;

use crate::support;
use crate::support::cli::{filters, online, read, run, text};

/// A fabricated digest: `sha256:` and 64 times `c`.
fn sha(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// A git repository the test writes commit by commit.
struct Repo {
    dir: tempfile::TempDir,
    repo: git2::Repository,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        Repo { dir, repo }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (`Some`) or removes (`None`) each file and commits on the
    /// given day of January 2026 at noon UTC.
    fn commit(&self, day: i64, message: &str, files: &[(&str, Option<&str>)]) -> String {
        let mut index = self.repo.index().unwrap();
        for (name, content) in files {
            let path = self.path().join(name);
            match content {
                Some(content) => {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, content).unwrap();
                    index.add_path(Path::new(name)).unwrap();
                }
                None => {
                    std::fs::remove_file(&path).unwrap();
                    index.remove_path(Path::new(name)).unwrap();
                }
            }
        }
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let time = git2::Time::new(1_767_225_600 + (day - 1) * 86_400 + 43_200, 0);
        let who = git2::Signature::new("Test User", "test@example.com", &time).unwrap();
        let parent = self.repo.head().ok().map(|h| h.peel_to_commit().unwrap());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &who, &who, message, &tree, &parents)
            .unwrap()
            .to_string()
    }
}

fn pod(images: &[&str]) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n");
    for image in images {
        out.push_str(&format!("    - image: {image}\n"));
    }
    out
}

/// nginx pinned, its file renamed, re-pinned in another spelling; redis
/// pinned as `name:tag@digest` and moved twice.
fn repository() -> Repo {
    let (a, b, r1, r2, r3) = (sha('a'), sha('b'), sha('1'), sha('2'), sha('3'));
    let repo = Repo::new();
    repo.commit(
        1,
        "start",
        &[
            ("k8s/web.yaml", Some(&pod(&["nginx:1.25"]))),
            ("k8s/db.yaml", Some(&pod(&["redis:7"]))),
            ("README.md", Some("app\n")),
        ],
    );
    repo.commit(
        2,
        "pin",
        &[
            ("k8s/web.yaml", Some(&pod(&[&format!("nginx@{a} # 1.25")]))),
            ("k8s/db.yaml", Some(&pod(&[&format!("redis:7@{r1}")]))),
        ],
    );
    repo.commit(
        3,
        "rename web to frontend",
        &[
            ("k8s/web.yaml", None),
            (
                "k8s/frontend.yaml",
                Some(&pod(&[&format!("nginx@{a} # 1.25")])),
            ),
        ],
    );
    repo.commit(
        4,
        "nginx 1.26, fully qualified",
        &[(
            "k8s/frontend.yaml",
            Some(&pod(&[&format!("docker.io/library/nginx@{b} # 1.26")])),
        )],
    );
    repo.commit(
        5,
        "redis 7.2; nginx spelled library/nginx (same digest)",
        &[
            ("k8s/db.yaml", Some(&pod(&[&format!("redis:7.2@{r2}")]))),
            (
                "k8s/frontend.yaml",
                Some(&pod(&[&format!("library/nginx@{b} # 1.26")])),
            ),
        ],
    );
    repo.commit(6, "docs", &[("README.md", Some("app, documented\n"))]);
    repo.commit(
        7,
        "redis 7.4",
        &[("k8s/db.yaml", Some(&pod(&[&format!("redis:7.4@{r3}")])))],
    );
    repo
}

fn settings(repo: &Repo) -> insta::Settings {
    let named = [
        (sha('a'), "A"),
        (sha('b'), "B"),
        (sha('1'), "R1"),
        (sha('2'), "R2"),
        (sha('3'), "R3"),
        (sha('e'), "E"),
        (sha('f'), "F"),
    ];
    let named: Vec<(&str, &str)> = named.iter().map(|(d, n)| (d.as_str(), *n)).collect();
    filters(&[repo.path()], &named)
}

/// Runs `digestpin args…` in the repository; expects `code`.
fn ok(repo: &Repo, args: &[&str], code: i32) -> std::process::Output {
    let out = run(repo.path(), args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

#[test]
fn history_follows_renames_and_spellings() {
    let repo = repository();
    let _filters = settings(&repo).bind_to_scope();

    let out = ok(&repo, &["history"], 0);
    assert_eq!(text(&out.stderr), "");
    insta::assert_snapshot!(text(&out.stdout));

    // One image in another spelling, restricted to a file: followed back
    // past its rename.
    let out = ok(
        &repo,
        &[
            "history",
            "docker.io/library/nginx",
            "--",
            "k8s/frontend.yaml",
        ],
        0,
    );
    insta::assert_snapshot!(text(&out.stdout));

    let out = ok(&repo, &["history", "--since", "2026-01-04", "-n", "2"], 0);
    insta::assert_snapshot!(text(&out.stdout));

    let out = ok(&repo, &["history", "redis", "--format", "markdown"], 0);
    insta::assert_snapshot!(text(&out.stdout));

    let out = ok(&repo, &["history", "nginx", "--format", "json"], 0);
    support::schema::validate(&support::schema::json_schema(), &out.stdout);
    insta::assert_snapshot!(text(&out.stdout));

    // No changes under a path without manifests.
    let out = ok(&repo, &["history", "--", "README.md"], 0);
    assert_eq!(text(&out.stdout), "");

    let out = ok(&repo, &["history", "--format", "sarif"], 2);
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn rollback_goes_back_to_the_previous_pin_or_the_one_at_a_revision() {
    let repo = repository();
    let _filters = settings(&repo).bind_to_scope();
    let db = repo.path().join("k8s/db.yaml");

    let out = ok(
        &repo,
        &["rollback", "redis", "--check", "--format", "json"],
        1,
    );
    support::schema::validate(&support::schema::json_schema(), &out.stdout);
    insta::assert_snapshot!(text(&out.stdout));

    let out = ok(&repo, &["rollback", "redis", "--diff"], 0);
    insta::assert_snapshot!(text(&out.stdout));
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(read(&db), pod(&[&format!("redis:7.4@{}", sha('3'))]));

    let out = ok(&repo, &["rollback", "redis"], 0);
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(read(&db), pod(&[&format!("redis:7.2@{}", sha('2'))]));

    repo.commit(8, "roll back redis", &[("k8s/db.yaml", Some(&read(&db)))]);

    // The pin at an older revision, committed.
    let out = ok(
        &repo,
        &["rollback", "redis", "--to", "HEAD~5", "--commit"],
        0,
    );
    assert_eq!(read(&db), pod(&[&format!("redis:7@{}", sha('1'))]));
    let head = repo.repo.head().unwrap().peel_to_commit().unwrap();
    insta::assert_snapshot!(head.message().unwrap());
    let stderr = text(&out.stderr).replace(&head.id().to_string(), "[COMMIT]");
    insta::assert_snapshot!(stderr);

    // nginx in its third spelling, back past the rename; the comment style
    // and the spelling of the file are kept.
    let out = ok(&repo, &["rollback", "nginx", "k8s/frontend.yaml"], 0);
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(
        read(&repo.path().join("k8s/frontend.yaml")),
        pod(&[&format!("library/nginx@{} # 1.25", sha('a'))])
    );

    // Not pinned yet at the first commit.
    let out = ok(&repo, &["rollback", "nginx", "--to", "HEAD~8"], 2);
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn set_checks_the_digest_at_the_registry_unless_offline() {
    let r = support::plain();
    r.seed_index("team/set-app", "1", "set-app-1");
    r.seed_index("team/set-app", "2", "set-app-2");
    let (one, two) = (r.digest("team/set-app", "1"), r.digest("team/set-app", "2"));
    let missing = sha('d');
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.yaml");
    let before = format!(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/set-app@{one} # 1\n    - image: \"team/set-app:1@{one}\"\n    - {{image: team/set-app:1}}\n    - image: redis:7\n"
    );
    std::fs::write(&app, &before).unwrap();
    let _filters = filters(
        &[dir.path()],
        &[(&one, "ONE"), (&two, "TWO"), (&missing, "MISSING")],
    )
    .bind_to_scope();

    // A digest the registry does not have: an error, nothing written.
    let out = online(
        dir.path(),
        r,
        &["set", &format!("team/set-app@{missing}"), "--tag", "2"],
    );
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(read(&app), before);

    let out = online(
        dir.path(),
        r,
        &["set", &format!("team/set-app@{two}"), "--tag", "2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(
        read(&app),
        format!(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: team/set-app@{two} # 2\n    - image: \"team/set-app:2@{two}\"\n    - {{image: team/set-app@{two}}} # 2\n    - image: redis:7\n"
        )
    );
    // Set again: nothing to do; --check agrees.
    let out = online(
        dir.path(),
        r,
        &["set", &format!("team/set-app:2@{two}"), "--check"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // No tag given: the one tag of the repository naming the digest.
    let out = online(dir.path(), r, &["set", &format!("team/set-app@{one}")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        read(&app),
        before.replace(
            "{image: team/set-app:1}",
            &format!("{{image: team/set-app@{one}}} # 1")
        )
    );

    // Two tags name it: no tag is chosen, the comment goes.
    r.seed_index("team/set-app", "stable", "set-app-1");
    assert_eq!(r.digest("team/set-app", "stable"), one);
    let out = online(
        dir.path(),
        r,
        &["set", &format!("team/set-app@{one}"), "--diff"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));

    // Offline, no registry is asked (there is none here): the tag comment
    // goes when no tag is given.
    let out = run(
        dir.path(),
        &[
            "set",
            &format!("team/set-app@{missing}"),
            "--offline",
            "--diff",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

const STAGING: &str = "resources:\n  - ../../base\nimages:\n  - name: nginx\n    newTag: \"1.26\"\n    digest: sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n  - name: ghcr.io/org/api\n    newTag: v2\n    digest: sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n  - name: team/worker\n    newTag: \"3\"\n    digest: sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n";

const PROD: &str = "resources:\n  - ../../base\nimages:\n  - name: docker.io/library/nginx\n    newTag: \"1.25\"\n    digest: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n  - name: ghcr.io/org/api\n    newTag: v1\n  - name: team/cron\n    newTag: \"1\"\n";

#[test]
fn promote_moves_staging_pins_to_prod_overlays() {
    let repo = Repo::new();
    let job = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - image: \"{{ .Values.image }}\"\n";
    repo.commit(
        1,
        "overlays",
        &[
            ("overlays/staging/kustomization.yaml", Some(STAGING)),
            ("overlays/prod/kustomization.yaml", Some(PROD)),
            ("overlays/prod/job.yaml", Some(job)),
        ],
    );
    let _filters = settings(&repo).bind_to_scope();
    let args = [
        "promote",
        "--from",
        "overlays/staging",
        "--to",
        "overlays/prod",
    ];

    let out = ok(&repo, &[&args[..], &["--check"]].concat(), 1);
    insta::assert_snapshot!(text(&out.stderr));

    let out = ok(
        &repo,
        &[&args[..], &["--format", "json", "--diff"]].concat(),
        0,
    );
    support::schema::validate(&support::schema::json_schema(), &out.stdout);
    insta::assert_snapshot!(text(&out.stdout));

    // A table for a pull request's body.
    let out = ok(
        &repo,
        &[&args[..], &["--check", "--format", "markdown"]].concat(),
        1,
    );
    insta::assert_snapshot!(text(&out.stdout));

    // One image only, then all with a commit.
    let out = ok(&repo, &[&args[..], &["nginx", "--diff"]].concat(), 0);
    insta::assert_snapshot!(text(&out.stdout));

    ok(&repo, &[&args[..], &["--commit"]].concat(), 0);
    let head = repo.repo.head().unwrap().peel_to_commit().unwrap();
    insta::assert_snapshot!(head.message().unwrap());
    insta::assert_snapshot!(read(&repo.path().join("overlays/prod/kustomization.yaml")));
    assert_eq!(read(&repo.path().join("overlays/prod/job.yaml")), job);
    assert_eq!(
        read(&repo.path().join("overlays/staging/kustomization.yaml")),
        STAGING
    );

    // Promoted: nothing more to do.
    ok(
        &repo,
        &[&args[..], &["--check", "nginx", "ghcr.io/org/api"]].concat(),
        0,
    );
}

#[test]
fn promote_refuses_an_image_pinned_two_ways_in_from() {
    let repo = Repo::new();
    let (a, b) = (sha('a'), sha('b'));
    let staging = pod(&[&format!("nginx@{a} # 1.25"), &format!("nginx@{b} # 1.26")]);
    let prod = pod(&["nginx:1.24", "redis:7"]);
    repo.commit(
        1,
        "overlays",
        &[
            ("staging/pod.yaml", Some(&staging)),
            ("prod/pod.yaml", Some(&prod)),
        ],
    );
    let _filters = settings(&repo).bind_to_scope();
    let out = ok(
        &repo,
        &[
            "promote", "--from", "staging", "--to", "prod", "nginx", "busybox",
        ],
        2,
    );
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(read(&repo.path().join("prod/pod.yaml")), prod);
}

/// `history --provenance`: each new digest's OCI metadata beside its
/// change, read from the real test registry (labels in the image config).
#[test]
fn history_provenance_names_each_new_digests_source_commit() {
    use crate::support::image::Metadata;
    let r = support::plain();
    let label = |revision: &str, version: &str| Metadata {
        labels: vec![
            ("org.opencontainers.image.revision".into(), revision.into()),
            (
                "org.opencontainers.image.source".into(),
                "https://github.com/acme/hist".into(),
            ),
            ("org.opencontainers.image.version".into(), version.into()),
        ],
        annotations: Vec::new(),
    };
    r.seed_single_with("prov/hist", "1", "prov-hist-1", &label("c0ffee01", "1.0.0"));
    r.seed_single_with("prov/hist", "2", "prov-hist-2", &label("c0ffee02", "2.0.0"));
    let (one, two) = (r.digest("prov/hist", "1"), r.digest("prov/hist", "2"));
    let repo = Repo::new();
    let image = |digest: &str, tag: &str| format!("registry.example/prov/hist@{digest} # {tag}");
    repo.commit(
        1,
        "pin 1",
        &[("k8s/app.yaml", Some(&pod(&[&image(&one, "1")])))],
    );
    repo.commit(
        2,
        "move to 2",
        &[("k8s/app.yaml", Some(&pod(&[&image(&two, "2")])))],
    );
    let _filters = filters(&[repo.path()], &[(&one, "ONE"), (&two, "TWO")]).bind_to_scope();

    let out = online(repo.path(), r, &["history", "--provenance"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (short_one, short_two) = (&one[..19], &two[..19]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "2026-01-02  {c2}  k8s/app.yaml:5  registry.example/prov/hist  {short_one} → {short_two}  1 → 2 [revision c0ffee02, source https://github.com/acme/hist, version 2.0.0]\n\
             2026-01-01  {c1}  k8s/app.yaml:5  registry.example/prov/hist  new → {short_one}  1 [revision c0ffee01, source https://github.com/acme/hist, version 1.0.0]\n",
            c1 = short_commit(&repo, 1),
            c2 = short_commit(&repo, 0),
        )
    );
    let out = online(
        repo.path(),
        r,
        &["history", "--provenance", "--format", "markdown"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "| Date | Commit | File | Image | From | To | Tag | Revision |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- |\n\
             | 2026-01-02 | `{c2}` | k8s/app.yaml:5 | `registry.example/prov/hist` | `{short_one}` | [`{short_two}`](https://github.com/acme/hist/commit/c0ffee02) | 1 → 2 | c0ffee02 |\n\
             | 2026-01-01 | `{c1}` | k8s/app.yaml:5 | `registry.example/prov/hist` | new | [`{short_one}`](https://github.com/acme/hist/commit/c0ffee01) | 1 | c0ffee01 |\n",
            c1 = short_commit(&repo, 1),
            c2 = short_commit(&repo, 0),
        )
    );
}

/// The short id of the commit `back` commits before HEAD.
fn short_commit(repo: &Repo, back: usize) -> String {
    let mut commit = repo.repo.head().unwrap().peel_to_commit().unwrap();
    for _ in 0..back {
        commit = commit.parent(0).unwrap();
    }
    commit.id().to_string()[..7].to_string()
}
