//! Output that other programs read: closed pipes, `--format` on every
//! command, repository-relative paths, SARIF URIs, CRLF diffs that `git
//! apply` takes, github-format escaping, `unpin --style`, `list` states and
//! the summaries. Each case asserts the whole output.

use crate::support;
use crate::support::cli::{git, pod, run, text, write};
use crate::support::schema::{check_jsonschema, json_schema, sarif_schema, validate};

use std::io::Read as _;
use std::process::{Command, Stdio};

const DIGEST: &str = "sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac";
const OTHER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe's buffer, so the reader's going away is seen.
    let mut manifest = String::from("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n");
    for i in 0..600 {
        manifest.push_str(&format!("    - image: registry.example/app-{i}:1.0\n"));
    }
    write(&dir.path().join("pod.yaml"), &manifest);
    for args in [
        &["--format", "json", "list", "."][..],
        &["list", "."][..],
        &["--format", "sarif", "check", "."][..],
    ] {
        let mut child = support::digestpin()
            .current_dir(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 10];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout); // `| head -c 10`
        let out = child.wait_with_output().unwrap();
        let expected = if args.contains(&"check") { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}");
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
}

#[test]
fn resolve_prints_json_records() {
    let registry = support::plain();
    registry.seed_index("output/app", "1.0", "output-resolve");
    let index = registry.digest("output/app", "1.0");
    let arm = registry.platform_digest("output/app", "1.0", "linux/arm64");
    let reference = format!("{}/output/app:1.0", registry.host());
    let dir = tempfile::tempdir().unwrap();
    let resolve = |extra: &[&str]| {
        let mut args = vec!["--format", "json", "resolve", "--loopback-only"];
        args.extend_from_slice(extra);
        args.push(&reference);
        run(dir.path(), &args)
    };

    let out = resolve(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "version": 1,
            "command": "resolve",
            "mode": "check",
            "records": [{
                "level": "note",
                "rule": "resolved",
                "message": format!("{reference} {index}"),
                "reference": reference,
                "digest": index,
            }],
            "changed_files": [],
            "summary": {"references": 1, "failed": 0},
            "diff": null,
            "exit_code": 0,
        })
    );
    let schema = json_schema();
    validate(&schema, &out.stdout);

    // With a platform, and a reference that does not parse.
    let bad = "Nginx:1.25";
    let bad_error = digestpin::reference::Reference::parse(bad)
        .unwrap_err()
        .to_string();
    let out = run(
        dir.path(),
        &[
            "--format",
            "json",
            "resolve",
            "--loopback-only",
            "--platform",
            "linux/arm64",
            &reference,
            bad,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["records"],
        serde_json::json!([
            {
                "level": "note",
                "rule": "resolved",
                "message": format!("{reference} {arm}"),
                "reference": reference,
                "digest": arm,
                "platform": "linux/arm64",
            },
            {
                "level": "error",
                "rule": "resolve-failed",
                "message": format!("{bad}: {bad_error}"),
                "reference": bad,
                "platform": "linux/arm64",
            },
        ])
    );
    assert_eq!(doc["exit_code"], 2);
    validate(&schema, &out.stdout);

    // The human form is unchanged: `reference digest`.
    let out = run(dir.path(), &["resolve", "--loopback-only", &reference]);
    assert_eq!(text(&out.stdout), format!("{reference} {index}\n"));
}

