//! Where the image references of one YAML file are.
//!
//! [`scan`] parses the file into a small positioned tree ([`yaml`]) and asks
//! the Kubernetes and Compose detectors for the scalars that name images. Each
//! is returned as a [`Finding`]: an image with the byte range of its value, or
//! a value passed over with the reason (templated, built by Compose, …).
//! Nothing here resolves or edits anything.

mod compose;
pub mod dockerfile;
mod kubernetes;
pub mod yaml;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::reference::{Reference, ReferenceError};

use yaml::{NodeId, Tree};

/// What kind of file the references were found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Kubernetes,
    Compose,
    Dockerfile,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileKind::Kubernetes => "Kubernetes",
            FileKind::Compose => "Compose",
            FileKind::Dockerfile => "Dockerfile",
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
    #[error("a build stage, not an image")]
    StageName,
    #[error("`scratch` is the empty image")]
    Scratch,
    #[error("made of build arguments, not resolved")]
    BuildArgument,
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
    // Cheap exit for files that cannot hold what we look for.
    if !text.contains("image") {
        return Ok(None);
    }
    let tree = yaml::parse(text)?;
    let mut collector = Collector::new(text, &tree);
    let kind = if let Some(kind) = kubernetes::detect(&tree, &mut collector) {
        kind
    } else if let Some(kind) = compose::detect(&tree, &mut collector) {
        kind
    } else {
        return Ok(None);
    };
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

/// Gathers candidate scalars, once per node.
struct Collector<'a> {
    text: &'a str,
    tree: &'a Tree,
    /// Candidate node → whether some use of it is built by Compose (only
    /// reported as built when every use is), and its strictness.
    found: BTreeMap<NodeId, (bool, Strictness)>,
}

impl<'a> Collector<'a> {
    fn new(text: &'a str, tree: &'a Tree) -> Self {
        Self {
            text,
            tree,
            found: BTreeMap::new(),
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
        let mut findings = Vec::new();
        for (&node, &(built, strictness)) in &self.found {
            let Some(scalar) = self.tree.scalar(node) else {
                if let Some((span, text)) = self.template_text(node) {
                    let (line, column) = line_column(self.text, span.start);
                    findings.push(Finding::Skipped {
                        site: Site {
                            span,
                            value: text.to_string(),
                            line,
                            column,
                            kind,
                            style: ScalarStyle::Plain,
                            in_flow: true,
                        },
                        reason: SkipReason::Templated,
                    });
                }
                continue;
            };
            // An empty or null image says nothing to pin.
            if scalar.style == Some(ScalarStyle::Plain)
                && matches!(scalar.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
                || scalar.value.is_empty()
            {
                continue;
            }
            let value = scalar.value.as_str();
            let at = scalar.span.as_ref().map_or(scalar.start, |s| s.start);
            let (line, column) = line_column(self.text, at);
            let site = Site {
                span: scalar.span.clone().unwrap_or(at..at),
                value: value.to_string(),
                line,
                column,
                kind,
                style: scalar.style.unwrap_or(ScalarStyle::Plain),
                in_flow: scalar.in_flow,
            };
            let skipped = |reason| Finding::Skipped {
                site: site.clone(),
                reason,
            };
            let finding = if scalar.style.is_none() {
                skipped(SkipReason::BlockScalar)
            } else if is_templated(value) {
                skipped(SkipReason::Templated)
            } else if built {
                skipped(SkipReason::BuiltByCompose)
            } else {
                match Reference::parse(value) {
                    Err(_) if strictness == Strictness::Drop => continue,
                    Err(err) => skipped(SkipReason::NotAReference(err)),
                    Ok(_) if scalar.span.is_none() => skipped(SkipReason::Escaped),
                    Ok(reference) => Finding::Image {
                        site: site.clone(),
                        reference,
                    },
                }
            };
            findings.push(finding);
        }
        findings.sort_by_key(|f| f.site().span.start);
        findings
    }
}

/// 1-based line and character column of byte `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..at]
        .trim_start_matches('\u{feff}')
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
