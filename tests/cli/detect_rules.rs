//! What detection reads as an image and what the offline gate says about the
//! rest: values that cannot be pinned fail `check`, custom-resource rules,
//! invalid YAML reported, alias bombs and large files in linear time (the
//! property over mutated real manifests: `detect_mutations.rs`).

use crate::support;
use crate::support::cli::{filters, run, text};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use digestpin::detect::{self, Finding};
use digestpin::jobs::check;
use digestpin::scan;

const UNPINNABLE: &str = "\
apiVersion: v1
kind: Pod
spec:
  containers:
    - image: >-
        nginx:1.25
    - image: Nginx:1.25
    - image: \"redis\\u003a7\"
    - image: \"{{ .Values.image }}\"
    - image: ${IMAGE}
    - image: Busybox:1 # digestpin:ignore
    - image: |
        alpine@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
";

#[test]
fn check_fails_on_values_it_cannot_pin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), UNPINNABLE).unwrap();
    let out = run(dir.path(), &["check", "pod.yaml"]);
    assert_eq!(text(&out.stdout), "\
pod.yaml:5:14: nginx:1.25: not pinned and cannot be pinned: block scalar; pin it by hand
pod.yaml:7:14: Nginx:1.25: not pinned and cannot be pinned: not an image reference: invalid reference format: repository name (Nginx) must be lowercase
pod.yaml:8:14: redis:7: not pinned and cannot be pinned: the value is escaped or spans lines in the source; pin it by hand
");
    assert_eq!(
        text(&out.stderr),
        "3 references fail the check: 3 that digestpin cannot pin as written (fix by hand)\n"
    );
    assert_eq!(out.status.code(), Some(1));

    let out = run(dir.path(), &["--format", "github", "check", "pod.yaml"]);
    assert_eq!(text(&out.stdout), "\
::error file=pod.yaml,line=5,col=14,title=digestpin block-scalar::nginx:1.25: not pinned and cannot be pinned: block scalar; pin it by hand
::error file=pod.yaml,line=7,col=14,title=digestpin invalid-reference::Nginx:1.25: not pinned and cannot be pinned: not an image reference: invalid reference format: repository name (Nginx) must be lowercase
::error file=pod.yaml,line=8,col=14,title=digestpin needs-escape::redis:7: not pinned and cannot be pinned: the value is escaped or spans lines in the source; pin it by hand
");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn allow_and_ignore_silence_values_it_cannot_pin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), UNPINNABLE).unwrap();
    let out = run(
        dir.path(),
        &[
            "check", "--allow", "nginx", "--allow", "Nginx", "--allow", "redis", "pod.yaml",
        ],
    );
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "checked 7 references in 1 file: none needs pinning\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn pin_check_fails_on_a_block_scalar_offline() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.yaml", "b.yaml"] {
        std::fs::write(
            dir.path().join(name),
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: >-\n        nginx:1.25\n",
        )
        .unwrap();
    }
    let out = run(dir.path(), &["pin", "--check", "a.yaml", "b.yaml"]);
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "a.yaml:5:14: skipped nginx:1.25: block scalar; pin it by hand\n\
         b.yaml:5:14: skipped nginx:1.25: block scalar; pin it by hand\n\
         2 references in 2 files: 0 to pin, 0 already pinned, 2 skipped, 0 failed\n"
    );
    assert_eq!(out.status.code(), Some(1));
    // Marked to be left alone: nothing to fail on.
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: >- # digestpin:ignore\n        nginx:1.25\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "a.yaml"]);
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "checked 1 reference in 1 file: none needs pinning\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn invalid_yaml_is_a_reported_skip_even_without_images() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "bad.yaml"]);
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "bad.yaml:4:1: not valid YAML, skipped: while parsing a node, did not find expected node content\nno image reference found\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn known_kinds_are_left_alone_and_configured_paths_are_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("resources.yaml"),
        "\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
spec:
  image: ghcr.io/example/app
---
apiVersion: shipwright.io/v1beta1
kind: BuildRun
spec:
  output:
    image: registry.example.com/app:dev