#[test]
fn config_show_prints_every_setting_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    // Without the DIGESTPIN_CACHE_TTL=0 every test runs with.
    let run = |dir: &std::path::Path, args: &[&str]| {
        support::digestpin()
            .env_remove("DIGESTPIN_CACHE_TTL")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(dir.path(), &["config", "--show"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "# no .digestpin.toml found; defaults in force\n\
         include = []  # default\nexclude = []  # default\nstyle = \"comment\"  # default\njobs = 32  # default\ntimeout = 30  # default\nretries = 4  # default\nmirrors = []  # default\nverify-digest = false  # default\ncache-ttl = \"5m\"  # default\ncustom-resources = []  # default\n\
         \n[policy]\ndeny-latest = false  # default\nallow = []  # default\n\n[helm]\nstyle = \"auto\"  # default\nreads-digest = []  # default\n"
    );

    write(
        &dir.path().join(".digestpin.toml"),
        "jobs = 2\nstyle = \"tag-digest\"\n[policy]\nallow = [\"ghcr.io/acme/*\"]\n",
    );
    let out = run(dir.path(), &["--format", "json", "config", "--show"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "settings": {
                "include": [],
                "exclude": [],
                "style": "tag-digest",
                "jobs": 2,
                "timeout": 30,
                "retries": 4,
                "mirrors": [],
                "verify-digest": false,
                "cache-ttl": "5m",
                "custom-resources": [],
                "policy": {"deny-latest": false, "allow": ["ghcr.io/acme/*"]},
                "helm": {"style": "auto", "reads-digest": []},
            },
            "sources": [".digestpin.toml"],
        })
    );

    // The environment sits between the files and the flags, and says so;
    // an empty value is unset; a bad one is named with where it came from.
    let with_ttl = |value: &str, args: &[&str]| {
        support::digestpin()
            .env("DIGESTPIN_CACHE_TTL", value)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    write(&dir.path().join(".digestpin.toml"), "cache-ttl = \"7d\"\n");
    let cache_ttl = |out: &std::process::Output| {
        text(&out.stdout)
            .lines()
            .filter(|line| line.starts_with("cache-ttl"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let out = with_ttl("0", &["config", "--show"]);
    assert_eq!(
        cache_ttl(&out),
        "cache-ttl = \"0\"  # from DIGESTPIN_CACHE_TTL"
    );
    let out = with_ttl("", &["config", "--show"]);
    assert_eq!(
        cache_ttl(&out),
        "cache-ttl = \"7d\"  # from .digestpin.toml"
    );
    let out = with_ttl("soon", &["check", "."]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (
            Some(2),
            "digestpin: error: cache-ttl (from DIGESTPIN_CACHE_TTL): invalid duration `soon`: expected e.g. 0, 30s, 5m, 1h30m or 7d\n".to_string()
        )
    );
    let out = run(dir.path(), &["pin", "--check", "--jobs", "0", "."]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (
            Some(2),
            "digestpin: error: jobs (from a flag): must be at least 1, not 0\n".to_string()
        )
    );
    std::fs::remove_file(dir.path().join(".digestpin.toml")).unwrap();

    // A format that does not fit is refused, with the reason.
    let out = run(dir.path(), &["--format", "sarif", "config", "--show"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "digestpin: error: `digestpin config` prints settings, not findings: use --format human or --format json\n"
    );
}

#[test]
fn a_format_a_command_cannot_honour_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("pod.yaml"), &pod("nginx:1.25"));
    let cases = [
        (
            &["--format", "github", "list", "."][..],
            "digestpin: error: --format github prints annotations of findings, which `list` and `resolve` do not make: use --format human or --format json\n",
        ),
        (
            &["--format", "github", "resolve", "nginx:1.25"][..],
            "digestpin: error: --format github prints annotations of findings, which `list` and `resolve` do not make: use --format human or --format json\n",
        ),
        (
            &["--format", "markdown", "check", "."][..],
            "digestpin: error: --format markdown is for `digestpin list`, `digestpin history` and `digestpin promote`\n",
        ),
    ];
    for (args, stderr) in cases {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
        assert_eq!(text(&out.stderr), stderr, "{args:?}");
    }
}

#[test]
fn sarif_uris_are_percent_encoded_and_validate_with_format_checks() {
    let schema = sarif_schema();
    // The format checks are on: a raw space is not a URI reference.
    let raw = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "x"}},
            "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "my app.yaml"}}}]}],
        }],
    });
    let refused = check_jsonschema(&schema, raw.to_string().as_bytes());
    assert!(
        !refused.status.success(),
        "check-jsonschema does not check `uri-reference` (install rfc3987: scripts/install-test-deps.sh)"
    );

    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("my app.yaml"), &pod("nginx:1.25"));
    write(&dir.path().join("deploy/100%.yaml"), &pod("redis:7"));
    let out = run(dir.path(), &["--format", "sarif", "check", "."]);
    assert_eq!(out.status.code(), Some(1));
    validate(&schema, &out.stdout);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let places: Vec<_> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("not-pinned".to_string(), "deploy/100%25.yaml".to_string()),
            ("not-pinned".to_string(), "my%20app.yaml".to_string()),
        ]
    );

    // The JSON records spell the same files as the repository does.
    let out = run(dir.path(), &["--format", "json", "check", "."]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<_> = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["deploy/100%.yaml", "my app.yaml"]);
}

