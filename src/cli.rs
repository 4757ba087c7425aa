//! Command-line flags and the commands they run.
//!
//! Each command merges its flags over the configuration files
//! ([`digestpin::config`]), runs the library, hands the results to the report
//! layer and turns the outcome into an exit status: 0 done or nothing to do,
//! 1 a check found something, 2 an error.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use digestpin::commit::Committer;
use digestpin::config::{self, Config, Style};
use digestpin::edit::PinStyle;
use digestpin::jobs::{self, pin::PinOptions};
use digestpin::reference::Reference;
use digestpin::registry::{Mirror, Platform, Resolver, ResolverOptions};
use digestpin::walk::{self, WalkOptions};

use crate::report::{Format, Report, print_stdout};

/// The process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done, or nothing to do.
    Ok,
    /// A check found something (references to pin, moved tags, …).
    Found,
    /// Something failed.
    Error,
}

impl Status {
    /// Error wins over a finding, a finding over nothing to report.
    fn of(error: bool, found: bool) -> Status {
        if error {
            Status::Error
        } else if found {
            Status::Found
        } else {
            Status::Ok
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Found => 1,
            Status::Error => 2,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status.code())
    }
}

/// What a rewriting command does with the new text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write the files.
    Write,
    /// Print a unified diff, write nothing.
    Diff,
    /// Write nothing; exit 1 if anything would change.
    Check,
}

