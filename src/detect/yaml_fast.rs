//! A reader for the plain block style most manifests are written in:
//! block mappings and sequences, plain keys, plain and one-line quoted
//! values, comments and `---` between documents. It gives the events
//! `saphyr-parser` gives for such text, with the same positions, in a
//! fraction of the time; on anything else (flow collections, block scalars,
//! anchors, tags, multi-line scalars, escapes, tabs, non-ASCII text, an empty
//! document, anything invalid) it gives up and `saphyr-parser` reads the
//! file. `tests/yaml_fast.rs` holds it to that against the parser on the
//! corpus, the test fixtures and generated documents.

use std::borrow::Cow;

use saphyr_parser::{Event, ScalarStyle};

use super::yaml::Positioned;

/// The events of `text`, or `None` when it is not in the style read here.
pub(super) fn events(text: &str) -> Option<Vec<Positioned<'_>>> {
    // Printable ASCII and line feeds only: the parser stops at a NUL and
    // rejects other control characters.
    if text
        .bytes()
        .any(|b| !(b == b'\n' || (b' '..=b'~').contains(&b)))
    {
        return None;
    }
    let mut reader = Reader {
        text,
        out: vec![(Event::StreamStart, 0, 0)],
        stack: Vec::new(),
        pending: None,
        scalar_indent: None,
        document: None,
    };
    let mut start = 0;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        reader.line(start, end)?;
        start = end + 1;
    }
    reader.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mapping,
    Sequence,
}

/// An open block collection.
struct Open {
    kind: Kind,
    /// The column of its keys or dashes.
    indent: usize,
    /// A sequence whose dashes sit at its parent key's column.
    indentless: bool,
}

struct Reader<'t> {
    text: &'t str,
    out: Vec<Positioned<'t>>,
    stack: Vec<Open>,
    /// A key whose value has not come yet: the offset of its colon and the
    /// column of its mapping.
    pending: Option<(usize, usize)>,
    /// After a scalar value: the column a later line may not pass (a line
    /// further in would continue the scalar).
    scalar_indent: Option<usize>,
    /// In a document: whether its root has come.
    document: Option<bool>,
}

/// The longest key the parser takes (its simple-key limit).
const MAX_KEY: usize = 1024;

/// Characters that cannot start a plain scalar here.
const INDICATORS: &[u8] = b"-?:,[]{}#&*!|>'\"%@`";

impl<'t> Reader<'t> {
    fn line(&mut self, start: usize, end: usize) -> Option<()> {
        let line = &self.text[start..end];
        let content = line.trim_start_matches(' ');
        let column = line.len() - content.len();
        let at = start + column;
        if content.is_empty() || content.starts_with('#') {
            return Some(());
        }
        if column == 0 && (content.starts_with("...") || content.starts_with('%')) {
            return None;
        }
        if column == 0 && content.starts_with("---") {
            let rest = &content[3..];
            if !(rest.is_empty() || rest.starts_with(' ')) {
                return None;
            }
            let rest = rest.trim_start_matches(' ');
            if !(rest.is_empty() || rest.starts_with('#')) {
                return None;
            }
            self.end_document(at)?;
            self.out.push((Event::DocumentStart(true), at, at + 3));
            self.document = Some(false);
            self.scalar_indent = None;
            return Some(());
        }
        if self
            .scalar_indent
            .take()
            .is_some_and(|limit| column > limit)
        {
            return None;
        }
        if self.document.is_none() {
            self.out.push((Event::DocumentStart(false), at, at));
            self.document = Some(false);
        }
        if is_dash(content) {
            self.dash(column, at, end)
        } else {
            self.key(column, at, end)
        }
    }

