use super::*;

/// (value, what was found) for each finding.
fn found(text: &str) -> Vec<(String, String)> {
    scan(text)
        .unwrap()
        .into_iter()
        .map(|f| match f {
            Finding::Image { site, .. } => {
                assert_eq!(&text[site.span.clone()], site.value);
                (site.value, "image".to_string())
            }
            Finding::Skipped { site, reason } => (site.value, reason.to_string()),
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn names() {
    for yes in [
        "Dockerfile",
        "a/dockerfile",
        "Containerfile",
        "Dockerfile.dev",
        "app.Dockerfile",
        "x.containerfile",
        "CONTAINERFILE.prod",
    ] {
        assert!(is_dockerfile_name(Path::new(yes)), "{yes}");
    }
    for no in [
        "Dockerfile.dockerignore",
        "app.Dockerfile.dockerignore",
        "Dockerfiles",
        "my-dockerfile",
        "compose.yaml",
        ".dockerfile",
        "Dockerfile.",
    ] {
        assert!(!is_dockerfile_name(Path::new(no)), "{no}");
    }
}

#[test]
fn content_sniffing() {
    assert!(looks_like_dockerfile(
        "# syntax=docker/dockerfile:1\nARG V=1\nfrom alpine:3\nRUN <<EOF\nnot: an instruction\nEOF\n"
    ));
    assert!(!looks_like_dockerfile("# Title\n\nSome text FROM here\n"));
    assert!(!looks_like_dockerfile("RUN make\nFROM alpine\n"));
    assert!(!looks_like_dockerfile("FROM alpine\nimage: nginx\n"));
    assert!(!looks_like_dockerfile("FROM here on, text\n"));
    assert!(!looks_like_dockerfile(""));
}

#[test]
fn from_lines_stages_scratch_and_arguments() {
    let text = "ARG BASE=node:20-alpine\nARG TAG=1\nFROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM ${BASE} as web\nFROM build\nFROM scratch\nFROM alpine:${TAG}\nFROM $BASE\n";
    assert_eq!(
        found(text),
        pairs(&[
            ("node:20-alpine", "image"),
            ("golang:1.22", "image"),
            ("${BASE}", "made of build arguments, not resolved"),
            ("build", "a build stage, not an image"),
            ("scratch", "`scratch` is the empty image"),
            ("alpine:${TAG}", "made of build arguments, not resolved"),
            ("$BASE", "made of build arguments, not resolved"),
        ])
    );
    assert!(platforms(text).is_empty());
}

#[test]
fn continuations_comments_and_escape_directive() {
    let text = "# syntax=docker/dockerfile:1.7\n# escape=`\n\nFROM `\n  # a comment inside\n\n  --platform=linux/arm64 `\n  debian:12 AS base\nRUN echo \\\nFROM busybox:1.36\n";
    let file = parse(text).unwrap();
    assert_eq!(file.escape, '`');
    // With "`" as the escape character, a backslash continues nothing.
    let keywords: Vec<&str> = file
        .instructions
        .iter()
        .map(|i| i.keyword.as_str())
        .collect();
    assert_eq!(keywords, ["FROM", "RUN", "FROM"]);
    assert_eq!(
        found(text),
        pairs(&[
            ("docker/dockerfile:1.7", "image"),
            ("debian:12", "image"),
            ("busybox:1.36", "image")
        ])
    );
    let at = text.find("debian").unwrap();
    assert_eq!(
        platforms(text),
        BTreeMap::from([(at, "linux/arm64".to_string())])
    );
}

#[test]
fn backslash_continuation_and_split_word() {
    let text = "FROM \\\n  # comment\n  python:3.12 \\\n  AS app\nFROM ubu\\\nntu:24.04\n";
    let file = parse(text).unwrap();
    assert_eq!(file.instructions.len(), 2);
    assert_eq!(
        found(text),
        pairs(&[
            ("python:3.12", "image"),
            (
                "ubuntu:24.04",
                "the value is escaped or spans lines in the source; pin it by hand"
            ),
        ])
    );
}

#[test]
fn heredoc_bodies_are_not_instructions() {
    let text = "FROM alpine:3.20\nRUN <<EOF cat > /x && <<-'END' cat\nFROM evil:1\nEOF\n\tFROM evil:2\n\tEND\nCOPY <<\"X\" /y\nFROM evil:3\nX\nFROM busybox:1.36\n";
    let file = parse(text).unwrap();
    let keywords: Vec<&str> = file
        .instructions
        .iter()
        .map(|i| i.keyword.as_str())
        .collect();
    assert_eq!(keywords, ["FROM", "RUN", "COPY", "FROM"]);
    assert_eq!(
        found(text),
        pairs(&[("alpine:3.20", "image"), ("busybox:1.36", "image")])
    );
    assert!(parse("FROM a\nRUN <<EOF\nno end\n").is_err());
}

#[test]
fn copy_from_mount_from_and_onbuild() {
    let text = "FROM golang:1.22 AS build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\nCOPY --link --from=nginx:1.25 /etc/nginx /etc/nginx\nRUN --mount=type=cache,target=/c --mount=type=bind,from=ghcr.io/o/tools:v1,source=/t,target=/t make\nRUN --mount=type=bind,from=build,target=/s true\nONBUILD COPY --from=redis:7 /x /y\n";
    assert_eq!(
        found(text),
        pairs(&[
            ("golang:1.22", "image"),
            ("build", "a build stage, not an image"),
            ("0", "a build stage, not an image"),
            ("nginx:1.25", "image"),
            ("ghcr.io/o/tools:v1", "image"),
            ("build", "a build stage, not an image"),
            ("redis:7", "image"),
        ])
    );
}

#[test]
fn stage_arguments_shadow_global_ones() {
    let text = "ARG IMG=alpine:3.19\nFROM ${IMG}\nARG IMG\nCOPY --from=${IMG} /a /b\nFROM debian:12\nARG TOOLS=\"ghcr.io/o/t:2\"\nCOPY --from=$TOOLS /a /b\nARG UNUSED=redis:7\n";
    let got: Vec<String> = found(text)
        .into_iter()
        .filter(|(_, r)| r == "image")
        .map(|(v, _)| v)
        .collect();
    assert_eq!(got, ["alpine:3.19", "debian:12", "ghcr.io/o/t:2"]);
}

#[test]
fn crlf_and_directive_spans() {
    let text = "#syntax = docker/dockerfile:1\r\nFROM nginx:1.25\r\n";
    assert_eq!(
        found(text),
        pairs(&[("docker/dockerfile:1", "image"), ("nginx:1.25", "image")])
    );
}

#[test]
fn rewrite_check_accepts_image_changes_only() {
    let d = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    let old = "FROM --platform=linux/amd64 nginx:1.25 AS web\nRUN true\n";
    let new = format!("FROM --platform=linux/amd64 nginx:1.25@{d} AS web\nRUN true\n");
    let change = [("nginx:1.25".to_string(), format!("nginx:1.25@{d}"))];
    check_rewrite(old, &new, &change).unwrap();
    let dropped = format!("FROM nginx:1.25@{d} AS web\nRUN true\n");
    assert!(check_rewrite(old, &dropped, &change).is_err());
    let renamed = format!("FROM --platform=linux/amd64 nginx:1.25@{d} AS app\nRUN true\n");
    assert!(check_rewrite(old, &renamed, &change).is_err());
    assert!(check_rewrite(old, old, &change).is_err());
}