#[derive(Debug, Parser)]
#[command(
    name = "digestpin",
    version,
    about = "Pin container image tags to digests in Kubernetes and Compose files, changing no other byte"
)]
pub struct Args {
    /// Read settings from this file (over the discovered .digestpin.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    format: Format,
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
    /// Show the settings in force.
    Config(ConfigArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StyleArg {
    /// `nginx@sha256:… # 1.25`
    Comment,
    /// `nginx:1.25@sha256:…`
    TagDigest,
}

#[derive(Debug, Clone, clap::Args)]
struct Paths {
    /// Files and directories to scan [default: .]
    paths: Vec<PathBuf>,
    /// Only read paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Walk hidden files and directories (the default; VCS metadata is never entered).
    #[arg(long, overrides_with = "no_hidden")]
    hidden: bool,
    /// Skip hidden files and directories.
    #[arg(long, overrides_with = "hidden")]
    no_hidden: bool,
    /// Also read files that `.gitignore` and `.ignore` exclude.
    #[arg(long)]
    no_ignore: bool,
}

#[derive(Debug, Clone, clap::Args)]
struct Rewrite {
    /// Print a unified diff of the change instead of writing it.
    #[arg(long, conflicts_with = "check")]
    diff: bool,
    /// Write nothing; exit 1 if anything would change.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Clone, clap::Args)]
struct CommitArgs {
    /// Make one git commit holding exactly the changed files (refused if one of them has changes of its own).
    #[arg(long, conflicts_with_all = ["diff", "check"])]
    commit: bool,
    /// The commit's subject line.
    #[arg(long, value_name = "SUBJECT", requires = "commit")]
    commit_message: Option<String>,
}

impl Rewrite {
    fn mode(&self) -> Mode {
        if self.diff {
            Mode::Diff
        } else if self.check {
            Mode::Check
        } else {
            Mode::Write
        }
    }
}

#[derive(Debug, clap::Args)]
struct PinArgs {
    #[command(flatten)]
    paths: Paths,
    #[command(flatten)]
    rewrite: Rewrite,
    #[command(flatten)]
    commit: CommitArgs,
    /// How a pinned reference is written [default: comment]
    #[arg(long, value_enum)]
    style: Option<StyleArg>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    paths: Paths,
    /// Also fail on `latest` and untagged references, pinned or not.
    #[arg(long)]
    deny_latest: bool,
    /// Images exempt from pinning, e.g. images built in the same pipeline (glob, repeatable).
    #[arg(long, value_name = "GLOB")]
    allow: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct UpdateArgs {
    #[command(flatten)]
    paths: Paths,
    #[command(flatten)]
    rewrite: Rewrite,
    #[command(flatten)]
    commit: CommitArgs,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    paths: Paths,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
struct UnpinArgs {
    #[command(flatten)]
    paths: Paths,
    #[command(flatten)]
    rewrite: Rewrite,
    /// Which pins to unpin: those `pin --style` of this value writes [default: the configured style, else comment]
    #[arg(long, value_enum)]
    style: Option<StyleArg>,
    /// Unpin pins of both styles.
    #[arg(long, conflicts_with = "style")]
    all: bool,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    paths: Paths,
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
struct ConfigArgs {
    /// Print the merged settings and the files they come from (the default).
    #[arg(long)]
    show: bool,
}

#[derive(Debug, clap::Args)]
struct RegistryArgs {
    /// Resolve to this platform's manifest inside a multi-platform index (e.g. linux/arm64, linux/arm/v7) instead of the index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<Platform>,
    /// Resolve references of registry HOST at URL (repeatable); HOST `*` maps every registry without a mapping of its own.
    // Parsed with the configuration's mirrors, so that an invalid one is
    // reported with its password hidden (clap would quote it whole).
    #[arg(long, value_name = "HOST=URL")]
    mirror: Vec<String>,
    /// Trust this extra CA certificate (PEM).
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Concurrent requests per registry [default: 8]
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Timeout of one request, in seconds [default: 30]
    #[arg(long)]
    timeout: Option<u64>,
    /// Retries of a request after a connection error, 5xx or 429 [default: 4]
    #[arg(long)]
    retries: Option<u32>,
    /// GET each manifest and check that its sha256 is the digest the registry's HEAD named.
    #[arg(long)]
    verify_digest: bool,
    /// Refuse any request to an address outside the loopback range (for tests).
    #[arg(
        long,
        hide = true,
        env = "DIGESTPIN_LOOPBACK_ONLY",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    loopback_only: bool,
}

impl RegistryArgs {
    /// The flags as a configuration layer.
    fn layer(&self) -> Config {
        Config {
            platform: self.platform.as_ref().map(ToString::to_string),
            mirrors: (!self.mirror.is_empty()).then(|| self.mirror.clone()),
            ca_file: self.ca_file.clone(),
            jobs: self.jobs,
            timeout: self.timeout,
            retries: self.retries,
            verify_digest: self.verify_digest.then_some(true),
            ..Config::default()
        }
    }
}

impl Paths {
    fn layer(&self) -> Config {
        Config {
            include: (!self.include.is_empty()).then(|| self.include.clone()),
            exclude: (!self.exclude.is_empty()).then(|| self.exclude.clone()),
            ..Config::default()
        }
    }
}

/// Everything a command needs from its settings.
struct Context {
    config: Config,
    report: Report,
    /// The files the walk found, for the removal of stale temporary files.
    walked: Vec<PathBuf>,
}

impl Context {
    fn new(global: &Global, flags: Config, mode: Mode, job: &'static str) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let (files, _) = Config::discover(&cwd, global.config.as_deref())?;
        Ok(Self {
            config: files.merged(flags),
            report: Report::new(mode, job, global.format),
            walked: Vec::new(),
        })
    }

    fn platform(&self) -> anyhow::Result<Option<Platform>> {
        self.config
            .platform
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("invalid platform in the configuration")
    }

    /// A progress bar on standard error, for people only: hidden when it is
    /// not a terminal, for machine formats, and for short runs.
    fn progress_bar(&self, total: u64, what: &'static str) -> Option<indicatif::ProgressBar> {
        if !self.report.is_human() || !std::io::stderr().is_terminal() || total < 50 {
            return None;
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} {pos}/{len} [{bar:30}] {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what);
        Some(bar)
    }

    fn resolver(&self, loopback_only: bool) -> anyhow::Result<Resolver> {
        let mirrors = self
            .config
            .mirrors
            .iter()
            .flatten()
            .map(|m| m.parse::<Mirror>())
            .collect::<Result<Vec<_>, _>>()?;
        let options = ResolverOptions {
            mirrors,
            ca_file: self.config.ca_file.clone(),
            jobs: self.config.jobs.unwrap_or(8).max(1),
            timeout: Duration::from_secs(self.config.timeout.unwrap_or(30).max(1)),
            retries: self.config.retries.unwrap_or(4),
            verify_digest: self.config.verify_digest.unwrap_or(false),
            loopback_only,
            ..ResolverOptions::default()
        };
        let mut resolver = Resolver::new(options).context("cannot set up the registry client")?;
        if self.report.is_human() && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::hidden();
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} resolving references {pos}/{len} [{bar:30}] {elapsed}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            resolver.set_progress(Box::new(move |done, total| {
                if bar.is_hidden() && total >= 20 {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                if done == total {
                    bar.finish_and_clear();
                    bar.reset();
                }
            }));
        }
        Ok(resolver)
    }

    /// Walks and scans; walk errors and unreadable files are reported here.
    fn scan(
        &mut self,
        paths: &Paths,
    ) -> anyhow::Result<(Vec<digestpin::scan::ScannedFile>, Vec<jobs::Message>, bool)> {
        let options = WalkOptions {
            includes: self.config.include.clone().unwrap_or_default(),
            excludes: self.config.exclude.clone().unwrap_or_default(),
            skip_hidden: paths.no_hidden,
            no_ignore: paths.no_ignore,
        };
        let walked = walk::walk(&paths.paths, &options)?;
        for error in &walked.errors {
            self.report.walk_error(error);
        }
        let bar = self.progress_bar(walked.files.len() as u64, "scanning files");
        let rules = digestpin::detect::rules::Rules::new(
            self.config.custom_resources.as_deref().unwrap_or_default(),
        )?;
        let (files, problems) = digestpin::scan::scan_walked(&walked, &rules, &mut |done| {
            if let Some(bar) = &bar {
                bar.set_position(done as u64);
            }
        });
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let messages: Vec<jobs::Message> = problems.into_iter().map(jobs::Message::from).collect();
        // A file that could not be read or is not text fails every command.
        let unread = messages
            .iter()
            .any(|m| matches!(m, jobs::Message::FileFailed { .. }));
        self.walked = walked.files;
        Ok((files, messages, !walked.errors.is_empty() || unread))
    }

    /// Writes or shows an outcome and picks the exit status. With `commit`
    /// (a default subject), the changed files are committed.
    fn finish(
        &mut self,
        mode: Mode,
        mut outcome: jobs::Outcome,
        mut messages: Vec<jobs::Message>,
        walk_failed: bool,
        commit: Option<(&CommitArgs, &str)>,
    ) -> anyhow::Result<Status> {
        let changed: Vec<PathBuf> = outcome.changes.iter().map(|c| c.path.clone()).collect();
        let committer = match commit {
            Some((args, _)) if args.commit && !changed.is_empty() => {
                let cwd = std::env::current_dir()?;
                let committer = Committer::open(&cwd)?;
                // Refuse before touching anything.
                committer.check_clean(&changed)?;
                Some(committer)
            }
            _ => None,
        };
        let body = commit_body(&outcome.messages);
        let unpinnable = outcome.has_unpinnable();
        messages.append(&mut outcome.messages);
        if mode == Mode::Write {
            remove_temporaries_on_signal();
            digestpin::edit::remove_stale_temporaries(&self.walked);
            let mut failures: Vec<jobs::Message> = digestpin::edit::write(&outcome.changes)
                .into_iter()
                .map(jobs::Message::from)
                .collect();
            outcome.summary.file_errors += failures.len();
            let wrote_all = failures.is_empty();
            // A file that was not written is not reported as changed.
            let unwritten: Vec<PathBuf> = failures
                .iter()
                .filter_map(|m| match m {
                    jobs::Message::FileFailed { path, .. } => Some(path.clone()),
                    _ => None,
                })
                .collect();
            outcome.changes.retain(|c| !unwritten.contains(&c.path));
            let before = messages.len();
            messages.retain(|m| match m {
                jobs::Message::Pinned { at, .. } | jobs::Message::Rewritten { at, .. } => {
                    !unwritten.contains(&at.path)
                }
                _ => true,
            });
            outcome.summary.changed = outcome
                .summary
                .changed
                .saturating_sub(before - messages.len());
            messages.append(&mut failures);
            if let (Some(committer), Some((args, subject))) = (&committer, commit)
                && wrote_all
            {
                let subject = args.commit_message.as_deref().unwrap_or(subject);
                let oid = committer.commit(&changed, &format!("{subject}\n\n{body}"))?;
                if self.report.is_human() {
                    let files = if changed.len() == 1 { "file" } else { "files" };
                    eprintln!("committed {} {files} as {oid}", changed.len());
                }
            }
        }
        self.report.messages(&messages);
        if mode == Mode::Diff {
            self.report.diff(&outcome.changes)?;
        }
        self.report.summary(&outcome.summary, &outcome.changes);
        Ok(if outcome.has_errors() || walk_failed {
            Status::Error
        } else if mode == Mode::Check && (!outcome.changes.is_empty() || unpinnable) {
            Status::Found
        } else {
            Status::Ok
        })
    }
}

/// From now on, SIGINT and SIGTERM remove the temporary file being written
/// before the process exits (with 130 or 143, as a shell reports them).
#[cfg(unix)]
fn remove_temporaries_on_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        return;
    };
    // Register before returning, so no write starts unguarded.
    let guard = runtime.enter();
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    drop(guard);
    std::thread::spawn(move || {
        let code = runtime.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
            }
        });
        // Holding the guard, no new temporary file is made before the exit.
        let _guard = digestpin::edit::remove_temporaries();
        std::process::exit(code);
    });
}

