//! Where the image references of one YAML file are.
//!
//! [`scan`] parses the file into a small positioned tree ([`yaml`]) and asks
//! the Kubernetes and Compose detectors for the scalars that name images. Each
//! is returned as a [`Finding`]: an image with the byte range of its value, or
//! a value passed over with the reason (templated, built by Compose, …).
//! Nothing here resolves or edits anything.

mod compose;
pub mod dockerfile;
pub mod helm;
mod kubernetes;
pub mod kustomize;
pub mod rules;
mod workflow;
pub mod yaml;
mod yaml_fast;

pub use workflow::is_workflow_path;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::reference::{Reference, ReferenceError};

use rules::Rules;
use yaml::{NodeId, Tree};

/// What kind of file the references were found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Kubernetes,
    Compose,
    Dockerfile,
    /// A GitHub Actions workflow (`.github/workflows/*.yml`).
    Workflow,
    /// A kustomization's `images:` (`kustomization.yaml`).
    Kustomize,
    /// A Helm chart's values, or the values of a `HelmRelease` or Argo CD `Application`.
    HelmValues,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileKind::Kubernetes => "Kubernetes",
            FileKind::Compose => "Compose",
            FileKind::Dockerfile => "Dockerfile",
            FileKind::Workflow => "workflow",
            FileKind::Kustomize => "kustomize",
            FileKind::HelmValues => "helm-values",
        })
    }
}

/// How a scalar is quoted in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

/// One image value in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Byte range of the value's text (inside the quotes of a quoted scalar).
    pub span: Range<usize>,
    pub value: String,
    /// 1-based line of the value.
    pub line: usize,
    /// 1-based column (in characters) of the value.
    pub column: usize,
    pub kind: FileKind,
    pub style: ScalarStyle,
    /// Whether the value sits inside a flow collection (`[{image: x}]`).
    pub in_flow: bool,
    /// The Compose service's own `platform:` (`linux/arm64`), when every
    /// service using this value names the same one.
    pub platform: Option<String>,
}

impl Site {
    /// The site of the whole `scalar`, reading `value`, before its line and
    /// column are known; a scalar without a span is placed where it starts.
    fn at_scalar(scalar: &yaml::Scalar, value: String, kind: FileKind) -> Site {
        let at = scalar.span.as_ref().map_or(scalar.start, |s| s.start);
        Site {
            span: scalar.span.clone().unwrap_or(at..at),
            value,
            line: 0,
            column: 0,
            kind,
            style: scalar.style.unwrap_or(ScalarStyle::Plain),
            in_flow: scalar.in_flow,
            platform: None,
        }
    }
}

/// Why an image value is not pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("templated value, not resolved")]
    Templated,
    #[error("the service builds this image")]
    BuiltByCompose,
    #[error("not an image reference: {0}")]
    NotAReference(ReferenceError),
    #[error("the value is escaped or spans lines in the source; pin it by hand")]
    Escaped,
    #[error("block scalar; pin it by hand")]
    BlockScalar,
    #[error("not a container image to pull: {0}")]
    NotAnImage(String),
    #[error("a build stage, not an image")]
    StageName,
    #[error("`scratch` is the empty image")]
    Scratch,
    #[error("made of build arguments, not resolved")]
    BuildArgument,
    /// A kustomize `images` entry that sets no `newTag`: the tag comes from
    /// the manifests it rewrites.
    #[error("kustomize entry without newTag; the tag comes from the manifests")]
    NoNewTag,
    /// `unpin`, `update`: a kustomize digest not where `pin` puts it (a
    /// `digest` field on its own line, or in a flow mapping, right after
    /// `newTag`).
    #[error("the digest is not in a digest field right after newTag; edit it by hand")]
    DigestElsewhere,
    #[error("empty tag: the chart's appVersion is used, not guessed")]
    EmptyTag,
}

impl SkipReason {
    /// The rule id under which `check` fails a value skipped for this
    /// reason; `None` when the skip is expected (templates, images Compose
    /// builds, values that are not images).
    pub fn check_rule(&self) -> Option<&'static str> {
        match self {
            SkipReason::Templated
            | SkipReason::BuiltByCompose
            | SkipReason::NotAnImage(_)
            | SkipReason::StageName
            | SkipReason::Scratch
            | SkipReason::BuildArgument
            | SkipReason::NoNewTag
            | SkipReason::DigestElsewhere
            | SkipReason::EmptyTag => None,
            SkipReason::NotAReference(_) => Some("invalid-reference"),
            SkipReason::Escaped => Some("needs-escape"),
            SkipReason::BlockScalar => Some("block-scalar"),
        }
    }
}