#[test]
fn paths_are_spelled_alike_in_records_diffs_and_changed_files() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    write(
        &repo.path().join("deploy/pod.yaml"),
        &pod(&format!("nginx@{DIGEST} # 1.25")),
    );
    // Run from a subdirectory, naming the file with `./`.
    let out = run(
        &repo.path().join("deploy"),
        &["--format", "json", "unpin", "--diff", "./pod.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["records"][0]["path"], "deploy/pod.yaml");
    assert_eq!(doc["changed_files"], serde_json::json!(["deploy/pod.yaml"]));
    let diff = doc["diff"].as_str().unwrap();
    assert!(
        diff.starts_with("--- a/deploy/pod.yaml\n+++ b/deploy/pod.yaml\n"),
        "{diff}"
    );
    let out = run(
        &repo.path().join("deploy"),
        &["unpin", "--diff", "./pod.yaml"],
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "deploy/pod.yaml:5:14: would rewrite nginx@{DIGEST} to nginx:1.25\n\
             1 reference in 1 file: 1 to unpin, 0 already pinned, 0 skipped, 0 failed; 1 file would change\n"
        )
    );
}

#[test]
fn a_crlf_diff_applies_with_git_apply_and_patch() {
    let original = format!(
        "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n    - image: nginx@{DIGEST} # 1.25\r\n"
    );
    let unpinned =
        "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n    - image: nginx:1.25\r\n";
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    write(&repo.path().join("pod.yaml"), &original);
    let out = run(repo.path(), &["unpin", "--diff", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "--- a/pod.yaml\n+++ b/pod.yaml\n@@ -2,4 +2,4 @@\n kind: Pod\r\n spec:\r\n   containers:\r\n\
             -    - image: nginx@{DIGEST} # 1.25\r\n+    - image: nginx:1.25\r\n"
        )
    );
    std::fs::write(repo.path().join("change.patch"), &out.stdout).unwrap();
    git(repo.path(), &["apply", "change.patch"]);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("pod.yaml")).unwrap(),
        unpinned
    );

    write(&repo.path().join("pod.yaml"), &original);
    let patched = Command::new("patch")
        .current_dir(repo.path())
        .args(["-p1", "-i", "change.patch"])
        .output()
        .unwrap();
    assert!(patched.status.success(), "{}", text(&patched.stderr));
    assert_eq!(
        std::fs::read_to_string(repo.path().join("pod.yaml")).unwrap(),
        unpinned
    );
}

#[test]
fn github_format_never_lets_a_file_name_start_a_workflow_command() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a%0A::error::x.yaml"), &pod("nginx:1.25"));
    write(&dir.path().join("b\n::error::y.yaml"), &pod("redis:7"));
    let out = run(dir.path(), &["--format", "github", "check", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "::error file=a%250A%3A%3Aerror%3A%3Ax.yaml,line=5,col=14,title=digestpin not-pinned::nginx:1.25: not pinned by digest\n\
         ::error file=b%0A%3A%3Aerror%3A%3Ay.yaml,line=5,col=14,title=digestpin not-pinned::redis:7: not pinned by digest\n"
    );

    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("c\n::error::z.yaml"),
        &pod(&format!("nginx@{DIGEST} # 1.25")),
    );
    let out = run(dir.path(), &["--format", "github", "unpin", "--diff", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "--- a/c%0A::error::z.yaml\n+++ b/c%0A::error::z.yaml\n@@ -2,4 +2,4 @@\n kind: Pod\n spec:\n   containers:\n\
             -    - image: nginx@{DIGEST} # 1.25\n+    - image: nginx:1.25\n"
        )
    );
    for line in text(&out.stdout).lines() {
        assert!(!line.starts_with("::"), "{line}");
    }
}

