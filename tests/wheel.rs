//! The PyPI wheel (pyproject.toml, maturin with `bindings = "bin"`): built
//! from this tree with maturin from PyPI, installed with pip into a fresh
//! virtualenv without any index, and run on the demo (`fixtures/demo`). The
//! wheel is built with cargo's `dev` profile, reusing the test build in
//! `target/debug` (a release build would add minutes to every cold run);
//! the packaging is the one the release workflow uses, which builds the same
//! wheel with `--release`. It
//! needs `python3 -m maturin` and `python3 -m venv`
//! (`scripts/install-test-deps.sh` installs maturin); without them it prints
//! NOT RUN and why, except under CI, where it fails.

use std::path::Path;
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `python3 ARGS` runs and succeeds.
fn python_can(args: &[&str]) -> bool {
    Command::new("python3")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// None when the tools are there; else why the test cannot run.
fn missing_tools() -> Option<&'static str> {
    if !python_can(&["-m", "maturin", "--version"]) {
        return Some("maturin is not installed (python3 -m pip install maturin)");
    }
    if !python_can(&["-m", "venv", "--help"]) {
        return Some("python3 has no venv module (apt-get install python3-venv)");
    }
    None
}

#[test]
fn the_wheel_installs_into_a_fresh_virtualenv_and_checks_the_demo() {
    if let Some(reason) = missing_tools() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the wheel test must run in CI: {reason}; scripts/install-test-deps.sh installs it"
        );
        println!("NOT RUN: the wheel test: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    let build = Command::new("python3")
        .current_dir(root())
        .args([
            "-m",
            "maturin",
            "build",
            "--profile",
            "dev",
            "--locked",
            "--out",
        ])
        .arg(&dist)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", text(&build));

    // One wheel, of this version, for any Python 3 (it holds no extension
    // module, only the binary).
    let wheels: Vec<String> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let prefix = format!("digestpin-{}-py3-none-", env!("CARGO_PKG_VERSION"));
    assert!(
        wheels.len() == 1 && wheels[0].starts_with(&prefix) && wheels[0].ends_with(".whl"),
        "{wheels:?}"
    );

    let venv = dir.path().join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let install = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(dist.join(&wheels[0]))
        .output()
        .unwrap();
    assert!(install.status.success(), "{}", text(&install));

    // The installed command is the wheel's binary, of this version.
    let digestpin = bin.join(if cfg!(windows) {
        "digestpin.exe"
    } else {
        "digestpin"
    });
    let version = Command::new(&digestpin).arg("--version").output().unwrap();
    let built = Command::new(env!("CARGO_BIN_EXE_digestpin"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        (version.status.code(), text(&version)),
        (Some(0), text(&built))
    );

    // `check` over the demo, offline: every unpinned reference, exit 1.
    let check = Command::new(&digestpin)
        .current_dir(root())
        .args(["check", "fixtures/demo"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        (
            check.status.code(),
            String::from_utf8_lossy(&check.stdout).into_owned(),
            String::from_utf8_lossy(&check.stderr).into_owned()
        ),
        (
            Some(1),
            "fixtures/demo/compose.yaml:1:17: postgres:16-alpine: not pinned by digest\n\
             fixtures/demo/compose.yaml:5:12: ghcr.io/example/api:v2.1.0: not pinned by digest\n\
             fixtures/demo/compose.yaml:12:12: redis:7: not pinned by digest\n\
             fixtures/demo/deployment.yaml:16:19: ghcr.io/example/api:v2.1.0: not pinned by digest\n\
             fixtures/demo/deployment.yaml:20:18: nginx:1.25: not pinned by digest\n\
             fixtures/demo/deployment.yaml:34:45: busybox:1.36: not pinned by digest\n"
                .to_string(),
            "6 references need pinning; run `digestpin pin` on these files\n".to_string()
        )
    );
}
