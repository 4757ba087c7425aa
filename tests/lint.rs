//! The linters over the project's own integration files: ShellCheck over
//! every shell script, GitHub's workflow schema over the example workflows
//! and the release workflow (which also proves they parse as YAML), and
//! zizmor, offline, over the action, the example workflows and the release
//! workflow. The tools come from
//! `scripts/install-test-deps.sh`; a missing one fails its test with the
//! command that installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program` from the repository's top, failing with how to install it
/// when it is not there.
fn run(program: &str, args: &[&str], files: &[PathBuf], install: &str) -> Output {
    Command::new(program)
        .current_dir(root())
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} could not be run ({e}): install it with `bash scripts/install-test-deps.sh` ({install})")
        })
}

/// The files directly in `dir` (relative to the top) whose names end with
/// one of `suffixes`, sorted.
fn files(dir: &str, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            suffixes.iter().any(|s| name.ends_with(s))
        })
        .map(|p| p.strip_prefix(root()).unwrap().to_path_buf())
        .collect();
    found.sort();
    found
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn shellcheck_is_clean_on_every_script() {
    let mut scripts = files("scripts", &[".sh"]);
    scripts.extend(files(".ci", &["run"]));
    assert!(
        scripts.contains(&PathBuf::from("scripts/action.sh")) && scripts.len() >= 5,
        "{scripts:?}"
    );
    let out = run(
        "shellcheck",
        &["--shell=bash", "--severity=style"],
        &scripts,
        "apt-get install shellcheck",
    );
    assert_eq!((out.status.code(), text(&out)), (Some(0), String::new()));
}

#[test]
fn example_workflows_pass_the_github_workflow_schema() {
    let workflows = files("examples", &[".yml", ".yaml"])
        .into_iter()
        .filter(|p| !p.ends_with("pre-commit-config.yaml"))
        .collect::<Vec<_>>();
    assert_eq!(
        workflows,
        [
            "examples/check.yml",
            "examples/commit.yml",
            "examples/diff.yml",
            "examples/update.yml"
        ]
        .map(PathBuf::from)
    );
    let out = run(
        "python3",
        &[
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
        ],
        &workflows,
        "pip install check-jsonschema",
    );
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        (Some(0), "ok -- validation done"),
        "{}",
        text(&out)
    );
}

/// The project's own workflows (today the release workflow alone).
fn project_workflows() -> Vec<PathBuf> {
    let workflows = files(".github/workflows", &[".yml", ".yaml"]);
    assert_eq!(workflows, [PathBuf::from(".github/workflows/release.yml")]);
    workflows
}

#[test]
fn the_release_workflow_passes_the_github_workflow_schema() {
    let out = run(
        "python3",
        &[
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
        ],
        &project_workflows(),
        "pip install check-jsonschema",
    );
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        (Some(0), "ok -- validation done"),
        "{}",
        text(&out)
    );
}

/// zizmor on PATH, else where pip put it (Python's scripts directory, which
/// need not be on PATH).
fn zizmor() -> String {
    let on_path = Command::new("sh")
        .args(["-c", "command -v zizmor"])
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return "zizmor".to_string();
    }
    Command::new("python3")
        .args([
            "-c",
            "import os, sysconfig; print(os.path.join(sysconfig.get_path('scripts'), 'zizmor'))",
        ])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "zizmor".to_string(), |p| p.trim().to_string())
}

#[test]
fn zizmor_finds_nothing_above_informational() {
    let mut inputs = vec![PathBuf::from("action.yml")];
    inputs.extend(
        files("examples", &[".yml"])
            .into_iter()
            .filter(|p| !p.ends_with("pre-commit-config.yaml")),
    );
    inputs.extend(project_workflows());
    let zizmor = zizmor();
    let out = run(
        &zizmor,
        &[
            "--offline",
            "--no-progress",
            "--config",
            ".github/zizmor.yml",
            "--min-severity",
            "low",
            "--format",
            "json",
        ],
        &inputs,
        "pip install zizmor",
    );
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        (Some(0), "[]"),
        "{}",
        text(&out)
    );
}
