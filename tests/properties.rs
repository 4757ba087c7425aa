//! Invariants of pinning over generated YAML, without a registry: digests come
//! from a fixed table, so these tests exercise detection and editing only.
//!
//! - Bytes outside the edited spans never change: every byte the rewrite
//!   removes lies inside a reference's value, and every byte it adds is added
//!   inside a value or after it on the same line.
//! - Pinning the result again finds nothing left to pin.

use std::collections::BTreeMap;
use std::path::PathBuf;

use digestpin::detect::{self, Finding};
use digestpin::edit::PinStyle;
use digestpin::jobs::pin::{self, PinOptions};
use digestpin::registry::{ResolveError, ResolveKey, Resolved};
use digestpin::scan::ScannedFile;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

/// A digest that depends on the key only.
fn fake_digest(key: &ResolveKey) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{}/{}:{}", key.registry, key.repository, key.tag));
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn scanned(text: &str) -> Option<ScannedFile> {
    let (kind, findings) = detect::scan(text).ok()??;
    Some(ScannedFile {
        path: PathBuf::from("generated.yaml"),
        text: text.to_string(),
        kind,
        findings,
    })
}

fn resolutions(file: &ScannedFile) -> BTreeMap<ResolveKey, Result<Resolved, ResolveError>> {
    let mut map = BTreeMap::new();
    for finding in &file.findings {
        if let Finding::Image { reference, .. } = finding {
            let key = pin::resolve_key(reference, None);
            let digest = fake_digest(&key);
            map.insert(
                key,
                Ok(Resolved {
                    digest,
                    media_type: "application/vnd.oci.image.index.v1+json".into(),
                }),
            );
        }
    }
    map
}

/// Pins `text` and returns the new text (the original when nothing changed).
fn pin_text(text: &str, style: PinStyle) -> (String, Vec<std::ops::Range<usize>>) {
    let Some(file) = scanned(text) else {
        return (text.to_string(), Vec::new());
    };
    let spans = file
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Image { site, .. } => Some(site.span.clone()),
            Finding::Skipped { .. } => None,
        })
        .collect();
    let options = PinOptions {
        style,
        platform: None,
        ..Default::default()
    };
    let outcome = pin::plan_with(std::slice::from_ref(&file), &resolutions(&file), &options);
    assert!(!outcome.has_errors(), "{:?}", outcome.messages);
    let updated = outcome
        .changes
        .into_iter()
        .next()
        .map_or_else(|| text.to_string(), |c| c.updated);
    (updated, spans)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

fn assert_only_values_changed(old: &str, new: &str, spans: &[std::ops::Range<usize>]) {
    let diff = similar::TextDiff::from_chars(old, new);
    for op in diff.ops() {
        let old_range = op.old_range();
        // Character indexes to byte offsets.
        let to_byte = |i: usize| old.char_indices().nth(i).map_or(old.len(), |(b, _)| b);
        let (start, end) = (to_byte(old_range.start), to_byte(old_range.end));
        match op.tag() {
            similar::DiffTag::Equal => {}
            similar::DiffTag::Delete | similar::DiffTag::Replace => {
                assert!(
                    spans
                        .iter()
                        .any(|s| s.start <= start && end <= line_end(old, s.start)),
                    "bytes {start}..{end} changed outside every value:\n{old}\n---\n{new}"
                );
            }
            similar::DiffTag::Insert => {
                assert!(
                    spans
                        .iter()
                        .any(|s| s.start <= start && start <= line_end(old, s.start)),
                    "bytes inserted at {start}, outside every value's line:\n{old}\n---\n{new}"
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Container {
    image: String,
    quote: u8,
    comment: bool,
    flow: bool,
}

fn container() -> impl Strategy<Value = Container> {
    (
        prop::sample::select(vec![
            "nginx",
            "redis",
            "ghcr.io/org/app",
            "localhost:5000/team/svc",
            "quay.io/a/b",
        ]),
        prop::option::of(prop::sample::select(vec![
            "1.25",
            "7.2-alpine",
            "v1.0.0",
            "latest",
        ])),
        0u8..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, tag, quote, comment, flow)| Container {
            image: match tag {
                Some(tag) => format!("{name}:{tag}"),
                None => name.to_string(),
            },
            quote,
            comment,
            flow,
        })
}

fn quoted(c: &Container) -> String {
    match c.quote {
        1 => format!("'{}'", c.image),
        2 => format!("\"{}\"", c.image),
        _ => c.image.clone(),
    }
}

fn document(containers: &[Container], indent: usize, blank_lines: bool) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::from("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n");
    out.push_str(&format!("{pad}name: generated  # a name\nspec:\n"));
    out.push_str(&format!(
        "{pad}template:\n{pad}{pad}spec:\n{pad}{pad}{pad}containers:\n"
    ));
    let item = pad.repeat(3);
    for (i, c) in containers.iter().enumerate() {
        if c.flow {
            out.push_str(&format!("{item}- {{name: c{i}, image: {}}}", quoted(c)));
        } else {
            out.push_str(&format!("{item}- name: c{i}\n{item}  image: {}", quoted(c)));
        }
        if c.comment {
            out.push_str("   # keep me");
        }
        out.push('\n');
        if blank_lines {
            out.push('\n');
        }
        if !c.flow {
            out.push_str(&format!("{item}  args: [\"--image\", \"{}\"]\n", c.image));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn bytes_outside_values_never_change(
        docs in prop::collection::vec((prop::collection::vec(container(), 1..4), 1usize..4, any::<bool>()), 1..3),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
        tag_digest in any::<bool>(),
    ) {
        let mut text = docs
            .iter()
            .map(|(containers, indent, blank)| document(containers, *indent, *blank))
            .collect::<Vec<_>>()
            .join("---\n");
        if !final_newline {
            text.pop();
        }
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let style = if tag_digest { PinStyle::TagDigest } else { PinStyle::Comment };
        let (pinned, spans) = pin_text(&text, style);
        prop_assert!(!spans.is_empty());
        prop_assert_ne!(&pinned, &text);
        assert_only_values_changed(&text, &pinned, &spans);
        // Nothing is left to pin.
        let (again, _) = pin_text(&pinned, style);
        prop_assert_eq!(again, pinned);
    }
}
