//! Fixture pairs under `fixtures/pin/<case>/`: `input.yaml` is pinned with
//! `digestpin pin` against a real registry and must equal `expected.yaml` byte
//! for byte. In `expected.yaml`, `%%repository:tag%%` stands for the digest the
//! registry reports for that tag and `%%repository:tag@os/arch%%` for the digest
//! of that platform's manifest; every such image is seeded before the run. An
//! optional `args` file holds extra flags. A second run must change nothing.
//! A Dockerfile case holds `input.Dockerfile` and `expected.Dockerfile`.
//! An optional `path` file holds the relative path the input is written to
//! (`.github/workflows/ci.yml`, `kustomization.yaml`: formats chosen by file
//! name).
//! A case with a `Chart.yaml` is a Helm chart: its input is pinned as
//! `values.yaml` beside that `Chart.yaml`.

use crate::support;
use crate::support::cli::{filters, online, pod};

use std::path::{Path, PathBuf};

use support::Registry;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pin");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input.yaml").exists() || p.join("input.Dockerfile").exists())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 8,
        "fixture cases missing under {}",
        root.display()
    );
    cases
}

/// The `%%…%%` placeholders of an expected file, in order.
fn placeholders(expected: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expected;
    while let Some(start) = rest.find("%%") {
        let after = &rest[start + 2..];
        let end = after.find("%%").expect("unterminated placeholder");
        out.push(after[..end].to_string());
        rest = &after[end + 2..];
    }
    out
}

/// Seeds every placeholder's image and returns the expected text with digests.
fn expected_text(registry: &Registry, expected: &str) -> String {
    let mut text = expected.to_string();
    for placeholder in placeholders(expected) {
        let (image, platform) = match placeholder.split_once('@') {
            Some((image, platform)) => (image, Some(platform)),
            None => (placeholder.as_str(), None),
        };
        let (repository, tag) = image.rsplit_once(':').unwrap();
        registry.seed_index(repository, tag, image);
        let digest = match platform {
            Some(platform) => registry.platform_digest(repository, tag, platform),
            None => registry.digest(repository, tag),
        };
        text = text.replace(&format!("%%{placeholder}%%"), &digest);
    }
    text
}

fn run_pin(registry: &Registry, file: &Path, args: &[String]) -> std::process::Output {
    let file = file.to_str().unwrap();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    online(
        Path::new("."),
        registry,
        &[&["pin"], &args[..], &[file]].concat(),
    )
}