    /// A sequence item at `column` (its dash at `at`).
    fn dash(&mut self, column: usize, at: usize, end: usize) -> Option<()> {
        let content = self.text[at + 1..end].trim_start_matches(' ');
        let item = end - content.len();
        if content.is_empty() || content.starts_with('#') || is_dash(content) {
            return None;
        }
        match self.pending {
            Some((_, indent)) if column >= indent => {
                self.pending = None;
                let indentless = column == indent;
                // An indentless sequence starts at its first item's content.
                let start = if indentless { item } else { at };
                self.open(Kind::Sequence, column, indentless, start);
            }
            _ => {
                self.settle_pending();
                self.close(column, at, false);
                match self.stack.last() {
                    Some(top) if top.kind == Kind::Sequence && top.indent == column => {}
                    None if self.document == Some(false) => {
                        self.open(Kind::Sequence, column, false, at);
                        self.document = Some(true);
                    }
                    _ => return None,
                }
            }
        }
        let item_column = item - (at - column);
        if key_end(self.text, item, end).is_some() {
            self.open(Kind::Mapping, item_column, false, item);
            self.key(item_column, item, end)
        } else {
            self.value(item, end, column)
        }
    }

    /// A key at `column` (starting at `at`) and its value, if on this line.
    fn key(&mut self, column: usize, at: usize, end: usize) -> Option<()> {
        match self.pending {
            Some((_, indent)) if column > indent => {
                self.pending = None;
                self.open(Kind::Mapping, column, false, at);
            }
            _ => {
                self.settle_pending();
                self.close(column, at, true);
                match self.stack.last() {
                    Some(top) if top.kind == Kind::Mapping && top.indent == column => {}
                    None if self.document == Some(false) => {
                        self.open(Kind::Mapping, column, false, at);
                        self.document = Some(true);
                    }
                    _ => return None,
                }
            }
        }
        let colon = key_end(self.text, at, end)?;
        self.scalar(at, colon, ScalarStyle::Plain);
        let rest = self.text[colon + 1..end].trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            self.pending = Some((colon, column));
            return Some(());
        }
        self.value(end - rest.len(), end, column)
    }

    /// A scalar value from `at` to the end of its line, in a collection at
    /// `column`.
    fn value(&mut self, at: usize, end: usize, column: usize) -> Option<()> {
        let text = self.text;
        let rest = &text[at..end];
        let after = match rest.as_bytes()[0] {
            b'"' => {
                let close = rest[1..].find('"')? + 1;
                let inner = &rest[1..close];
                if inner.contains('\\') {
                    return None;
                }
                self.out.push((
                    Event::Scalar(Cow::Borrowed(inner), ScalarStyle::DoubleQuoted, 0, None),
                    at,
                    at + close + 1,
                ));
                &rest[close + 1..]
            }
            b'\'' => {
                let (value, close) = single_quoted(rest)?;
                self.out.push((
                    Event::Scalar(value, ScalarStyle::SingleQuoted, 0, None),
                    at,
                    at + close + 1,
                ));
                &rest[close + 1..]
            }
            b'-' if rest.len() > 1 && rest.as_bytes()[1] != b' ' => self.plain(at, end)?,
            first if INDICATORS.contains(&first) => return None,
            _ => self.plain(at, end)?,
        };
        // Only a comment may follow, after a blank.
        let comment = after.trim_start_matches(' ');
        if !(comment.is_empty() || (comment.starts_with('#') && comment.len() < after.len())) {
            return None;
        }
        self.scalar_indent = Some(column);
        Some(())
    }

    /// A plain scalar from `at` to a comment or the end of the line; what
    /// follows it.
    fn plain(&mut self, at: usize, end: usize) -> Option<&'t str> {
        let text = self.text;
        let rest = &text[at..end];
        let stop = rest.find(" #").unwrap_or(rest.len());
        let value = rest[..stop].trim_end_matches(' ');
        if value.contains(": ") || value.ends_with(':') {
            return None;
        }
        self.scalar(at, at + value.len(), ScalarStyle::Plain);
        Some(&rest[value.len()..])
    }

    fn scalar(&mut self, start: usize, end: usize, style: ScalarStyle) {
        let value = Cow::Borrowed(&self.text[start..end]);
        self.out
            .push((Event::Scalar(value, style, 0, None), start, end));
    }

    /// The pending key's value is empty: a null at its colon.
    fn settle_pending(&mut self) {
        if let Some((colon, _)) = self.pending.take() {
            self.scalar(colon, colon, ScalarStyle::Plain);
        }
    }

    fn open(&mut self, kind: Kind, indent: usize, indentless: bool, at: usize) {
        let event = match kind {
            Kind::Mapping => Event::MappingStart(0, None),
            Kind::Sequence => Event::SequenceStart(0, None),
        };
        self.out.push((event, at, at));
        self.stack.push(Open {
            kind,
            indent,
            indentless,
        });
    }

    /// Closes the collections a token at `column` (at `at`) ends: those
    /// further in, and, for a key, an indentless sequence at its column.
    fn close(&mut self, column: usize, at: usize, by_key: bool) {
        while let Some(top) = self.stack.last() {
            let ends = top.indent > column
                || (by_key && top.kind == Kind::Sequence && top.indentless && top.indent == column);
            if !ends {
                break;
            }
            let event = match top.kind {
                Kind::Mapping => Event::MappingEnd,
                Kind::Sequence => Event::SequenceEnd,
            };
            self.out.push((event, at, at));
            self.stack.pop();
        }
    }

    /// Ends the document being read, if any, at `at`; `None` for an empty
    /// document.
    fn end_document(&mut self, at: usize) -> Option<()> {
        match self.document {
            None => Some(()),
            Some(false) => None,
            Some(true) => {
                self.settle_pending();
                while let Some(open) = self.stack.pop() {
                    let event = match open.kind {
                        Kind::Mapping => Event::MappingEnd,
                        Kind::Sequence => Event::SequenceEnd,
                    };
                    self.out.push((event, at, at));
                }
                self.out.push((Event::DocumentEnd, at, at));
                self.document = None;
                Some(())
            }
        }
    }

    fn finish(mut self) -> Option<Vec<Positioned<'t>>> {
        let end = self.text.len();
        self.end_document(end)?;
        self.out.push((Event::StreamEnd, end, end));
        Some(self.out)
    }
}

