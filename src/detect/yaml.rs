//! A small YAML tree with byte positions, built from `saphyr-parser` events.
//!
//! The tree keeps what detection needs and nothing more: mappings, sequences
//! and scalars, each scalar with its value, style and the byte range of its
//! value text in the file. Aliases point at their anchored node, so a value
//! shared through an anchor is one node however often it is used. Positions
//! from the parser are character indexes; they are turned into byte offsets
//! here, and the scalar's value text is located in the source by scanning past
//! its anchor and tag, so the range never includes quotes, properties or
//! trailing comments.

use std::collections::HashSet;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle as SaphyrStyle};

use super::{DetectError, ScalarStyle};

/// Index of a node in [`Tree::nodes`].
pub type NodeId = usize;

#[derive(Debug, Clone)]
pub struct Scalar {
    pub value: String,
    /// `None` for block scalars (literal and folded).
    pub style: Option<ScalarStyle>,
    /// Byte range of the value text inside the quotes, when the source text
    /// equals the value; `None` when it does not (escapes, line folding).
    pub span: Option<Range<usize>>,
    /// Byte offset where the scalar starts (its anchor or tag, if any).
    pub start: usize,
    pub in_flow: bool,
}

#[derive(Debug, Clone)]
pub enum Node {
    Scalar(Scalar),
    Mapping(Vec<(NodeId, NodeId)>),
    Sequence(Vec<NodeId>),
}

/// All documents of one file.
#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
    /// The root node of each document.
    pub documents: Vec<NodeId>,
    /// The byte range each node covers in the source (from its anchor or
    /// tag, if any, to its end).
    pub extents: Vec<Range<usize>>,
}

impl Tree {
    pub fn scalar(&self, id: NodeId) -> Option<&Scalar> {
        match &self.nodes[id] {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a plain or quoted scalar.
    pub fn str(&self, id: NodeId) -> Option<&str> {
        self.scalar(id).map(|s| s.value.as_str())
    }

    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match &self.nodes[id] {
            Node::Sequence(items) => items,
            _ => &[],
        }
    }

    /// Entries of a mapping, own keys first, then those merged with `<<`.
    /// Each merged mapping is read once, however often it is aliased, so a
    /// merge-key bomb costs its size, not its expansion.
    pub fn entries(&self, id: NodeId) -> Vec<(NodeId, NodeId)> {
        let mut out = Vec::new();
        let mut seen_keys = HashSet::new();
        let mut seen_maps = HashSet::new();
        self.collect_entries(id, &mut out, &mut seen_keys, &mut seen_maps);
        out
    }

    fn collect_entries<'t>(
        &'t self,
        id: NodeId,
        out: &mut Vec<(NodeId, NodeId)>,
        seen_keys: &mut HashSet<&'t str>,
        seen_maps: &mut HashSet<NodeId>,
    ) {
        let Node::Mapping(entries) = &self.nodes[id] else {
            return;
        };
        if !seen_maps.insert(id) {
            return;
        }
        let mut merges = Vec::new();
        for &(key, value) in entries {
            match self.str(key) {
                Some("<<") => merges.push(value),
                Some(name) => {
                    if seen_keys.insert(name) {
                        out.push((key, value));
                    }
                }
                None => out.push((key, value)),
            }
        }
        for merge in merges {
            match &self.nodes[merge] {
                Node::Mapping(_) => self.collect_entries(merge, out, seen_keys, seen_maps),
                Node::Sequence(items) => {
                    for &item in items {
                        self.collect_entries(item, out, seen_keys, seen_maps);
                    }
                }
                Node::Scalar(_) => {}
            }
        }
    }

