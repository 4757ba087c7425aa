//! The report layer: turns the library's messages into text.
//!
//! Per-reference lines and the summary go to standard error, so that standard
//! output carries only the diff (`--diff`), ready to pipe into `git apply`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use digestpin::pin::{FileChange, Location, Message, Summary};
use digestpin::walk::WalkError;

use crate::cli::Mode;

/// Human-readable output.
pub struct Report {
    mode: Mode,
    /// Paths in diffs are relative to this directory (the repository's top).
    root: PathBuf,
}

impl Report {
    pub fn stderr(mode: Mode) -> Self {
        Self {
            mode,
            root: repository_root(),
        }
    }

    pub fn walk_error(&mut self, error: &WalkError) {
        eprintln!("error: {error}");
    }

    pub fn messages(&mut self, messages: &[Message]) {
        let verb = match self.mode {
            Mode::Write => "pinned",
            Mode::Diff | Mode::Check => "would pin",
        };
        let mut lines: Vec<(Option<&Location>, String)> = Vec::new();
        for message in messages {
            match message {
                Message::Pinned {
                    at,
                    reference,
                    digest,
                } => lines.push((Some(at), format!("{verb} {reference} to {digest}"))),
                Message::AlreadyPinned { .. } => {}
                Message::Skipped { at, value, reason } => {
                    lines.push((Some(at), format!("skipped {value}: {reason}")));
                }
                Message::Ignored { .. } => {}
                Message::Failed {
                    at,
                    reference,
                    error,
                } => lines.push((Some(at), format!("error: {reference}: {error}"))),
                Message::FileSkipped { path, error } => {
                    lines.push((None, format!("{}: {error}", path.display())));
                }
                Message::FileFailed { path, error } => {
                    lines.push((None, format!("{}: error: {error}", path.display())));
                }
            }
        }
        // File order, then position; file-level lines first in their file.
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        let stderr = std::io::stderr();
        let mut out = stderr.lock();
        for (at, line) in lines {
            let _ = match at {
                Some(at) => writeln!(
                    out,
                    "{}:{}:{}: {line}",
                    at.path.display(),
                    at.line,
                    at.column
                ),
                None => writeln!(out, "{line}"),
            };
        }
    }

    /// Prints the unified diff of every change to standard output.
    pub fn diff(&mut self, changes: &[FileChange]) -> std::io::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for change in changes {
            let name = self.relative(&change.path);
            let diff = similar::TextDiff::from_lines(&change.original, &change.updated);
            write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
            )?;
        }
        out.flush()
    }

    pub fn summary(&mut self, summary: &Summary, changed_files: usize) {
        let action = match self.mode {
            Mode::Write => "pinned",
            Mode::Diff | Mode::Check => "to pin",
        };
        let mut line = format!(
            "{} references in {} files: {} {action}, {} already pinned, {} skipped, {} failed",
            summary.found,
            summary.files,
            summary.pinned,
            summary.already_pinned,
            summary.skipped,
            summary.failed
        );
        if summary.file_errors > 0 {
            line.push_str(&format!(", {} files with errors", summary.file_errors));
        }
        if changed_files > 0 {
            let verb = if self.mode == Mode::Write {
                "changed"
            } else {
                "would change"
            };
            line.push_str(&format!("; {changed_files} files {verb}"));
        }
        eprintln!("{line}");
    }

    fn relative(&self, path: &Path) -> String {
        let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let shown = absolute.strip_prefix(&self.root).unwrap_or(path);
        shown.to_string_lossy().replace('\\', "/")
    }
}

/// The top of the git repository holding the working directory, or the
/// working directory itself.
fn repository_root() -> PathBuf {
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or_else(|| cwd.clone(), Path::to_path_buf)
}
