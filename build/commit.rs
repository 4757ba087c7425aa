// The commit a build is made from, read from the git directory's files (no
// `git` process): `HEAD`, the loose ref it names or `packed-refs`, in a
// repository or a worktree (`.git` a file naming its git directory). Shared
// by `build.rs` (through `include!`) and the tests of `--version`.

/// The git directory of the checkout at `root` and its common directory
/// (where refs live; the same unless `root` is a worktree).
pub fn git_dirs(root: &std::path::Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let dot_git = root.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let named = std::path::PathBuf::from(text.strip_prefix("gitdir:")?.trim());
        if named.is_absolute() { named } else { root.join(named) }
    };
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => {
            let named = std::path::PathBuf::from(text.trim());
            if named.is_absolute() { named } else { git_dir.join(named) }
        }
        Err(_) => git_dir.clone(),
    };
    Some((git_dir, common))
}

/// Whether `text` is a full object name (SHA-1 or SHA-256, lower-case hex).
fn is_object_name(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The commit `HEAD` names in the checkout at `root`, and the files read to
/// learn it (for `cargo:rerun-if-changed`); `None` with no git directory, an
/// unborn branch or an unreadable ref.
pub fn head_commit(root: &std::path::Path) -> (Option<String>, Vec<std::path::PathBuf>) {
    let Some((git_dir, common)) = git_dirs(root) else {
        return (None, Vec::new());
    };
    let head_path = git_dir.join("HEAD");
    let mut read = vec![head_path.clone()];
    let Ok(head) = std::fs::read_to_string(&head_path) else {
        return (None, read);
    };
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref:").map(str::trim) else {
        return (is_object_name(head).then(|| head.to_string()), read);
    };
    for dir in [&git_dir, &common] {
        let loose = dir.join(name);
        if let Ok(text) = std::fs::read_to_string(&loose) {
            read.push(loose);
            let text = text.trim();
            return (is_object_name(text).then(|| text.to_string()), read);
        }
    }
    let packed_path = common.join("packed-refs");
    let Ok(packed) = std::fs::read_to_string(&packed_path) else {
        return (None, read);
    };
    read.push(packed_path);
    let commit = packed.lines().find_map(|line| {
        let (object, reference) = line.split_once(' ')?;
        (reference.trim() == name && is_object_name(object)).then(|| object.to_string())
    });
    (commit, read)
}

/// What `digestpin --version` prints after the name: the package version,
/// and the commit (12 characters) when known.
pub fn version_text(version: &str, commit: Option<&str>) -> String {
    match commit {
        Some(commit) => format!("{version} (commit {})", &commit[..commit.len().min(12)]),
        None => version.to_string(),
    }
}