    /// The value of `key` in mapping `id` (own keys win over merged ones).
    pub fn get(&self, id: NodeId, key: &str) -> Option<NodeId> {
        let Node::Mapping(entries) = &self.nodes[id] else {
            return None;
        };
        let own = entries
            .iter()
            .find(|&&(k, _)| self.str(k) == Some(key))
            .map(|&(_, v)| v);
        if own.is_some() || !entries.iter().any(|&(k, _)| self.str(k) == Some("<<")) {
            return own;
        }
        self.entries(id)
            .into_iter()
            .find(|&(k, _)| self.str(k) == Some(key))
            .map(|(_, v)| v)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, id: NodeId, keys: &[&str]) -> Option<NodeId> {
        keys.iter().try_fold(id, |node, key| self.get(node, key))
    }

    pub fn is_mapping(&self, id: NodeId) -> bool {
        matches!(self.nodes[id], Node::Mapping(_))
    }
}

/// Character index → byte offset.
struct Offsets {
    /// Byte offset of each character, with the text length appended; empty
    /// for ASCII text, where they are equal.
    table: Vec<usize>,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let table = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .collect()
        };
        Self { table }
    }

    fn byte(&self, index: usize) -> usize {
        if self.table.is_empty() {
            index
        } else {
            self.table
                .get(index)
                .copied()
                .unwrap_or_else(|| self.table.last().copied().unwrap_or(0))
        }
    }
}

enum Open {
    Mapping { id: NodeId, key: Option<NodeId> },
    Sequence { id: NodeId },
}

/// How many under-indented flow lines [`parse`] mends before giving up.
const MAX_MENDS: usize = 64;

/// Parses every document of `text`.
///
/// `saphyr-parser` rejects a flow collection whose continuation line is not
/// indented past its block key ("invalid indentation"), as in `command: [`
/// … `]` with the `]` under the key, which Go's YAML parser (and so
/// `kubectl` and `docker compose`) accepts. On that error, when the offending
/// line starts with `]` or `}` or follows a line ending in `[`, `{` or `,`,
/// the line break before it is replaced by blanks of the same length, so
/// every offset stays the same, and the parse is tried again.
pub fn parse(text: &str) -> Result<Tree, DetectError> {
    let mut mended: Option<String> = None;
    let mut first_error = None;
    for _ in 0..=MAX_MENDS {
        let current = mended.as_deref().unwrap_or(text);
        match parse_once(current) {
            Ok(tree) => return Ok(tree),
            Err((error, at)) => {
                let next = mend(current, &error, at);
                first_error.get_or_insert(error);
                match next {
                    Some(next) => mended = Some(next),
                    None => break,
                }
            }
        }
    }
    Err(first_error.unwrap_or(DetectError::Yaml {
        line: 1,
        column: 1,
        message: "unparsable YAML".into(),
    }))
}

/// The text `saphyr-parser` accepts: `text`, or `text` mended as [`parse`]
/// does. For re-parsing checks that compare events.
pub fn parsable(text: &str) -> std::borrow::Cow<'_, str> {
    let mut current = std::borrow::Cow::Borrowed(text);
    for _ in 0..=MAX_MENDS {
        let error = Parser::new_from_str(&current).find_map(Result::err);
        let Some(error) = error else {
            break;
        };
        let at = Offsets::new(&current).byte(error.marker().index());
        let wrapped = DetectError::Yaml {
            line: error.marker().line(),
            column: error.marker().col() + 1,
            message: error.info().to_string(),
        };
        match mend(&current, &wrapped, at) {
            Some(next) => current = std::borrow::Cow::Owned(next),
            None => break,
        }
    }
    current
}

/// `text` with the line break before an under-indented flow line blanked,
/// if `error` (at byte `at`) is about one.
fn mend(text: &str, error: &DetectError, at: usize) -> Option<String> {
    let DetectError::Yaml { message, .. } = error else {
        return None;
    };
    if !message.contains("invalid indentation") {
        return None;
    }
    let at = at.min(text.len());
    let line_start = text.get(..at)?.rfind('\n')? + 1;
    let this_line = text.get(line_start..)?.trim_start_matches([' ', '\t']);
    let mut break_start = line_start - 1;
    if break_start > 0 && text.as_bytes().get(break_start - 1) == Some(&b'\r') {
        break_start -= 1;
    }
    let prev_start = text.get(..break_start)?.rfind('\n').map_or(0, |i| i + 1);
    let prev_line = text.get(prev_start..break_start)?;
    let closes = this_line.starts_with([']', '}']);
    let continues = prev_line.trim_end().ends_with(['[', '{', ',']);
    if prev_line.contains('#') || !(closes || continues) {
        return None;
    }
    let mut mended = String::with_capacity(text.len());
    mended.push_str(&text[..break_start]);
    mended.push_str(&" ".repeat(line_start - break_start));
    mended.push_str(&text[line_start..]);
    Some(mended)
}

