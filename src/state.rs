//! Whether a reference is pinned, and with which tag.
//!
//! A pin is read back in the forms `pin` writes: `name@sha256:… # tag` (the
//! comment follows the value on its line, or ends the line of a flow
//! collection) and `name:tag@sha256:…`. A comment counts as our tag comment
//! only when it is a single valid tag, alone or followed by another comment
//! (`# 1.25  # web`), so `# web server` is never taken for a tag.

use std::ops::Range;

use crate::detect::{FileKind, ScalarStyle, Site};
use crate::reference::Reference;

/// How a reference is pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// A tag (or nothing, meaning `latest`) and no digest.
    Unpinned,
    /// `name@digest # tag`: `comment` is the byte range of ` # tag`.
    Comment { tag: String, comment: Range<usize> },
    /// `name:tag@digest`.
    TagDigest { tag: String },
    /// `name@digest` with no known tag.
    DigestOnly,
}

impl State {
    /// The tag a pin tracks, if known.
    pub fn tag(&self) -> Option<&str> {
        match self {
            State::Comment { tag, .. } | State::TagDigest { tag } => Some(tag),
            State::Unpinned | State::DigestOnly => None,
        }
    }

    pub fn is_pinned(&self) -> bool {
        !matches!(self, State::Unpinned)
    }
}

/// Reads the pin state of the reference at `site` in `text`.
pub fn state(text: &str, site: &Site, reference: &Reference) -> State {
    if reference.digest().is_none() {
        return State::Unpinned;
    }
    if let Some(tag) = reference.tag() {
        return State::TagDigest {
            tag: tag.to_string(),
        };
    }
    if site.kind == FileKind::Dockerfile {
        // A `#` after an instruction is not a comment: no tag comment there.
        return State::DigestOnly;
    }
    let after = site.span.end + usize::from(site.style != ScalarStyle::Plain);
    match tag_comment(text, after) {
        Some((tag, comment)) => State::Comment { tag, comment },
        None => State::DigestOnly,
    }
}

/// Finds ` # tag` after byte `after` on its line.
fn tag_comment(text: &str, after: usize) -> Option<(String, Range<usize>)> {
    let line_end = text[after..].find('\n').map_or(text.len(), |i| after + i);
    let rest = &text[after..line_end];
    let bytes = rest.as_bytes();
    let mut quote = None;
    let mut hash = None;
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'#') if i > 0 && matches!(bytes[i - 1], b' ' | b'\t') => {
                hash = Some(i);
                break;
            }
            (None, _) => {}
        }
    }
    let hash = hash?;
    let body = rest[hash + 1..].strip_prefix(' ')?;
    let token_len = body.find([' ', '\t', '\r']).unwrap_or(body.len());
    let tag = &body[..token_len];
    let tail = body[token_len..].trim_start_matches([' ', '\t']);
    if !(tail.is_empty() || tail == "\r" || tail.starts_with('#')) || !is_tag(tag) {
        return None;
    }
    let start = after + hash - 1;
    let end = after + hash + 2 + token_len;
    Some((tag.to_string(), start..end))
}

fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{self, Finding};

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    fn states(text: &str) -> Vec<State> {
        let (_, findings) = detect::scan(text).unwrap().unwrap();
        findings
            .iter()
            .filter_map(|f| match f {
                Finding::Image { site, reference } => Some(state(text, site, reference)),
                Finding::Skipped { .. } => None,
            })
            .collect()
    }

    #[test]
    fn reads_every_form() {
        let text = format!(
            "services:\n  a: {{image: nginx:1.25}}\n  b:\n    image: 'nginx@{D}' # 1.25  # web\n  c:\n    image: redis:7@{D}\n  d:\n    image: redis@{D} # web server\n  e: {{image: x@{D}}} # v2\n"
        );
        let got = states(&text);
        assert_eq!(got[0], State::Unpinned);
        let State::Comment { tag, comment } = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!((tag.as_str(), &text[comment.clone()]), ("1.25", " # 1.25"));
        assert_eq!(got[2], State::TagDigest { tag: "7".into() });
        assert_eq!(got[3], State::DigestOnly);
        assert_eq!(got[4].tag(), Some("v2"));
    }
}
