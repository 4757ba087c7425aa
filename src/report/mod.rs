//! The report layer: turns the library's results into text.
//!
//! Every result becomes a [`Record`]: a location, a level, a rule and a
//! message. The human format prints records as they come (per-reference lines
//! and the summary on standard error, the diff and `check`/`verify`/`list`
//! results on standard output) with colour on a terminal unless `NO_COLOR` is
//! set (`--color always|never` wins); `-q` keeps errors and results only,
//! `-v` adds each registry request; `json` and `sarif` print one document at
//! the end; `github` prints workflow annotations. One renderer per format lives beside this file
//! (`human`, `json`, `sarif`, `github`, `markdown`); this module keeps the
//! model and picks the renderer. The job kind and mode come from
//! [`digestpin::job`], so the report layer does not import the command layer.

mod github;
mod history;
mod human;
mod json;
mod markdown;
mod paths;
mod records;
mod sarif;

pub use human::{request_counts, trace_line};

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use digestpin::edit::FileChange;
use digestpin::jobs::check::Violation;
use digestpin::jobs::list::Entry;
use digestpin::jobs::provenance;
use digestpin::jobs::verify::{Problem as VerifyProblem, Verified};
use digestpin::jobs::{Location, Message, Summary};
use digestpin::registry::CacheUse;
use digestpin::registry::{Provenance, TagMove};
use digestpin::walk::WalkError;

use digestpin::config::Config;
use digestpin::job::{JobKind, Mode};

/// The output format, `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people, with colour on a terminal.
    Human,
    /// One JSON document (see README: "Output formats", and docs/output.schema.json).
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub workflow annotations (`::error file=…,line=…,col=…::…`).
    Github,
    /// `list` only: a release-notes table.
    Markdown,
}

/// `--color`: when the human format is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set to a non-empty value or
    /// `TERM` is `dumb`.
    Auto,
    /// Always (the flag wins over `NO_COLOR`).
    Always,
    /// Never.
    Never,
}

/// `-q`/`-v`: how much is said on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Errors and what a check finds only.
    Quiet,
    #[default]
    Normal,
    /// Also each registry request, each resolution, the requests per registry.
    Verbose,
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
    /// `resolve`: `cache` when the answer came from the on-disk cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    /// `--provenance`: the OCI metadata of the pinned digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// `resolve --tags`: the other tags naming the digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// `history`, `rollback`: the commit (short) and its date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `history`: the digest and tag before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_tag: Option<String>,
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
            source: None,
            provenance: None,
            tags: None,
            commit: None,
            date: None,
            from: None,
            from_tag: None,
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

/// `resolve --tags`: a reference's digest and the other tags naming it, or
/// why there are none.
pub type TagsResult = Result<(String, Vec<String>), String>;

/// Collects and prints records.
pub struct Report {
    mode: Mode,
    /// The command being run.
    job: JobKind,
    format: Format,
    color: bool,
    verbosity: Verbosity,
    /// Paths in diffs are relative to this directory (the repository's top).
    root: PathBuf,
    records: Vec<Record>,
    summary: Option<json::Summary>,
    changed: Vec<String>,
    /// The unified diff (`--diff`), for the JSON document.
    diff: Option<String>,
    /// Failed references by kind of failure, with where they are.
    failures: std::collections::BTreeMap<&'static str, Vec<String>>,
    /// `--provenance`: what was found for each pinned digest.
    provenance: Option<provenance::Found>,
}

impl Report {
    pub fn new(mode: Mode, job: JobKind, format: Format) -> Self {
        let format = if format == Format::Markdown {
            Format::Human
        } else {
            format
        };
        let color = format == Format::Human
            && std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var_os("TERM").is_none_or(|term| term != "dumb");
        Self {
            mode,
            job,
            format,
            color,
            verbosity: Verbosity::Normal,
            root: paths::repository_root(),
            records: Vec::new(),
            summary: None,
            changed: Vec::new(),
            diff: None,
            failures: std::collections::BTreeMap::new(),
            provenance: None,
        }
    }

    pub fn is_human(&self) -> bool {
        self.format == Format::Human
    }