/// One parse; on error, the error and its byte offset. Text in the plain
/// block style most manifests are written in is read by
/// [`super::yaml_fast`]; anything else by `saphyr-parser`.
fn parse_once(text: &str) -> Result<Tree, (DetectError, usize)> {
    if let Some(events) = super::yaml_fast::events(text) {
        return build(text, events.into_iter().map(Ok));
    }
    let offsets = Offsets::new(text);
    build(
        text,
        Parser::new_from_str(text).map(|item| {
            item.map(|(event, span)| {
                let start = offsets.byte(span.start.index());
                (event, start, offsets.byte(span.end.index()))
            })
            .map_err(|err| yaml_error(&err, &offsets))
        }),
    )
}

/// The events `saphyr-parser` gives for `text`, positioned in bytes (for
/// holding [`super::yaml_fast`] to them).
#[cfg(test)]
pub(super) fn parser_events(text: &str) -> Option<Vec<Positioned<'_>>> {
    let offsets = Offsets::new(text);
    Parser::new_from_str(text)
        .map(|item| {
            item.ok().map(|(event, span)| {
                let start = offsets.byte(span.start.index());
                (event, start, offsets.byte(span.end.index()))
            })
        })
        .collect()
}

/// An event and the byte offsets where it starts and ends.
pub(super) type Positioned<'t> = (Event<'t>, usize, usize);

/// The tree of a stream of events.
fn build<'t>(
    text: &str,
    events: impl Iterator<Item = Result<Positioned<'t>, (DetectError, usize)>>,
) -> Result<Tree, (DetectError, usize)> {
    let mut tree = Tree::default();
    let mut anchors: Vec<(usize, NodeId)> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut flow_depth = 0usize;
    // For each open collection, whether it is a flow collection.
    let mut flow_stack: Vec<bool> = Vec::new();

    for item in events {
        let (event, start, end) = item?;
        let node = match event {
            Event::Scalar(value, style, anchor, _tag) => {
                let scalar = scalar(text, start, value.into_owned(), style, flow_depth > 0);
                let id = push(&mut tree, Node::Scalar(scalar), start);
                if anchor > 0 {
                    anchors.push((anchor, id));
                }
                Some(id)
            }
            Event::Alias(anchor) => anchors
                .iter()
                .rev()
                .find(|(a, _)| *a == anchor)
                .map(|&(_, id)| id),
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let is_mapping = matches!(event, Event::MappingStart(..));
                let id = push(
                    &mut tree,
                    if is_mapping {
                        Node::Mapping(Vec::new())
                    } else {
                        Node::Sequence(Vec::new())
                    },
                    start,
                );
                if anchor > 0 {
                    anchors.push((anchor, id));
                }
                let flow = starts_flow(text, start);
                flow_stack.push(flow);
                if flow {
                    flow_depth += 1;
                }
                attach(&mut tree, &mut stack, id);
                stack.push(if is_mapping {
                    Open::Mapping { id, key: None }
                } else {
                    Open::Sequence { id }
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Open::Mapping { id, .. } | Open::Sequence { id }) = stack.last() {
                    tree.extents[*id].end = end.max(start);
                }
                stack.pop();
                if flow_stack.pop() == Some(true) {
                    flow_depth = flow_depth.saturating_sub(1);
                }
                None
            }
            Event::DocumentStart(_) => {
                anchors.clear();
                None
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
        };
        if let Some(id) = node {
            attach(&mut tree, &mut stack, id);
        }
    }
    Ok(tree)
}

/// The error of a failed parse, and the byte offset where it is.
fn yaml_error(err: &saphyr_parser::ScanError, offsets: &Offsets) -> (DetectError, usize) {
    (
        DetectError::Yaml {
            line: err.marker().line(),
            column: err.marker().col() + 1,
            message: err.info().to_string(),
        },
        offsets.byte(err.marker().index()),
    )
}

/// The scalar `value` of `style` that starts at byte `start`.
fn scalar(text: &str, start: usize, value: String, style: SaphyrStyle, in_flow: bool) -> Scalar {
    let style = match style {
        SaphyrStyle::Plain => Some(ScalarStyle::Plain),
        SaphyrStyle::SingleQuoted => Some(ScalarStyle::SingleQuoted),
        SaphyrStyle::DoubleQuoted => Some(ScalarStyle::DoubleQuoted),
        SaphyrStyle::Literal | SaphyrStyle::Folded => None,
    };
    let span = style.and_then(|style| locate(text, start, &value, style));
    Scalar {
        value,
        style,
        span,
        start,
        in_flow,
    }
}

/// Whether a collection event at `start` opens a flow collection: the first
/// non-space character from `start`, after any anchor or tag, is `{` or `[`.
fn starts_flow(text: &str, start: usize) -> bool {
    let rest = skip_properties(text, start);
    matches!(text.as_bytes().get(rest), Some(b'{' | b'['))
}

/// Skips an anchor (`&a`), a tag (`!t`) and the spaces around them.
fn skip_properties(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        while matches!(bytes.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'&' | b'!') => {
                while at < bytes.len() && !matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
                    at += 1;
                }
            }
            _ => return at,
        }
    }
}

