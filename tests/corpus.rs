//! Pins a copy of the real-world corpus (`$DIGESTPIN_CORPUS`, or
//! `../shared/corpus` beside the repository; without either the test says it
//! did not run, and passes: a fresh clone has no corpus) against a real
//! registry on 127.0.0.1 that every registry is mirrored to, after seeding
//! every image the corpus names.
//!
//! Asserts: no failure and no request outside loopback; every changed line
//! holds a reference that was found on it; each file parses to the same YAML
//! events before and after, except image values, which become exactly
//! `name@<digest the registry reports>` (or `name:tag@…`); in Helm values the
//! tag becomes `tag@<digest>` or an empty `digest` gets the digest; a second run
//! changes nothing. Dockerfiles are compared by the Dockerfile parser: the
//! same instructions, flags and stage names, and only image words changed, to
//! `name:tag@<digest>`. In a kustomization, the only change is a `digest:` line
//! with the registry's digest added after each `newTag`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use digestpin::detect::{FileKind, Finding, dockerfile};
use digestpin::scan::{self, FileProblem};
use digestpin::walk::{self, WalkOptions};
use saphyr_parser::Parser;

/// Where the corpus is: `$DIGESTPIN_CORPUS` (which must then exist), else
/// `../shared/corpus` beside the repository when it is there. `None` when
/// there is no corpus: a fresh clone has none.
fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DIGESTPIN_CORPUS") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "DIGESTPIN_CORPUS names {}, which is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.is_dir().then_some(dir)
}

/// The corpus, or `None` after saying plainly, past the test harness's
/// output capture, that the corpus test did not run.
fn corpus() -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.is_none() {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "corpus test NOT RUN: no corpus (set DIGESTPIN_CORPUS to its directory, or put it at ../shared/corpus beside the repository)"
        );
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                files.insert(entry.path(), std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

/// The YAML events of `text`, by the same tolerance of under-indented flow
/// lines as the tool (offsets unchanged), with strings owned.
fn events(text: &str) -> Vec<String> {
    let text = digestpin::detect::yaml::parsable(text);
    Parser::new_from_str(&text)
        .map(|item| format!("{:?}", item.expect("a pinned file must parse").0))
        .collect()
}

/// The value of a `Scalar("value", …)` event as printed by `Debug`.
fn scalar_value(event: &str) -> Option<String> {
    let rest = event.strip_prefix("Scalar(")?;
    let end = rest.find("\", ")?;
    serde_json::from_str(&rest[..=end]).ok()
}

/// Checks a pinned kustomization: `new` is `file.text` with one line
/// `digest: <digest>` (the registry's, at the indentation of `newTag`, quoted
/// as it is) after each unpinned entry's `newTag` line, and nothing else.
/// Returns whether anything was pinned.
fn kustomization_pinned(
    file: &scan::ScannedFile,
    new: &str,
    digests: &BTreeMap<(String, String), String>,
) -> bool {
    let name = file.path.display();
    let old = &file.text;
    let mut expected = String::new();
    let mut pinned = false;
    let lines = old.split_inclusive('\n').enumerate();
    let entries: BTreeMap<usize, &digestpin::reference::Reference> = file
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Image { site, reference } if reference.digest().is_none() => {
                Some((site.line, reference))
            }
            _ => None,
        })
        .collect();
    for (i, line) in lines {
        expected.push_str(line);
        let Some(reference) = entries.get(&(i + 1)) else {
            continue;
        };
        let key = (
            reference.repository().to_string(),
            reference.tag().unwrap().to_string(),
        );
        let digest = &digests[&key];
        let indent = &line[..line.len() - line.trim_start().len()];
        let value = line.trim_start().trim_start_matches("newTag:").trim_start();
        let quote = match value.chars().next() {
            Some(q @ ('"' | '\'')) => q.to_string(),
            _ => String::new(),
        };
        assert!(line.ends_with('\n'), "{name}: newTag on the last line");
        let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
        expected.push_str(&format!("{indent}digest: {quote}{digest}{quote}{eol}"));
        pinned = true;
    }
    assert_eq!(new, expected, "{name}: not pinned as expected");
    pinned
}

/// Whether a finding is a Helm image map (its site is the tag, its value the
/// whole reference), not a string `image` in a values file.
fn is_helm_map(text: &str, site: &digestpin::detect::Site) -> bool {
    site.kind == FileKind::HelmValues && text[site.span.clone()] != site.value
}

