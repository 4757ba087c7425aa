//! `[helm] reads-digest`: a chart whose templates read `image.digest`
//! although its values have no `digest` key. Fixture trees under
//! `fixtures/helm-reads-digest/`: `input/` is pinned against a real registry
//! and must equal `expected/` byte for byte (`%%repository:tag%%` stands for
//! that tag's digest): a `digest` line beside `tag`, indented and quoted as
//! `tag` is, in block and flow maps, with CRLF, while a chart the globs do not
//! name keeps its own `digest` value or gets the tag suffix. `check`, `list`,
//! `verify` and `update` read the added field; `unpin` takes it away again.

use crate::support;
use crate::support::cli::{online, run, text};

use std::path::{Path, PathBuf};

use support::Registry;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/helm-reads-digest")
}

/// The files of a tree, relative, sorted.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Each file of `expected/` with its placeholders replaced by the digests
/// the registry serves now.
fn expected(registry: &Registry) -> Vec<(PathBuf, String)> {
    let dir = root().join("expected");
    tree(&dir)
        .into_iter()
        .map(|file| {
            let mut text = std::fs::read_to_string(dir.join(&file)).unwrap();
            while let Some(start) = text.find("%%") {
                let end = start + 2 + text[start + 2..].find("%%").unwrap();
                let (repository, tag) = text[start + 2..end].rsplit_once(':').unwrap();
                let digest = registry.digest(repository, tag);
                text.replace_range(start..end + 2, &digest);
            }
            (file, text)
        })
        .collect()
}

fn contents(dir: &Path) -> Vec<(PathBuf, String)> {
    tree(dir)
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(dir.join(&file)).unwrap();
            (file, text)
        })
        .collect()
}

const IMAGES: [(&str, &str); 6] = [
    ("hd/web", "1.0"),
    ("hd/worker", "2.0"),
    ("hd/log", "v3"),
    ("hd/db", "3.0.1"),
    ("hd/cache", "v4"),
    ("hd/unused", "0"),
];

#[test]
fn a_chart_that_reads_a_digest_gets_a_digest_line_beside_its_tag() {
    let r = support::plain();
    for (repository, tag) in IMAGES {
        r.seed_index(repository, tag, &format!("{repository}-1"));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = contents(&root().join("input"));
    for (file, text) in &input {
        support::cli::write(&d.join(file), text);
    }

    let out = run(d, &["check", "."]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(1),
            "charts/db/values.yaml:4:8: docker.io/hd/db:3.0.1: not pinned by digest\n\
             charts/db/values.yaml:7:38: hd/cache:v4: not pinned by digest\n\
             charts/web/values.yaml:8:9: hd/web:1.0: not pinned by digest\n\
             charts/web/values.yaml:11:42: hd/worker:2.0: not pinned by digest\n\
             charts/web/values.yaml:16:14: hd/log:v3: not pinned by digest\n\
             clusters/prod/web.yaml:8:13: hd/web:1.0: not pinned by digest\n"
                .to_string()
        )
    );

    let out = online(d, r, &["pin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pinned = expected(r);
    assert_eq!(contents(d), pinned);
    // A second run has nothing to do.
    let out = online(d, r, &["pin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(contents(d), pinned);

    let out = run(d, &["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(d, &["list", "charts/web", "clusters"]);
    let digest = |repository: &str, tag: &str| r.digest(repository, tag);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(0),
            format!(
                "charts/web/values.yaml:8:9\thelm-values\tpinned\thd/web\t1.0\t{}\n\
                 charts/web/values.yaml:12:42\thelm-values\tpinned\thd/worker\t2.0\t{}\n\
                 charts/web/values.yaml:17:14\thelm-values\tpinned\thd/log\tv3\t{}\n\
                 clusters/prod/web.yaml:8:13\thelm-values\tpinned\thd/web\t1.0\t{}\n",
                digest("hd/web", "1.0"),
                digest("hd/worker", "2.0"),
                digest("hd/log", "v3"),
                digest("hd/web", "1.0"),
            )
        )
    );
    let out = online(d, r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // The tags move: verify says so, update rewrites the added lines.
    for (repository, tag) in IMAGES {
        r.seed_index(repository, tag, &format!("{repository}-2"));
    }
    let out = online(d, r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = online(d, r, &["update", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let updated = expected(r);
    assert_ne!(updated, pinned);
    assert_eq!(contents(d), updated);

    // unpin gives the input back, byte for byte.
    let out = run(d, &["unpin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(contents(d), input);

    // `set` (and so rollback and promote) pins an unpinned map as `pin`
    // does, the digest line included.
    for (repository, tag) in IMAGES {
        if repository == "hd/unused" {
            continue;
        }
        let reference = format!("{repository}:{tag}@{}", r.digest(repository, tag));
        let out = online(d, r, &["set", &reference]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{reference}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(contents(d), updated);
}

#[test]
fn config_show_names_reads_digest_and_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    support::cli::write(
        &d.join(".digestpin.toml"),
        "[helm]\nreads-digest = [\"charts/web/**\"]\n",
    );
    let out = run(d, &["config", "--show"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let helm: Vec<&str> = shown
        .lines()
        .skip_while(|l| *l != "[helm]")
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        helm,
        [
            "[helm]",
            "style = \"auto\"  # default",
            "reads-digest = [\"charts/web/**\"]  # from .digestpin.toml",
        ]
    );
}
