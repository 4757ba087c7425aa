//! The `pin` job: resolve each unpinned tag once and pin it.
//!
//! [`plan`] resolves every tag found in the scanned files (a Dockerfile's
//! literal `--platform`, a Compose service's `platform:` under `--platform`,
//! else `--platform` choose the manifest) and computes each file's new text
//! through [`FileFix`]; [`plan_with`] does the same given the resolutions. A
//! file with a failed reference is left byte-identical. Nothing is written
//! here.

use std::collections::{BTreeMap, HashMap};

use super::{Location, Message, Outcome};
use crate::detect::{self, FileKind, Finding, ScalarStyle, Site, SkipReason};
use crate::edit::{self, FileFix, PinSite, PinStyle};
use crate::reference::Reference;
use crate::registry::{Platform, ResolveError, ResolveKey, Resolved, Resolver};
use crate::scan::ScannedFile;

/// The registry's answers, by key.
type Resolutions = BTreeMap<ResolveKey, Result<Resolved, ResolveError>>;

/// Settings of a pin run.
#[derive(Debug, Clone, Default)]
pub struct PinOptions {
    pub style: PinStyle,
    pub platform: Option<Platform>,
    /// How Helm image maps are pinned.
    pub helm: crate::helm::HelmStyle,
    /// The values files whose charts read a `digest` key their maps lack.
    pub helm_reads_digest: crate::helm::ReadsDigest,
}

/// The key under which a reference is resolved.
pub fn resolve_key(reference: &Reference, platform: Option<&Platform>) -> ResolveKey {
    ResolveKey {
        registry: reference.registry().to_string(),
        repository: reference.repository().to_string(),
        tag: reference.tag().unwrap_or("latest").to_string(),
        platform: platform.cloned(),
    }
}

/// The platform each reference of a Dockerfile is built for when its `FROM`
/// names a literal `--platform` (by the start of its span): that platform's
/// manifest is pinned, as `--platform` does. Empty for other files.
fn file_platforms(file: &ScannedFile) -> BTreeMap<usize, Platform> {
    if file.kind != FileKind::Dockerfile {
        return BTreeMap::new();
    }
    detect::dockerfile::platforms(&file.text)
        .into_iter()
        .filter_map(|(at, p)| p.parse().ok().map(|p| (at, p)))
        .collect()
}

/// The platform to resolve the reference at `site` for: a Dockerfile's
/// literal `--platform`, else a Compose service's own platform under
/// `--platform`, else `--platform`.
fn site_platform(
    platforms: &BTreeMap<usize, Platform>,
    site: &Site,
    options: &PinOptions,
) -> Option<Platform> {
    platforms
        .get(&site.span.start)
        .cloned()
        .or_else(|| platform_for(site, options))
}

/// Resolves the tags found in `files` and computes each file's new text.
pub fn plan(files: &[ScannedFile], resolver: &Resolver, options: &PinOptions) -> Outcome {
    let mut keys: Vec<ResolveKey> = Vec::new();
    for file in files {
        let platforms = file_platforms(file);
        for finding in &file.findings {
            if let Finding::Image { site, reference } = finding
                && reference.digest().is_none()
                && !file.ignores(site)
            {
                keys.push(resolve_key(
                    reference,
                    site_platform(&platforms, site, options).as_ref(),
                ));
            }
        }
    }
    keys.sort();
    keys.dedup();
    let resolved = if keys.is_empty() {
        BTreeMap::new()
    } else {
        resolver.resolve_all(&keys)
    };
    plan_with(files, &resolved, options)
}

/// The platform a site is resolved for: none without `--platform` (the
/// index digest is kept); with it, a Compose service's own `platform:`
/// wins over the requested one (unless templated or invalid).
fn platform_for(site: &Site, options: &PinOptions) -> Option<Platform> {
    let requested = options.platform.as_ref()?;
    site.platform
        .as_deref()
        .filter(|p| !detect::is_templated(p))
        .and_then(|p| p.parse::<Platform>().ok())
        .or_else(|| Some(requested.clone()))
}

/// [`plan`] with the resolutions already made.
pub fn plan_with(files: &[ScannedFile], resolved: &Resolutions, options: &PinOptions) -> Outcome {
    Outcome::of_files(files, |file, outcome| {
        plan_file(file, resolved, options, outcome)
    })
}

/// One file's fix, if it has references to pin and none failed.
fn plan_file(
    file: &ScannedFile,
    resolved: &Resolutions,
    options: &PinOptions,
    outcome: &mut Outcome,
) -> Option<FileFix<Message>> {
    let pins = resolved_pins(file, resolved, options, outcome)?;
    if pins.is_empty() {
        return None;
    }
    Some(pin_fix(file, &pins, options, outcome))
}

/// A reference to pin, and the digest to pin it to.
type Pin<'a> = (&'a Site, &'a Reference, String);

