//! What every command shares: the merged configuration, the report, the
//! registry client, the walk and scan, and the writing (and committing) of an
//! outcome with the exit status it makes.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;

use digestpin::commit::Committer;
use digestpin::config::Config;
use digestpin::job::{JobKind, Mode};
use digestpin::jobs;
use digestpin::registry::{CacheOptions, Resolver, ResolverOptions, TraceEvent};
use digestpin::scan::ScannedFile;
use digestpin::settings::Settings;
use digestpin::walk::{self, WalkOptions};

use super::args::{CommitArgs, Paths, RegistryArgs};
use super::{Global, Status};
use crate::report::{Report, Verbosity};

/// Everything a command needs from its settings.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    pub(crate) report: Report,
    /// The files the walk found, for the removal of stale temporary files.
    pub(crate) walked: Vec<PathBuf>,
    /// `--verbose`: requests by endpoint and method.
    requests: Arc<Mutex<RequestCounts>>,
    /// `--commit`: the message body, when not one line per rewrite.
    pub(crate) commit_body: Option<String>,
    job: JobKind,
}

/// Requests sent, by endpoint (`scheme://host:port`) and method.
type RequestCounts = BTreeMap<String, BTreeMap<String, usize>>;

impl Context {
    pub(crate) fn new(
        global: &Global,
        flags: Config,
        mode: Mode,
        job: JobKind,
    ) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let files = Config::discover_layers(&cwd, global.config.as_deref())?;
        let mut report = Report::new(mode, job, global.format);
        report.set_output(global.color, global.verbosity);
        Ok(Self {
            settings: Settings::resolve(&files, Config::from_environment(), flags)?,
            report,
            walked: Vec::new(),
            requests: Arc::default(),
            commit_body: None,
            job,
        })
    }

    /// `--verbose`: the requests sent, per endpoint, after the run.
    pub(crate) fn request_counts(&self) {
        if self.report.verbosity() != Verbosity::Verbose {
            return;
        }
        let counts = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for line in crate::report::request_counts(&counts) {
            crate::report::note(self.report.format(), &line);
        }
    }

    /// Whether progress bars may be drawn: people watching a terminal, not
    /// asking for quiet.
    fn shows_progress(&self) -> bool {
        self.report.is_human()
            && std::io::stderr().is_terminal()
            && self.report.verbosity() == Verbosity::Normal
    }

    /// A progress bar on standard error, for people only: hidden when it is
    /// not a terminal, for machine formats, and for short runs.
    pub(crate) fn progress_bar(
        &self,
        total: u64,
        what: &'static str,
    ) -> Option<indicatif::ProgressBar> {
        if !self.shows_progress() || total < 50 {
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

    pub(crate) fn resolver(&mut self, flags: &RegistryArgs) -> anyhow::Result<Resolver> {
        let loopback_only = flags.loopback_only;
        let cache = self.cache_options(flags.offline)?;
        let settings = &self.settings;
        let options = ResolverOptions {
            mirrors: settings.mirrors.clone(),
            ca_file: settings.ca_file.clone(),
            jobs: settings.jobs,
            timeout: settings.timeout,
            retries: settings.retries,
            verify_digest: settings.verify_digest,
            loopback_only,
            cache,
            ..ResolverOptions::default()
        };
        let mut resolver = Resolver::new(options).context("cannot set up the registry client")?;
        if self.report.verbosity() == Verbosity::Verbose {
            let format = self.report.format();
            let requests = Arc::clone(&self.requests);
            resolver.set_trace(Arc::new(move |event| {
                if let TraceEvent::Request { method, url, .. } = event {
                    let endpoint = url::Url::parse(url)
                        .map(|u| u.origin().ascii_serialization())
                        .unwrap_or_else(|_| url.clone());
                    let mut counts = requests.lock().unwrap_or_else(|e| e.into_inner());
                    *counts
                        .entry(endpoint)
                        .or_default()
                        .entry(method.clone())
                        .or_default() += 1;
                }
                crate::report::note(format, &crate::report::trace_line(event));
            }));
        }
        if self.shows_progress() {
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

    /// The cache the resolver uses: none with `--cache-ttl 0`, or when no
    /// cache directory is known (said in a note); `--offline` needs one.
    fn cache_options(&mut self, offline: bool) -> anyhow::Result<Option<CacheOptions>> {
        let ttl = self.settings.cache_ttl;
        if ttl.is_zero() {
            anyhow::ensure!(
                !offline,
                "--offline answers from the cache, which a cache-ttl of 0 turns off"
            );
            return Ok(None);
        }
        let Some(dir) = digestpin::registry::cache::default_dir() else {
            anyhow::ensure!(
                !offline,
                "--offline: no cache directory (set DIGESTPIN_CACHE_DIR, XDG_CACHE_HOME or HOME)"
            );
            self.report.cache_unavailable(
                "no cache directory (set DIGESTPIN_CACHE_DIR, XDG_CACHE_HOME or HOME): answers are not cached",
            );
            return Ok(None);
        };
        Ok(Some(CacheOptions {
            dir,
            ttl,
            offline,
            revalidate: matches!(
                self.job,
                JobKind::Update | JobKind::Verify | JobKind::Resolve
            ),
        }))
    }

    /// `[helm] style` and `[helm] reads-digest`, as the jobs take them.
    pub(crate) fn helm_options(&self) -> anyhow::Result<digestpin::helm::HelmOptions> {
        Ok(digestpin::helm::HelmOptions {
            style: match self.settings.helm_style {
                digestpin::config::HelmStyle::TagSuffix => digestpin::helm::HelmStyle::TagSuffix,
                digestpin::config::HelmStyle::Auto => digestpin::helm::HelmStyle::Auto,
            },
            reads_digest: digestpin::helm::ReadsDigest::new(&self.settings.helm_reads_digest)?,
        })
    }

    /// Walks and scans; walk errors and unreadable files are reported here.
    pub(crate) fn scan(
        &mut self,
        paths: &Paths,
    ) -> anyhow::Result<(Vec<ScannedFile>, Vec<jobs::Message>, bool)> {
        self.scan_with(paths, &|file| file)
    }

    /// [`Self::scan`], passing each scanned file through `map` on the
    /// thread that scanned it (a job that keeps only a summary of each file
    /// never holds them all).
    pub(crate) fn scan_with<T: Send>(
        &mut self,
        paths: &Paths,
        map: &(dyn Fn(ScannedFile) -> T + Sync),
    ) -> anyhow::Result<(Vec<T>, Vec<jobs::Message>, bool)> {
        let options = WalkOptions {
            includes: self.settings.include.clone(),
            excludes: self.settings.exclude.clone(),
            skip_hidden: paths.no_hidden,
            no_ignore: paths.no_ignore,
        };
        let walked = walk::walk(&paths.paths, &options)?;
        for error in &walked.errors {
            self.report.walk_error(error);
        }
        let bar = self.progress_bar(walked.files.len() as u64, "scanning files");
        let rules = digestpin::detect::rules::Rules::new(&self.settings.custom_resources)?;
        let (files, problems) = digestpin::scan::scan_walked_with(
            &walked,
            &rules,
            &mut |done| {
                if let Some(bar) = &bar {
                    bar.set_position(done as u64);
                }
            },
            map,
        );
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
    pub(crate) fn finish(
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
        let body = self
            .commit_body
            .take()
            .unwrap_or_else(|| commit_body(&outcome.messages));
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
                self.report.committed(changed.len(), &oid.to_string());
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