/// A value found where an image belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Image { site: Site, reference: Reference },
    Skipped { site: Site, reason: SkipReason },
}

impl Finding {
    pub fn site(&self) -> &Site {
        match self {
            Finding::Image { site, .. } | Finding::Skipped { site, .. } => site,
        }
    }
}

/// Why a file could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error("line {line}, column {column}: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("line {line}, column {column}: {message}")]
    Dockerfile {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Whether a value is a template to be filled in by some other tool.
pub fn is_templated(value: &str) -> bool {
    value.contains("{{")
        || value.contains("${")
        || value.as_bytes().windows(2).any(|w| {
            w[0] == b'$' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'_' | b'{' | b'('))
        })
}

/// Finds the image references of a file. `Ok(None)`: the file is neither a
/// Kubernetes manifest nor a Compose file.
pub fn scan(text: &str) -> Result<Option<(FileKind, Vec<Finding>)>, DetectError> {
    scan_with(text, &Rules::default())
}

/// [`scan`] with custom-resource rules. Invalid YAML is an error even in a
/// file with no `image` in it, so that no file is passed over silently.
pub fn scan_with(
    text: &str,
    rules: &Rules,
) -> Result<Option<(FileKind, Vec<Finding>)>, DetectError> {
    let tree = yaml::parse(text)?;
    // Cheap exit for files that cannot hold what we look for.
    if !text.contains("image") {
        return Ok(None);
    }
    let mut collector = Collector::new(text, &tree);
    let kind = if let Some(kind) = kubernetes::detect(&tree, rules, &mut collector) {
        helm::detect_embedded(text, &tree, &mut collector);
        kind
    } else if let Some(kind) = compose::detect(&tree, &mut collector) {
        kind
    } else {
        return Ok(None);
    };
    Ok(Some((kind, collector.finish(kind))))
}

/// Finds the images of a GitHub workflow (see `detect::workflow`). `Ok(None)`: it
/// names no image.
pub fn scan_workflow(text: &str) -> Result<Option<(FileKind, Vec<Finding>)>, DetectError> {
    let tree = yaml::parse(text)?;
    let mut collector = Collector::new(text, &tree);
    Ok(workflow::detect(&tree, &mut collector).map(|kind| (kind, collector.finish(kind))))
}

/// Finds the `images[]` entries of a kustomization (see [`kustomize`]).
/// `Ok(None)`: it has none.
pub fn scan_kustomization(text: &str) -> Result<Option<(FileKind, Vec<Finding>)>, DetectError> {
    let tree = yaml::parse(text)?;
    Ok(kustomize::detect(text, &tree).map(|f| (FileKind::Kustomize, f)))
}

/// Finds the images of a Helm chart's values file (see [`helm`]). Invalid
/// YAML is an error; a file naming no image gives no findings.
pub fn scan_values(text: &str) -> Result<Option<(FileKind, Vec<Finding>)>, DetectError> {
    let tree = yaml::parse(text)?;
    let mut collector = Collector::new(text, &tree);
    helm::detect_values(text, &tree, &mut collector);
    let kind = FileKind::HelmValues;
    Ok(Some((kind, collector.finish(kind))))
}

/// How a candidate that does not parse as a reference is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// The key is certainly an image (a container's `image`): report it.
    Report,
    /// The key may be something else (any `image` in a custom resource): drop it.
    Drop,
}

/// Byte offset → 1-based line and character column, in time linear in the
/// text over a whole run of increasing offsets.
struct Positions<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// The last answer: byte offset, line index, column (0-based).
    last: (usize, usize, usize),
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(memchr_lines(text)).collect();
        Self {
            text,
            line_starts,
            last: (0, 0, 0),
        }
    }

    fn at(&mut self, at: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= at) - 1;
        let line_start = self.line_starts[line];
        let (from, mut column) = if self.last.1 == line && self.last.0 <= at {
            (self.last.0, self.last.2)
        } else {
            (line_start, 0)
        };
        let mut slice = &self.text[from..at];
        if from == line_start {
            // A byte-order mark is not a column.
            slice = slice.trim_start_matches('\u{feff}');
        }
        column += slice.chars().count();
        self.last = (at, line, column);
        (line + 1, column + 1)
    }
}