---
apiVersion: example.com/v1
kind: Runner
spec:
  runtime: {ref: 'node:22'}
  image: vm-image-2024
  steps:
    - image: python:3.12
---
apiVersion: v1
kind: DeploymentConfig
spec:
  template: {spec: {containers: [{image: 'nginx:1.27'}]}}
",
    )
    .unwrap();
    let out = run(dir.path(), &["list", "resources.yaml"]);
    assert_eq!(
        text(&out.stdout),
        "\
resources.yaml:4:10\tKubernetes\tskipped\tghcr.io/example/app\t-\t-
resources.yaml:10:12\tKubernetes\tskipped\tregistry.example.com/app:dev\t-\t-
resources.yaml:16:10\tKubernetes\tunpinned\tvm-image-2024\tlatest\t-
resources.yaml:18:14\tKubernetes\tunpinned\tpython\t3.12\t-
resources.yaml:23:43\tKubernetes\tunpinned\tnginx\t1.27\t-
"
    );
    std::fs::write(
        dir.path().join(".digestpin.toml"),
        "\
[[custom-resources]]
api-version = \"example.com\"
kind = \"Runner\"
images = [\"spec.runtime.ref\"]
not-images = [\"spec.image\"]
",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "resources.yaml"]);
    assert_eq!(
        text(&out.stdout),
        "\
resources.yaml:15:19: node:22: not pinned by digest
resources.yaml:18:14: python:3.12: not pinned by digest
resources.yaml:23:43: nginx:1.27: not pinned by digest
"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(
        dir.path(),
        &["pin", "--check", "--loopback-only", "resources.yaml"],
    );
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn rules_with_unknown_keys_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), "kind: x\n").unwrap();
    std::fs::write(
        dir.path().join(".digestpin.toml"),
        "[[custom-resources]]\nkind = \"Runner\"\nimage-paths = [\"spec.image\"]\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "pod.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "digestpin: error: {}: TOML parse error at line 3, column 1\n  |\n3 | image-paths = [\"spec.image\"]\n  | ^^^^^^^^^^^\nunknown field `image-paths`, expected one of `api-version`, `kind`, `images`, `not-images`\n",
            dir.path().join(".digestpin.toml").display()
        )
    );
}

#[test]
fn a_compose_service_platform_wins_and_the_output_says_so() {
    let registry = support::plain();
    registry.seed_index("detect/edge", "1", "detect/edge:1");
    registry.seed_index("detect/cache", "1", "detect/cache:1");
    let arm = registry.platform_digest("detect/edge", "1", "linux/arm64");
    let amd = registry.platform_digest("detect/cache", "1", "linux/amd64");
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let input = format!(
        "services:\n  edge:\n    image: {host}/detect/edge:1\n    platform: linux/arm64\n  cache:\n    image: {host}/detect/cache:1\n"
    );
    std::fs::write(dir.path().join("compose.yaml"), &input).unwrap();
    // A second file, so that every count in the summary is plural.
    std::fs::write(
        dir.path().join("other.yaml"),
        format!("services:\n  cache:\n    image: {host}/detect/cache:1\n"),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "pin",
            "--loopback-only",
            "--platform",
            "linux/amd64",
            "compose.yaml",
            "other.yaml",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "compose.yaml:3:12: {host}/detect/edge:1: resolved for the service's own platform linux/arm64, not --platform linux/amd64\n\
             compose.yaml:3:12: pinned {host}/detect/edge:1 to {arm}\n\
             compose.yaml:6:12: pinned {host}/detect/cache:1 to {amd}\n\
             other.yaml:3:12: pinned {host}/detect/cache:1 to {amd}\n\
             3 references in 2 files: 3 pinned, 0 already pinned, 0 skipped, 0 failed; 2 files changed\n"
        )
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        format!(
            "services:\n  edge:\n    image: {host}/detect/edge@{arm} # 1\n    platform: linux/arm64\n  cache:\n    image: {host}/detect/cache@{amd} # 1\n"
        )
    );
}

