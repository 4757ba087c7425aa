//! The commands that read or move pins as wholes: `history` (the git
//! history of the pins), `set`, `rollback` (set from the history) and
//! `promote` (set from another directory).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use digestpin::config::Config;
use digestpin::detect::rules::Rules;
use digestpin::job::{JobKind, Mode};
use digestpin::jobs::history::{self, HistoryOptions};
use digestpin::jobs::rollback::{self, short};
use digestpin::jobs::set::{self, Target};
use digestpin::jobs::{self, promote};
use digestpin::reference::Reference;
use digestpin::registry::DigestKey;

use super::args::{HistoryArgs, Paths, PromoteArgs, RollbackArgs, SetArgs};
use super::context::Context;
use super::{Global, Status, done};

/// The working directory, canonical (as the work tree is).
fn cwd() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    std::fs::canonicalize(&cwd).context("cannot read the working directory")
}

/// The normalised name of an image named on the command line.
fn image_name(image: &str) -> anyhow::Result<String> {
    history::image_name(image).with_context(|| format!("{image}: not an image name"))
}

/// `paths` as pathspecs relative to the work tree (the working directory
/// when none is given).
fn pathspecs(workdir: &Path, cwd: &Path, paths: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let dot = [PathBuf::from(".")];
    let paths = if paths.is_empty() { &dot[..] } else { paths };
    let mut out = Vec::new();
    for path in paths {
        let spec = history::pathspec(workdir, cwd, path)?;
        if !spec.is_empty() {
            out.push(spec);
        } else {
            // The whole tree: no restriction.
            return Ok(Vec::new());
        }
    }
    Ok(out)
}

