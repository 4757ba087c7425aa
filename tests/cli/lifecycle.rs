//! The life of a pin: check (offline), update and verify against a real
//! registry whose tags move, list, unpin.

use crate::support;
use crate::support::cli::{filters, online, pod, run, text};

#[test]
fn check_is_offline_and_lists_unpinned_references() {
    let dir = tempfile::tempdir().unwrap();
    let sha = format!("sha256:{}", "a".repeat(64));
    std::fs::write(
        dir.path().join("app.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.25\n    - image: redis@{sha} # latest\n    - image: ci/built:dev\n    - image: busybox  # digestpin:ignore\n"
        ),
    )
    .unwrap();
    // No registry flag at all: check never touches the network.
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let _filters = filters(&[dir.path()], &[(&sha, "SHA")]).bind_to_scope();
    insta::assert_snapshot!(text(&out.stdout));

    let out = run(
        dir.path(),
        &["check", "--allow", "ci/*", "--deny-latest", "."],
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out.stdout));

    let out = run(
        dir.path(),
        &["check", "--allow", "ci/*", "--allow", "nginx", "."],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn update_follows_moved_tags_and_verify_reports_them() {
    let r = support::plain();
    r.seed_index("team/web", "1.0", "web-1");
    r.seed_index("team/api", "2.0", "api-1");
    r.seed_index("team/arm", "3.0", "arm-1");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deploy.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: team/web:1.0   # front\n        - image: 'team/api:2.0'\n",
    )
    .unwrap();
    let arm_file = dir.path().join("arm.yaml");
    std::fs::write(&arm_file, "services:\n  arm:\n    image: team/arm:3.0\n").unwrap();
    let out = online(dir.path(), r, &["pin", "deploy.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = online(
        dir.path(),
        r,
        &["pin", "--platform", "linux/arm64", "arm.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let arm_old = r.platform_digest("team/arm", "3.0", "linux/arm64");
    assert_eq!(
        std::fs::read_to_string(&arm_file).unwrap(),
        format!("services:\n  arm:\n    image: team/arm@{arm_old} # 3.0\n")
    );

    // Nothing moved yet.
    let out = online(dir.path(), r, &["verify", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = online(dir.path(), r, &["update", "--check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Tags move to new content; one tag is deleted.
    let web_old = r.digest("team/web", "1.0");
    r.seed_index("team/web", "1.0", "web-2");
    r.seed_index("team/arm", "3.0", "arm-2");
    let web_new = r.digest("team/web", "1.0");
    let arm_new = r.platform_digest("team/arm", "3.0", "linux/arm64");
    assert_ne!(web_old, web_new);
    let api = r.digest("team/api", "2.0");
    let _filters = filters(
        &[dir.path()],
        &[
            (&web_old, "WEB_OLD"),
            (&web_new, "WEB_NEW"),
            (&arm_old, "ARM_OLD"),
            (&arm_new, "ARM_NEW"),
            (&api, "API"),
        ],
    )
    .bind_to_scope();
    let out = online(dir.path(), r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));

    let before = std::fs::read_to_string(&file).unwrap();
    let out = online(dir.path(), r, &["update", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(after, before.replace(&web_old, &web_new));
    insta::assert_snapshot!(after);
    // The platform pin stays on its platform.
    assert_eq!(
        std::fs::read_to_string(&arm_file).unwrap(),
        format!("services:\n  arm:\n    image: team/arm@{arm_new} # 3.0\n")
    );
    let out = online(dir.path(), r, &["update", "--check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A deleted tag: verify reports it, update fails on it and leaves its file alone.
    r.delete("team/api", "2.0");
    let out = online(dir.path(), r, &["verify", "deploy.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
    let before = std::fs::read_to_string(&file).unwrap();
    let out = online(dir.path(), r, &["update", "deploy.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}

#[test]
fn list_shows_every_reference_and_a_release_table() {
    let dir = tempfile::tempdir().unwrap();
    let sha = format!("sha256:{}", "b".repeat(64));
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!("services:\n  a:\n    image: nginx@{sha} # 1.25\n  b:\n    image: redis:7\n  c:\n    image: ${{IMAGE}}\n"),
    )
    .unwrap();
    let out = run(dir.path(), &["list", "."]);
    assert_eq!(out.status.code(), Some(0));
    let _filters = filters(&[dir.path()], &[(&sha, "SHA")]).bind_to_scope();
    insta::assert_snapshot!(text(&out.stdout));
    let out = run(dir.path(), &["--format", "markdown", "list", "."]);
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..60 {
        std::fs::write(
            dir.path().join(format!("pod{i}.yaml")),
            pod(&format!("app{i}:1")),
        )
        .unwrap();
    }
    let out = run(dir.path(), &["check", "."]);
    assert!(
        !text(&out.stderr).contains("scanning files"),
        "{}",
        text(&out.stderr)
    );
    // `script` (util-linux) gives the command a terminal.
    let command = format!("{} check . >/dev/null", env!("CARGO_BIN_EXE_digestpin"));
    let out = std::process::Command::new("script")
        .current_dir(dir.path())
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .expect("script from util-linux");
    assert!(
        text(&out.stdout).contains("scanning files"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_walk_honours_gitignore_excludes_and_symlinks() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("outside.yaml"), pod("outside:1")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "generated/\n").unwrap();
    std::fs::create_dir(dir.path().join("generated")).unwrap();
    std::fs::write(dir.path().join("generated/gen.yaml"), pod("generated:1")).unwrap();
    std::fs::create_dir(dir.path().join("vendor")).unwrap();
    std::fs::write(dir.path().join("vendor/v.yaml"), pod("vendored:1")).unwrap();
    std::fs::write(dir.path().join("app.yaml"), pod("app:1")).unwrap();
    std::fs::write(dir.path().join("manifest.tmpl"), pod("unusual:1")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();

    let out = run(dir.path(), &["check", "--exclude", "vendor", "."]);
    // Neither generated:1, vendored:1, outside:1 nor unusual:1 is read.
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(text(&out.stdout));
    // A file named explicitly is read whatever its name, unless excluded.
    let out = run(
        dir.path(),
        &[
            "check",
            "manifest.tmpl",
            "vendor/v.yaml",
            "--exclude",
            "vendor",
        ],
    );
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: ${IMAGE}\n",
    )
    .unwrap();
    let command = format!(
        "{} pin --check --loopback-only . ",
        env!("CARGO_BIN_EXE_digestpin")
    );
    let with = |no_color: Option<&str>| {
        let mut c = std::process::Command::new("script");
        c.current_dir(dir.path())
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        text(&c.output().expect("script from util-linux").stdout)
    };
    let _filters = filters(&[dir.path()], &[]).bind_to_scope();
    insta::assert_snapshot!(with(None).escape_debug());
    insta::assert_snapshot!(with(Some("1")).escape_debug());
}
