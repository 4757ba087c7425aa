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
use digestpin::pin::{self, PinOptions};
use digestpin::reference::Reference;
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
    /// Print the digest of each reference (for checking by hand).
    Resolve(ResolveArgs),
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
        Command::Resolve(args) => run_resolve(&args),
    }
}

fn run_pin(args: &PinArgs) -> anyhow::Result<Status> {
    let mode = if args.diff {
        Mode::Diff
    } else if args.check {
        Mode::Check
    } else {
        Mode::Write
    };
    let walk_options = WalkOptions {
        excludes: args.exclude.clone(),
    };
    let walked = walk::walk(&args.paths, &walk_options)?;
    let mut report = Report::stderr(mode);
    for error in &walked.errors {
        report.walk_error(error);
    }
    let (files, scan_messages) = pin::scan(&walked.files);
    let resolver = args.registry.resolver()?;
    let options = PinOptions {
        style: match args.style {
            StyleArg::Comment => PinStyle::Comment,
            StyleArg::TagDigest => PinStyle::TagDigest,
        },
        platform: args.registry.platform.clone(),
    };
    let mut outcome = pin::plan(&files, &resolver, &options);
    outcome.summary.file_errors += scan_messages
        .iter()
        .filter(|m| matches!(m, pin::Message::FileFailed { .. }))
        .count();
    let mut messages = scan_messages;
    messages.append(&mut outcome.messages);
    if mode == Mode::Write {
        let mut failures = pin::write(&outcome.changes);
        outcome.summary.file_errors += failures.len();
        messages.append(&mut failures);
    }
    report.messages(&messages);
    if mode == Mode::Diff {
        report.diff(&outcome.changes)?;
    }
    report.summary(&outcome.summary, outcome.changes.len());
    let errors = outcome.has_errors() || !walked.errors.is_empty();
    Ok(if errors {
        Status::Error
    } else if mode == Mode::Check && !outcome.changes.is_empty() {
        Status::Found
    } else {
        Status::Ok
    })
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
