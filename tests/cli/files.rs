//! Files: the walk misses none (hidden directories, any-case extensions, JSON
//! manifests), says why it passes over a named path, and writing loses no
//! edit and leaves nothing behind (concurrent edits, failed writes, signals,
//! kill -9, stale temporary files, symbolic links).
#![cfg(unix)]

use crate::support;
use crate::support::cli::{online, online_at, online_command, read, run, text, write};

use std::path::Path;

fn pod(image: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: {image}\n")
}

/// The `.digestpin-*` files in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".digestpin-"))
        .collect();
    names.sort();
    names
}

#[test]
fn hidden_directories_and_any_case_extensions_are_walked() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    write(
        &repo.join(".devcontainer/docker-compose.yml"),
        "services:\n  web:\n    image: nginx:1.25\n",
    );
    write(&repo.join(".ci/pod.YML"), &pod("redis:7"));
    write(
        &repo.join("Compose.YAML"),
        "services:\n  db:\n    image: postgres:16\n",
    );
    // VCS metadata is never entered.
    for vcs in [".git", ".hg", ".svn", ".jj"] {
        write(&repo.join(vcs).join("x.yaml"), &pod("vcs:1"));
    }
    // An ignored directory, read with --no-ignore or an include naming it.
    write(&repo.join(".gitignore"), "generated/\n");
    write(&repo.join("generated/pod.yaml"), &pod("gen:1"));

    let out = run(dir.path(), &["check", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "repo/.ci/pod.YML:5:12: redis:7: not pinned by digest\n\
         repo/.devcontainer/docker-compose.yml:3:12: nginx:1.25: not pinned by digest\n\
         repo/Compose.YAML:3:12: postgres:16: not pinned by digest\n"
    );

    let out = run(dir.path(), &["check", "--no-hidden", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "repo/Compose.YAML:3:12: postgres:16: not pinned by digest\n"
    );

    // The last of --hidden / --no-hidden wins, as in ripgrep.
    let out = run(dir.path(), &["check", "--no-hidden", "--hidden", "repo"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).lines().count(),
        3,
        "{}",
        text(&out.stdout)
    );

    let out = run(dir.path(), &["check", "--no-hidden", "--no-ignore", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "repo/Compose.YAML:3:12: postgres:16: not pinned by digest\n\
         repo/generated/pod.yaml:5:12: gen:1: not pinned by digest\n"
    );

    // An include glob reaches into the ignored and the hidden paths it names.
    let out = run(
        dir.path(),
        &[
            "check",
            "--no-hidden",
            "--include",
            "repo/generated/**",
            "--include",
            "repo/.ci/**",
            "repo",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "repo/.ci/pod.YML:5:12: redis:7: not pinned by digest\n\
         repo/generated/pod.yaml:5:12: gen:1: not pinned by digest\n"
    );
}

#[test]
fn a_json_manifest_is_found_and_stays_json() {
    let r = support::plain();
    r.seed_index("files/json", "1.36", "files-json");
    r.seed_index("files/flow", "2", "files-flow");
    let digest = r.digest("files/json", "1.36");
    let flow = r.digest("files/flow", "2");
    let dir = tempfile::tempdir().unwrap();
    let json = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"a\"},\n  \"spec\": {\n    \"containers\": [\n      {\n        \"name\": \"a\",\n        \"image\": \"files/json:1.36\"\n      }\n    ]\n  }\n}\n";
    write(&dir.path().join("deploy/Pod.JSON"), json);
    // A YAML file holding a document in JSON syntax, after a YAML one.
    let mixed = format!(
        "{}---\n{{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"spec\": {{\"containers\": [{{\"image\": \"files/flow:2\"}}]}}}}\n",
        pod("files/flow:2")
    );
    write(&dir.path().join("deploy/mixed.yaml"), &mixed);
    // JSON files that are not Kubernetes objects are not read.
    write(
        &dir.path().join("deploy/package.json"),
        "{\"name\": \"x\", \"image\": \"no:1\"}\n",
    );
    write(
        &dir.path().join("deploy/tsconfig.json"),
        "{\n  // not JSON, not YAML\n}\n",
    );

    let out = online(dir.path(), r, &["pin", "deploy"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pinned = json.replace("files/json:1.36", &format!("files/json:1.36@{digest}"));
    assert_eq!(read(&dir.path().join("deploy/Pod.JSON")), pinned);
    let expected_mixed = format!(
        "{}---\n{{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"spec\": {{\"containers\": [{{\"image\": \"files/flow:2@{flow}\"}}]}}}}\n",
        pod(&format!("files/flow@{flow} # 2"))
    );
    assert_eq!(read(&dir.path().join("deploy/mixed.yaml")), expected_mixed);
    assert_eq!(
        read(&dir.path().join("deploy/package.json")),
        "{\"name\": \"x\", \"image\": \"no:1\"}\n"
    );
    let tool = std::process::Command::new("python3")
        .args(["-m", "json.tool"])
        .arg(dir.path().join("deploy/Pod.JSON"))
        .output()
        .expect("python3 runs");
    assert!(tool.status.success(), "{}", text(&tool.stderr));

    // Pinned everywhere: the offline gate passes.
    let out = run(dir.path(), &["check", "deploy"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn named_paths_that_are_passed_over_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sha = "a".repeat(64);
    write(
        &d.join("sub/pod.yaml"),
        &pod(&format!("files/x@sha256:{sha}")),
    );
    write(&d.join("README.md"), "# hello\n");
    write(&d.join("vendor/pod.yaml"), &pod("vendored:1"));
    std::os::unix::fs::symlink("sub", d.join("linkdir")).unwrap();
    std::os::unix::fs::symlink("sub/pod.yaml", d.join("link.yaml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.yaml"))
        .status()
        .unwrap();
    assert!(fifo.success());

    let out = run(
        d,
        &[
            "check",
            "--exclude",
            "vendor",
            "sub/pod.yaml",
            "README.md",
            "vendor/pod.yaml",
            "linkdir",
            "linkdir/pod.yaml",
            "link.yaml",
            "pipe.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "README.md: skipped: its name is not one we read, it holds no YAML document we know, and it holds no Dockerfile instruction\n\
         link.yaml: skipped: a symbolic link, not followed\n\
         linkdir: skipped: a symbolic link, not followed\n\
         linkdir/pod.yaml: skipped: reached through the symbolic link linkdir, not followed\n\
         pipe.yaml: skipped: not a regular file or directory\n\
         vendor/pod.yaml: skipped: excluded by an exclude glob\n\
         checked 1 reference in 1 file: none needs pinning\n"
    );

    let out = run(d, &["check", "--include", "sub/**", "README.md"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        "README.md: skipped: not matched by any include glob\nno image reference found\n"
    );
}

#[test]
fn a_file_that_is_not_utf8_fails_every_command() {
    let r = support::plain();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: caf\xe9:1\n",
    )
    .unwrap();
    for args in [
        &["check", "bad.yaml"][..],
        &["list", "bad.yaml"],
        &["unpin", "bad.yaml"],
        &["unpin", "--check", "bad.yaml"],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stderr).lines().next(),
            Some("bad.yaml: error: not UTF-8 text"),
            "{args:?}"
        );
    }
    for args in [
        &["pin", "bad.yaml"][..],
        &["pin", "--check", "bad.yaml"],
        &["update", "bad.yaml"],
        &["verify", "bad.yaml"],
    ] {
        let out = online(dir.path(), r, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr)
                .lines()
                .any(|l| l == "bad.yaml: error: not UTF-8 text"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_file_that_cannot_be_read_fails_every_command() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.yaml");
    write(&file, &pod("nginx:1.25"));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&file).is_ok() {
        println!("skipped: running as root, permissions do not stop a read");
        return;
    }
    for args in [
        &["check", "secret.yaml"][..],
        &["list", "secret.yaml"],
        &["unpin", "secret.yaml"],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            text(&out.stderr).lines().next(),
            Some("secret.yaml: error: cannot read: Permission denied (os error 13)"),
            "{args:?}"
        );
    }
}

/// A TCP proxy in front of `target` that runs `hook` once, when the first
/// connection arrives and before anything is forwarded.
pub(super) fn proxy(target: String, hook: impl FnOnce() + Send + 'static) -> String {
    let mut hook = Some(hook);
    let port = crate::support::faults::tcp_forwarder(target, move || {
        if let Some(hook) = hook.take() {
            hook();
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn an_edit_made_during_the_run_is_kept_and_unwritten_files_are_not_reported() {
    let r = support::plain();
    r.seed_index("files/race", "1", "files-race");
    let digest = r.digest("files/race", "1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    for name in ["a.yaml", "b.yaml", "c.yaml"] {
        write(&d.join(name), &pod("files/race:1"));
    }
    // While digestpin waits for the registry, a colleague edits a.yaml and
    // c.yaml turns into a directory, so it cannot be replaced.
    let edited = pod("files/race:1").replace(
        "kind: Pod",
        "kind: Pod\nmetadata: {labels: {replicas: '7'}}",
    );
    let hook_dir = d.clone();
    let hook_edit = edited.clone();
    let url = proxy(r.host(), move || {
        std::fs::write(hook_dir.join("a.yaml"), &hook_edit).unwrap();
        std::fs::remove_file(hook_dir.join("c.yaml")).unwrap();
        std::fs::create_dir(hook_dir.join("c.yaml")).unwrap();
    });
    let out = online_at(
        &d,
        &url,
        &["pin", "--format", "json", "a.yaml", "b.yaml", "c.yaml"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(read(&d.join("a.yaml")), edited, "{}", text(&out.stdout));
    assert_eq!(
        read(&d.join("b.yaml")),
        pod(&format!("files/race@{digest} # 1"))
    );
    assert!(d.join("c.yaml").is_dir());
    assert_eq!(temporaries(&d), Vec::<String>::new());

    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["changed_files"], serde_json::json!(["b.yaml"]));
    let mut records: Vec<(String, String, String)> = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(rule, _, _)| rule != "pinned")
        .collect();
    records.sort();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0].0, "file-failed");
    assert_eq!(records[0].1, "a.yaml");
    assert_eq!(
        records[0].2,
        "changed by another program since it was read; left as it is"
    );
    assert_eq!(records[1].0, "file-failed");
    assert_eq!(records[1].1, "c.yaml");
    assert!(records[1].2.starts_with("cannot read: "), "{records:?}");
    let pinned: Vec<&str> = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "pinned")
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(pinned, ["b.yaml"]);
}

#[test]
fn stale_temporary_files_are_removed_by_the_next_run() {
    let r = support::plain();
    r.seed_index("files/stale", "1", "files-stale");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("deploy/pod.yaml"), &pod("files/stale:1"));
    // A killed run's leftover (no such process) and a live run's file (ours).
    let dead = ".digestpin-4194305-abcdef";
    let live = format!(".digestpin-{}-ghijkl", std::process::id());
    write(&d.join("deploy").join(dead), "half a fi");
    write(&d.join("deploy").join(&live), "in progress");
    let out = online(d, r, &["pin", "deploy"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(temporaries(&d.join("deploy")), vec![live]);
}

#[test]
fn a_file_reached_through_a_symlinked_directory_is_never_written() {
    let r = support::plain();
    r.seed_index("files/link", "1", "files-link");
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let repo = dir.path().join("repo");
    write(&outside.join("inner.yaml"), &pod("files/link:1"));
    std::fs::create_dir_all(&repo).unwrap();
    std::os::unix::fs::symlink(&outside, repo.join("linkdir")).unwrap();
    for args in [
        &["pin", "."][..],
        &["pin", "linkdir"],
        &["pin", "linkdir/"],
        &["pin", "linkdir/inner.yaml"],
    ] {
        let out = online(&repo, r, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(read(&outside.join("inner.yaml")), pod("files/link:1"));
    }
    let out = online(&repo, r, &["pin", "linkdir/inner.yaml"]);
    assert_eq!(
        text(&out.stderr).lines().next(),
        Some(
            "linkdir/inner.yaml: skipped: reached through the symbolic link linkdir, not followed"
        )
    );
}

/// 2,000 files holding one reference, and the bytes each has once pinned.
fn many_files(dir: &Path, registry: &support::Registry, repo: &str) -> (String, String) {
    registry.seed_index(repo, "1", repo);
    let digest = registry.digest(repo, "1");
    let old = pod(&format!("{repo}:1"));
    let new = pod(&format!("{repo}@{digest} # 1"));
    for i in 0..2000 {
        write(&dir.join(format!("f{i:04}.yaml")), &old);
    }
    (old, new)
}

/// Waits until the first file has been rewritten (the run is writing).
fn wait_for_writes(dir: &Path, old: &str, child: &mut std::process::Child) {
    let first = dir.join("f0000.yaml");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&first).unwrap() == old {
        assert!(std::time::Instant::now() < deadline, "no write began");
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::yield_now();
    }
}

fn every_file_is_old_or_new(dir: &Path, old: &str, new: &str) -> (usize, usize) {
    let (mut olds, mut news) = (0, 0);
    for i in 0..2000 {
        let text = read(&dir.join(format!("f{i:04}.yaml")));
        if text == old {
            olds += 1;
        } else if text == new {
            news += 1;
        } else {
            panic!("f{i:04}.yaml holds neither the old nor the new bytes: {text:?}");
        }
    }
    (olds, news)
}

fn spawn_pin(dir: &Path, registry: &support::Registry) -> std::process::Child {
    online_command(dir, &registry.url(), &["pin", "."])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn kill_9_during_a_2000_file_pin_loses_nothing_and_the_next_run_cleans_up() {
    let r = support::plain();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (old, new) = many_files(d, r, "files/kill");
    let mut child = spawn_pin(d, r);
    wait_for_writes(d, &old, &mut child);
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    let (olds, news) = every_file_is_old_or_new(d, &old, &new);
    println!(
        "killed ({status}) with {news} files pinned, {olds} not yet, temporary files {:?}",
        temporaries(d)
    );

    let out = online(d, r, &["pin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(every_file_is_old_or_new(d, &old, &new), (0, 2000));
    assert_eq!(temporaries(d), Vec::<String>::new());
}

#[test]
fn sigterm_and_sigint_during_a_pin_leave_no_temporary_file() {
    let r = support::plain();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (old, new) = many_files(d, r, &format!("files/sig{}", signal.to_lowercase()));
        let mut child = spawn_pin(d, r);
        wait_for_writes(d, &old, &mut child);
        let kill = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        let (olds, news) = every_file_is_old_or_new(d, &old, &new);
        // Either the signal arrived while writing, or the run had finished.
        if olds > 0 {
            assert_eq!(status.code(), Some(code), "SIG{signal}");
        } else {
            println!("SIG{signal} arrived after the run: {status}");
        }
        println!("SIG{signal}: {news} files pinned, {olds} not yet");
        assert_eq!(temporaries(d), Vec::<String>::new(), "SIG{signal}");
    }
}
