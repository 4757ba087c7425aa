//! The command line as clap parses it: global flags, one struct of flags per
//! command, and the configuration layer each group of flags makes.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use digestpin::config::Config;
use digestpin::edit::PinStyle;
use digestpin::job::Mode;
use digestpin::registry::Platform;

use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "digestpin",
    version,
    about = "Pin container image tags to digests in Kubernetes and Compose files, changing no other byte"
)]
pub struct Args {
    /// Read settings from this file (over the discovered .digestpin.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub(crate) format: Format,
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
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResolveArgs {
    /// Image references, e.g. `nginx:1.25` or `ghcr.io/org/app:v1`.
    #[arg(required = true)]
    pub(crate) references: Vec<String>,
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
            ..Config::default()
        }
    }
}

impl Paths {
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