#[test]
fn unpin_takes_the_style_pin_wrote() {
    let original = format!(
        "services:\n  a:\n    image: nginx@{DIGEST} # 1.25\n  b:\n    image: redis:7@{OTHER}\n"
    );
    let rewrote_nginx = format!("compose.yaml:3:12: rewrote nginx@{DIGEST} to nginx:1.25\n");
    let rewrote_redis = format!("compose.yaml:5:12: rewrote redis:7@{OTHER} to redis:7\n");
    let one = "2 references in 1 file: 1 unpinned, 1 already pinned, 0 skipped, 0 failed; 1 file changed\n";
    let both = "2 references in 1 file: 2 unpinned, 0 already pinned, 0 skipped, 0 failed; 1 file changed\n";
    let cases = [
        (
            &[][..],
            format!("services:\n  a:\n    image: nginx:1.25\n  b:\n    image: redis:7@{OTHER}\n"),
            format!("{rewrote_nginx}{one}"),
        ),
        (
            &["--style", "comment"][..],
            format!("services:\n  a:\n    image: nginx:1.25\n  b:\n    image: redis:7@{OTHER}\n"),
            format!("{rewrote_nginx}{one}"),
        ),
        (
            &["--style", "tag-digest"][..],
            format!(
                "services:\n  a:\n    image: nginx@{DIGEST} # 1.25\n  b:\n    image: redis:7\n"
            ),
            format!("{rewrote_redis}{one}"),
        ),
        (
            &["--all"][..],
            "services:\n  a:\n    image: nginx:1.25\n  b:\n    image: redis:7\n".to_string(),
            format!("{rewrote_nginx}{rewrote_redis}{both}"),
        ),
    ];
    for (flags, expected, stderr) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("compose.yaml"), &original);
        let mut args = vec!["unpin"];
        args.extend_from_slice(flags);
        args.push(".");
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{flags:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
            expected,
            "{flags:?}"
        );
        assert_eq!(text(&out.stderr), stderr, "{flags:?}");
    }
    // The configured style is unpin's default, as it is pin's.
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("compose.yaml"), &original);
    write(
        &dir.path().join(".digestpin.toml"),
        "style = \"tag-digest\"\n",
    );
    run(dir.path(), &["unpin", "."]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        format!("services:\n  a:\n    image: nginx@{DIGEST} # 1.25\n  b:\n    image: redis:7\n")
    );
    let out = run(dir.path(), &["unpin", "--all", "--style", "comment", "."]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_shows_ignored_lines_and_escapes_values() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: redis:7 # digestpin:ignore\n  b:\n    image: |\n      nginx:1.25\n  c:\n    image: busybox\n",
    );
    let out = run(dir.path(), &["list", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "compose.yaml:3:12\tCompose\tignored\tredis\t7\t-\n\
         compose.yaml:5:12\tCompose\tskipped\tnginx:1.25\\n\t-\t-\n\
         compose.yaml:8:12\tCompose\tunpinned\tbusybox\tlatest\t-\n"
    );
    let out = run(dir.path(), &["--format", "json", "list", "."]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<_> = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["state"].clone(), r["reference"].clone()))
        .collect();
    assert_eq!(
        states,
        [
            ("ignored".into(), "redis:7".into()),
            ("skipped".into(), "nginx:1.25\n".into()),
            ("unpinned".into(), "busybox".into()),
        ]
    );
}

#[test]
fn summaries_count_references_with_plurals() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: nginx\n",
    );
    let out = run(dir.path(), &["check", "--deny-latest", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "compose.yaml:3:12: nginx: not pinned by digest\ncompose.yaml:3:12: nginx: uses the `latest` tag\n"
    );
    assert_eq!(
        text(&out.stderr),
        "1 reference fails the check: 1 not pinned, 1 using the `latest` tag\n"
    );
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(
        text(&out.stderr),
        "1 reference needs pinning; run `digestpin pin` on these files\n"
    );
    write(&dir.path().join("more.yaml"), &pod("redis:7"));
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(
        text(&out.stderr),
        "2 references need pinning; run `digestpin pin` on these files\n"
    );
}

#[test]
fn the_summary_counts_references_held_back_with_a_failure() {
    let registry = support::plain();
    registry.seed_index("output/held", "1.0", "output-held");
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("compose.yaml"),
        &format!(
            "services:\n  a:\n    image: {host}/output/held:1.0\n  b:\n    image: {host}/output/held:1.0\n  c:\n    image: {host}/output/held:missing\n"
        ),
    );
    let out = run(dir.path(), &["pin", "--loopback-only", "."]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert_eq!(
        last,
        "3 references in 1 file: 0 pinned, 0 already pinned, 0 skipped, 1 failed, 2 held back in files with a failure"
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "compose.yaml:7:12: error: {host}/output/held:missing: "
        )),
        "{stderr}"
    );
}