/// From `at`, past blanks, a comment and line breaks, to the next content.
fn skip_to_next_content(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        match bytes.get(at) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => at += 1,
            Some(b'#') => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            _ => return at,
        }
    }
}

fn push(tree: &mut Tree, node: Node, start: usize) -> NodeId {
    let end = match &node {
        Node::Scalar(Scalar {
            span: Some(span), ..
        }) => span.end,
        _ => start,
    };
    tree.nodes.push(node);
    tree.extents.push(start..end);
    tree.nodes.len() - 1
}

/// Adds `id` to the collection on top of the stack, or makes it a document root.
fn attach(tree: &mut Tree, stack: &mut [Open], id: NodeId) {
    match stack.last_mut() {
        None => tree.documents.push(id),
        Some(Open::Sequence { id: seq }) => {
            if let Node::Sequence(items) = &mut tree.nodes[*seq] {
                items.push(id);
            }
        }
        Some(Open::Mapping { id: map, key }) => match key.take() {
            None => *key = Some(id),
            Some(k) => {
                if let Node::Mapping(entries) = &mut tree.nodes[*map] {
                    entries.push((k, id));
                }
            }
        },
    }
}

/// The byte range of a scalar's value text, starting the search at the
/// scalar's event position; `None` when the source text differs from the value.
fn locate(text: &str, start: usize, value: &str, style: ScalarStyle) -> Option<Range<usize>> {
    let mut at = skip_properties(text, start);
    if at > start && text[start..at].trim_start().starts_with(['&', '!']) {
        // `image: &img` or `image: !!str` with the value on a later line:
        // skip the comment and line breaks after the properties.
        at = skip_to_next_content(text, at);
    }
    let bytes = text.as_bytes();
    let (from, to) = match style {
        ScalarStyle::Plain => (at, at + value.len()),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            let quote = if style == ScalarStyle::SingleQuoted {
                b'\''
            } else {
                b'"'
            };
            if bytes.get(at) != Some(&quote) {
                return None;
            }
            let from = at + 1;
            let close = text[from..].find(quote as char)? + from;
            (from, close)
        }
    };
    (text.get(from..to) == Some(value)).then_some(from..to)
}