#[test]
fn fixture_pairs() {
    let registry = support::plain();
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let ext = if case.join("input.Dockerfile").exists() {
            "Dockerfile"
        } else {
            "yaml"
        };
        let input = std::fs::read(case.join(format!("input.{ext}"))).unwrap();
        let expected_raw = std::fs::read_to_string(case.join(format!("expected.{ext}"))).unwrap();
        let expected = expected_text(registry, &expected_raw);
        let args: Vec<String> = std::fs::read_to_string(case.join("args"))
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default();

        let relative = std::fs::read_to_string(case.join("path"))
            .map_or_else(|_| format!("input.{ext}"), |p| p.trim().to_string());
        let dir = tempfile::tempdir().unwrap();
        let chart = std::fs::read(case.join("Chart.yaml")).ok();
        // Where the input goes in `at`: beside the case's `Chart.yaml`, if
        // any, else at the case's `path`.
        let place = |at: &Path| {
            let file = match &chart {
                Some(chart) => {
                    std::fs::create_dir_all(at).unwrap();
                    std::fs::write(at.join("Chart.yaml"), chart).unwrap();
                    at.join("values.yaml")
                }
                None => at.join(&relative),
            };
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            file
        };
        let file = place(dir.path());
        std::fs::write(&file, &input).unwrap();
        let out = run_pin(registry, &file, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got = std::fs::read(&file).unwrap();
        if out.status.code() != Some(0) {
            failures.push(format!("{name}: exit {:?}\n{stderr}", out.status.code()));
            continue;
        }
        if got != expected.as_bytes() {
            failures.push(format!(
                "{name}: output differs\n--- expected\n{expected}\n--- got\n{}\n{stderr}",
                String::from_utf8_lossy(&got)
            ));
            continue;
        }
        // Idempotent: the second run has nothing to do.
        let again = run_pin(registry, &file, &args);
        assert_eq!(again.status.code(), Some(0), "{name}: second run failed");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            got,
            "{name}: second run changed the file"
        );
        // `unpin` of what pin wrote is the inverse of `pin` on the bytes:
        // unpin(pin(x)) equals unpin(x) (which differs from x only where x
        // has pins of those styles of its own), with the references pin
        // resolved as untagged made `name:latest`.
        // Pin falls back to `name:tag@sha256` where no comment can go, so
        // after a comment-style pin both styles are unpinned.
        let style: &[&str] = match args.iter().position(|a| a == "--style") {
            Some(i) if args.get(i + 1).is_some_and(|s| s == "tag-digest") => {
                &["--style", "tag-digest"]
            }
            _ => &["--all"],
        };
        let out = support::digestpin()
            .arg("unpin")
            .args(style)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: unpin failed");
        let round_trip = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
        let direct_dir = tempfile::tempdir().unwrap();
        let direct = place(direct_dir.path());
        std::fs::write(&direct, &input).unwrap();
        let out = support::digestpin()
            .arg("unpin")
            .args(style)
            .arg(&direct)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: unpin failed");
        let direct_text = String::from_utf8(std::fs::read(&direct).unwrap()).unwrap();
        let expected = support::with_explicit_latest_at(&direct, &direct_text);
        if round_trip != expected {
            failures.push(format!(
                "{name}: unpin(pin(x)) != unpin(x)\n--- expected\n{expected}\n--- got\n{round_trip}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[cfg(unix)]
#[test]
fn file_mode_is_kept() {
    use std::os::unix::fs::PermissionsExt as _;
    let registry = support::plain();
    registry.seed_index("library/nginx", "1.25", "library/nginx:1.25");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pod.yaml");
    std::fs::write(&file, pod("nginx:1.25")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run_pin(registry, &file, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let digest = registry.digest("library/nginx", "1.25");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        pod(&format!("nginx@{digest} # 1.25"))
    );
}

#[test]
fn diff_and_check_write_nothing() {
    let registry = support::plain();
    registry.seed_index("library/redis", "7.2", "library/redis:7.2");
    let digest = registry.digest("library/redis", "7.2");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    let text = "services:\n  cache:\n    image: redis:7.2\n";
    std::fs::write(&file, text).unwrap();

    let out = run_pin(registry, &file, &["--diff".into()]);
    assert_eq!(out.status.code(), Some(0));
    let diff = String::from_utf8(out.stdout).unwrap();
    let _filters = filters(&[dir.path()], &[(&digest, "REDIS")]).bind_to_scope();
    insta::assert_snapshot!(diff);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    let out = run_pin(registry, &file, &["--check".into()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn a_failed_reference_leaves_its_file_alone_and_others_are_pinned() {
    let registry = support::plain();
    registry.seed_index("library/busybox", "1.36", "library/busybox:1.36");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let good = dir.path().join("good.yaml");
    let bad_text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: busybox:1.36\n    - image: example/does-not-exist:1\n    - image: example/also-missing:2\n";
    std::fs::write(&bad, bad_text).unwrap();
    std::fs::write(&good, pod("busybox:1.36")).unwrap();
    let out = online(
        Path::new("."),
        registry,
        &["pin", dir.path().to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let busybox = registry.digest("library/busybox", "1.36");
    let _filters = filters(&[dir.path()], &[(&busybox, "BUSYBOX")]).bind_to_scope();
    insta::assert_snapshot!(stderr);
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), bad_text);
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        pod(&format!("busybox@{busybox} # 1.36"))
    );
}

#[test]
fn templated_values_and_invalid_files_are_reported_not_resolved() {
    let registry = support::plain();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("chart.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: \"{{ .Values.image }}\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n{{- range .Values.sidecars }}\n    - image: {{ .image }}\n{{- end }}\n",
    )
    .unwrap();
    let out = online(
        Path::new("."),
        registry,
        &["pin", dir.path().to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr);
}
