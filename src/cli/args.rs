//! The command line as clap parses it: global flags, one struct of flags per
//! command, and the configuration layer each group of flags makes.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use digestpin::config::Config;
use digestpin::edit::PinStyle;
use digestpin::job::Mode;
use digestpin::registry::Platform;

use crate::report::{ColorChoice, Format};

#[derive(Debug, Parser)]
#[command(
    name = "digestpin",
    version = env!("DIGESTPIN_VERSION"),
    about = "Pin container image tags to digests in Kubernetes and Compose files, changing no other byte"
)]
pub struct Args {
    /// Read settings from this file (over the discovered .digestpin.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub(crate) format: Format,
    /// Print only errors and what a check finds (no per-reference lines, summaries or progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Also print each registry request with its status and time, each resolution, and the requests per registry.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    /// When to colour the output (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub(crate) color: ColorChoice,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// The on-disk cache of registry answers: `clean` empties it, `dir` prints where it is.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Put the manifest (or index) a digest names under other tags of its repository: promotion without a rebuild.
    Retag(RetagArgs),
    /// Print a shell completion script (e.g. `digestpin completions bash > /etc/bash_completion.d/digestpin`).
    Completions(CompletionsArgs),
    /// Print a manual page (roff): `digestpin man > digestpin.1`; `digestpin man pin` for a command's own; `--dir DIR` writes them all.
    Man(ManArgs),
    /// List every change of a pinned reference in the git history, newest first.
    History(HistoryArgs),
    /// Set every reference to IMAGE to the digest given.
    Set(SetArgs),
    /// Set IMAGE back to the digest it had before its last change in git history.
    Rollback(RollbackArgs),
    /// Write the digests pinned in one directory to the same images in another.
    Promote(PromoteArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum CacheCommand {
    /// Remove every cached answer.
    Clean,
    /// Print the cache directory.
    Dir,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// The command whose page to print, e.g. `pin` or `cache clean` [default: digestpin's own page]
    #[arg(value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
    /// Write every page into DIR (digestpin.1, digestpin-pin.1, …) instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub(crate) dir: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Paths {
    /// Files and directories to scan [default: .]
    pub(crate) paths: Vec<PathBuf>,
    /// Only read paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,
    /// Never read paths matching this glob (gitignore syntax; also applies to files named explicitly).
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Walk hidden files and directories (the default; VCS metadata is never entered).
    #[arg(long, overrides_with = "no_hidden")]
    pub(crate) hidden: bool,
    /// Skip hidden files and directories.
    #[arg(long, overrides_with = "hidden")]
    pub(crate) no_hidden: bool,
    /// Also read files that `.gitignore` and `.ignore` exclude.
    #[arg(long)]
    pub(crate) no_ignore: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Rewrite {
    /// Print a unified diff of the change instead of writing it.
    #[arg(long, conflicts_with = "check")]
    pub(crate) diff: bool,
    /// Write nothing; exit 1 if anything would change.
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CommitArgs {
    /// Make one git commit holding exactly the changed files (refused if one of them has changes of its own).
    #[arg(long, conflicts_with_all = ["diff", "check"])]
    pub(crate) commit: bool,
    /// The commit's subject line.
    #[arg(long, value_name = "SUBJECT", requires = "commit")]
    pub(crate) commit_message: Option<String>,
}

impl Rewrite {
    pub(crate) fn mode(&self) -> Mode {
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
pub(crate) struct PinArgs {
    #[command(flatten)]
    pub(crate) paths: Paths,
    #[command(flatten)]
    pub(crate) rewrite: Rewrite,
    #[command(flatten)]
    pub(crate) commit: CommitArgs,
    /// How a pinned reference is written [default: comment]
    #[arg(long, value_enum)]
    pub(crate) style: Option<PinStyle>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) paths: Paths,
    /// Also fail on `latest` and untagged references, pinned or not.
    #[arg(long)]
    pub(crate) deny_latest: bool,
    /// Images exempt from pinning, e.g. images built in the same pipeline (glob, repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) allow: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    pub(crate) paths: Paths,
    #[command(flatten)]
    pub(crate) rewrite: Rewrite,
    #[command(flatten)]
    pub(crate) commit: CommitArgs,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) paths: Paths,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// Also show each finding's OCI provenance (revision, source, version, created).
    #[arg(long)]
    pub(crate) provenance: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct UnpinArgs {
    #[command(flatten)]
    pub(crate) paths: Paths,
    #[command(flatten)]
    pub(crate) rewrite: Rewrite,
    /// Which pins to unpin: those `pin --style` of this value writes [default: the configured style, else comment]
    #[arg(long, value_enum)]
    pub(crate) style: Option<PinStyle>,
    /// Unpin pins of both styles.
    #[arg(long, conflicts_with = "style")]
    pub(crate) all: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) paths: Paths,
    /// Read each pinned digest's OCI provenance (revision, source, version, created) from its registry.
    #[arg(long)]
    pub(crate) provenance: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResolveArgs {
    /// Image references, e.g. `nginx:1.25` or `ghcr.io/org/app:v1`.
    #[arg(required = true)]
    pub(crate) references: Vec<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// List the repository's other tags that name the same digest (`latest` → `2.4.1, 2.4, 2`).
    #[arg(long, conflicts_with = "platform")]
    pub(crate) tags: bool,
    /// With --tags: compare only the tags matching this glob (repeatable).
    #[arg(long, value_name = "GLOB", requires = "tags")]
    pub(crate) tags_matching: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RetagArgs {
    /// The image to promote, by digest: `registry/repository@sha256:…`.
    pub(crate) image: String,
    /// The tags to point at it, in the same repository.
    #[arg(required = true)]
    pub(crate) tags: Vec<String>,
    /// Say what would move (each tag's current digest), change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ConfigArgs {
    /// Print the merged settings and the files they come from (the default).
    #[arg(long)]
    pub(crate) show: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HistoryArgs {
    /// Images to show, in any spelling (`nginx` is `docker.io/library/nginx`) [default: all]
    pub(crate) images: Vec<String>,
    /// Files and directories to read the history of, after `--` [default: .]
    #[arg(last = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Only changes committed on or after this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) since: Option<String>,
    /// Show at most this many changes.
    #[arg(long, short = 'n', value_name = "N")]
    pub(crate) max_count: Option<usize>,
    /// Read each new digest's OCI provenance (revision, source, version, created) from its registry.
    #[arg(long)]
    pub(crate) provenance: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SetArgs {
    /// The image and its digest, `IMAGE@sha256:…` (a tag in it, `IMAGE:TAG@sha256:…`, is the tag comment).
    #[arg(value_name = "IMAGE@DIGEST")]
    pub(crate) reference: String,
    #[command(flatten)]
    pub(crate) paths: Paths,
    #[command(flatten)]
    pub(crate) rewrite: Rewrite,
    #[command(flatten)]
    pub(crate) commit: CommitArgs,
    /// The tag comment to write [default: the tag in IMAGE@DIGEST, else the old comment is dropped]
    #[arg(long, value_name = "TAG")]
    pub(crate) tag: Option<String>,
    /// Registry settings; `--offline` here skips the check that the digest exists.
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RollbackArgs {
    /// The image, in any spelling.
    pub(crate) image: String,
    #[command(flatten)]
    pub(crate) paths: Paths,
    #[command(flatten)]
    pub(crate) rewrite: Rewrite,
    #[command(flatten)]
    pub(crate) commit: CommitArgs,
    /// Go back to the pin the image had at this revision (commit, tag, `HEAD~3`).
    #[arg(long, value_name = "REV")]
    pub(crate) to: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PromoteArgs {
    /// The directory whose pins are promoted (e.g. overlays/staging).
    #[arg(long, value_name = "DIR")]
    pub(crate) from: PathBuf,
    /// The directory whose references are rewritten (e.g. overlays/prod).
    #[arg(long, value_name = "DIR")]
    pub(crate) to: PathBuf,
    /// Images to promote, in any spelling [default: every image pinned in FROM]
    pub(crate) images: Vec<String>,
    #[command(flatten)]
    pub(crate) rewrite: Rewrite,
    #[command(flatten)]
    pub(crate) commit: CommitArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RegistryArgs {
    /// Resolve to this platform's manifest inside a multi-platform index (e.g. linux/arm64, linux/arm/v7) instead of the index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<Platform>,
    /// Resolve references of registry HOST at URL (repeatable); HOST `*` maps every registry without a mapping of its own.
    // Parsed with the configuration's mirrors, so that an invalid one is
    // reported with its password hidden (clap would quote it whole).
    #[arg(long, value_name = "HOST=URL")]
    pub(crate) mirror: Vec<String>,
    /// Trust this extra CA certificate (PEM).
    #[arg(long, value_name = "PATH")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Concurrent requests per registry [default: 32]
    #[arg(long, short = 'j')]
    pub(crate) jobs: Option<usize>,
    /// Timeout of one request, in seconds [default: 30]
    #[arg(long)]
    pub(crate) timeout: Option<u64>,
    /// Retries of a request after a connection error, 5xx or 429 [default: 4]
    #[arg(long)]
    pub(crate) retries: Option<u32>,
    /// GET each manifest and check that its sha256 is the digest the registry's HEAD named.
    #[arg(long)]
    pub(crate) verify_digest: bool,
    /// How long a tag's answer is used from the cache, e.g. 30s, 5m, 1h; 0 turns the cache off (over DIGESTPIN_CACHE_TTL) [default: 5m]
    #[arg(long, value_name = "DURATION")]
    pub(crate) cache_ttl: Option<String>,
    /// Answer only from the cache, whatever the age of its answers; send no request.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Refuse any request to an address outside the loopback range (for tests).
    #[arg(
        long,
        hide = true,
        env = "DIGESTPIN_LOOPBACK_ONLY",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub(crate) loopback_only: bool,
}

impl RegistryArgs {
    /// The flags as a configuration layer.
    pub(crate) fn layer(&self) -> Config {
        Config {
            platform: self.platform.as_ref().map(ToString::to_string),
            mirrors: (!self.mirror.is_empty()).then(|| self.mirror.clone()),
            ca_file: self.ca_file.clone(),
            jobs: self.jobs,
            timeout: self.timeout,
            retries: self.retries,
            verify_digest: self.verify_digest.then_some(true),
            cache_ttl: self.cache_ttl.clone(),
            ..Config::default()
        }
    }
}

impl Paths {
    /// Exactly `paths`, with the default walk.
    pub(crate) fn only(paths: Vec<PathBuf>) -> Self {
        Paths {
            paths,
            include: Vec::new(),
            exclude: Vec::new(),
            hidden: false,
            no_hidden: false,
            no_ignore: false,
        }
    }

    pub(crate) fn layer(&self) -> Config {
        Config {
            include: (!self.include.is_empty()).then(|| self.include.clone()),
            exclude: (!self.exclude.is_empty()).then(|| self.exclude.clone()),
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Args;

    #[test]
    fn flags_are_consistent() {
        Args::command().debug_assert();
    }
}
