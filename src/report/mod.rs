//! The report layer: turns the library's results into text.
//!
//! Every result becomes a [`Record`]: a location, a level, a rule and a
//! message. The human format prints records as they come (per-reference lines
//! and the summary on standard error, the diff and `check`/`verify`/`list`
//! results on standard output) with colour on a terminal unless `NO_COLOR` is
//! set; `json` and `sarif` print one document at the end; `github` prints
//! workflow annotations.

mod machine;

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use digestpin::lifecycle::{Entry, Violation};
use digestpin::pin::{FileChange, Location, Message, Summary};
use digestpin::refresh::{Problem as VerifyProblem, Verified};
use digestpin::walk::WalkError;

use crate::cli::Mode;

/// The output format, `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people, with colour on a terminal.
    Human,
    /// One JSON document (see README: "JSON output").
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub workflow annotations (`::error file=…,line=…,col=…::…`).
    Github,
    /// `list` only: a release-notes table.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// One thing to tell.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Record {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub level: Level,
    /// A stable identifier of what happened (`pinned`, `not-pinned`, …).
    pub rule: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Printed on standard output (results) rather than standard error.
    #[serde(skip)]
    stdout: bool,
}

impl Record {
    fn new(at: Option<&Location>, level: Level, rule: &'static str, message: String) -> Self {
        Record {
            path: at.map(|a| a.path.display().to_string()),
            line: at.map(|a| a.line),
            column: at.map(|a| a.column),
            level,
            rule,
            message,
            reference: None,
            digest: None,
            to: None,
            tag: None,
            kind: None,
            state: None,
            stdout: false,
        }
    }

    fn for_file(path: &Path, level: Level, rule: &'static str, message: String) -> Self {
        Record {
            path: Some(path.display().to_string()),
            ..Record::new(None, level, rule, message)
        }
    }
}

/// Collects and prints records.
pub struct Report {
    mode: Mode,
    /// What the job does: "pin", "unpin", "update", "check", "verify", "list".
    job: &'static str,
    format: Format,
    color: bool,
    /// Paths in diffs are relative to this directory (the repository's top).
    root: PathBuf,
    records: Vec<Record>,
    summary: Option<serde_json::Value>,
    changed: Vec<String>,
    /// The unified diff (`--diff`), for the JSON document.
    diff: Option<String>,
    /// Failed references by kind of failure, with where they are.
    failures: std::collections::BTreeMap<&'static str, Vec<String>>,
}

impl Report {
    pub fn new(mode: Mode, job: &'static str, format: Format) -> Self {
        let format = if format == Format::Markdown {
            Format::Human
        } else {
            format
        };
        let color = format == Format::Human
            && std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self {
            mode,
            job,
            format,
            color,
            root: repository_root(),
            records: Vec::new(),
            summary: None,
            changed: Vec::new(),
            diff: None,
            failures: std::collections::BTreeMap::new(),
        }
    }

    pub fn is_human(&self) -> bool {
        self.format == Format::Human
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Prints (human) or keeps (machine formats) a batch of records.
    fn emit(&mut self, mut batch: Vec<Record>) {
        batch.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        match self.format {
            Format::Human | Format::Markdown => {
                let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
                for r in &batch {
                    let location = match (&r.path, r.line, r.column) {
                        (Some(p), Some(l), Some(c)) => format!("{p}:{l}:{c}: "),
                        (Some(p), _, _) => format!("{p}: "),
                        _ => String::new(),
                    };
                    let message = match r.level {
                        Level::Error if !r.stdout => {
                            format!("{} {}", self.paint("error:", "1;31"), r.message)
                        }
                        Level::Warning if !r.stdout => self.paint(&r.message, "33"),
                        _ => r.message.clone(),
                    };
                    let _ = if r.stdout {
                        writeln!(stdout.lock(), "{location}{message}")
                    } else {
                        writeln!(stderr.lock(), "{location}{message}")
                    };
                }
            }
            Format::Github => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                for r in batch.iter().filter(|r| r.level != Level::Note) {
                    let _ = writeln!(out, "{}", machine::annotation(r));
                }
            }
            Format::Json | Format::Sarif => {}
        }
        self.records.extend(batch);
    }

    pub fn walk_error(&mut self, error: &WalkError) {
        let record = Record::new(None, Level::Error, "walk-error", error.to_string());
        self.emit(vec![record]);
    }

