//! Images in Helm values.
//!
//! Charts name their images in maps rather than strings: the Bitnami shape
//! `image: {registry, repository, tag, digest}` and the `helm create`
//! default `image: {repository, tag, pullPolicy}`, at any depth
//! (`controller.image`, `sidecars.foo.image`). Any mapping with a scalar
//! `repository` (or a scalar `image` naming the repository) and a `tag` key
//! is one image, `[registry/]repository:tag`; its site is the `tag` value.
//! Maps with a `hub` (Istio's `hub/image:tag-variant`) are left alone, and so
//! are `image` strings with no tag or digest (`image: proxyv2`, a name the
//! chart completes).
//! Values are read in `values*.yaml` files (in a chart, a directory holding
//! `Chart.yaml`, they are always values; elsewhere, when they are neither
//! Kubernetes nor Compose files: copies of a chart's values kept apart from
//! it, `values-prod.yaml` beside an Argo CD application), in a Flux `HelmRelease`'s `spec.values` and in an Argo CD
//! `Application`'s `spec.source.helm.valuesObject` (and each
//! `spec.sources[]`). Plain string `image: nginx:1.25` values in a values
//! file are images as in a pod spec.
//!
//! A map is pinned either by filling its `digest` (when it has one) or by
//! appending `@sha256:…` to the tag, which charts rendering
//! `{{ .repository }}:{{ .tag }}` turn into a pinned reference
//! (`crate::helm::HelmStyle`). An empty tag (the chart's `appVersion` is used) is
//! skipped with a reason, and so are templated values.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use super::yaml::{Node, NodeId, Scalar, Tree};
use super::{Collector, FileKind, Finding, ScalarStyle, Site, SkipReason, Strictness};
use crate::reference::Reference;

/// Whether `path` is named like a Helm values file: `values*.yaml|yml`.
pub fn is_values_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_ascii_lowercase)
        .is_some_and(|name| {
            name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml"))
        })
}

/// Whether `path` is a values file of a chart: `values*.yaml|yml` in a
/// directory holding `Chart.yaml`.
pub fn is_chart_values(path: &Path) -> bool {
    let is_values = is_values_name(path);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    is_values && dir.join("Chart.yaml").is_file()
}

/// One image map.
#[derive(Debug, Clone, Copy)]
struct ImageMap {
    map: NodeId,
    registry: Option<NodeId>,
    name: NodeId,
    tag: NodeId,
    digest: Option<NodeId>,
}

/// The image maps under `root` (any depth), each node visited once; with a
/// collector, scalar `image` values are handed to it too.
fn walk(
    tree: &Tree,
    root: NodeId,
    seen: &mut HashSet<NodeId>,
    maps: &mut Vec<ImageMap>,
    collector: &mut Option<&mut Collector<'_>>,
) {
    if !seen.insert(root) {
        return;
    }
    match &tree.nodes[root] {
        Node::Scalar(_) => {}
        Node::Sequence(items) => {
            for &item in items {
                walk(tree, item, seen, maps, collector);
            }
        }
        Node::Mapping(_) => {
            if let Some(map) = image_map(tree, root) {
                maps.push(map);
            }
            for (key, value) in tree.entries(root) {
                if tree.str(key) == Some("image")
                    && tree.scalar(value).is_some()
                    && tree.get(root, "tag").is_none()
                    && let Some(collector) = collector
                {
                    // `image: proxyv2` beside a `hub` and a global tag is a
                    // name the chart completes, not an image to pin.
                    if tree.str(value).is_some_and(|v| v.contains([':', '@'])) {
                        collector.add(value, false, Strictness::Report);
                    } else {
                        collector.add_not_image(value, "a name with no tag in Helm values");
                    }
                }
                walk(tree, value, seen, maps, collector);
            }
        }
    }
}

fn image_map(tree: &Tree, map: NodeId) -> Option<ImageMap> {
    let scalar = |key| tree.get(map, key).filter(|&n| tree.scalar(n).is_some());
    let tag = scalar("tag")?;
    // Istio's `hub`/`image`/`tag`/`variant` renders `hub/image:tag-variant`:
    // a suffix after the tag would land inside the reference.
    if tree.get(map, "hub").is_some() {
        return None;
    }
    let name = scalar("repository").or_else(|| scalar("image"))?;
    Some(ImageMap {
        map,
        registry: scalar("registry"),
        name,
        tag,
        digest: scalar("digest"),
    })
}

