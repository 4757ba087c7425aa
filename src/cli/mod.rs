//! Command-line flags and the commands they run.
//!
//! Each command resolves its flags and the configuration files into one
//! [`digestpin::settings::Settings`], runs the library, hands the results to the report
//! layer and turns the outcome into an exit status: 0 done or nothing to do,
//! 1 a check found something, 2 an error.

mod args;
mod context;
mod history;
mod retag;
mod tags;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use digestpin::config::Config;
use digestpin::edit::PinStyle;
use digestpin::job::{JobKind, Mode};
use digestpin::jobs::{self, pin::PinOptions};
use digestpin::reference::Reference;
use digestpin::settings::{Settings, Source};

pub use args::Args;
use args::{
    CacheCommand, CheckArgs, Command, ConfigArgs, ListArgs, ManArgs, PinArgs, ResolveArgs,
    UnpinArgs, UpdateArgs, VerifyArgs,
};
use context::Context;

use crate::report::{ColorChoice, Format, Report, Verbosity};

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
    pub(crate) fn of(error: bool, found: bool) -> Status {
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
pub(crate) struct Global {
    pub(crate) config: Option<PathBuf>,
    pub(crate) format: Format,
    pub(crate) color: ColorChoice,
    pub(crate) verbosity: Verbosity,
}

pub fn run(args: Args) -> anyhow::Result<Status> {
    match &args.command {
        Command::Completions(completions) => return Ok(print_completions(completions.shell)),
        Command::Man(args) => return print_man(args),
        _ => {}
    }
    if args.format == Format::Markdown
        && !matches!(
            args.command,
            Command::List(_) | Command::History(_) | Command::Promote(_)
        )
    {
        anyhow::bail!(
            "--format markdown is for `digestpin list`, `digestpin history` and `digestpin promote`"
        );
    }
    if matches!(args.format, Format::Sarif | Format::Github)
        && matches!(args.command, Command::History(_))
    {
        anyhow::bail!(
            "`digestpin history` lists past changes, not findings to annotate: use --format human, json or markdown"
        );
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
    if let Command::Retag(_) = args.command {
        retag::check_format(args.format)?;
    }
    let global = Global {
        config: args.config,
        format: args.format,
        color: args.color,
        verbosity: match (args.quiet, args.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        },
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
        Command::Cache(command) => run_cache(&global, &command),
        Command::Retag(args) => retag::run(&global, &args),
        Command::Completions(_) | Command::Man(_) => unreachable!("handled above"),
        Command::History(args) => history::run_history(&global, &args),
        Command::Set(args) => history::run_set(&global, &args),
        Command::Rollback(args) => history::run_rollback(&global, &args),
        Command::Promote(args) => history::run_promote(&global, &args),
    }
}

/// `digestpin completions SHELL`: the script clap_complete makes from the
/// flags' definition.
fn print_completions(shell: clap_complete::Shell) -> Status {
    use clap::CommandFactory as _;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "digestpin", &mut out);
    crate::report::print_stdout(&String::from_utf8_lossy(&out));
    Status::Ok
}

/// `digestpin man`: the manual pages clap_mangen makes from the flags'
/// definition, one per command (digestpin.1 lists them, and adds the exit
/// status, the environment and the files read).
fn print_man(args: &ManArgs) -> anyhow::Result<Status> {
    use clap::CommandFactory as _;
    let mut top = Args::command().disable_help_subcommand(true);
    top.build();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_man_pages(&top, true, dir)?;
        return Ok(Status::Ok);
    }
    let mut page = &top;
    for word in &args.command {
        let commands = || page.get_subcommands().filter(|c| !c.is_hide_set());
        page = commands().find(|c| c.get_name() == word).ok_or_else(|| {
            let names: Vec<&str> = commands().map(clap::Command::get_name).collect();
            anyhow::anyhow!(
                "`{}` has no command `{word}`: one of {}",
                page.get_bin_name().unwrap_or(page.get_name()),
                names.join(", ")
            )
        })?;
    }
    let text = man_page(page, args.command.is_empty())?;
    crate::report::print_stdout(&String::from_utf8_lossy(&text));
    Ok(Status::Ok)
}