    fn verb(&self) -> &'static str {
        match (self.mode, self.job) {
            (Mode::Write, "pin") => "pinned",
            (_, "pin") => "would pin",
            (Mode::Write, _) => "rewrote",
            _ => "would rewrite",
        }
    }

    pub fn messages(&mut self, messages: &[Message]) {
        let mut batch = Vec::new();
        for message in messages {
            let record = match message {
                Message::Pinned {
                    at,
                    reference,
                    digest,
                } => Record {
                    reference: Some(reference.clone()),
                    digest: Some(digest.clone()),
                    ..Record::new(
                        Some(at),
                        Level::Note,
                        "pinned",
                        format!("{} {reference} to {digest}", self.verb()),
                    )
                },
                Message::Rewritten { at, from, to } => Record {
                    reference: Some(from.clone()),
                    to: Some(to.clone()),
                    ..Record::new(
                        Some(at),
                        Level::Note,
                        "rewritten",
                        format!("{} {from} to {to}", self.verb()),
                    )
                },
                Message::ServicePlatform {
                    at,
                    reference,
                    platform,
                    requested,
                } => Record {
                    reference: Some(reference.clone()),
                    ..Record::new(
                        Some(at),
                        Level::Note,
                        "service-platform",
                        format!(
                            "{reference}: resolved for the service's own platform {platform}, not --platform {requested}"
                        ),
                    )
                },
                Message::AlreadyPinned { .. }
                | Message::Ignored { .. }
                | Message::UpToDate { .. } => continue,
                Message::Skipped { at, value, reason } => Record {
                    reference: Some(value.clone()),
                    ..Record::new(
                        Some(at),
                        Level::Warning,
                        "skipped",
                        format!("skipped {value}: {reason}"),
                    )
                },
                Message::NoKnownTag { at, reference } => Record {
                    reference: Some(reference.clone()),
                    ..Record::new(
                        Some(at),
                        Level::Warning,
                        "no-known-tag",
                        format!("left {reference}: no tag known for this pin"),
                    )
                },
                Message::Failed {
                    at,
                    reference,
                    error,
                } => {
                    self.failures.entry(error.kind()).or_default().push(format!(
                        "{}:{}",
                        at.path.display(),
                        at.line
                    ));
                    Record {
                        reference: Some(reference.clone()),
                        ..Record::new(
                            Some(at),
                            Level::Error,
                            "resolve-failed",
                            format!("{reference}: {error}"),
                        )
                    }
                }
                Message::FileSkipped { path, error } => {
                    Record::for_file(path, Level::Warning, "file-skipped", error.to_string())
                }
                Message::FileFailed { path, error } => {
                    Record::for_file(path, Level::Error, "file-failed", error.to_string())
                }
            };
            batch.push(record);
        }
        self.emit(batch);
    }

    /// `check`: one line per violation (standard output in human form).
    pub fn violations(&mut self, violations: &[Violation]) {
        let batch = violations
            .iter()
            .map(|v| Record {
                reference: Some(v.reference.clone()),
                stdout: true,
                ..Record::new(
                    Some(&v.at),
                    Level::Error,
                    v.problem.rule(),
                    format!("{}: {}", v.reference, v.problem),
                )
            })
            .collect();
        self.emit(batch);
        if !violations.is_empty() && self.format == Format::Human {
            eprintln!(
                "{} references need pinning; run `digestpin pin` on these files",
                violations.len()
            );
        }
        self.summary = Some(serde_json::json!({ "violations": violations.len() }));
    }

    /// `verify`: one line per finding (standard output in human form).
    pub fn verified(&mut self, checked: usize, findings: &[Verified]) {
        let batch = findings
            .iter()
            .map(|f| {
                let (level, rule) = match f.problem {
                    VerifyProblem::Missing => (Level::Error, "digest-missing"),
                    VerifyProblem::TagMoved { .. } => (Level::Error, "tag-moved"),
                    VerifyProblem::TagGone { .. } => (Level::Error, "tag-gone"),
                    VerifyProblem::Failed(_) => (Level::Error, "verify-failed"),
                };
                Record {
                    reference: Some(f.reference.clone()),
                    digest: Some(f.digest.clone()),
                    to: match &f.problem {
                        VerifyProblem::TagMoved { new, .. } => Some(new.clone()),
                        _ => None,
                    },
                    stdout: true,
                    ..Record::new(
                        Some(&f.at),
                        level,
                        rule,
                        format!("{}: {}", f.reference, f.problem),
                    )
                }
            })
            .collect();
        self.emit(batch);
        if self.format == Format::Human {
            eprintln!("{checked} pins verified, {} findings", findings.len());
        }
        self.summary = Some(serde_json::json!({ "pins": checked, "findings": findings.len() }));
    }

    /// `list`: one tab-separated line per reference.
    pub fn list(&mut self, entries: &[Entry]) {
        let batch = entries
            .iter()
            .map(|e| Record {
                reference: Some(e.value.clone()),
                tag: e.tag.clone(),
                digest: e.digest.clone(),
                kind: Some(e.kind.to_string()),
                state: Some(e.state.to_string()),
                stdout: true,
                ..Record::new(
                    Some(&e.at),
                    Level::Note,
                    "reference",
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        e.kind,
                        e.state,
                        e.name.as_deref().unwrap_or(&e.value),
                        e.tag.as_deref().unwrap_or("-"),
                        e.digest.as_deref().unwrap_or("-"),
                    ),
                )
            })
            .collect::<Vec<_>>();
        if self.format == Format::Human {
            // `path:line:col<TAB>…`: the location is a column of its own.
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for r in &batch {
                let _ = writeln!(
                    out,
                    "{}:{}:{}\t{}",
                    r.path.as_deref().unwrap_or_default(),
                    r.line.unwrap_or_default(),
                    r.column.unwrap_or_default(),
                    r.message
                );
            }
            self.records.extend(batch);
        } else {
            self.emit(batch);
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

    /// Prints the unified diff of every change to standard output (human and
    /// github formats) or keeps it for the JSON document.
    pub fn diff(&mut self, changes: &[FileChange]) -> std::io::Result<()> {
        let mut text = String::new();
        for change in changes {
            let name = self.relative(&change.path);
            let diff = similar::TextDiff::from_lines(&change.original, &change.updated);
            text.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
        match self.format {
            Format::Human | Format::Github | Format::Markdown => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                out.write_all(text.as_bytes())?;
                out.flush()
            }
            Format::Json => {
                self.diff = Some(text);
                Ok(())
            }
            Format::Sarif => Ok(()),
        }
    }

    pub fn summary(&mut self, summary: &Summary, changes: &[FileChange]) {
        self.changed = changes.iter().map(|c| self.relative(&c.path)).collect();
        self.summary = Some(serde_json::json!({
            "files": summary.files,
            "references": summary.found,
            "changed": summary.pinned,
            "already_pinned": summary.already_pinned,
            "skipped": summary.skipped,
            "failed": summary.failed,
            "file_errors": summary.file_errors,
            "changed_files": changes.len(),
        }));
        if self.format != Format::Human && self.format != Format::Github {
            return;
        }
        let action = match (self.mode, self.job) {
            (Mode::Write, "pin") => "pinned",
            (Mode::Write, "unpin") => "unpinned",
            (Mode::Write, _) => "updated",
            (_, "pin") => "to pin",
            (_, "unpin") => "to unpin",
            _ => "to update",
        };
        let kept = if self.job == "update" {
            "up to date"
        } else {
            "already pinned"
        };
        let mut line = format!(
            "{} references in {} files: {} {action}, {} {kept}, {} skipped, {} failed",
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
        if !changes.is_empty() {
            let verb = if self.mode == Mode::Write {
                "changed"
            } else {
                "would change"
            };
            line.push_str(&format!("; {} files {verb}", changes.len()));
        }
        eprintln!("{line}");
        if self.failures.values().map(Vec::len).sum::<usize>() > 1 {
            eprintln!("failed references by reason:");
            for (kind, places) in &self.failures {
                let shown: Vec<&str> = places.iter().take(5).map(String::as_str).collect();
                let more = places.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                };
                eprintln!("  {kind}: {} ({}{more})", places.len(), shown.join(", "));
            }
        }
    }

    /// Prints the machine-readable document, if the format has one.
    pub fn finish(&mut self, exit_code: u8) {
        let out = match self.format {
            Format::Json => serde_json::to_string_pretty(&serde_json::json!({
                "version": 1,
                "command": self.job,
                "mode": match self.mode { Mode::Write => "write", Mode::Diff => "diff", Mode::Check => "check" },
                "records": self.records,
                "changed_files": self.changed,
                "summary": self.summary,
                "diff": self.diff,
                "exit_code": exit_code,
            })),
            Format::Sarif => serde_json::to_string_pretty(&machine::sarif(&self.records)),
            Format::Human | Format::Github | Format::Markdown => return,
        };
        if let Ok(text) = out {
            println!("{text}");
        }
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