    /// `--color` and `-q`/`-v`. Colour is for the human format only.
    pub fn set_output(&mut self, color: ColorChoice, verbosity: Verbosity) {
        self.color = match color {
            ColorChoice::Auto => self.color,
            ColorChoice::Always => self.format == Format::Human,
            ColorChoice::Never => false,
        };
        self.verbosity = verbosity;
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    pub fn format(&self) -> Format {
        self.format
    }

    fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// Prints (human) or keeps (machine formats) a batch of records.
    fn emit(&mut self, mut batch: Vec<Record>) {
        self.normalise(&mut batch);
        // Quiet: errors and results only (a check's findings among them), in
        // every format's printed lines (a JSON or SARIF document keeps every
        // record).
        let finding = |r: &Record| {
            self.mode == Mode::Check
                && r.level == Level::Warning
                && matches!(r.rule, "pinned" | "rewritten")
        };
        let shown = |r: &Record| !self.quiet() || r.stdout || r.level == Level::Error || finding(r);
        batch.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        match self.format {
            Format::Human | Format::Markdown => {
                let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
                for r in batch.iter().filter(|r| shown(r)) {
                    let line = human::record_line(r, self.color);
                    let _ = if r.stdout {
                        writeln!(stdout.lock(), "{line}")
                    } else {
                        writeln!(stderr.lock(), "{line}")
                    };
                }
            }
            Format::Github => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                for r in batch.iter().filter(|r| r.level != Level::Note && shown(r)) {
                    let _ = writeln!(out, "{}", github::annotation(r));
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
        human::verb(self.mode, self.job)
    }

    pub fn messages(&mut self, messages: &[Message]) {
        let mut batch = Vec::new();
        for message in messages {
            if let Message::Failed { at, error, .. } = message {
                let place = format!("{}:{}", self.relative(&at.path), at.line);
                self.failures.entry(error.kind()).or_default().push(place);
            }
            batch.extend(self.record(message));
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
        if !violations.is_empty() && self.format == Format::Human && !self.quiet() {
            eprintln!("{}", human::check_summary(violations));
        }
        self.summary = Some(json::Summary::Check {
            violations: violations.len(),
        });
    }

    /// `check` that found nothing: how much it read, so that a run over the
    /// wrong path does not pass in silence.
    pub fn all_pinned(&self, references: usize, files: usize) {
        if self.format != Format::Human || self.quiet() {
            return;
        }
        self.note(&if references == 0 {
            "no image reference found".to_string()
        } else {
            format!(
                "checked {} in {}: none needs pinning",
                human::count(references, "reference", "references"),
                human::count(files, "file", "files")
            )
        });
    }

    /// `verify`: one line per finding (standard output in human form).
    pub fn verified(&mut self, checked: usize, findings: &[Verified]) {
        let batch = findings
            .iter()
            .map(|f| {
                let (level, rule) = match f.problem {
                    VerifyProblem::Missing => (Level::Error, "digest-missing"),
                    VerifyProblem::NeverServed { .. } => (Level::Error, "digest-never-served"),
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
                    provenance: self.provenance_of(Some(&f.key)),
                    ..Record::new(
                        Some(&f.at),
                        level,
                        rule,
                        format!(
                            "{}: {}{}",
                            f.reference,
                            f.problem,
                            self.provenance
                                .as_ref()
                                .map(|_| human::provenance_note(
                                    &self.provenance_of(Some(&f.key)).unwrap_or_default()
                                ))
                                .unwrap_or_default()
                        ),
                    )
                }
            })
            .collect();
        self.emit(batch);
        if self.format == Format::Human && !self.quiet() {
            eprintln!("{}", human::verify_summary(checked, findings.len()));
        }
        self.summary = Some(json::Summary::Verify {
            pins: checked,
            findings: findings.len(),
        });
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
                provenance: self.provenance_of(provenance::entry_key(e).as_ref()),
                ..Record::new(
                    Some(&e.at),
                    Level::Note,
                    "reference",
                    format!(
                        "{}\t{}\t{}\t{}\t{}{}",
                        e.kind,
                        e.state,
                        human::printable(e.name.as_deref().unwrap_or(&e.value)),
                        human::printable(e.tag.as_deref().unwrap_or("-")),
                        human::printable(e.digest.as_deref().unwrap_or("-")),
                        self.provenance_columns(provenance::entry_key(e).as_ref()),
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
                let _ = writeln!(out, "{}", human::list_line(r));
            }
            self.records.extend(batch);
        } else {
            self.emit(batch);
        }
    }

    /// `list --format markdown`: image, tag, digest and where each is used.
    pub fn list_markdown(&mut self, entries: &[Entry]) {
        let rows = markdown::rows(entries, |path| self.relative(path));
        if self.provenance.is_some() {
            let of = |name: &str, digest: &str| {
                self.provenance_of(provenance::key(name, digest).as_ref())
            };
            print_stdout(&markdown::table_with_provenance(&rows, &of));
        } else {
            print_stdout(&markdown::table(&rows));
        }
    }

    /// `--provenance`: what was found for each pinned digest, shown by
    /// `list` and `verify` from now on.
    pub fn set_provenance(&mut self, found: provenance::Found) {
        self.provenance = Some(found);
    }

    /// The provenance found for `key`: `None` without `--provenance`, for
    /// an unpinned reference and when it could not be read.
    fn provenance_of(&self, key: Option<&digestpin::registry::DigestKey>) -> Option<Provenance> {
        match self.provenance.as_ref()?.get(key?)? {
            Ok(found) => Some(found.clone()),
            Err(_) => None,
        }
    }

    /// `list --provenance`: the tab-separated revision, source, version and
    /// created columns (`-` when unknown); nothing without `--provenance`.
    fn provenance_columns(&self, key: Option<&digestpin::registry::DigestKey>) -> String {
        if self.provenance.is_none() {
            return String::new();
        }
        let found = self.provenance_of(key).unwrap_or_default();
        [
            &found.revision,
            &found.source,
            &found.version,
            &found.created,
        ]
        .iter()
        .map(|v| format!("\t{}", human::printable(v.as_deref().unwrap_or("-"))))
        .collect()
    }

    /// `--provenance`: an error record for each digest whose metadata could
    /// not be read; whether there was one.
    pub fn provenance_failures(&mut self) -> bool {
        let Some(found) = &self.provenance else {
            return false;
        };
        let batch: Vec<Record> = found
            .iter()
            .filter_map(|(key, result)| result.as_ref().err().map(|e| (key, e)))
            .map(|(key, err)| {
                let image = format!("{}/{}@{}", key.registry, key.repository, key.digest);
                Record {
                    reference: Some(image.clone()),
                    digest: Some(key.digest.clone()),
                    ..Record::new(
                        None,
                        Level::Error,
                        "provenance-failed",
                        format!("{image}: cannot read its provenance: {err}"),
                    )
                }
            })
            .collect();
        let failed = !batch.is_empty();
        self.emit(batch);
        failed
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
                github::escape(&name, github::Escape::Data)
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
        self.summary = Some(json::Summary::Rewrite {
            files: summary.files,
            references: summary.found,
            changed: summary.changed,
            already_pinned: summary.unchanged,
            skipped: summary.skipped,
            failed: summary.failed,
            file_errors: summary.file_errors,
            changed_files: changes.len(),
            held_back: summary.held_back,
        });
        if self.format != Format::Human && self.format != Format::Github || self.quiet() {
            return;
        }
        let line = human::rewrite_summary(self.mode, self.job, summary, changes.len());
        self.note(&line);
        for line in human::failures_by_reason(&self.failures) {
            self.note(&line);
        }
    }

    /// Prints the machine-readable document, if the format has one.
    pub fn finish(&mut self, exit_code: u8) {
        let out = match self.format {
            Format::Json => json::render(&json::Document {
                version: 1,
                command: self.job.name(),
                mode: self.mode.name(),
                records: &self.records,
                changed_files: &self.changed,
                summary: self.summary.as_ref(),
                diff: self.diff.as_deref(),
                exit_code,
            }),
            Format::Sarif => {
                serde_json::to_string_pretty(&sarif::sarif(&self.records)).map(|text| text + "\n")
            }
            Format::Human | Format::Github | Format::Markdown => return,
        };
        if let Ok(text) = out {
            print_stdout(&text);
        }
    }

    /// `--commit`: the commit made, for people (machine formats carry the
    /// changed files already).
    pub fn committed(&self, files: usize, oid: &str) {
        if self.is_human() && !self.quiet() {
            let files = human::count(files, "file", "files");
            let _ = writeln!(std::io::stderr().lock(), "committed {files} as {oid}");
        }
    }

    /// `config --show`: the settings in force and the files they come from
    /// (paths as given), as commented TOML or a JSON document.
    pub fn settings(
        &self,
        settings: &Config,
        sources: &[String],
        origin: &dyn Fn(&str) -> String,
    ) -> serde_json::Result<()> {
        if self.format == Format::Json {
            let document = serde_json::json!({ "settings": settings, "sources": sources });
            print_stdout(&(serde_json::to_string_pretty(&document)? + "\n"));
            return Ok(());
        }
        let mut text = String::new();
        if sources.is_empty() {
            text.push_str(&format!(
                "# no {} found; defaults in force\n",
                digestpin::config::FILE_NAME
            ));
        }
        for source in sources {
            text.push_str(&format!("# from {source}\n"));
        }
        text.push_str(&human::annotate_settings(&settings.to_toml(), origin));
        print_stdout(&text);
        Ok(())
    }

    /// A line for people on standard error; in the github format escaped,
    /// since GitHub reads workflow commands from every line of the log.
    fn note(&self, line: &str) {
        note(self.format, line);
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
                    Ok(digest) => print_stdout(&format!("{} {digest}\n", human::printable(text))),
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
        self.summary = Some(json::Summary::Resolve {
            references: results.len(),
            failed,
        });
    }

    fn relative(&self, path: &Path) -> String {
        paths::relative(&self.root, path)
    }

    /// `resolve`: marks the results of these references as served from the
    /// cache (the JSON and SARIF records' `source`).
    pub fn mark_cached(&mut self, references: &[String]) {
        for record in &mut self.records {
            if record.rule == "resolved"
                && record
                    .reference
                    .as_ref()
                    .is_some_and(|r| references.contains(r))
            {
                record.source = Some("cache");
            }
        }
    }

    /// `pin`: marks the pins at these places as resolved from the cache (the
    /// JSON records' `source`), once the records are made.
    pub fn mark_cached_at(&mut self, places: &[Location]) {
        let places: std::collections::HashSet<(String, usize, usize)> = places
            .iter()
            .map(|at| (self.relative(&at.path), at.line, at.column))
            .collect();
        for record in &mut self.records {
            if record.rule == "pinned"
                && let (Some(path), Some(line), Some(column)) =
                    (&record.path, record.line, record.column)
                && places.contains(&(path.clone(), line, column))
            {
                record.source = Some("cache");
            }
        }
    }

    /// Why the cache is not used in this run.
    pub fn cache_unavailable(&mut self, why: &str) {
        self.emit(vec![Record::new(
            None,
            Level::Note,
            "cache",
            why.to_string(),
        )]);
    }

    /// What the cache did: its unreadable or unwritable entries (never
    /// fatal), and how many answers it gave and the age of the oldest.
    pub fn cache_used(&mut self, usage: Option<&CacheUse>, offline: bool) {
        let Some(usage) = usage else { return };
        let mut batch: Vec<Record> = usage
            .notes
            .iter()
            .map(|note| Record::new(None, Level::Note, "cache", note.clone()))
            .collect();
        if let Some(oldest) = usage.oldest {
            let answers = human::count(usage.served, "answer", "answers");
            let offline = if offline { " (offline)" } else { "" };
            let age = digestpin::registry::cache::format_duration(oldest);
            batch.push(Record::new(
                None,
                Level::Note,
                "cache",
                format!("{answers} from the cache{offline}, the oldest fetched {age} ago"),
            ));
        }
        self.emit(batch);
    }

    /// `cache dir`: the cache directory, on standard output.
    pub fn cache_dir(&self, dir: &Path) {
        print_stdout(&format!("{}\n", dir.display()));
    }

    /// `cache clean`: what was removed, for people.
    pub fn cache_cleaned(&self, dir: &Path, removed: usize) {
        if self.quiet() {
            return;
        }
        let entries = human::count(removed, "cached answer", "cached answers");
        self.note(&format!("removed {entries} from {}", dir.display()));
    }

    /// `resolve --tags`: each reference with its digest and the other tags
    /// naming it, or why it has none.
    pub fn resolved_tags(&mut self, results: &[(String, TagsResult)]) {
        let batch: Vec<Record> = results
            .iter()
            .map(|(text, result)| match result {
                Ok((digest, tags)) => Record {
                    reference: Some(text.clone()),
                    digest: Some(digest.clone()),
                    tags: Some(tags.clone()),
                    stdout: true,
                    ..Record::new(
                        None,
                        Level::Note,
                        "resolved",
                        format!(
                            "{text} {digest}: {}",
                            if tags.is_empty() {
                                "no other tag".to_string()
                            } else {
                                tags.join(", ")
                            }
                        ),
                    )
                },
                Err(err) => Record {
                    reference: Some(text.clone()),
                    ..Record::new(
                        None,
                        Level::Error,
                        "resolve-failed",
                        format!("{text}: {err}"),
                    )
                },
            })
            .collect();
        if self.format == Format::Human {
            for r in &batch {
                if r.stdout {
                    print_stdout(&format!("{}\n", human::printable(&r.message)));
                } else {
                    self.note(&format!("error: {}", r.message));
                }
            }
            self.records.extend(batch);
        } else {
            self.emit(batch);
        }
        self.summary = Some(json::Summary::Resolve {
            references: results.len(),
            failed: results.iter().filter(|(_, r)| r.is_err()).count(),
        });
    }

    /// `retag`: each tag with the digest it named before and the one it
    /// names now (or would, `dry_run`), or why nothing moved.
    pub fn retagged(
        &mut self,
        name: &str,
        digest: &str,
        tags: &[String],
        result: &Result<Vec<TagMove>, String>,
        dry_run: bool,
    ) {
        let moves = match result {
            Ok(moves) => moves,
            Err(err) => {
                let record = Record {
                    reference: Some(format!("{name}@{digest}")),
                    digest: Some(digest.to_string()),
                    ..Record::new(
                        None,
                        Level::Error,
                        "retag-failed",
                        format!("{name}@{digest}: {err}"),
                    )
                };
                if self.format == Format::Human {
                    self.note(&format!("error: {}", record.message));
                }
                self.records.push(record);
                self.summary = Some(json::Summary::Retag {
                    tags: tags.len(),
                    moved: 0,
                });
                return;
            }
        };
        let batch: Vec<Record> = moves
            .iter()
            .map(|m| {
                let (rule, message) = human::retag_line(name, digest, m, dry_run);
                Record {
                    reference: Some(format!("{name}:{}", m.tag)),
                    tag: Some(m.tag.clone()),
                    digest: m.old.clone(),
                    to: Some(digest.to_string()),
                    stdout: true,
                    ..Record::new(None, Level::Note, rule, message)
                }
            })
            .collect();
        if self.format == Format::Human {
            for r in &batch {
                print_stdout(&format!("{}\n", human::printable(&r.message)));
            }
            for line in human::retag_summary(name, digest, moves, dry_run) {
                self.note(&line);
            }
        }
        self.records.extend(batch);
        self.summary = Some(json::Summary::Retag {
            tags: moves.len(),
            moved: moves.iter().filter(|m| m.moves(digest)).count(),
        });
    }
}

/// A line for people on standard error in `format` (escaped in the github
/// format, since GitHub reads workflow commands from every line of the log).
pub fn note(format: Format, line: &str) {
    let line = if format == Format::Github {
        github::escape(line, github::Escape::Data)
    } else {
        human::printable(line)
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes to standard output. A reader that went away (`| head`) ends the
/// output quietly: the rest is dropped and the exit status stays the
/// command's own, as for any other write that cannot be delivered.
pub fn print_stdout(text: &str) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