#[cfg(not(unix))]
fn remove_temporaries_on_signal() {}

/// The commit message body: one line per rewritten reference.
fn commit_body(messages: &[jobs::Message]) -> String {
    let mut lines = Vec::new();
    for message in messages {
        match message {
            jobs::Message::Pinned {
                at,
                reference,
                digest,
            } => lines.push(format!(
                "- {}:{}: {reference} -> {digest}",
                at.path.display(),
                at.line
            )),
            jobs::Message::Rewritten { at, from, to } => lines.push(format!(
                "- {}:{}: {from} -> {to}",
                at.path.display(),
                at.line
            )),
            _ => {}
        }
    }
    lines.join("\n") + "\n"
}

struct Global {
    config: Option<PathBuf>,
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    if args.format == Format::Markdown && !matches!(args.command, Command::List(_)) {
        anyhow::bail!("--format markdown is for `digestpin list`");
    }
    if matches!(args.format, Format::Sarif | Format::Github)
        && matches!(args.command, Command::Config(_))
    {
        anyhow::bail!(
            "`digestpin config` prints settings, not findings: use --format human or --format json"
        );
    }
    if args.format == Format::Github
        && matches!(args.command, Command::List(_) | Command::Resolve(_))
    {
        anyhow::bail!(
            "--format github prints annotations of findings, which `list` and `resolve` do not make: use --format human or --format json"
        );
    }
    let global = Global {
        config: args.config,
        format: args.format,
    };
    match args.command {
        Command::Pin(args) => run_pin(&global, &args),
        Command::Check(args) => run_check(&global, &args),
        Command::Update(args) => run_update(&global, &args),
        Command::Verify(args) => run_verify(&global, &args),
        Command::Unpin(args) => run_unpin(&global, &args),
        Command::List(args) => run_list(&global, &args),
        Command::Resolve(args) => run_resolve(&global, &args),
        Command::Config(args) => run_config(&global, &args),
    }
}