/// Byte offsets just past each `\n`.
fn memchr_lines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Gathers candidate scalars, once per node.
struct Collector<'a> {
    text: &'a str,
    tree: &'a Tree,
    /// Candidate node → whether some use of it is built by Compose (only
    /// reported as built when every use is), and its strictness.
    found: BTreeMap<NodeId, (bool, Strictness)>,
    /// `image` values a rule says are not images, with why.
    not_images: BTreeMap<NodeId, String>,
    /// Compose `platform:` of the services using a value (`None`: services
    /// disagree, or one has none).
    platforms: BTreeMap<NodeId, Option<String>>,
    /// Bytes at the start of a value that are not the reference
    /// (`docker://` in a workflow step's `uses`).
    prefixes: BTreeMap<NodeId, usize>,
    /// Findings made whole by a detector (Helm image maps).
    extra: Vec<Finding>,
}

impl<'a> Collector<'a> {
    fn new(text: &'a str, tree: &'a Tree) -> Self {
        Self {
            text,
            tree,
            found: BTreeMap::new(),
            not_images: BTreeMap::new(),
            platforms: BTreeMap::new(),
            prefixes: BTreeMap::new(),
            extra: Vec::new(),
        }
    }

    fn add(&mut self, node: NodeId, built: bool, strictness: Strictness) {
        if self.tree.scalar(node).is_none() && self.template_text(node).is_none() {
            return;
        }
        self.found
            .entry(node)
            .and_modify(|(b, s)| {
                // Built by any service that uses it: pinning would rename
                // the image Compose builds.
                *b |= built;
                if strictness == Strictness::Report {
                    *s = Strictness::Report;
                }
            })
            .or_insert((built, strictness));
    }

    /// [`Self::add`] for a value whose reference follows `prefix` bytes.
    fn add_prefixed(&mut self, node: NodeId, prefix: usize) {
        self.prefixes.insert(node, prefix);
        self.add(node, false, Strictness::Report);
    }

    /// Records the `platform:` of a Compose service using `node`.
    fn platform(&mut self, node: NodeId, platform: Option<&str>) {
        let platform = platform.map(str::trim).filter(|p| !p.is_empty());
        self.platforms
            .entry(node)
            .and_modify(|p| {
                if p.as_deref() != platform {
                    *p = None;
                }
            })
            .or_insert_with(|| platform.map(String::from));
    }

    /// An `image` value passed over because a rule says it is not an image.
    fn add_not_image(&mut self, node: NodeId, why: &str) {
        if self.tree.scalar(node).is_some() {
            self.not_images
                .entry(node)
                .or_insert_with(|| why.to_string());
        }
    }

    /// An unquoted Helm template (`image: {{ .Values.image }}`) parses as a
    /// flow mapping: its source text, trimmed, and where it is.
    fn template_text(&self, node: NodeId) -> Option<(Range<usize>, &'a str)> {
        if self.tree.scalar(node).is_some() {
            return None;
        }
        let extent = self.tree.extents.get(node)?.clone();
        let text = self.text.get(extent.clone())?;
        let trimmed = text.trim_end();
        (trimmed.starts_with("{{") && !trimmed.contains('\n'))
            .then(|| (extent.start..extent.start + trimmed.len(), trimmed))
    }

    fn finish(self, kind: FileKind) -> Vec<Finding> {
        let mut findings = self.extra.clone();
        for (&node, &(built, strictness)) in &self.found {
            let finding = match self.tree.scalar(node) {
                Some(scalar) => self.image_finding(node, scalar, built, strictness, kind),
                None => self.template_finding(node, kind),
            };
            findings.extend(finding);
        }
        findings.extend(self.not_image_findings(kind));
        findings.sort_by_key(|f| f.site().span.start);
        let mut positions = Positions::new(self.text);
        for finding in &mut findings {
            let site = match finding {
                Finding::Image { site, .. } | Finding::Skipped { site, .. } => site,
            };
            (site.line, site.column) = positions.at(site.span.start);
        }
        findings
    }

