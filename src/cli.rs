//! Command-line flags and the commands they run.
//!
//! Each command builds the library's options from its flags, runs the
//! pipeline, hands the messages to the report layer and turns the outcome into
//! an exit status: 0 done or nothing to do, 1 `--check` found work, 2 error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use digestpin::edit::PinStyle;
use digestpin::lifecycle;
use digestpin::pin::{self, PinOptions};
use digestpin::reference::Reference;
use digestpin::refresh;
use digestpin::registry::{Mirror, Platform, Resolver, ResolverOptions};
use digestpin::walk::{self, WalkOptions};

use crate::report::Report;

/// The process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done, or nothing to do.
    Ok,
    /// `--check` found references to pin.
    Found,
    /// Something failed.
    Error,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        match status {
            Status::Ok => ExitCode::SUCCESS,
            Status::Found => ExitCode::from(1),
            Status::Error => ExitCode::from(2),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "digestpin",
    version,
    about = "Pin container image tags to digests in Kubernetes and Compose files, changing no other byte"
)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Resolve each image tag to its digest and rewrite the reference in place.
    Pin(PinArgs),
    /// Offline: list references that are not pinned by digest; exit 1 if any.
    Check(CheckArgs),
    /// Resolve each pin's tag again and replace the digest where it moved.
    Update(UpdateArgs),
    /// Online, writes nothing: check that pinned digests exist and tags still name them.
    Verify(VerifyArgs),
    /// Turn pins with a known tag back into `name:tag` (the inverse of `pin`).
    Unpin(UnpinArgs),
    /// List every reference found, with its state, tag and digest.
    List(ListArgs),
    /// Print the digest of each reference (for checking by hand).
    Resolve(ResolveArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    /// Also fail on `latest` and untagged references, pinned or not.
    #[arg(long)]
    deny_latest: bool,
    /// Images exempt from pinning, e.g. images built in the same pipeline (glob, repeatable).
    #[arg(long, value_name = "GLOB")]
    allow: Vec<String>,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct UpdateArgs {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    /// Print a unified diff of the change instead of writing it.
    #[arg(long, conflicts_with = "check")]
    diff: bool,
    /// Write nothing; exit 1 if any digest would change.
    #[arg(long)]
    check: bool,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct UnpinArgs {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    /// Print a unified diff of the change instead of writing it.
    #[arg(long, conflicts_with = "check")]
    diff: bool,
    /// Write nothing; exit 1 if any reference would be unpinned.
    #[arg(long)]
    check: bool,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    /// One line per reference: location, kind, state, image, tag, digest.
    Human,
    /// A release-notes table: image, tag, digest, where used.
    Markdown,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: ListFormat,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
}

/// What `pin` does with the new text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write the files.
    Write,
    /// Print a unified diff, write nothing.
    Diff,
    /// Write nothing; exit 1 if anything would change.
    Check,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StyleArg {
    /// `nginx@sha256:… # 1.25`
    Comment,
    /// `nginx:1.25@sha256:…`
    TagDigest,
}

#[derive(Debug, clap::Args)]
struct PinArgs {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    /// Print a unified diff of the change instead of writing it.
    #[arg(long, conflicts_with = "check")]
    diff: bool,
    /// Write nothing; exit 1 if any reference would be pinned.
    #[arg(long)]
    check: bool,
    /// How a pinned reference is written.
    #[arg(long, value_enum, default_value = "comment")]
    style: StyleArg,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct ResolveArgs {
    /// Image references, e.g. `nginx:1.25` or `ghcr.io/org/app:v1`.
    #[arg(required = true)]
    references: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct RegistryArgs {
    /// Resolve to this platform's manifest inside a multi-platform index (e.g. linux/arm64, linux/arm/v7) instead of the index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<Platform>,
    /// Resolve references of registry HOST at URL (repeatable); HOST `*` maps every registry without a mapping of its own.
    #[arg(long, value_name = "HOST=URL")]
    mirror: Vec<Mirror>,
    /// Trust this extra CA certificate (PEM).
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Concurrent requests per registry.
    #[arg(long, short = 'j', default_value_t = 8)]
    jobs: usize,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Refuse any request to an address outside the loopback range (for tests).
    #[arg(long, hide = true)]
    loopback_only: bool,
}

impl RegistryArgs {
    fn resolver(&self) -> anyhow::Result<Resolver> {
        let options = ResolverOptions {
            mirrors: self.mirror.clone(),
            ca_file: self.ca_file.clone(),
            jobs: self.jobs.max(1),
            timeout: Duration::from_secs(self.timeout.max(1)),
            loopback_only: self.loopback_only,
            ..ResolverOptions::default()
        };
        Resolver::new(options).context("cannot set up the registry client")
    }
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    match args.command {
        Command::Pin(args) => run_pin(&args),
        Command::Check(args) => run_check(&args),
        Command::Unpin(args) => run_unpin(&args),
        Command::Update(args) => run_update(&args),
        Command::Verify(args) => run_verify(&args),
        Command::List(args) => run_list(&args),
        Command::Resolve(args) => run_resolve(&args),
    }
}

fn mode(diff: bool, check: bool) -> Mode {
    if diff {
        Mode::Diff
    } else if check {
        Mode::Check
    } else {
        Mode::Write
    }
}

/// Walks and scans; walk errors and unreadable files are reported here.
fn scan(
    paths: &[PathBuf],
    exclude: &[String],
    report: &mut Report,
) -> anyhow::Result<(Vec<pin::ScannedFile>, Vec<pin::Message>, bool)> {
    let walked = walk::walk(
        paths,
        &WalkOptions {
            excludes: exclude.to_vec(),
        },
    )?;
    for error in &walked.errors {
        report.walk_error(error);
    }
    let (files, messages) = pin::scan(&walked.files);
    Ok((files, messages, !walked.errors.is_empty()))
}

fn run_check(args: &CheckArgs) -> anyhow::Result<Status> {
    let checker = lifecycle::Checker::new(&lifecycle::Policy {
        deny_latest: args.deny_latest,
        allow: args.allow.clone(),
    })?;
    let mut report = Report::stderr(Mode::Check, "check");
    let (files, messages, walk_failed) = scan(&args.paths, &args.exclude, &mut report)?;
    let violations = lifecycle::check(&files, &checker);
    report.violations(&violations);
    report.messages(&messages);
    Ok(if walk_failed {
        Status::Error
    } else if violations.is_empty() {
        Status::Ok
    } else {
        Status::Found
    })
}

fn run_unpin(args: &UnpinArgs) -> anyhow::Result<Status> {
    let mode = mode(args.diff, args.check);
    let mut report = Report::stderr(mode, "unpin");
    let (files, mut messages, walk_failed) = scan(&args.paths, &args.exclude, &mut report)?;
    let outcome = lifecycle::unpin(&files);
    finish(mode, &mut report, outcome, &mut messages, walk_failed)
}

fn run_update(args: &UpdateArgs) -> anyhow::Result<Status> {
    let mode = mode(args.diff, args.check);
    let mut report = Report::stderr(mode, "update");
    let (files, mut messages, walk_failed) = scan(&args.paths, &args.exclude, &mut report)?;
    let resolver = args.registry.resolver()?;
    let outcome = refresh::update(&files, &resolver);
    finish(mode, &mut report, outcome, &mut messages, walk_failed)
}

fn run_verify(args: &VerifyArgs) -> anyhow::Result<Status> {
    let mut report = Report::stderr(Mode::Check, "verify");
    let (files, messages, walk_failed) = scan(&args.paths, &args.exclude, &mut report)?;
    let resolver = args.registry.resolver()?;
    let (checked, findings) = refresh::verify(&files, &resolver);
    report.verified(checked, &findings);
    report.messages(&messages);
    let failed = findings
        .iter()
        .any(|f| matches!(f.problem, refresh::Problem::Failed(_)));
    Ok(if walk_failed || failed {
        Status::Error
    } else if findings.is_empty() {
        Status::Ok
    } else {
        Status::Found
    })
}

fn run_list(args: &ListArgs) -> anyhow::Result<Status> {
    let mut report = Report::stderr(Mode::Check, "list");
    let (files, messages, walk_failed) = scan(&args.paths, &args.exclude, &mut report)?;
    let entries = lifecycle::list(&files);
    match args.format {
        ListFormat::Human => report.list(&entries),
        ListFormat::Markdown => report.list_markdown(&entries),
    }
    report.messages(&messages);
    Ok(if walk_failed {
        Status::Error
    } else {
        Status::Ok
    })
}

/// Writes or shows an outcome and picks the exit status.
fn finish(
    mode: Mode,
    report: &mut Report,
    mut outcome: pin::Outcome,
    messages: &mut Vec<pin::Message>,
    walk_failed: bool,
) -> anyhow::Result<Status> {
    messages.append(&mut outcome.messages);
    if mode == Mode::Write {
        let mut failures = pin::write(&outcome.changes);
        outcome.summary.file_errors += failures.len();
        messages.append(&mut failures);
    }
    report.messages(messages);
    if mode == Mode::Diff {
        report.diff(&outcome.changes)?;
    }
    report.summary(&outcome.summary, outcome.changes.len());
    Ok(if outcome.has_errors() || walk_failed {
        Status::Error
    } else if mode == Mode::Check && !outcome.changes.is_empty() {
        Status::Found
    } else {
        Status::Ok
    })
}

fn run_pin(args: &PinArgs) -> anyhow::Result<Status> {
    let mode = mode(args.diff, args.check);
    let mut report = Report::stderr(mode, "pin");
    let (files, mut messages, walk_failed) = scan(&args.paths, &args.exclude, &mut report)?;
    let resolver = args.registry.resolver()?;
    let options = PinOptions {
        style: match args.style {
            StyleArg::Comment => PinStyle::Comment,
            StyleArg::TagDigest => PinStyle::TagDigest,
        },
        platform: args.registry.platform.clone(),
    };
    let outcome = pin::plan(&files, &resolver, &options);
    finish(mode, &mut report, outcome, &mut messages, walk_failed)
}

fn run_resolve(args: &ResolveArgs) -> anyhow::Result<Status> {
    let mut status = Status::Ok;
    let mut parsed = Vec::new();
    for text in &args.references {
        match Reference::parse(text) {
            Ok(reference) => parsed.push((text, reference)),
            Err(err) => {
                eprintln!("{text} error: {err}");
                status = Status::Error;
            }
        }
    }
    let resolver = args.registry.resolver()?;
    let keys: Vec<_> = parsed
        .iter()
        .filter(|(_, r)| r.digest().is_none())
        .map(|(_, r)| pin::resolve_key(r, args.registry.platform.as_ref()))
        .collect();
    let results = resolver.resolve_all(&keys);
    for (text, reference) in &parsed {
        if let Some(digest) = reference.digest() {
            println!("{text} {digest}");
            continue;
        }
        let key = pin::resolve_key(reference, args.registry.platform.as_ref());
        match results.get(&key) {
            Some(Ok(resolved)) => println!("{text} {}", resolved.digest),
            Some(Err(err)) => {
                eprintln!("{text} error: {err}");
                status = Status::Error;
            }
            None => {
                eprintln!("{text} error: not resolved");
                status = Status::Error;
            }
        }
    }
    Ok(status)
}
