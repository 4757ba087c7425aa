//! `digestpin resolve --tags REF…`: the other tags of each reference's
//! repository that name the same digest.

use globset::{Glob, GlobSetBuilder};

use digestpin::job::{JobKind, Mode};
use digestpin::jobs;
use digestpin::reference::Reference;

use super::args::ResolveArgs;
use super::context::Context;
use super::{Global, Status, done};

pub(super) fn run(global: &Global, args: &ResolveArgs) -> anyhow::Result<Status> {
    let mut ctx = Context::new(global, args.registry.layer(), Mode::Check, JobKind::Resolve)?;
    let mut globs = GlobSetBuilder::new();
    for glob in &args.tags_matching {
        let glob = Glob::new(glob)
            .map_err(|e| anyhow::anyhow!("invalid --tags-matching glob `{glob}`: {e}"))?;
        globs.add(glob);
    }
    let globs = globs.build()?;
    let keep = |tag: &str| args.tags_matching.is_empty() || globs.is_match(tag);
    let resolver = ctx.resolver(&args.registry)?;
    let mut lines = Vec::new();
    for text in &args.references {
        let result = match Reference::parse(text) {
            Err(err) => Err(err.to_string()),
            Ok(reference) => {
                let key = jobs::pin::resolve_key(&reference, None);
                let except = reference.tag().unwrap_or(if reference.digest().is_some() {
                    ""
                } else {
                    "latest"
                });
                resolver
                    .same_tags(
                        &key,
                        reference.digest(),
                        (!except.is_empty()).then_some(except),
                        &keep,
                    )
                    .map(|(digest, same)| (digest, same.tags))
                    .map_err(|e| e.to_string())
            }
        };
        lines.push((text.clone(), result));
    }
    ctx.report.resolved_tags(&lines);
    let failed = lines.iter().any(|(_, r)| r.is_err());
    done(&mut ctx, Status::of(failed, false))
}