pub(super) fn run_history(global: &Global, args: &HistoryArgs) -> anyhow::Result<Status> {
    let mut ctx = Context::new(global, args.registry.layer(), Mode::Check, JobKind::History)?;
    let cwd = cwd()?;
    let (repo, workdir) = history::open(&cwd)?;
    let images = args
        .images
        .iter()
        .map(|i| image_name(i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let since = match &args.since {
        Some(text) => Some(
            history::parse_date(text)
                .with_context(|| format!("--since {text}: expected a day, YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let options = HistoryOptions {
        images,
        pathspecs: pathspecs(&workdir, &cwd, &args.paths)?,
        since,
        max_count: args.max_count,
    };
    let rules = Rules::new(&ctx.settings.custom_resources)?;
    let changes = history::history(&repo, &workdir, &options, &rules)?;
    if args.provenance {
        let resolver = ctx.resolver(&args.registry)?;
        let keys: Vec<DigestKey> = changes.iter().filter_map(history::change_key).collect();
        let found = jobs::provenance::of_keys(&keys, &resolver);
        ctx.report.set_provenance(found);
    }
    ctx.report
        .history(&changes, global.format == crate::report::Format::Markdown);
    let status = if ctx.report.provenance_failures() {
        Status::Error
    } else {
        Status::Ok
    };
    done(&mut ctx, status)
}

pub(super) fn run_set(global: &Global, args: &SetArgs) -> anyhow::Result<Status> {
    let reference = Reference::parse(&args.reference)
        .with_context(|| format!("{}: not an image reference", args.reference))?;
    let Some(digest) = reference.digest() else {
        anyhow::bail!(
            "{}: no digest; expected IMAGE@sha256:… (to resolve a tag, use `digestpin pin`)",
            args.reference
        );
    };
    let mode = args.rewrite.mode();
    let flags = args.paths.layer().merged(args.registry.layer());
    let mut ctx = Context::new(global, flags, mode, JobKind::Set)?;
    let mut tag = args.tag.clone().or(reference.tag().map(String::from));
    if !args.registry.offline {
        let resolver = ctx.resolver(&args.registry)?;
        let key = DigestKey {
            registry: reference.registry().to_string(),
            repository: reference.repository().to_string(),
            digest: digest.to_string(),
        };
        match resolver.exist_all(std::slice::from_ref(&key)).remove(&key) {
            Some(Ok(true)) => {}
            Some(Ok(false)) => anyhow::bail!(
                "{}: the registry has no manifest with this digest; nothing written",
                args.reference
            ),
            Some(Err(error)) => anyhow::bail!(
                "{}: cannot check the digest at the registry: {error}; nothing written (--offline skips the check)",
                args.reference
            ),
            None => anyhow::bail!("{}: the digest was not checked", args.reference),
        }
        if tag.is_none() {
            tag = registry_tag(&resolver, &key)
                .with_context(|| format!("{}: cannot list its tags", args.reference))?;
        }
    }
    let (files, messages, walk_failed) = ctx.scan(&args.paths)?;
    let name = reference.normalized_name();
    let image = reference.familiar_name();
    if set::count(&files, &name) == 0 {
        anyhow::bail!("no reference to {image} in the files scanned; nothing written");
    }
    let target = Target {
        name,
        digest: digest.to_string(),
        tag,
    };
    let outcome = set::set(&files, &[target], ctx.settings.style, &ctx.helm_options()?);
    let subject = format!("Set {image} to {digest}");
    let commit = Some((&args.commit, subject.as_str()));
    let status = ctx.finish(mode, outcome, messages, walk_failed, commit)?;
    done(&mut ctx, status)
}

/// The tags asked for at most: ten pages of the tag list.
const MAX_TAGS: usize = 1000;

/// The one tag of the repository that names `key`'s digest; `None` when
/// none or several do, or the list was cut at [`MAX_TAGS`].
fn registry_tag(
    resolver: &digestpin::registry::Resolver,
    key: &DigestKey,
) -> anyhow::Result<Option<String>> {
    let found = resolver.tags_naming(key, MAX_TAGS)?;
    Ok(match found.tags.as_slice() {
        [tag] if found.complete => Some(tag.clone()),
        _ => None,
    })
}

pub(super) fn run_rollback(global: &Global, args: &RollbackArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let mut ctx = Context::new(global, args.paths.layer(), mode, JobKind::Rollback)?;
    let cwd = cwd()?;
    let name = image_name(&args.image)?;
    let image = Reference::parse(&args.image)
        .map(|r| r.familiar_name())
        .unwrap_or_else(|_| args.image.clone());
    let (repo, workdir) = history::open(&cwd)?;
    let specs = pathspecs(&workdir, &cwd, &args.paths.paths)?;
    let rules = Rules::new(&ctx.settings.custom_resources)?;
    let options = HistoryOptions {
        images: vec![name.clone()],
        pathspecs: specs.clone(),
        ..HistoryOptions::default()
    };
    let changes = history::history(&repo, &workdir, &options, &rules)?;
    let choice = match &args.to {
        Some(rev) => rollback::at_revision(
            &repo,
            &workdir,
            (&image, &name),
            rev,
            &specs,
            &rules,
            &changes,
        )?,
        None => rollback::previous(&image, &changes)?,
    };
    let (files, mut messages, walk_failed) = ctx.scan(&args.paths)?;
    let source = jobs::Message::RolledBack {
        image: image.clone(),
        digest: choice.digest.clone(),
        tag: choice.tag.clone(),
        commit: choice
            .from
            .as_ref()
            .map(|c| (short(&c.commit), history::date(c.time, c.offset_minutes))),
    };
    messages.insert(0, source);
    let target = Target {
        name,
        digest: choice.digest.clone(),
        tag: choice.tag.clone(),
    };
    let outcome = set::set(&files, &[target], ctx.settings.style, &ctx.helm_options()?);
    let subject = format!("Roll back {image} to {}", choice.digest);
    let commit = Some((&args.commit, subject.as_str()));
    let status = ctx.finish(mode, outcome, messages, walk_failed, commit)?;
    done(&mut ctx, status)
}

pub(super) fn run_promote(global: &Global, args: &PromoteArgs) -> anyhow::Result<Status> {
    let mode = args.rewrite.mode();
    let mut ctx = Context::new(global, Config::default(), mode, JobKind::Promote)?;
    let images = args
        .images
        .iter()
        .map(|i| image_name(i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for dir in [&args.from, &args.to] {
        if !dir.is_dir() {
            anyhow::bail!("{}: not a directory", dir.display());
        }
    }
    let (from_files, mut messages, from_failed) =
        ctx.scan(&Paths::only(vec![args.from.clone()]))?;
    // Scanned last, so that the walk kept is the one written to.
    let (to_files, mut more, to_failed) = ctx.scan(&Paths::only(vec![args.to.clone()]))?;
    messages.append(&mut more);
    let promotion = promote::promote(
        &from_files,
        &to_files,
        (&args.from, &args.to),
        &images,
        ctx.settings.style,
        &ctx.helm_options()?,
    );
    ctx.commit_body = Some(promote::commit_body(&promotion.moves));
    if global.format == crate::report::Format::Markdown {
        ctx.report.promotion_markdown(&promotion.moves);
    }
    let subject = format!("Promote {} to {}", args.from.display(), args.to.display());
    let commit = Some((&args.commit, subject.as_str()));
    let status = ctx.finish(
        mode,
        promotion.outcome,
        messages,
        from_failed || to_failed,
        commit,
    )?;
    done(&mut ctx, status)
}
