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

use digestpin::edit::FileChange;
use digestpin::jobs::check::Violation;
use digestpin::jobs::list::Entry;
use digestpin::jobs::verify::{Problem as VerifyProblem, Verified};
use digestpin::jobs::{Location, Message, Summary};
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
    /// `resolve`: the platform the digest was resolved for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Printed on standard output (results) rather than standard error.
    #[serde(skip)]
    stdout: bool,
    /// Whether `path` is already repository-relative.
    #[serde(skip)]
    path_normalised: bool,
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
            platform: None,
            stdout: false,
            path_normalised: false,
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
        self.normalise(&mut batch);
        batch.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        match self.format {
            Format::Human | Format::Markdown => {
                let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
                for r in &batch {
                    let location = match (&r.path, r.line, r.column) {
                        (Some(p), Some(l), Some(c)) => format!("{}:{l}:{c}: ", printable(p)),
                        (Some(p), _, _) => format!("{}: ", printable(p)),
                        _ => String::new(),
                    };
                    let message = match r.level {
                        Level::Error if !r.stdout => {
                            format!("{} {}", self.paint("error:", "1;31"), printable(&r.message))
                        }
                        Level::Warning if !r.stdout => self.paint(&printable(&r.message), "33"),
                        _ => printable(&r.message),
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

    /// Spells every record's path as diffs and `changed_files` do:
    /// relative to the repository's top, with `/`. Done once per record.
    fn normalise(&self, batch: &mut [Record]) {
        for r in batch {
            if let Some(path) = &r.path
                && !r.path_normalised
            {
                r.path = Some(self.relative(Path::new(path)));
                r.path_normalised = true;
            }
        }
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
                    let place = format!("{}:{}", self.relative(&at.path), at.line);
                    self.failures.entry(error.kind()).or_default().push(place);
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
            eprintln!("{}", check_summary(violations));
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
            eprintln!(
                "{} verified, {}",
                count(checked, "pin", "pins"),
                count(findings.len(), "finding", "findings")
            );
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
                        printable(e.name.as_deref().unwrap_or(&e.value)),
                        printable(e.tag.as_deref().unwrap_or("-")),
                        printable(e.digest.as_deref().unwrap_or("-")),
                    ),
                )
            })
            .collect::<Vec<_>>();
        let mut batch = batch;
        self.normalise(&mut batch);
        if self.format == Format::Human {
            // `path:line:col<TAB>…`: the location is a column of its own.
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for r in &batch {
                let _ = writeln!(
                    out,
                    "{}:{}:{}\t{}",
                    printable(r.path.as_deref().unwrap_or_default()),
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
            // In the github format the diff goes to the log GitHub reads
            // workflow commands from: a file name must not start one.
            let name = if self.format == Format::Github {
                machine::escape(&name, machine::Escape::Data)
            } else {
                name
            };
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
                match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other,
                }
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
            "changed": summary.changed,
            "already_pinned": summary.unchanged,
            "skipped": summary.skipped,
            "failed": summary.failed,
            "file_errors": summary.file_errors,
            "changed_files": changes.len(),
            "held_back": summary.held_back,
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
            "{} in {}: {} {action}, {} {kept}, {} skipped, {} failed",
            count(summary.found, "reference", "references"),
            count(summary.files, "file", "files"),
            summary.changed,
            summary.unchanged,
            summary.skipped,
            summary.failed
        );
        if summary.held_back > 0 {
            line.push_str(&format!(
                ", {} held back in files with a failure",
                summary.held_back
            ));
        }
        if summary.file_errors > 0 {
            line.push_str(&format!(
                ", {} with errors",
                count(summary.file_errors, "file", "files")
            ));
        }
        if !changes.is_empty() {
            let verb = if self.mode == Mode::Write {
                "changed"
            } else {
                "would change"
            };
            line.push_str(&format!(
                "; {} {verb}",
                count(changes.len(), "file", "files")
            ));
        }
        self.note(&line);
        if self.failures.values().map(Vec::len).sum::<usize>() > 1 {
            self.note("failed references by reason:");
            for (kind, places) in &self.failures {
                let shown: Vec<&str> = places.iter().take(5).map(String::as_str).collect();
                let more = places.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                };
                self.note(&format!(
                    "  {kind}: {} ({}{more})",
                    places.len(),
                    shown.join(", ")
                ));
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
            print_stdout(&format!("{text}\n"));
        }
    }

    /// A line for people on standard error; in the github format escaped,
    /// since GitHub reads workflow commands from every line of the log.
    fn note(&self, line: &str) {
        let line = if self.format == Format::Github {
            machine::escape(line, machine::Escape::Data)
        } else {
            printable(line)
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    /// `resolve`: each reference with its digest, or why it has none.
    pub fn resolved(
        &mut self,
        results: &[(String, Result<String, String>)],
        platform: Option<&str>,
    ) {
        if self.format == Format::Human {
            for (text, result) in results {
                match result {
                    Ok(digest) => print_stdout(&format!("{} {digest}\n", printable(text))),
                    Err(err) => self.note(&format!("{text} error: {err}")),
                }
            }
        } else {
            let batch = results
                .iter()
                .map(|(text, result)| match result {
                    Ok(digest) => Record {
                        reference: Some(text.clone()),
                        digest: Some(digest.clone()),
                        platform: platform.map(String::from),
                        stdout: true,
                        ..Record::new(None, Level::Note, "resolved", format!("{text} {digest}"))
                    },
                    Err(err) => Record {
                        reference: Some(text.clone()),
                        platform: platform.map(String::from),
                        ..Record::new(
                            None,
                            Level::Error,
                            "resolve-failed",
                            format!("{text}: {err}"),
                        )
                    },
                })
                .collect();
            self.emit(batch);
        }
        let failed = results.iter().filter(|(_, r)| r.is_err()).count();
        self.summary = Some(serde_json::json!({
            "references": results.len(),
            "failed": failed,
        }));
    }

    fn relative(&self, path: &Path) -> String {
        let absolute = lexical_absolute(path);
        let shown = absolute.strip_prefix(&self.root).unwrap_or(path);
        shown.to_string_lossy().replace('\\', "/")
    }
}

/// `path` made absolute against the (canonical) working directory without
/// following symbolic links: a link is shown by its own name, never by the
/// file it points to.
fn lexical_absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .unwrap_or_else(|_| PathBuf::from("."));
    let mut absolute = PathBuf::new();
    for component in cwd.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                absolute.pop();
            }
            other => absolute.push(other),
        }
    }
    absolute
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