#[test]
fn corpus_pins_only_image_values() {
    let Some(corpus) = corpus() else {
        return;
    };
    let registry = support::plain();
    let work = tempfile::tempdir().unwrap();
    copy_tree(&corpus, work.path());
    let before = snapshot(work.path());

    // What the tool will find, through the library, to seed the registry.
    let walked = walk::walk(&[work.path().to_path_buf()], &WalkOptions::default()).unwrap();
    let (files, scan_problems) = scan::scan(&walked.files);
    // Every kustomization is read (only those with `images` are kept).
    let is_kustomization = |p: &Path| digestpin::detect::kustomize::is_kustomization_path(p);
    let walked_kustomizations = walked.files.iter().filter(|p| is_kustomization(p)).count();
    assert!(
        walked_kustomizations >= 55,
        "only {walked_kustomizations} kustomizations walked"
    );
    for FileProblem { path, error } in &scan_problems {
        if !error.is_error() {
            assert!(!is_kustomization(path), "{}: {error}", path.display());
        }
    }
    let mut images: BTreeSet<(String, String)> = BTreeSet::new();
    for file in &files {
        for finding in &file.findings {
            if let Finding::Image { reference, .. } = finding
                && reference.digest().is_none()
            {
                images.insert((
                    reference.repository().to_string(),
                    reference.tag().unwrap_or("latest").to_string(),
                ));
            }
        }
    }
    assert!(
        images.len() > 100,
        "only {} images found in the corpus",
        images.len()
    );
    let images: Vec<(String, String)> = images.into_iter().collect();
    registry.seed_many(&images);
    let digests: BTreeMap<(String, String), String> = images
        .iter()
        .map(|(repo, tag)| ((repo.clone(), tag.clone()), registry.digest(repo, tag)))
        .collect();

    let run = || {
        support::digestpin()
            .current_dir(work.path())
            .args(["pin", "--loopback-only", "--mirror"])
            .arg(format!("*={}", registry.url()))
            .arg(".")
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("loopback"), "{stderr}");
    let after = snapshot(work.path());
    assert_eq!(before.len(), after.len());

    let mut changed_files = 0;
    let mut kustomizations = (0, 0);
    let mut helm_changes = 0;
    for file in &files {
        let old = &file.text;
        let new = String::from_utf8(after[&file.path].clone()).unwrap();
        if file.kind == FileKind::Kustomize {
            kustomizations.0 += 1;
            kustomizations.1 += usize::from(kustomization_pinned(file, &new, &digests));
        }
        if *old == new {
            continue;
        }
        changed_files += 1;
        if file.kind == FileKind::Kustomize {
            continue;
        }
        let name = file.path.display();
        // Every changed line holds a reference found on it.
        let found: BTreeMap<usize, Vec<&str>> =
            file.findings.iter().fold(BTreeMap::new(), |mut map, f| {
                if let Finding::Image { site, .. } = f {
                    map.entry(site.line).or_default().push(site.value.as_str());
                }
                map
            });
        // Helm image maps: the tag and the digest each pin writes there.
        let helm: Vec<(usize, String, String)> = file
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::Image { site, reference }
                    if is_helm_map(old, site) && reference.digest().is_none() =>
                {
                    let tag = reference.tag().unwrap_or("latest").to_string();
                    let key = (reference.repository().to_string(), tag.clone());
                    Some((site.line, tag, digests[&key].clone()))
                }
                _ => None,
            })
            .collect();
        let helm_line = |o: &str, n: &str| {
            helm.iter().any(|(_, tag, digest)| {
                n == o.replacen(tag.as_str(), &format!("{tag}@{digest}"), 1)
                    || ["\"\"", "''"].iter().any(|q| {
                        o.trim_start().starts_with("digest:")
                            && n == o.replacen(q, &format!("{}{digest}{}", &q[..1], &q[..1]), 1)
                    })
            })
        };
        let old_lines: Vec<&str> = old.split('\n').collect();
        let new_lines: Vec<&str> = new.split('\n').collect();
        assert_eq!(
            old_lines.len(),
            new_lines.len(),
            "{name}: line count changed"
        );
        for (i, (o, n)) in old_lines.iter().zip(&new_lines).enumerate() {
            if o != n {
                let values = found.get(&(i + 1)).map(Vec::as_slice).unwrap_or_default();
                assert!(
                    values.iter().any(|v| o.contains(v)) || helm_line(o, n),
                    "{name}:{}: changed a line without a found reference: {o}",
                    i + 1
                );
            }
        }
        if file.kind == FileKind::Dockerfile {
            same_dockerfile(&name.to_string(), old, &new, &digests);
            continue;
        }
        // Same YAML, but for the image values, which carry the registry's digest.
        let (old_events, new_events) = (events(old), events(&new));
        assert_eq!(
            old_events.len(),
            new_events.len(),
            "{name}: structure changed"
        );
        for (o, n) in old_events.iter().zip(&new_events) {
            if o == n {
                continue;
            }
            let (Some(ov), Some(nv)) = (scalar_value(o), scalar_value(n)) else {
                panic!("{name}: {o} became {n}");
            };
            let (ov, nv) = (ov.as_str(), nv.as_str());
            if helm.iter().any(|(_, tag, digest)| {
                (ov.is_empty() && nv == digest) || (ov == tag && nv == format!("{tag}@{digest}"))
            }) {
                helm_changes += 1;
                continue;
            }
            let reference = digestpin::reference::Reference::parse(ov).unwrap();
            let key = (
                reference.repository().to_string(),
                reference.tag().unwrap_or("latest").to_string(),
            );
            let digest = &digests[&key];
            let comment_form = format!("{}@{digest}", reference.name());
            let tag_form = format!("{}:{}@{digest}", reference.name(), key.1);
            assert!(
                *nv == comment_form || *nv == tag_form,
                "{name}: `{ov}` became `{nv}`"
            );
        }
    }
    assert!(changed_files > 50, "only {changed_files} files changed");
    let dockerfiles = files
        .iter()
        .filter(|f| f.kind == FileKind::Dockerfile)
        .count();
    let changed_dockerfiles = files
        .iter()
        .filter(|f| f.kind == FileKind::Dockerfile && f.text.as_bytes() != after[&f.path])
        .count();
    assert!(
        dockerfiles > 150 && changed_dockerfiles > 100,
        "{dockerfiles} Dockerfiles found, {changed_dockerfiles} changed"
    );
    assert!(
        kustomizations.0 >= 7 && kustomizations.1 >= 5,
        "kustomizations: {kustomizations:?} (found, pinned)"
    );
    // Every Helm image map found unpinned was pinned, in one value each.
    let helm_found = files
        .iter()
        .flat_map(|file| file.findings.iter().map(|f| (&file.text, f)))
        .filter(|(text, f)| {
            matches!(f, Finding::Image { site, reference }
                if is_helm_map(text, site) && reference.digest().is_none())
        })
        .count();
    assert!(helm_found > 20, "only {helm_found} Helm image maps found");
    assert_eq!(helm_changes, helm_found);

    // A second run has nothing to do.
    let again = run();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(snapshot(work.path()), after, "the second run changed files");

    // `unpin --all` is the inverse of `pin` (which writes `name:tag@sha256`
    // where no comment can go): unpin(pin(x)) == unpin(x), where the
    // references that pin resolved as untagged come back as `name:latest`.
    // (unpin(x) differs from x where the corpus has pins of its own.)
    let unpin_in = |dir: &Path| {
        let out = support::digestpin()
            .current_dir(dir)
            .args(["unpin", "--all", "."])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
    };
    let styled = tempfile::tempdir().unwrap();
    copy_tree(work.path(), styled.path());
    unpin_in(work.path());
    let round_trip = snapshot(work.path());
    let direct = tempfile::tempdir().unwrap();
    copy_tree(&corpus, direct.path());
    unpin_in(direct.path());
    let direct_files = snapshot(direct.path());
    let mut compared = 0;
    for (path, bytes) in &round_trip {
        let relative = path.strip_prefix(work.path()).unwrap();
        let Ok(direct_text) =
            String::from_utf8(direct_files[&direct.path().join(relative)].clone())
        else {
            continue;
        };
        let expected = support::with_explicit_latest_at(relative, &direct_text);
        assert!(
            String::from_utf8_lossy(bytes) == expected,
            "{}: unpin(pin(x)) differs from unpin(x)",
            relative.display()
        );
        compared += 1;
    }
    assert!(compared > 500, "only {compared} files compared");
    // With its default style (comment, pin's), unpin turns back only what pin
    // wrote in that style: every `name:tag@sha256:…` pin of the corpus's own
    // keeps its digest.
    let upstream = tag_digest_sites(&corpus);
    assert!(
        !upstream.is_empty(),
        "the corpus has no name:tag@sha256 pins"
    );
    let out = support::digestpin()
        .current_dir(styled.path())
        .args(["unpin", "."])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = tag_digest_sites(styled.path());
    let lost: Vec<_> = upstream.difference(&kept).collect();
    assert!(lost.is_empty(), "pin then unpin lost these pins: {lost:#?}");
}

