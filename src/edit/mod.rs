//! Byte-range edits of a file's text, and the text a pin writes.
//!
//! An [`Edit`] replaces one byte range. [`apply`] sorts the edits of a file,
//! refuses overlapping ones, and splices them into a new string: YAML is never
//! re-serialised, so every byte outside the edited ranges is kept.
//! [`pin_edits`] computes the edits that pin one reference: the value becomes
//! `name@sha256:…` and the tag moves into a YAML comment (`# 1.25`) right after
//! the value, or the value becomes `name:tag@sha256:…`. [`check_rewrite`]
//! ([`check`]) re-parses the new text and checks that the YAML event stream
//! changed in the intended scalar values only. A job gathers a file's edits
//! in a [`FileFix`] ([`fix`]), whose `apply` splices and checks them; the
//! caller writes the results with [`write()`] ([`write`](mod@write)), the one door
//! through which every rewrite reaches the disk.

use std::ops::Range;

use crate::detect::{FileKind, Site};

pub mod check;
pub mod field;
pub mod fix;
pub mod write;

pub use check::{check_rewrite, check_rewrite_for};
pub use fix::{FileChange, FileFix};
pub use write::{WriteError, WriteFailure, remove_stale_temporaries, remove_temporaries, write};

/// Replace the bytes of `range` with `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, content: impl Into<String>) -> Self {
        Self {
            range,
            content: content.into(),
        }
    }

    pub fn insert(at: usize, content: impl Into<String>) -> Self {
        Self::replace(at..at, content)
    }
}

/// How a pinned reference is written: the one style type of the `--style`
/// flag, the configuration's `style` and the edits.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Deserialize,
    serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PinStyle {
    /// `nginx@sha256:… # 1.25`: the tag is kept as a comment.
    #[default]
    #[value(help = "`nginx@sha256:… # 1.25`")]
    Comment,
    /// `nginx:1.25@sha256:…`: the form Renovate and kustomize read.
    #[value(help = "`nginx:1.25@sha256:…`")]
    TagDigest,
}

/// The style a pin is written in, in a file of `kind`: in a Dockerfile a `#`
/// after an instruction is not a comment, so the tag stays in the value there
/// (`name:tag@sha256:…`) whatever the style asked for.
pub fn style_for(kind: FileKind, style: PinStyle) -> PinStyle {
    match kind {
        FileKind::Dockerfile => PinStyle::TagDigest,
        _ => style,
    }
}

/// Why a rewrite was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("edits overlap at bytes {first:?} and {second:?}")]
    Overlap {
        first: Range<usize>,
        second: Range<usize>,
    },
    #[error("edit {range:?} is outside the text or splits a character")]
    OutOfBounds { range: Range<usize> },
    #[error("the rewritten file no longer parses as YAML: {message}")]
    Unparsable { message: String },
    #[error(
        "the rewritten file differs from the original in more than the image values ({detail})"
    )]
    Unintended { detail: String },
    #[error("{0}")]
    Dockerfile(#[from] crate::detect::dockerfile::RewriteError),
}

/// Applies `edits` to `text`. Edits may come in any order; they must not overlap
/// (two insertions at the same point are applied in the order given).
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.content.len()).sum::<usize>());
    let mut last = 0usize;
    let mut previous: Option<&Edit> = None;
    for edit in sorted {
        let Range { start, end } = edit.range.clone();
        if start > end
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            return Err(EditError::OutOfBounds {
                range: edit.range.clone(),
            });
        }
        if start < last {
            return Err(EditError::Overlap {
                first: previous.map_or(0..0, |p| p.range.clone()),
                second: edit.range.clone(),
            });
        }
        out.push_str(&text[last..start]);
        out.push_str(&edit.content);
        last = end;
        previous = Some(edit);
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// One reference to pin, located in a file's text.
#[derive(Debug, Clone)]
pub struct PinSite<'a> {
    /// Byte range of the value (inside the quotes of a quoted scalar).
    pub span: Range<usize>,
    /// Whether the value is quoted (the closing quote follows `span`).
    pub quoted: bool,
    /// Whether the value sits inside a flow collection (`[{image: x}]`).
    pub in_flow: bool,
    /// The reference's name as written, without tag or digest.
    pub name: &'a str,
    /// The tag the digest was resolved from (`latest` for an untagged reference).
    pub tag: &'a str,
    /// The resolved digest, `sha256:…`.
    pub digest: &'a str,
}

