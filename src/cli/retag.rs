//! `digestpin retag IMAGE@sha256:… TAG…`: promotion at the registry.

use digestpin::job::{JobKind, Mode};
use digestpin::reference::Reference;
use digestpin::registry::DigestKey;

use super::args::RetagArgs;
use super::context::Context;
use super::{Global, Status, done};
use crate::report::Format;

/// The formats `retag` prints: human, JSON and SARIF.
pub(super) fn check_format(format: Format) -> anyhow::Result<()> {
    match format {
        Format::Markdown => anyhow::bail!("--format markdown is for `digestpin list`"),
        Format::Github => anyhow::bail!(
            "--format github prints annotations of findings, which `retag` does not make: use --format human or --format json"
        ),
        Format::Human | Format::Json | Format::Sarif => Ok(()),
    }
}

pub(super) fn run(global: &Global, args: &RetagArgs) -> anyhow::Result<Status> {
    if args.registry.platform.is_some() {
        anyhow::bail!("retag moves tags to the digest given: --platform does not apply");
    }
    let mode = if args.dry_run {
        Mode::Check
    } else {
        Mode::Write
    };
    let mut ctx = Context::new(global, args.registry.layer(), mode, JobKind::Retag)?;
    let reference = Reference::parse(&args.image)
        .map_err(|e| anyhow::anyhow!("invalid image `{}`: {e}", args.image))?;
    let Some(digest) = reference.digest() else {
        anyhow::bail!(
            "`{}` names no digest: retag moves tags to a digest, e.g. {}@sha256:…",
            args.image,
            reference.name()
        );
    };
    for tag in &args.tags {
        let tagged = format!("{}:{tag}", reference.name());
        match Reference::parse(&tagged) {
            Ok(r) if r.tag() == Some(tag.as_str()) && r.digest().is_none() => {}
            _ => anyhow::bail!("invalid tag `{tag}`"),
        }
    }
    let key = DigestKey {
        registry: reference.registry().to_string(),
        repository: reference.repository().to_string(),
        digest: digest.to_string(),
    };
    let resolver = ctx.resolver(&args.registry)?;
    let result = resolver
        .retag(&key, &args.tags, args.dry_run)
        .map_err(|e| e.to_string());
    let failed = result.is_err();
    ctx.report
        .retagged(reference.name(), digest, &args.tags, &result, args.dry_run);
    done(&mut ctx, Status::of(failed, false))
}