/// Prints the machine-readable document and returns the status.
fn done(ctx: &mut Context, status: Status) -> anyhow::Result<Status> {
    ctx.report.finish(status.code());
    Ok(status)
}

fn run_pin(global: &Global, args: &PinArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let mut flags = args.paths.layer().merged(args.registry.layer());
    flags.style = args.style.map(|s| match s {
        StyleArg::Comment => Style::Comment,
        StyleArg::TagDigest => Style::TagDigest,
    });
    let mut ctx = Context::new(global, flags, mode, "pin")?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let resolver = ctx.resolver(args.registry.loopback_only)?;
    let options = PinOptions {
        style: match ctx.config.style {
            Some(Style::TagDigest) => PinStyle::TagDigest,
            Some(Style::Comment) | None => PinStyle::Comment,
        },
        platform: ctx.platform()?,
        helm: match ctx.config.helm.style {
            Some(digestpin::config::HelmStyle::TagSuffix) => {
                digestpin::detect::helm::HelmStyle::TagSuffix
            }
            Some(digestpin::config::HelmStyle::Auto) | None => {
                digestpin::detect::helm::HelmStyle::Auto
            }
        },
    };
    let outcome = jobs::pin::plan(&files, &resolver, &options);
    let commit = Some((&args.commit, "Pin container images by digest"));
    let status = ctx.finish(mode, outcome, messages, walk_failed, commit)?;
    done(&mut ctx, status)
}

