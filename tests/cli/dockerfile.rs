//! A Dockerfile through every command against a real registry whose tags
//! move: check, pin, list, verify, update, unpin.

use crate::support;
use crate::support::cli::{online, run, text};

const INPUT: &str = "# syntax=docker/df:1\nARG BASE=dteam/base:1.0\nFROM ${BASE} AS build\nFROM --platform=linux/arm64 dteam/arm:2.0 AS arm\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=dteam/tools:3.0 /t /t # not a comment\n";

#[test]
fn a_dockerfile_is_checked_pinned_listed_updated_and_unpinned() {
    let r = support::plain();
    for (repo, tag) in [
        ("docker/df", "1"),
        ("dteam/base", "1.0"),
        ("dteam/arm", "2.0"),
        ("dteam/tools", "3.0"),
    ] {
        r.seed_index(repo, tag, &format!("{repo}-a"));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Containerfile");
    std::fs::write(&file, INPUT).unwrap();

    // check: offline, fails every unpinned image.
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Containerfile:1:10: docker/df:1: not pinned by digest\n\
         Containerfile:2:10: dteam/base:1.0: not pinned by digest\n\
         Containerfile:4:29: dteam/arm:2.0: not pinned by digest\n\
         Containerfile:7:13: dteam/tools:3.0: not pinned by digest\n"
    );

    let out = online(dir.path(), r, &["pin", "--style", "comment", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let df = r.digest("docker/df", "1");
    let base = r.digest("dteam/base", "1.0");
    let arm = r.platform_digest("dteam/arm", "2.0", "linux/arm64");
    let tools = r.digest("dteam/tools", "3.0");
    let pinned = format!(
        "# syntax=docker/df:1@{df}\nARG BASE=dteam/base:1.0@{base}\nFROM ${{BASE}} AS build\nFROM --platform=linux/arm64 dteam/arm:2.0@{arm} AS arm\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=dteam/tools:3.0@{tools} /t /t # not a comment\n"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pinned);
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let out = run(dir.path(), &["list", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "Containerfile:1:10\tDockerfile\tpinned\tdocker/df\t1\t{df}\n\
             Containerfile:2:10\tDockerfile\tpinned\tdteam/base\t1.0\t{base}\n\
             Containerfile:3:6\tDockerfile\tskipped\t${{BASE}}\t-\t-\n\
             Containerfile:4:29\tDockerfile\tpinned\tdteam/arm\t2.0\t{arm}\n\
             Containerfile:5:6\tDockerfile\tskipped\tscratch\t-\t-\n\
             Containerfile:6:13\tDockerfile\tskipped\tbuild\t-\t-\n\
             Containerfile:7:13\tDockerfile\tpinned\tdteam/tools\t3.0\t{tools}\n"
        )
    );

    // Tags move: verify reports them, update follows them (the platform pin on
    // its platform), in the `name:tag@digest` form.
    r.seed_index("dteam/base", "1.0", "dteam/base-b");
    r.seed_index("dteam/arm", "2.0", "dteam/arm-b");
    let base_new = r.digest("dteam/base", "1.0");
    let arm_new = r.platform_digest("dteam/arm", "2.0", "linux/arm64");
    let out = online(dir.path(), r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = online(dir.path(), r, &["update", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let updated = pinned.replace(&base, &base_new).replace(&arm, &arm_new);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), updated);
    let out = online(dir.path(), r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // unpin gives back the original.
    let out = run(dir.path(), &["unpin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), INPUT);
}

#[test]
fn dockerfiles_are_found_by_name_when_walking() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "Dockerfile",
        "dockerfile.dev",
        "app.Dockerfile",
        "b.containerfile",
        "Dockerfile.dockerignore",
        "notes.txt",
    ] {
        std::fs::write(dir.path().join(name), "FROM alpine:3.20\n").unwrap();
    }
    let out = run(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Dockerfile:1:6: alpine:3.20: not pinned by digest\n\
         app.Dockerfile:1:6: alpine:3.20: not pinned by digest\n\
         b.containerfile:1:6: alpine:3.20: not pinned by digest\n\
         dockerfile.dev:1:6: alpine:3.20: not pinned by digest\n"
    );
}

#[test]
fn a_file_named_on_the_command_line_is_read_as_a_dockerfile_by_its_content() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.df"),
        "# syntax=docker/dockerfile:1\nARG V=3.20\nFROM alpine:${V} AS base\nFROM base\nCOPY --from=nginx:1.27 /a /a\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "FROM here on, text\n").unwrap();
    let out = run(dir.path(), &["check", "app.df", "notes.txt"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "app.df:1:10: docker/dockerfile:1: not pinned by digest\n\
         app.df:5:13: nginx:1.27: not pinned by digest\n"
    );
    let out = run(dir.path(), &["list", "app.df"]);
    assert_eq!(
        text(&out.stdout),
        "app.df:1:10\tDockerfile\tunpinned\tdocker/dockerfile\t1\t-\n\
         app.df:3:6\tDockerfile\tskipped\talpine:${V}\t-\t-\n\
         app.df:4:6\tDockerfile\tskipped\tbase\t-\t-\n\
         app.df:5:13\tDockerfile\tunpinned\tnginx\t1.27\t-\n"
    );
}