/// Writes the page of `command` and of each command under it into `dir`.
fn write_man_pages(command: &clap::Command, top: bool, dir: &Path) -> anyhow::Result<()> {
    let name = clap_mangen::Man::new(command.clone()).get_filename();
    let path = dir.join(name);
    std::fs::write(&path, man_page(command, top)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    for sub in command.get_subcommands().filter(|c| !c.is_hide_set()) {
        write_man_pages(sub, false, dir)?;
    }
    Ok(())
}

/// One manual page; digestpin's own (`top`) with [`MAN_SECTIONS`] before
/// its version.
fn man_page(command: &clap::Command, top: bool) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    if top {
        let text = String::from_utf8_lossy(&out);
        let at = text.find(".SH VERSION").unwrap_or(text.len());
        out = format!("{}{MAN_SECTIONS}{}", &text[..at], &text[at..]).into_bytes();
    }
    Ok(out)
}

/// The sections of digestpin(1) that the flags cannot say (roff).
const MAN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Done, or nothing to do.
.TP
\fB1\fR
A check found something: \fB\-\-check\fR found work, \fBcheck\fR found references not pinned by digest, \fBverify\fR found a moved tag or a missing digest.
.TP
\fB2\fR
An error: a reference that did not resolve, a file that could not be read or written, a bad flag or setting.
.SH ENVIRONMENT
.TP
\fBDIGESTPIN_CACHE_DIR\fR
The cache directory (else \fB$XDG_CACHE_HOME/digestpin\fR, else \fB~/.cache/digestpin\fR; \fB~/Library/Caches/digestpin\fR on macOS, \fB%LOCALAPPDATA%\\digestpin\fR on Windows).
.TP
\fBDIGESTPIN_CACHE_TTL\fR
How long a tag's answer is used from the cache, over the configuration files and under \fB\-\-cache\-ttl\fR; empty is unset.
.TP
\fBDOCKER_CONFIG\fR
The directory of Docker's \fBconfig.json\fR, whose \fBauths\fR, \fBcredHelpers\fR and \fBcredsStore\fR give registry credentials (default \fB~/.docker\fR).
.TP
\fBNO_COLOR\fR
No colour (\fB\-\-color\fR wins over it).
.TP
\fBHTTPS_PROXY\fR, \fBHTTP_PROXY\fR, \fBALL_PROXY\fR, \fBNO_PROXY\fR
The proxy registry requests go through, as curl reads them.
.SH FILES
.TP
\fB.digestpin.toml\fR
Settings, found by walking up from the working directory, or the file named by \fB\-\-config\fR; flags win over the environment, which wins over the files.
.TP
\fB~/.docker/config.json\fR
Registry credentials (see \fBDOCKER_CONFIG\fR).
"#;

/// Prints the machine-readable document and returns the status.
pub(crate) fn done(ctx: &mut Context, status: Status) -> anyhow::Result<Status> {
    ctx.request_counts();
    ctx.report.finish(status.code());
    Ok(status)
}

fn run_pin(global: &Global, args: &PinArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let mut flags = args.paths.layer().merged(args.registry.layer());
    flags.style = args.style;
    let mut ctx = Context::new(global, flags, mode, JobKind::Pin)?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let resolver = ctx.resolver(&args.registry)?;
    let helm = ctx.helm_options()?;
    let options = PinOptions {
        style: ctx.settings.style,
        platform: ctx.settings.platform.clone(),
        helm: helm.style,
        helm_reads_digest: helm.reads_digest,
    };
    let outcome = jobs::pin::plan(&files, &resolver, &options);
    let cached = pinned_from_cache(&outcome.messages, &resolver);
    let commit = Some((&args.commit, "Pin container images by digest"));
    let status = ctx.finish(mode, outcome, messages, walk_failed, commit)?;
    ctx.report.mark_cached_at(&cached);
    ctx.report
        .cache_used(resolver.cache_use().as_ref(), args.registry.offline);
    done(&mut ctx, status)
}