/// Every `name:tag@sha256:…` reference under `root`: file, line and value.
fn tag_digest_sites(root: &Path) -> std::collections::BTreeSet<(PathBuf, usize, String)> {
    let mut sites = std::collections::BTreeSet::new();
    for (path, bytes) in snapshot(root) {
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let Ok(Some((_, findings))) = digestpin::detect::scan(&text) else {
            continue;
        };
        for finding in &findings {
            if let digestpin::detect::Finding::Image { site, reference } = finding
                && matches!(
                    digestpin::state::state(&text, site, reference),
                    digestpin::state::State::TagDigest { .. }
                )
            {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                sites.insert((relative, site.line, site.value.clone()));
            }
        }
    }
    sites
}

/// Checks that a pinned Dockerfile still parses to the same instructions,
/// flags (`--platform`, `--mount`, …) and stage names, and that each word that
/// changed is an image of the original made `name:tag@<registry digest>`.
fn same_dockerfile(name: &str, old: &str, new: &str, digests: &BTreeMap<(String, String), String>) {
    let before = dockerfile::parse(old).unwrap();
    let after = dockerfile::parse(new)
        .unwrap_or_else(|e| panic!("{name}: no longer parses as a Dockerfile: {e}"));
    let images: Vec<String> = dockerfile::scan(old)
        .unwrap()
        .into_iter()
        .filter_map(|f| match f {
            Finding::Image { site, reference } if reference.digest().is_none() => Some(site.value),
            _ => None,
        })
        .collect();
    let pinned = |value: &str| {
        let reference = digestpin::reference::Reference::parse(value).unwrap();
        let tag = reference.tag().unwrap_or("latest").to_string();
        let digest = &digests[&(reference.repository().to_string(), tag.clone())];
        format!("{}:{tag}@{digest}", reference.name())
    };
    let same_word = |o: &dockerfile::Word, n: &dockerfile::Word| {
        o.text == n.text
            || images.iter().any(|v| {
                o.text.contains(v.as_str()) && o.text.replacen(v.as_str(), &pinned(v), 1) == n.text
            })
    };
    assert_eq!(before.escape, after.escape, "{name}: escape changed");
    assert_eq!(before.directives.len(), after.directives.len(), "{name}");
    for (o, n) in before.directives.iter().zip(&after.directives) {
        assert!(
            o.name == n.name && same_word(&o.value, &n.value),
            "{name}: directive {o:?} became {n:?}"
        );
    }
    assert_eq!(
        before.instructions.len(),
        after.instructions.len(),
        "{name}: instruction count changed"
    );
    for (o, n) in before.instructions.iter().zip(&after.instructions) {
        assert!(
            o.keyword == n.keyword
                && o.onbuild == n.onbuild
                && o.line == n.line
                && o.flags.len() == n.flags.len()
                && o.args.len() == n.args.len(),
            "{name}: {o:?} became {n:?}"
        );
        if o.keyword == "FROM" {
            // Flags and stage names are kept as they were.
            let texts =
                |w: &[dockerfile::Word]| w.iter().map(|w| w.text.clone()).collect::<Vec<_>>();
            assert_eq!(
                texts(&o.flags),
                texts(&n.flags),
                "{name}:{}: FROM flags changed",
                o.line
            );
            assert_eq!(
                o.args
                    .get(1..)
                    .map(|a| a.iter().map(|w| &w.text).collect::<Vec<_>>()),
                n.args
                    .get(1..)
                    .map(|a| a.iter().map(|w| &w.text).collect::<Vec<_>>()),
                "{name}:{}: FROM stage name changed",
                o.line
            );
        }
        for (ow, nw) in o
            .flags
            .iter()
            .zip(&n.flags)
            .chain(o.args.iter().zip(&n.args))
        {
            assert!(
                same_word(ow, nw),
                "{name}:{}: `{}` became `{}`",
                o.line,
                ow.text,
                nw.text
            );
        }
    }
}