/// Whether a line's content is a sequence item.
fn is_dash(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// The offset of the colon ending the plain key that starts at `at`, when
/// the line from `at` is `key: …` or `key:`.
fn key_end(text: &str, at: usize, end: usize) -> Option<usize> {
    let line = &text[at..end];
    let first = *line.as_bytes().first()?;
    if INDICATORS.contains(&first) {
        return None;
    }
    let bytes = line.as_bytes();
    let colon = (0..bytes.len())
        .find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))?;
    let key = &line[..colon];
    // The parser takes no key longer than 1,024 characters.
    if key.ends_with(' ') || key.contains(" #") || key.len() > MAX_KEY {
        return None;
    }
    Some(at + colon)
}

/// A one-line single-quoted scalar at the start of `rest`: its value and
/// the offset of its closing quote.
fn single_quoted(rest: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = rest.as_bytes();
    let mut i = 1;
    let mut escaped = false;
    loop {
        match bytes.get(i)? {
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                escaped = true;
                i += 2;
            }
            b'\'' => break,
            _ => i += 1,
        }
    }
    let inner = &rest[1..i];
    let value = if escaped {
        Cow::Owned(inner.replace("''", "'"))
    } else {
        Cow::Borrowed(inner)
    };
    Some((value, i))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;

    /// What the tree is built from: each event, where it starts, and where a
    /// collection's end is (the only end used).
    fn comparable<'t>(events: &[Positioned<'t>]) -> Vec<(Event<'t>, usize, Option<usize>)> {
        events
            .iter()
            .filter(|(e, ..)| {
                !matches!(
                    e,
                    Event::DocumentStart(_) | Event::DocumentEnd | Event::StreamEnd
                )
            })
            .map(|(event, start, end)| {
                let end = matches!(event, Event::MappingEnd | Event::SequenceEnd).then_some(*end);
                (event.clone(), *start, end)
            })
            .collect()
    }

    /// Holds the fast reader to the parser on `text`; whether it read it.
    fn agrees(text: &str, name: &str) -> bool {
        let Some(fast) = events(text) else {
            return false;
        };
        let parsed = crate::detect::yaml::parser_events(text)
            .unwrap_or_else(|| panic!("{name}: read fast, but the parser rejects it"));
        assert_eq!(comparable(&fast), comparable(&parsed), "{name}:\n{text}");
        true
    }

    #[test]
    fn reads_what_the_parser_reads_with_the_same_positions() {
        let cases = [
            "apiVersion: v1 # c\nkind: Pod\nspec:\n  containers:\n    - name: main\n      image: \"x:1\" # c\n    - name: b\n      args:\n      - a\n      - b\n  empty:\n  q: 'it''s'\n---\n# doc2\na: b\n",
            "a:\n  b:\nc: 1\n",
            "a:\nb:\n",
            "a: # nothing\nb: 2\n",
            "- a\n- b: 1\n  c: 2\n-   d\n",
            "---\na: 1\n---\nb: 2\n",
            "# only\n# comments\n",
            "a:\n- x\n- y\nb:\n  - z\n",
            "k: -1\nurl: http://x:80/y\nh: a#b\n",
            "top:\n  list:\n  - name: x\n    image: y\n  - name: z\nnext: 1\n",
        ];
        for case in cases {
            assert!(
                agrees(case, case) || case.starts_with('#'),
                "not read fast: {case}"
            );
        }
    }

    #[test]
    fn keys_longer_than_the_parser_takes_are_left_to_it() {
        let longest = format!("{}: v\n", "k".repeat(MAX_KEY));
        assert!(agrees(&longest, "longest key"));
        for text in [
            format!("{}: v\n", "k".repeat(MAX_KEY + 1)),
            format!("- {}: v\n", "k".repeat(MAX_KEY + 1)),
        ] {
            assert!(events(&text).is_none());
            assert!(crate::detect::yaml::parser_events(&text).is_none());
        }
    }

    #[test]
    fn leaves_other_styles_to_the_parser() {
        for text in [
            "a: [1, 2]\n",
            "a: |\n  x\n",
            "a: &x 1\nb: *x\n",
            "a: b\n  c\n",
            "a: \"x\\ny\"\n",
            "a:\tb\n",
            "a: b\r\n",
            "---\n",
            "a: 1\n---\n",
            "just a scalar\n",
            "a: b: c\n",
            "  a: 1\n b: 2\n",
            "a: é\n",
            "a: 'x'#c\n",
            "image: nginx:1.25\0\0",
            "a: 1 # x\u{7f}\n",
            "a: \"x\"#c\n",
        ] {
            assert!(events(text).is_none(), "read fast: {text:?}");
        }
    }

    /// Every YAML file under `dir` that the fast reader reads, it reads as
    /// the parser does; how many it read and how many there were.
    fn agrees_under(dir: &Path) -> (usize, usize) {
        let (mut read, mut all) = (0, 0);
        for entry in ignore::WalkBuilder::new(dir)
            .hidden(false)
            .build()
            .flatten()
        {
            let path = entry.path();
            let yaml = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if !yaml || crate::detect::yaml::parser_events(&text).is_none() {
                continue;
            }
            all += 1;
            if agrees(&text, &path.display().to_string()) {
                read += 1;
            }
        }
        (read, all)
    }

    #[test]
    fn reads_the_fixtures_as_the_parser_does() {
        let (read, all) = agrees_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        // Both ways are taken: some fixtures are read here, others (flow
        // collections, block scalars, anchors) by the parser.
        assert!(read >= 10 && all > read, "{read} of {all}");
    }

    #[test]
    #[allow(clippy::print_stderr)] // says whether it ran, as the corpus tests do
    fn reads_the_corpus_as_the_parser_does() {
        let Some(corpus) = std::env::var_os("DIGESTPIN_CORPUS") else {
            eprintln!("NOT RUN: no corpus (set DIGESTPIN_CORPUS)");
            return;
        };
        let (read, all) = agrees_under(Path::new(&corpus));
        eprintln!("corpus: {read} of {all} YAML files read fast");
        assert!(read > 0);
    }

    /// A block document of mappings, sequences (indented or not) and
    /// scalars, with comments and blank lines.
    fn document() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            "[a-z][a-z0-9./:-]{0,8}",
            "-[0-9]{1,3}",
            "\"[a-z :#-]{0,6}\"",
            "'([a-z ]|''){0,6}'",
            Just("x # comment".to_string()),
        ];
        let leaf = scalar.prop_map(Node::Scalar);
        let node = leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(("[a-z]{1,6}", inner.clone()), 1..4).prop_map(Node::Map),
                (prop::collection::vec(inner, 1..4), any::<bool>())
                    .prop_map(|(items, indentless)| Node::Seq(items, indentless)),
            ]
        });
        prop::collection::vec(("[a-z]{1,6}", node), 1..4).prop_map(|entries| {
            let mut out = String::new();
            Node::Map(entries).write(&mut out, 0, false);
            out
        })
    }

    #[derive(Debug, Clone)]
    enum Node {
        Scalar(String),
        Map(Vec<(String, Node)>),
        Seq(Vec<Node>, bool),
    }

    impl Node {
        /// Writes the node at `indent`; `inline` when it follows a dash.
        fn write(&self, out: &mut String, indent: usize, inline: bool) {
            match self {
                Node::Scalar(s) => {
                    out.push_str(s);
                    out.push('\n');
                }
                Node::Map(entries) => {
                    for (i, (key, value)) in entries.iter().enumerate() {
                        if !(inline && i == 0) {
                            out.push_str(&" ".repeat(indent));
                        }
                        out.push_str(key);
                        out.push(':');
                        match value {
                            Node::Scalar(_) => {
                                out.push(' ');
                                value.write(out, indent + 2, true);
                            }
                            Node::Map(_) => {
                                out.push_str("\n\n");
                                value.write(out, indent + 2, false);
                            }
                            Node::Seq(_, indentless) => {
                                out.push_str(" # list\n");
                                value.write(
                                    out,
                                    if *indentless { indent } else { indent + 2 },
                                    false,
                                );
                            }
                        }
                    }
                }
                Node::Seq(items, _) => {
                    for (i, item) in items.iter().enumerate() {
                        if !(inline && i == 0) {
                            out.push_str(&" ".repeat(indent));
                        }
                        out.push_str("- ");
                        match item {
                            Node::Seq(..) => out.push_str("z\n"),
                            _ => item.write(out, indent + 2, true),
                        }
                    }
                }
            }
        }
    }

    proptest! {
        /// Any text: never a panic, and what is read agrees with the parser.
        #[test]
        fn any_text_is_read_as_the_parser_reads_it_or_left_to_it(
            text in proptest::string::string_regex(
                "([a-c]{0,3}|[ ]{0,4}|[-:#'\"\n]|--- |\\.\\.\\.|[&*!|>\\[\\]{}%@`?,]){0,40}"
            ).expect("a valid pattern")
        ) {
            if events(&text).is_some() {
                prop_assert!(agrees(&text, "any text"));
            }
        }

        #[test]
        fn generated_documents_read_as_the_parser_reads_them(doc in document()) {
            // Every generated document is in the style read here, unless a
            // generated quoted scalar is not valid YAML.
            let read = agrees(&doc, "generated");
            prop_assert!(read || crate::detect::yaml::parser_events(&doc).is_none(), "not read:\n{}", doc);
        }
    }
}
