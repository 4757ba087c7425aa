//! How records spell paths: relative to the repository's top, with `/`,
//! symbolic links shown by their own names.

use std::path::{Path, PathBuf};

/// `path` relative to `root` (the repository's top), with `/`.
pub fn relative(root: &Path, path: &Path) -> String {
    let absolute = lexical_absolute(path);
    let shown = absolute.strip_prefix(root).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

/// `path` made absolute against the (canonical) working directory without
/// following symbolic links: a link is shown by its own name, never by the
/// file it points to.
pub fn lexical_absolute(path: &Path) -> PathBuf {
    digestpin::walk::lexical_join(working_directory(), path)
}

/// The canonical working directory, looked up once: the process never
/// changes it, and a report of thousands of records would otherwise resolve
/// it for each.
fn working_directory() -> &'static Path {
    static CWD: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CWD.get_or_init(|| {
        std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .unwrap_or_else(|_| PathBuf::from("."))
    })
}

/// The top of the git repository holding the working directory, or the
/// working directory itself.
pub fn repository_root() -> PathBuf {
    let cwd = working_directory();
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf)
}