fn run_check(global: &Global, args: &CheckArgs) -> anyhow::Result<Status> {
    let mut flags = args.paths.layer();
    flags.policy.deny_latest = args.deny_latest.then_some(true);
    flags.policy.allow = (!args.allow.is_empty()).then(|| args.allow.clone());
    let mut ctx = Context::new(global, flags, Mode::Check, "check")?;
    let checker = jobs::check::Checker::new(&jobs::check::Policy {
        deny_latest: ctx.config.policy.deny_latest.unwrap_or(false),
        allow: ctx.config.policy.allow.clone().unwrap_or_default(),
    })?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let violations = jobs::check::check(&files, &checker);
    ctx.report.violations(&violations);
    ctx.report.messages(&messages);
    let status = Status::of(walk_failed, !violations.is_empty());
    done(&mut ctx, status)
}

fn run_update(global: &Global, args: &UpdateArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let flags = args.paths.layer().merged(args.registry.layer());
    let mut ctx = Context::new(global, flags, mode, "update")?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let resolver = ctx.resolver(args.registry.loopback_only)?;
    let outcome = jobs::update::update(&files, &resolver);
    let commit = Some((&args.commit, "Update pinned image digests"));
    let status = ctx.finish(mode, outcome, messages, walk_failed, commit)?;
    done(&mut ctx, status)
}

fn run_verify(global: &Global, args: &VerifyArgs) -> anyhow::Result<Status> {
    let flags = args.paths.layer().merged(args.registry.layer());
    let mut ctx = Context::new(global, flags, Mode::Check, "verify")?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let resolver = ctx.resolver(args.registry.loopback_only)?;
    let (checked, findings) = jobs::verify::verify(&files, &resolver);
    ctx.report.verified(checked, &findings);
    ctx.report.messages(&messages);
    let failed = findings
        .iter()
        .any(|f| matches!(f.problem, jobs::verify::Problem::Failed(_)));
    let status = Status::of(walk_failed || failed, !findings.is_empty());
    done(&mut ctx, status)
}

fn run_unpin(global: &Global, args: &UnpinArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let mut flags = args.paths.layer();
    flags.style = args.style.map(|s| match s {
        StyleArg::Comment => Style::Comment,
        StyleArg::TagDigest => Style::TagDigest,
    });
    let mut ctx = Context::new(global, flags, mode, "unpin")?;
    let style = match (args.all, ctx.config.style) {
        (true, _) => jobs::unpin::UnpinStyle::All,
        (false, Some(Style::TagDigest)) => jobs::unpin::UnpinStyle::TagDigest,
        (false, Some(Style::Comment) | None) => jobs::unpin::UnpinStyle::Comment,
    };
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let outcome = jobs::unpin::unpin(&files, style);
    let status = ctx.finish(mode, outcome, messages, walk_failed, None)?;
    done(&mut ctx, status)
}

