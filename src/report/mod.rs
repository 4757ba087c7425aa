//! The report layer: turns the library's messages into text.
//!
//! Per-reference lines and the summary go to standard error, so that standard
//! output carries only the diff (`--diff`), ready to pipe into `git apply`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use digestpin::lifecycle::{Entry, Violation};
use digestpin::pin::{FileChange, Location, Message, Summary};
use digestpin::walk::WalkError;

use crate::cli::Mode;

/// Human-readable output.
pub struct Report {
    mode: Mode,
    /// What the job does, for the summary: "pin", "unpin", "update".
    job: &'static str,
    /// Paths in diffs are relative to this directory (the repository's top).
    root: PathBuf,
}

impl Report {
    pub fn stderr(mode: Mode, job: &'static str) -> Self {
        Self {
            mode,
            job,
            root: repository_root(),
        }
    }

    fn rewrite_verb(&self) -> &'static str {
        match self.mode {
            Mode::Write => "rewrote",
            Mode::Diff | Mode::Check => "would rewrite",
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
                Message::Ignored { .. } | Message::UpToDate { .. } => {}
                Message::Rewritten { at, from, to } => {
                    lines.push((Some(at), format!("{} {from} to {to}", self.rewrite_verb())));
                }
                Message::NoKnownTag { at, reference } => {
                    lines.push((
                        Some(at),
                        format!("left {reference}: no tag known for this pin"),
                    ));
                }
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

    /// `check`: one line per violation on standard output, a count on standard error.
    pub fn violations(&mut self, violations: &[Violation]) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for v in violations {
            let _ = writeln!(
                out,
                "{}:{}:{}: {}: {}",
                v.at.path.display(),
                v.at.line,
                v.at.column,
                v.reference,
                v.problem
            );
        }
        if !violations.is_empty() {
            eprintln!(
                "{} references need pinning; run `digestpin pin` on these files",
                violations.len()
            );
        }
    }

    /// `verify`: one line per finding on standard output, a count on standard error.
    pub fn verified(&mut self, checked: usize, findings: &[digestpin::refresh::Verified]) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for f in findings {
            let _ = writeln!(
                out,
                "{}:{}:{}: {}: {}",
                f.at.path.display(),
                f.at.line,
                f.at.column,
                f.reference,
                f.problem
            );
        }
        eprintln!("{checked} pins verified, {} findings", findings.len());
    }

    /// `list`: one tab-separated line per reference.
    pub fn list(&mut self, entries: &[Entry]) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for e in entries {
            let _ = writeln!(
                out,
                "{}:{}:{}\t{}\t{}\t{}\t{}\t{}",
                e.at.path.display(),
                e.at.line,
                e.at.column,
                e.kind,
                e.state,
                e.name.as_deref().unwrap_or(&e.value),
                e.tag.as_deref().unwrap_or("-"),
                e.digest.as_deref().unwrap_or("-"),
            );
        }
    }

    /// `list --format markdown`: image, tag, digest and where each is used.
    pub fn list_markdown(&mut self, entries: &[Entry]) {
        let mut rows: std::collections::BTreeMap<(String, String, String), Vec<String>> =
            std::collections::BTreeMap::new();
        for e in entries {
            let Some(name) = &e.name else { continue };
            let key = (
                name.clone(),
                e.tag.clone().unwrap_or_default(),
                e.digest.clone().unwrap_or_else(|| "not pinned".into()),
            );
            rows.entry(key).or_default().push(format!(
                "{}:{}",
                self.relative(&e.at.path),
                e.at.line
            ));
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = writeln!(out, "| Image | Tag | Digest | Used in |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for ((name, tag, digest), places) in rows {
            let digest = if digest.starts_with("sha") {
                format!("`{digest}`")
            } else {
                digest
            };
            let _ = writeln!(
                out,
                "| `{name}` | {tag} | {digest} | {} |",
                places.join(", ")
            );
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
        let action = match (self.mode, self.job) {
            (Mode::Write, "pin") => "pinned",
            (Mode::Write, "unpin") => "unpinned",
            (Mode::Write, _) => "updated",
            (_, job) => match job {
                "pin" => "to pin",
                "unpin" => "to unpin",
                _ => "to update",
            },
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
