//! The fixtures of the command-line tests: `digestpin` run in a directory
//! (offline, or online against a registry through the `*` mirror), files
//! written into a temporary directory, a git repository, and the insta
//! filters that make temporary paths, ports and digests stable.

use std::path::Path;
use std::process::{Command, Output};

use super::Registry;

/// `digestpin args…` run in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    super::digestpin()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The command `digestpin args…` in `dir` with every registry read from
/// `url`: `--loopback-only --mirror *=url` after the command word.
pub fn online_command(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = super::digestpin();
    command
        .current_dir(dir)
        .arg(args[0])
        .args(["--loopback-only", "--mirror", &format!("*={url}")])
        .args(&args[1..]);
    command
}

/// `digestpin args…` in `dir` with every registry mirrored to `url`.
pub fn online_at(dir: &Path, url: &str, args: &[&str]) -> Output {
    online_command(dir, url, args).output().unwrap()
}

/// `digestpin args…` in `dir` with every registry mirrored to `registry`.
pub fn online(dir: &Path, registry: &Registry, args: &[&str]) -> Output {
    online_at(dir, &registry.url(), args)
}

/// Output bytes as text (invalid UTF-8 replaced).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Writes `content` at `path`, making its directories.
pub fn write(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, content).unwrap();
}

/// The text of the file at `path`.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A Kubernetes Pod manifest with one container running `image`.
pub fn pod(image: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: {image}\n")
}

/// A new temporary directory holding `files` (relative path, content).
pub fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        write(&dir.path().join(name), content);
    }
    dir
}

/// The command `git args…` in `dir`, with no global or system configuration.
pub fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null");
    command
}

/// `git args…` in `dir` ([`git_command`]); asserts success and gives
/// standard output as it is.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = super::succeed(&mut git_command(dir, args));
    String::from_utf8(out.stdout).unwrap()
}

/// The commit `rev` names in the repository at `dir`.
pub fn rev_parse(dir: &Path, rev: &str) -> String {
    git(dir, &["rev-parse", rev]).trim_end().to_string()
}

/// A new git repository on branch `main` in `dir`, with an author set.
pub fn git_init(dir: &Path, name: &str, email: &str) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", name]);
    git(dir, &["config", "user.email", email]);
}

/// insta settings that replace what changes from run to run: the temporary
/// directories in `dirs` by `[DIRn]`, `127.0.0.1:port` by `[REGISTRY]`, and
/// each known digest in `digests` (value, name) by `[name]`, so that a
/// snapshot still tells one digest from another.
pub fn filters(dirs: &[&Path], digests: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (n, dir) in dirs.iter().enumerate() {
        let path = dir.to_string_lossy().to_string();
        settings.add_filter(&regex_escape(&path), format!("[DIR{n}]"));
        if let Ok(real) = dir.canonicalize() {
            settings.add_filter(&regex_escape(&real.to_string_lossy()), format!("[DIR{n}]"));
        }
    }
    for (value, name) in digests {
        settings.add_filter(&regex_escape(value), format!("[{name}]"));
    }
    settings.add_filter(r"127\.0\.0\.1:\d+", "[REGISTRY]");
    settings
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