impl PinSite<'_> {
    /// The value in `name:tag@digest` form.
    pub fn tag_digest_value(&self) -> String {
        format!("{}:{}@{}", self.name, self.tag, self.digest)
    }

    /// The value in `name@digest` form.
    pub fn digest_value(&self) -> String {
        format!("{}@{}", self.name, self.digest)
    }
}

/// Where a comment can go after the value at `after`: `Some(at)` to insert
/// ` # tag` at byte `at`, `None` when no comment can be placed safely.
fn comment_point(text: &str, after: usize, in_flow: bool, alone_on_line: bool) -> Option<usize> {
    let line_end = text[after..].find('\n').map_or(text.len(), |i| after + i);
    let rest = text[after..line_end].trim_end_matches('\r');
    let trimmed = rest.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Some(after);
    }
    // Inside a flow collection more structure follows on the line
    // (`image: x}]`). The comment goes at the end of the line, provided the rest
    // is plain structure: no quote and no comment of its own, and no other pin
    // shares the line.
    if in_flow && alone_on_line && !rest.contains(['#', '\'', '"']) {
        return Some(after + rest.trim_end().len());
    }
    None
}

/// Whether byte `at` lies in a document written in JSON syntax (its content
/// opens with `{` or `[`), where a `#` comment would make the file invalid
/// JSON: pins there take the `name:tag@sha256:…` form.
pub fn in_json_document(text: &str, at: usize) -> bool {
    JsonDocuments::new(text).contains(at)
}

/// Which documents of a file are written in JSON syntax, found in one pass so
/// that asking for every reference of a large file stays linear.
pub struct JsonDocuments {
    first: bool,
    /// Each `---` marker line: its byte offset, and whether the document it
    /// opens is JSON.
    markers: Vec<(usize, bool)>,
}

impl JsonDocuments {
    pub fn new(text: &str) -> Self {
        let mut markers = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if line.starts_with("---") && line[3..].chars().next().is_none_or(|c| c.is_whitespace())
            {
                markers.push((offset, opens_json(text, offset + 3)));
            }
            offset += line.len();
        }
        JsonDocuments {
            first: opens_json(text, 0),
            markers,
        }
    }

    /// Whether byte `at` lies in a JSON-syntax document.
    pub fn contains(&self, at: usize) -> bool {
        match self.markers.partition_point(|&(line, _)| line < at) {
            0 => self.first,
            i => self.markers[i - 1].1,
        }
    }
}

/// Whether the document starting at byte `start` opens with `{` or `[`
/// after blank space and comments.
fn opens_json(text: &str, start: usize) -> bool {
    let mut rest = text[start..].trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if rest.starts_with('#') {
            rest = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if rest.starts_with('%') && start == 0 {
            // A directive (`%YAML 1.2`) before the first document.
            return false;
        } else {
            break;
        }
    }
    rest.starts_with(['{', '['])
}

/// Whether `pin` in the comment style writes `name:tag@sha256:…` at a value
/// ending at byte `end` (`after` past its closing quote): a Dockerfile, a
/// JSON document, or a line with no room for a comment.
pub fn comment_falls_back(
    text: &str,
    kind: FileKind,
    json: &JsonDocuments,
    site: &Site,
    alone_on_line: bool,
) -> bool {
    let quoted = usize::from(site.style != crate::detect::ScalarStyle::Plain);
    style_for(kind, PinStyle::Comment) != PinStyle::Comment
        || json.contains(site.span.start)
        || comment_point(text, site.span.end + quoted, site.in_flow, alone_on_line).is_none()
}