    /// The finding of an image value that is not a scalar: a one-line
    /// template (`{{ … }}`) is skipped as templated; anything else is not told.
    fn template_finding(&self, node: NodeId, kind: FileKind) -> Option<Finding> {
        let (span, text) = self.template_text(node)?;
        let (line, column) = (0, 0);
        Some(Finding::Skipped {
            site: Site {
                span,
                value: text.to_string(),
                line,
                column,
                kind,
                style: ScalarStyle::Plain,
                in_flow: true,
                platform: None,
            },
            reason: SkipReason::Templated,
        })
    }

    /// The finding of the image value `scalar` (at `node`); `None` when it
    /// says nothing to pin.
    fn image_finding(
        &self,
        node: NodeId,
        scalar: &yaml::Scalar,
        built: bool,
        strictness: Strictness,
        kind: FileKind,
    ) -> Option<Finding> {
        // An empty or null image says nothing to pin.
        if scalar.style == Some(ScalarStyle::Plain)
            && matches!(scalar.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
            || scalar.value.is_empty()
        {
            return None;
        }
        let prefix = self.prefixes.get(&node).copied().unwrap_or(0);
        let value = scalar.value.get(prefix..).unwrap_or_default();
        let at = match (&scalar.span, scalar.style) {
            (Some(span), _) => span.start,
            // A block scalar is placed at its `|` or `>`, on the key's
            // line, where a `# digestpin:ignore` can go.
            (None, None) => block_header(self.text, scalar.start),
            (None, Some(_)) => scalar.start,
        };
        let (line, column) = (0, 0);
        let site = Site {
            span: scalar
                .span
                .clone()
                .map_or(at..at, |span| span.start + prefix..span.end),
            value: value.to_string(),
            line,
            column,
            kind,
            style: scalar.style.unwrap_or(ScalarStyle::Plain),
            in_flow: scalar.in_flow,
            platform: self.platforms.get(&node).cloned().flatten(),
        };
        let skipped = |reason| Finding::Skipped {
            site: site.clone(),
            reason,
        };
        // `ko://…` names an import path that ko builds and fills in.
        let finding = if is_templated(value) || value.starts_with("ko://") {
            skipped(SkipReason::Templated)
        } else if scalar.style.is_none() {
            skipped(SkipReason::BlockScalar)
        } else if built {
            skipped(SkipReason::BuiltByCompose)
        } else {
            match Reference::parse(value) {
                Err(_) if strictness == Strictness::Drop => return None,
                Err(err) => skipped(SkipReason::NotAReference(err)),
                Ok(_) if scalar.span.is_none() => skipped(SkipReason::Escaped),
                Ok(reference) => Finding::Image {
                    site: site.clone(),
                    reference,
                },
            }
        };
        Some(finding)
    }

    /// The skipped findings of the values known not to be images.
    fn not_image_findings(&self, kind: FileKind) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (&node, why) in &self.not_images {
            let Some(scalar) = self.tree.scalar(node) else {
                continue;
            };
            if self.found.contains_key(&node) || scalar.value.is_empty() {
                continue;
            }
            findings.push(Finding::Skipped {
                site: Site::at_scalar(scalar, scalar.value.clone(), kind),
                reason: SkipReason::NotAnImage(why.clone()),
            });
        }
        findings
    }
}

/// The offset of the `|` or `>` of the block scalar whose content starts
/// at `content` (the header is the last non-blank line before it).
fn block_header(text: &str, content: usize) -> usize {
    let before = &text[..content.min(text.len())];
    let mut end = before.len();
    loop {
        let Some(break_at) = before[..end].rfind('\n') else {
            return content;
        };
        let start = before[..break_at].rfind('\n').map_or(0, |i| i + 1);
        let line = &before[start..break_at];
        let code = line.split(" #").next().unwrap_or(line).trim_end();
        if code.trim().is_empty() {
            end = start;
            if start == 0 {
                return content;
            }
            continue;
        }
        return match code.rfind(['|', '>']) {
            Some(i) => start + i,
            None => content,
        };
    }
}

#[cfg(test)]
mod tests;