/// Writes to standard output. A reader that went away (`| head`) ends the
/// output quietly: the rest is dropped and the exit status stays the
/// command's own, as for any other write that cannot be delivered.
pub fn print_stdout(text: &str) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `1 reference`, `2 references`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The closing line of `check`: references counted once each, however many
/// rules they break.
fn check_summary(violations: &[Violation]) -> String {
    use digestpin::jobs::check::Problem;
    let places = |problem: Option<&Problem>| {
        violations
            .iter()
            .filter(|v| problem.is_none_or(|p| &v.problem == p))
            .map(|v| (&v.at.path, v.at.line, v.at.column))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let (all, unpinned, latest) = (
        places(None),
        places(Some(&Problem::NotPinned)),
        places(Some(&Problem::Latest)),
    );
    if latest == 0 {
        let verb = if all == 1 { "needs" } else { "need" };
        format!(
            "{} {verb} pinning; run `digestpin pin` on these files",
            count(all, "reference", "references")
        )
    } else {
        let verb = if all == 1 { "fails" } else { "fail" };
        format!(
            "{} {verb} the check: {unpinned} not pinned, {latest} using the `latest` tag",
            count(all, "reference", "references")
        )
    }
}

/// A value shown on one line: line breaks, tabs and other control
/// characters are written as escapes (`\n`, `\t`, `\u{1b}`).
fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}