/// The shortest of three timings of `f`.
fn fastest(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap()
}

pub(super) fn findings(text: &str) -> Vec<Finding> {
    detect::scan(text).unwrap().unwrap().1
}

#[test]
fn alias_and_merge_key_bombs_cost_their_size() {
    // Ten lines of nested aliases: 10^8 `image` keys once expanded.
    let mut bomb = vec![
        "apiVersion: example.com/v1".to_string(),
        "kind: Bomb".to_string(),
        "a: &a [{image: \"nginx:1.25\"}, {image: \"redis:7\"}]".to_string(),
    ];
    let mut prev = 'a';
    for name in 'b'..='h' {
        bomb.push(format!(
            "{name}: &{name} [{}]",
            vec![format!("*{prev}"); 10].join(",")
        ));
        prev = name;
    }
    let bomb = bomb.join("\n") + "\n";
    assert_eq!(bomb.lines().count(), 10);
    // A Compose file of merge keys, each merging the previous ten times.
    let mut merges = vec!["x-a: &a {image: \"nginx:1.25\", restart: always}".to_string()];
    let mut prev = 'a';
    for name in 'b'..='i' {
        merges.push(format!(
            "x-{name}: &{name} {{<<: [{}]}}",
            vec![format!("*{prev}"); 10].join(",")
        ));
        prev = name;
    }
    merges.push(format!(
        "services: {{s: {{<<: [{}]}}}}",
        vec![format!("*{prev}"); 10].join(",")
    ));
    let merges = merges.join("\n") + "\n";
    assert!(bomb.len() < 700 && merges.len() < 800, "{bomb}\n{merges}");

    let values = |text: &str| -> Vec<String> {
        findings(text)
            .iter()
            .map(|f| f.site().value.clone())
            .collect()
    };
    assert_eq!(values(&bomb), ["nginx:1.25", "redis:7"]);
    assert_eq!(values(&merges), ["nginx:1.25"]);

    // Same size without aliases: the bombs cost no more than ordinary text
    // of their size (expanded, they took minutes).
    let plain_custom = format!(
        "apiVersion: example.com/v1\nkind: Plain\n{}",
        (0..bomb.len() / 40)
            .map(|i| format!("k{i}: [{{image: \"nginx:1.{i}\"}}, 1]\n"))
            .collect::<String>()
    );
    let plain_compose = format!(
        "services:\n{}",
        (0..merges.len() / 30)
            .map(|i| format!("  s{i}: {{image: \"nginx:1.{i}\"}}\n"))
            .collect::<String>()
    );
    for (bomb, plain) in [(&bomb, &plain_custom), (&merges, &plain_compose)] {
        let plain_time = fastest(|| {
            findings(plain);
        });
        let bomb_time = fastest(|| {
            findings(bomb);
        });
        assert!(
            bomb_time < plain_time * 20 + Duration::from_millis(5),
            "bomb {bomb_time:?}, plain text of its size {plain_time:?}"
        );
    }
}

fn pods(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.{}\n",
                i % 30
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn check_time_is_linear_in_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.yaml");
    let large = dir.path().join("large.yaml");
    std::fs::write(&small, pods(2_000)).unwrap();
    std::fs::write(&large, pods(20_000)).unwrap();
    let checker = check::Checker::new(&check::Policy::default()).unwrap();
    let time = |path: &PathBuf| {
        fastest(|| {
            let (files, messages) = scan::scan(std::slice::from_ref(path));
            assert!(messages.is_empty());
            let violations = check::check(&files, &checker);
            assert_eq!(violations.len(), files[0].findings.len());
        })
    };
    let small_time = time(&small);
    let large_time = time(&large);
    // Ten times the text: linear is about 10, quadratic about 100.
    let ratio = large_time.as_secs_f64() / small_time.as_secs_f64();
    assert!(
        ratio < 30.0,
        "10x the text took {ratio:.1}x the time ({small_time:?} → {large_time:?})"
    );
}