/// Says what happens to each finding of `file` and returns the references
/// to pin; `None` when one failed (the file is then left alone and the
/// others are held back).
fn resolved_pins<'a>(
    file: &'a ScannedFile,
    resolved: &Resolutions,
    options: &PinOptions,
    outcome: &mut Outcome,
) -> Option<Vec<Pin<'a>>> {
    let path = file.path.as_path();
    let mut pins: Vec<Pin<'a>> = Vec::new();
    let mut failed = false;
    let platforms = file_platforms(file);
    for finding in &file.findings {
        outcome.summary.found += 1;
        let site = finding.site();
        if file.ignores(site) {
            outcome.summary.skipped += 1;
            outcome.messages.push(Message::Ignored {
                at: Location::of(path, site),
                value: site.value.clone(),
            });
            continue;
        }
        let reference = match finding {
            Finding::Skipped { site, reason } => {
                outcome.summary.skipped += 1;
                outcome.messages.push(Message::Skipped {
                    at: Location::of(path, site),
                    value: site.value.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
            Finding::Image { reference, .. } => reference,
        };
        if reference.digest().is_some() {
            outcome.summary.unchanged += 1;
            outcome.messages.push(Message::AlreadyPinned {
                at: Location::of(path, site),
                reference: site.value.clone(),
            });
            continue;
        }
        let platform = site_platform(&platforms, site, options);
        let error = match resolved.get(&resolve_key(reference, platform.as_ref())) {
            Some(Ok(found)) => {
                if let (Some(platform), Some(requested)) = (&platform, &options.platform)
                    && platform != requested
                {
                    outcome.messages.push(Message::ServicePlatform {
                        at: Location::of(path, site),
                        reference: site.value.clone(),
                        platform: platform.to_string(),
                        requested: requested.to_string(),
                    });
                }
                pins.push((site, reference, found.digest.clone()));
                continue;
            }
            Some(Err(error)) => error.clone(),
            None => ResolveError::NotAttempted,
        };
        failed = true;
        outcome.summary.failed += 1;
        outcome.messages.push(Message::Failed {
            at: Location::of(path, site),
            reference: site.value.clone(),
            error,
        });
    }
    if failed {
        outcome.summary.held_back += pins.len();
        return None;
    }
    Some(pins)
}

/// The edits that pin `pins` in `file`: a Helm image map's fields, a
/// kustomization's `digest:` field, or the value itself in the file's style
/// (`name:tag@sha256:…` in a JSON document).
fn pin_fix(
    file: &ScannedFile,
    pins: &[Pin<'_>],
    options: &PinOptions,
    outcome: &mut Outcome,
) -> FileFix<Message> {
    let path = file.path.as_path();
    let mut per_line: HashMap<usize, usize> = HashMap::new();
    for (site, _, _) in pins {
        *per_line.entry(site.line).or_default() += 1;
    }
    let mut fix = FileFix::default();
    let json = edit::JsonDocuments::new(&file.text);
    for (site, reference, digest) in pins {
        let pinned = Message::Pinned {
            at: Location::of(path, site),
            reference: site.value.clone(),
            digest: digest.clone(),
        };
        if site.kind == FileKind::HelmValues
            && let Some(map) = detect::helm::locate(&file.text, &site.span)
        {
            let reads_digest = options.helm_reads_digest.matches(path);
            let (mut more, mut made) = map.pin(&file.text, digest, options.helm, reads_digest);
            fix.edits.append(&mut more);
            fix.expected.append(&mut made);
            fix.messages.push(pinned);
            continue;
        }
        if site.kind == FileKind::Kustomize {
            // A `digest:` field beside `newTag`, not a rewritten value.
            if let Some((edit, change)) = crate::kustomize::pin_edit(&file.text, site, digest) {
                fix.edits.push(edit);
                fix.expected.push(change);
                fix.messages.push(pinned);
            } else {
                outcome.summary.skipped += 1;
                outcome.messages.push(Message::Skipped {
                    at: Location::of(path, site),
                    value: site.value.clone(),
                    reason: SkipReason::Escaped,
                });
            }
            continue;
        }
        let pin_site = PinSite {
            span: site.span.clone(),
            quoted: site.style != ScalarStyle::Plain,
            in_flow: site.in_flow,
            name: reference.name(),
            tag: reference.tag().unwrap_or("latest"),
            digest,
        };
        let alone = per_line.get(&site.line) == Some(&1);
        // JSON has no comments: keep a JSON document valid JSON.
        let style = if json.contains(site.span.start) {
            PinStyle::TagDigest
        } else {
            edit::style_for(file.kind, options.style)
        };
        let (mut more, value) = edit::pin_edits(&file.text, &pin_site, style, alone);
        fix.edits.append(&mut more);
        fix.expected.push((site.value.clone(), value));
        fix.messages.push(pinned);
    }
    fix
}
