//! Writing as a batch: when some files of a batch cannot be written (edited
//! by someone else meanwhile, deleted, turned into a directory), every other
//! file is still written, each failed file is named with its reason and is
//! not counted as changed, and no temporary file is left behind. Both ways
//! of making a batch durable are run: a small batch syncs file by file, a
//! batch of 64 files or more (on Linux) syncs each file system once.
#![cfg(unix)]

use crate::support;
use crate::support::cli::{filters, online_at, pod, read, text, write};

use super::files::proxy;

/// The `.digestpin-*` entries under `dir`, at any depth.
fn temporaries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".digestpin-")
        {
            found.push(path);
        } else if path.is_dir() {
            found.extend(temporaries(&path));
        }
    }
    found
}

#[test]
fn a_batch_with_failed_files_writes_the_others_and_names_the_failed() {
    batch_with_failed_files(
        10,
        "a_batch_with_failed_files_writes_the_others_and_names_the_failed",
    );
}

#[test]
fn a_large_batch_synced_by_file_system_writes_the_others_and_names_the_failed() {
    batch_with_failed_files(
        30,
        "a_large_batch_synced_by_file_system_writes_the_others_and_names_the_failed",
    );
}

/// `pin` over three directories of `per_dir` files each, three of which
/// change while it waits for the registry; what it printed is compared with
/// the snapshot `snapshot`.
fn batch_with_failed_files(per_dir: usize, snapshot: &str) {
    let r = support::plain();
    r.seed_index("write/batch", "1", "write-batch");
    let digest = r.digest("write/batch", "1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let old = pod("write/batch:1");
    let new = pod(&format!("write/batch@{digest} # 1"));
    let mut names = Vec::new();
    for sub in ["a", "b", "c"] {
        for i in 0..per_dir {
            let name = format!("{sub}/f{i}.yaml");
            write(&d.join(&name), &old);
            names.push(name);
        }
    }
    // While digestpin waits for the registry: a/f3.yaml is edited,
    // b/f5.yaml deleted, c/f7.yaml turned into a directory.
    let edited = old.replace("kind: Pod", "kind: Pod\nmetadata: {name: edited}");
    let (hook_dir, hook_edit) = (d.clone(), edited.clone());
    let url = proxy(r.host(), move || {
        std::fs::write(hook_dir.join("a/f3.yaml"), &hook_edit).unwrap();
        std::fs::remove_file(hook_dir.join("b/f5.yaml")).unwrap();
        std::fs::remove_file(hook_dir.join("c/f7.yaml")).unwrap();
        std::fs::create_dir(hook_dir.join("c/f7.yaml")).unwrap();
    });
    let out = online_at(&d, &url, &["pin", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    for name in &names {
        let path = d.join(name);
        match name.as_str() {
            "a/f3.yaml" => assert_eq!(read(&path), edited),
            "b/f5.yaml" => assert!(!path.exists()),
            "c/f7.yaml" => assert!(path.is_dir()),
            _ => assert_eq!(read(&path), new, "{name}"),
        }
    }
    assert_eq!(temporaries(&d), Vec::<std::path::PathBuf>::new());
    let shown = format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    filters(&[&d], &[(&digest, "DIGEST")]).bind(|| insta::assert_snapshot!(snapshot, shown));
}