fn run_list(global: &Global, args: &ListArgs) -> anyhow::Result<Status> {
    let mut ctx = Context::new(global, args.paths.layer(), Mode::Check, "list")?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let entries = jobs::list::list(&files);
    if global.format == Format::Markdown {
        ctx.report.list_markdown(&entries);
    } else {
        ctx.report.list(&entries);
    }
    ctx.report.messages(&messages);
    let status = if walk_failed {
        Status::Error
    } else {
        Status::Ok
    };
    done(&mut ctx, status)
}

fn run_config(global: &Global, args: &ConfigArgs) -> anyhow::Result<Status> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let (config, sources) = Config::discover(&cwd, global.config.as_deref())?;
    // Showing is the only thing `config` does; `--show` says so explicitly.
    let ConfigArgs { show: _ } = args;
    // A mirror URL's password is never shown.
    let mut config = config;
    if let Some(mirrors) = config.mirrors.as_mut() {
        for mirror in mirrors.iter_mut() {
            *mirror = digestpin::registry::redact_mirror(mirror);
        }
    }
    // Every setting, the defaults included, under what the files say.
    let settings = Config::defaults().merged(config);
    if global.format == Format::Json {
        let document = serde_json::json!({
            "settings": settings,
            "sources": sources.iter().map(|s| display(s, &cwd)).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&document)?;
        print_stdout(&format!("{text}\n"));
        return Ok(Status::Ok);
    }
    let mut text = String::new();
    if sources.is_empty() {
        text.push_str(&format!(
            "# no {} found; defaults in force\n",
            config::FILE_NAME
        ));
    }
    for source in &sources {
        text.push_str(&format!("# from {}\n", display(source, &cwd)));
    }
    text.push_str(&settings.to_toml());
    print_stdout(&text);
    Ok(Status::Ok)
}

fn display(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn run_resolve(global: &Global, args: &ResolveArgs) -> anyhow::Result<Status> {
    let mut ctx = Context::new(global, args.registry.layer(), Mode::Check, "resolve")?;
    let platform = ctx.platform()?;
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for text in &args.references {
        match Reference::parse(text) {
            Ok(reference) => parsed.push((text, reference)),
            Err(err) => errors.push((text, err.to_string())),
        }
    }
    let resolver = ctx.resolver(args.registry.loopback_only)?;
    let keys: Vec<_> = parsed
        .iter()
        .filter(|(_, r)| r.digest().is_none())
        .map(|(_, r)| jobs::pin::resolve_key(r, platform.as_ref()))
        .collect();
    let results = resolver.resolve_all(&keys);
    // In the order given on the command line.
    let mut lines = Vec::new();
    for text in &args.references {
        if let Some((_, err)) = errors.iter().find(|(t, _)| *t == text) {
            lines.push((text.clone(), Err(err.clone())));
            continue;
        }
        let Some((_, reference)) = parsed.iter().find(|(t, _)| *t == text) else {
            continue;
        };
        let result = if let Some(digest) = reference.digest() {
            Ok(digest.to_string())
        } else {
            match results.get(&jobs::pin::resolve_key(reference, platform.as_ref())) {
                Some(Ok(resolved)) => Ok(resolved.digest.clone()),
                Some(Err(err)) => Err(err.to_string()),
                None => Err("not resolved".to_string()),
            }
        };
        lines.push((text.clone(), result));
    }
    let platform = platform.as_ref().map(ToString::to_string);
    ctx.report.resolved(&lines, platform.as_deref());
    let failed = lines.iter().any(|(_, r)| r.is_err());
    done(&mut ctx, Status::of(failed, false))
}