fn run_check(global: &Global, args: &CheckArgs) -> anyhow::Result<Status> {
    let mut flags = args.paths.layer();
    flags.policy.deny_latest = args.deny_latest.then_some(true);
    flags.policy.allow = (!args.allow.is_empty()).then(|| args.allow.clone());
    let mut ctx = Context::new(global, flags, Mode::Check, JobKind::Check)?;
    let checker = jobs::check::Checker::new(&jobs::check::Policy {
        deny_latest: ctx.settings.deny_latest,
        allow: ctx.settings.allow.clone(),
    })?;
    // Each file's violations, and how many values it holds where an image
    // belongs (counted as pin counts what it found).
    let (judged, messages, walk_failed) = ctx.scan_with(&args.paths, &|file| {
        (
            jobs::check::check_file(&file, &checker),
            file.findings.len(),
        )
    })?;
    let references: usize = judged.iter().map(|(_, n)| n).sum();
    let files = judged.iter().filter(|(_, n)| *n > 0).count();
    let violations: Vec<_> = judged.into_iter().flat_map(|(v, _)| v).collect();
    ctx.report.violations(&violations);
    ctx.report.messages(&messages);
    if violations.is_empty() && !walk_failed {
        ctx.report.all_pinned(references, files);
    }
    let status = Status::of(walk_failed, !violations.is_empty());
    done(&mut ctx, status)
}

fn run_update(global: &Global, args: &UpdateArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let flags = args.paths.layer().merged(args.registry.layer());
    let mut ctx = Context::new(global, flags, mode, JobKind::Update)?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let resolver = ctx.resolver(&args.registry)?;
    let outcome = jobs::update::update(&files, &resolver);
    let commit = Some((&args.commit, "Update pinned image digests"));
    let status = ctx.finish(mode, outcome, messages, walk_failed, commit)?;
    ctx.report
        .cache_used(resolver.cache_use().as_ref(), args.registry.offline);
    done(&mut ctx, status)
}

fn run_verify(global: &Global, args: &VerifyArgs) -> anyhow::Result<Status> {
    let flags = args.paths.layer().merged(args.registry.layer());
    let mut ctx = Context::new(global, flags, Mode::Check, JobKind::Verify)?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let resolver = ctx.resolver(&args.registry)?;
    let (checked, findings) = jobs::verify::verify(&files, &resolver);
    if args.provenance {
        let found = jobs::provenance::of_verified(&findings, &resolver);
        ctx.report.set_provenance(found);
    }
    ctx.report.verified(checked, &findings);
    ctx.report.messages(&messages);
    let failed = findings
        .iter()
        .any(|f| matches!(f.problem, jobs::verify::Problem::Failed(_)))
        | ctx.report.provenance_failures();
    let status = Status::of(walk_failed || failed, !findings.is_empty());
    ctx.report
        .cache_used(resolver.cache_use().as_ref(), args.registry.offline);
    done(&mut ctx, status)
}

fn run_unpin(global: &Global, args: &UnpinArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let mut flags = args.paths.layer();
    flags.style = args.style;
    let mut ctx = Context::new(global, flags, mode, JobKind::Unpin)?;
    let style = match (args.all, ctx.settings.style) {
        (true, _) => jobs::unpin::UnpinStyle::All,
        (false, PinStyle::TagDigest) => jobs::unpin::UnpinStyle::TagDigest,
        (false, PinStyle::Comment) => jobs::unpin::UnpinStyle::Comment,
    };
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let reads_digest = ctx.helm_options()?.reads_digest;
    let outcome = jobs::unpin::unpin_with(&files, style, &reads_digest);
    let status = ctx.finish(mode, outcome, messages, walk_failed, None)?;
    done(&mut ctx, status)
}

fn run_list(global: &Global, args: &ListArgs) -> anyhow::Result<Status> {
    let flags = args.paths.layer().merged(args.registry.layer());
    let mut ctx = Context::new(global, flags, Mode::Check, JobKind::List)?;
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let entries = jobs::list::list(&files);
    if args.provenance {
        let resolver = ctx.resolver(&args.registry)?;
        let found = jobs::provenance::of_entries(&entries, &resolver);
        ctx.report.set_provenance(found);
    }
    if global.format == Format::Markdown {
        ctx.report.list_markdown(&entries);
    } else {
        ctx.report.list(&entries);
    }
    ctx.report.messages(&messages);
    let status = if walk_failed | ctx.report.provenance_failures() {
        Status::Error
    } else {
        Status::Ok
    };
    done(&mut ctx, status)
}