/// The value roots of a Kubernetes document that hold Helm values.
fn embedded_roots(tree: &Tree, document: NodeId) -> Vec<NodeId> {
    let str_at = |keys: &[&str]| tree.path(document, keys).and_then(|n| tree.str(n));
    let api_version = str_at(&["apiVersion"]).unwrap_or_default();
    let kind = str_at(&["kind"]).unwrap_or_default();
    let group = api_version.split('/').next().unwrap_or_default();
    let mut roots = Vec::new();
    match (group, kind) {
        ("helm.toolkit.fluxcd.io", "HelmRelease") => {
            roots.extend(tree.path(document, &["spec", "values"]));
        }
        ("argoproj.io", "Application") => {
            roots.extend(tree.path(document, &["spec", "source", "helm", "valuesObject"]));
            if let Some(sources) = tree.path(document, &["spec", "sources"]) {
                for &source in tree.items(sources) {
                    roots.extend(tree.path(source, &["helm", "valuesObject"]));
                }
            }
        }
        _ => {}
    }
    roots
}

/// Adds the image maps of the `HelmRelease`s and `Application`s of a
/// Kubernetes file (their string `image` values are found as in any custom
/// resource).
pub(super) fn detect_embedded(text: &str, tree: &Tree, collector: &mut Collector<'_>) {
    let mut seen = HashSet::new();
    let mut maps = Vec::new();
    for &document in &tree.documents {
        for root in embedded_roots(tree, document) {
            walk(tree, root, &mut seen, &mut maps, &mut None);
        }
    }
    collector
        .extra
        .extend(maps.iter().map(|map| finding(text, tree, map)));
}

/// Finds the images of a chart's values file.
pub(super) fn detect_values(text: &str, tree: &Tree, collector: &mut Collector<'_>) {
    let mut seen = HashSet::new();
    let mut maps = Vec::new();
    let mut some = Some(&mut *collector);
    for &document in &tree.documents {
        walk(tree, document, &mut seen, &mut maps, &mut some);
    }
    collector
        .extra
        .extend(maps.iter().map(|map| finding(text, tree, map)));
}

/// The finding for one image map: the site is the tag, the value the
/// reference the chart renders.
fn finding(text: &str, tree: &Tree, map: &ImageMap) -> Finding {
    let value = |n: NodeId| tree.str(n).unwrap_or_default();
    let empty = |n: NodeId| {
        let s = tree.scalar(n).expect("image map holds scalars");
        s.value.is_empty()
            || s.style == Some(ScalarStyle::Plain)
                && matches!(s.value.as_str(), "~" | "null" | "Null" | "NULL")
    };
    let tag_scalar = tree.scalar(map.tag).expect("image map holds scalars");
    let registry = map.registry.filter(|&r| !empty(r)).map(value);
    let digest = map.digest.filter(|&d| !empty(d)).map(value);
    let tag = if empty(map.tag) { "" } else { value(map.tag) };
    let mut reference = String::new();
    if let Some(registry) = registry {
        reference.push_str(registry.trim_end_matches('/'));
        reference.push('/');
    }
    reference.push_str(value(map.name));
    if !tag.is_empty() {
        reference.push(':');
        reference.push_str(tag);
    }
    if let Some(digest) = digest
        && !tag.contains('@')
    {
        reference.push('@');
        reference.push_str(digest);
    }
    let site = Site::at_scalar(tag_scalar, reference.clone(), FileKind::HelmValues);
    let skipped = |reason| Finding::Skipped {
        site: site.clone(),
        reason,
    };
    let parts = [map.registry, Some(map.name), Some(map.tag), map.digest];
    if parts
        .iter()
        .flatten()
        .any(|&n| super::is_templated(value(n)))
        || super::is_templated(&text[site.span.clone()])
    {
        return skipped(SkipReason::Templated);
    }
    if empty(map.name) {
        return skipped(SkipReason::NotAnImage("empty repository".to_string()));
    }
    if tag.is_empty() && digest.is_none() {
        return skipped(SkipReason::EmptyTag);
    }
    let spans_ok = [Some(map.tag), map.digest].iter().flatten().all(|&n| {
        tree.scalar(n)
            .is_some_and(|s| s.span.is_some() && s.style.is_some())
    });
    match Reference::parse(&reference) {
        Err(err) => skipped(SkipReason::NotAReference(err)),
        Ok(_) if !spans_ok => skipped(SkipReason::Escaped),
        Ok(reference) => Finding::Image { site, reference },
    }
}