/// The edits that pin one reference. `alone_on_line` says whether this is the
/// only reference pinned on its line. Returns the edits and the new value.
pub fn pin_edits(
    text: &str,
    site: &PinSite<'_>,
    style: PinStyle,
    alone_on_line: bool,
) -> (Vec<Edit>, String) {
    let after = site.span.end + usize::from(site.quoted);
    let point = match style {
        PinStyle::Comment => comment_point(text, after, site.in_flow, alone_on_line),
        PinStyle::TagDigest => None,
    };
    match point {
        Some(at) => {
            let value = site.digest_value();
            let edits = vec![
                Edit::replace(site.span.clone(), value.clone()),
                Edit::insert(at, format!(" # {}", site.tag)),
            ];
            (edits, value)
        }
        None => {
            let value = site.tag_digest_value();
            (vec![Edit::replace(site.span.clone(), value.clone())], value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_are_recognised() {
        let json = "{\n  \"image\": \"nginx:1.25\"\n}\n";
        assert!(in_json_document(json, json.find("nginx").unwrap()));
        let bom = "\u{feff}  [{\"image\": \"a\"}]";
        assert!(in_json_document(bom, bom.find('a').unwrap()));
        let yaml = "# c\nimage: [{a: b}]\n";
        assert!(!in_json_document(yaml, yaml.find('b').unwrap()));
        let multi = "a: 1\n---\n# x\n{\"image\": \"b\"}\n--- \nc: [d]\n";
        assert!(in_json_document(multi, multi.find('b').unwrap()));
        assert!(!in_json_document(multi, multi.find('d').unwrap()));
        assert!(!in_json_document(multi, multi.find('1').unwrap()));
    }

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    fn pin(text: &str, value: &str, quoted: bool, in_flow: bool, style: PinStyle) -> String {
        let start = text.find(value).unwrap();
        let (name, tag) = value.rsplit_once(':').unwrap();
        let site = PinSite {
            span: start..start + value.len(),
            quoted,
            in_flow,
            name,
            tag,
            digest: D,
        };
        let (edits, new_value) = pin_edits(text, &site, style, true);
        let out = apply(text, &edits).unwrap();
        check_rewrite(text, &out, &[(value.to_string(), new_value)]).unwrap();
        out
    }

    #[test]
    fn plain_value_gets_comment() {
        assert_eq!(
            pin(
                "image: nginx:1.25\n",
                "nginx:1.25",
                false,
                false,
                PinStyle::Comment
            ),
            format!("image: nginx@{D} # 1.25\n")
        );
    }

    #[test]
    fn existing_comment_stays_after_ours() {
        assert_eq!(
            pin(
                "image: 'nginx:1.25'  # web\r\n",
                "nginx:1.25",
                true,
                false,
                PinStyle::Comment
            ),
            format!("image: 'nginx@{D}' # 1.25  # web\r\n")
        );
    }

    #[test]
    fn no_final_newline() {
        assert_eq!(
            pin(
                "image: \"a/b:v1\"",
                "a/b:v1",
                true,
                false,
                PinStyle::Comment
            ),
            format!("image: \"a/b@{D}\" # v1")
        );
    }

    #[test]
    fn flow_value_comment_at_line_end() {
        assert_eq!(
            pin(
                "c: [{name: a, image: b:1}]\n",
                "b:1",
                false,
                true,
                PinStyle::Comment
            ),
            format!("c: [{{name: a, image: b@{D}}}] # 1\n")
        );
    }

    #[test]
    fn flow_value_with_comment_falls_back_to_tag_digest() {
        assert_eq!(
            pin(
                "c: [{image: b:1}] # x\n",
                "b:1",
                false,
                true,
                PinStyle::Comment
            ),
            format!("c: [{{image: b:1@{D}}}] # x\n")
        );
    }

    #[test]
    fn tag_digest_style() {
        assert_eq!(
            pin(
                "image: nginx:1.25\n",
                "nginx:1.25",
                false,
                false,
                PinStyle::TagDigest
            ),
            format!("image: nginx:1.25@{D}\n")
        );
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let err = apply(
            "abcdef",
            &[Edit::replace(0..3, "x"), Edit::replace(2..4, "y")],
        );
        assert!(matches!(err, Err(EditError::Overlap { .. })));
    }

    #[test]
    fn unintended_change_is_caught() {
        let err = check_rewrite("a: 1\nb: 2\n", "a: 1\nb: 3\n", &[]);
        assert!(matches!(err, Err(EditError::Unintended { .. })));
        let err = check_rewrite("a: 1\n", "a: [1\n", &[]);
        assert!(err.is_err());
    }
}