fn run_config(global: &Global, args: &ConfigArgs) -> anyhow::Result<Status> {
    // Showing is the only thing `config` does; `--show` says so explicitly.
    let ConfigArgs { show: _ } = args;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let files = Config::discover_layers(&cwd, global.config.as_deref())?;
    // Every setting, the defaults included, under what the files say.
    let settings = Settings::resolve(&files, Config::from_environment(), Config::default())?;
    let sources: Vec<String> = settings.files().map(|s| display(s, &cwd)).collect();
    let mut report = Report::new(Mode::Check, JobKind::Config, global.format);
    report.set_output(global.color, global.verbosity);
    let origin = |key: &str| match settings.source(key) {
        Some(Source::File(path)) => format!("from {}", display(path, &cwd)),
        Some(Source::Environment(variable)) => format!("from {variable}"),
        Some(Source::Flag) => "from a flag".to_string(),
        Some(Source::Default) | None => "default".to_string(),
    };
    report.settings(&settings.shown(), &sources, &origin)?;
    Ok(Status::Ok)
}

/// Where `pin` pinned a reference with a digest the cache gave.
fn pinned_from_cache(
    messages: &[jobs::Message],
    resolver: &digestpin::registry::Resolver,
) -> Vec<jobs::Location> {
    messages
        .iter()
        .filter_map(|message| match message {
            jobs::Message::Pinned {
                at,
                reference,
                digest,
            } => {
                let parsed = Reference::parse(reference).ok()?;
                let tag = parsed.tag().unwrap_or("latest");
                resolver
                    .digest_from_cache(parsed.registry(), parsed.repository(), tag, digest)
                    .then(|| at.clone())
            }
            _ => None,
        })
        .collect()
}

/// `cache clean` and `cache dir`: the directory of [`digestpin::registry::cache`].
fn run_cache(global: &Global, command: &CacheCommand) -> anyhow::Result<Status> {
    anyhow::ensure!(
        global.format == Format::Human,
        "`digestpin cache` prints for people: use --format human"
    );
    let dir = digestpin::registry::cache::default_dir()
        .context("no cache directory: set DIGESTPIN_CACHE_DIR, XDG_CACHE_HOME or HOME")?;
    // The job kind shapes findings and summaries, which `cache` has none of.
    let mut report = Report::new(Mode::Check, JobKind::Config, global.format);
    report.set_output(global.color, global.verbosity);
    match command {
        CacheCommand::Dir => report.cache_dir(&dir),
        CacheCommand::Clean => {
            let removed = digestpin::registry::cache::clean(&dir)
                .with_context(|| format!("cannot empty the cache {}", dir.display()))?;
            report.cache_cleaned(&dir, removed);
        }
    }
    Ok(Status::Ok)
}

fn display(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn run_resolve(global: &Global, args: &ResolveArgs) -> anyhow::Result<Status> {
    if args.tags {
        return tags::run(global, args);
    }
    let mut ctx = Context::new(global, args.registry.layer(), Mode::Check, JobKind::Resolve)?;
    let platform = ctx.settings.platform.clone();
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for text in &args.references {
        match Reference::parse(text) {
            Ok(reference) => parsed.push((text, reference)),
            Err(err) => errors.push((text, err.to_string())),
        }
    }
    let resolver = ctx.resolver(&args.registry)?;
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
    let cached: Vec<String> = parsed
        .iter()
        .filter(|(_, r)| {
            r.digest().is_none()
                && resolver
                    .answered_from_cache(&jobs::pin::resolve_key(r, ctx.settings.platform.as_ref()))
        })
        .map(|(text, _)| (*text).clone())
        .collect();
    ctx.report.mark_cached(&cached);
    ctx.report
        .cache_used(resolver.cache_use().as_ref(), args.registry.offline);
    let failed = lines.iter().any(|(_, r)| r.is_err());
    done(&mut ctx, Status::of(failed, false))
}