/// A scalar of an image map, as the edits need it.
#[derive(Debug, Clone)]
pub struct Value {
    pub span: Range<usize>,
    pub value: String,
    pub quoted: bool,
}

/// The tag and digest of the image map whose tag is at `tag_span`.
#[derive(Debug, Clone)]
pub struct Located {
    pub tag: Value,
    pub digest: Option<Value>,
    /// The map's own `tag` field, key and value, where a `digest` field is
    /// added beside it; `None` when the tag comes from a merged map.
    pub tag_field: Option<Field>,
    /// The `digest` field, key and value, when it directly follows the
    /// map's own `tag` field: where an added `digest` field goes.
    pub digest_after_tag: Option<Field>,
}

/// A field of a mapping: its key and value scalars.
pub type Field = (Scalar, Scalar);

/// The map's own fields `tag` and, directly after it, `digest`.
fn own_fields(tree: &Tree, map: NodeId) -> (Option<Field>, Option<Field>) {
    let Node::Mapping(fields) = &tree.nodes[map] else {
        return (None, None);
    };
    let pair =
        |&(k, v): &(NodeId, NodeId)| Some((tree.scalar(k)?.clone(), tree.scalar(v)?.clone()));
    let Some(at) = fields.iter().position(|&(k, _)| tree.str(k) == Some("tag")) else {
        return (None, None);
    };
    let digest = fields
        .get(at + 1)
        .filter(|&&(k, _)| tree.str(k) == Some(crate::edit::field::DIGEST))
        .and_then(pair);
    (pair(&fields[at]), digest)
}

/// Finds the image map whose tag value is the one at `tag_span`; `None`
/// when that value is not the tag of an image map (a string `image`).
pub fn locate(text: &str, tag_span: &Range<usize>) -> Option<Located> {
    let tree = super::yaml::parse(text).ok()?;
    let mut seen = HashSet::new();
    let mut maps = Vec::new();
    for &document in &tree.documents {
        walk(&tree, document, &mut seen, &mut maps, &mut None);
    }
    let value = |n: NodeId| {
        let s = tree.scalar(n)?;
        Some(Value {
            span: s.span.clone()?,
            value: s.value.clone(),
            quoted: s.style != Some(ScalarStyle::Plain),
        })
    };
    let map = maps
        .iter()
        .find(|m| tree.scalar(m.tag).and_then(|s| s.span.as_ref()) == Some(tag_span))?;
    let digest = map.digest.and_then(value).filter(|d| {
        // A null `digest:` is no key to fill.
        d.quoted || !matches!(d.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
    });
    let (tag_field, digest_after_tag) = own_fields(&tree, map.map);
    Some(Located {
        tag: value(map.tag)?,
        digest,
        tag_field,
        digest_after_tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan_values;

    /// Each finding as `line value: skip reason` or `line value`.
    fn found(text: &str) -> Vec<String> {
        let (_, findings) = scan_values(text).unwrap().unwrap();
        findings
            .iter()
            .map(|f| match f {
                Finding::Image { site, .. } => format!("{} {}", site.line, site.value),
                Finding::Skipped { site, reason } => {
                    format!("{} {}: {reason}", site.line, site.value)
                }
            })
            .collect()
    }

    #[test]
    fn finds_maps_at_any_depth_and_says_what_it_skips() {
        let text = "\
a:
  image: {registry: docker.io, repository: bitnami/nginx, tag: '1.25', digest: ''}
b:
  c:
    image:
      repository: '{{ .Values.repo }}'
      tag: v1
  d: [{repository: example/x, tag: ''}]
istio:
  hub: docker.io/istio
  image: proxyv2
  tag: 1.20.0
sidecar:
  image: busybox
other:
  image: busybox:1.36
";
        assert_eq!(
            found(text),
            [
                "2 docker.io/bitnami/nginx:1.25",
                "7 {{ .Values.repo }}:v1: templated value, not resolved",
                "8 example/x: empty tag: the chart's appVersion is used, not guessed",
                "14 busybox: not a container image to pull: a name with no tag in Helm values",
                "16 busybox:1.36",
            ]
        );
    }
}
