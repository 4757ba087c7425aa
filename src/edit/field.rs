//! A `digest` field added beside another field of a YAML mapping, and taken
//! away again: the edit kustomize `images[]` entries (beside `newTag`) and
//! Helm image maps whose chart reads a `digest` key (beside `tag`) share.
//!
//! In block style the field is a new line right after the anchor field's
//! line, at the column of its key, with the file's line ending; in flow style
//! it is `, digest: …` right after the anchor's value. The key is quoted as
//! the anchor's key is, the digest as the anchor's value is. [`insert_after`]
//! adds the field, [`remove_after`] removes it where `insert_after` puts it
//! (and only there). [`ANCHORS`] names the keys a `digest` field may be added
//! beside, which [`crate::edit::check_rewrite`] accepts as the one structural
//! change of such an edit.

use crate::detect::ScalarStyle;
use crate::detect::yaml::Scalar;
use crate::edit::Edit;

/// The keys a `digest` field is added beside: kustomize's `newTag`, a Helm
/// image map's `tag`.
pub const ANCHORS: [&str; 2] = ["newTag", "tag"];

/// The name of the field added.
pub const DIGEST: &str = "digest";

/// `value` in the quotes of `style` (a digest or a plain key needs no
/// escaping).
fn quoted(value: &str, style: Option<ScalarStyle>) -> String {
    match style {
        Some(ScalarStyle::SingleQuoted) => format!("'{value}'"),
        Some(ScalarStyle::DoubleQuoted) => format!("\"{value}\""),
        _ => value.to_string(),
    }
}

/// 1 when the scalar is quoted: its span is inside the quotes.
fn quote(style: Option<ScalarStyle>) -> usize {
    usize::from(style != Some(ScalarStyle::Plain))
}

/// The line ending of the line holding byte `at` (the file's first one when
/// that line has none).
fn line_ending(text: &str, at: usize) -> &'static str {
    let nl = text[at..]
        .find('\n')
        .map(|i| at + i)
        .or_else(|| text.find('\n'));
    match nl {
        Some(nl) if nl > 0 && text.as_bytes()[nl - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Where a scalar key starts, its opening quote included.
fn key_start(key: &Scalar) -> usize {
    key.span.as_ref().map_or(key.start, |s| s.start) - quote(key.style)
}

/// The edit adding `digest: <digest>` right after the field `key: value`
/// (and the scalar change it makes, `("", digest)`); `None` when the value's
/// text is not its value (escapes, folding) or is a block scalar.
pub fn insert_after(
    text: &str,
    key: &Scalar,
    value: &Scalar,
    digest: &str,
) -> Option<(Edit, (String, String))> {
    value.style?;
    let value_span = value.span.clone()?;
    let field = format!(
        "{}: {}",
        quoted(DIGEST, key.style),
        quoted(digest, value.style)
    );
    let change = (String::new(), digest.to_string());
    let after_value = value_span.end + quote(value.style);
    if value.in_flow {
        return Some((Edit::insert(after_value, format!(", {field}")), change));
    }
    let key_start = key_start(key);
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    // The key's column, as blanks (`- newTag:` starts an item: the dash
    // becomes a blank too).
    let indent: String = text[line_start..key_start]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let eol = line_ending(text, after_value);
    let edit = match text[after_value..].find('\n') {
        Some(i) => Edit::insert(after_value + i + 1, format!("{indent}{field}{eol}")),
        None => Edit::insert(text.len(), format!("{eol}{indent}{field}")),
    };
    Some((edit, change))
}

/// The edit removing the field `key: value` that directly follows the field
/// whose value is `before`, where [`insert_after`] puts it (and the scalar
/// change, `(digest, "")`); `None` when it is not there: on a line of its
/// own (a comment may follow) in block style, right after `before`'s value
/// and a comma in flow style.
pub fn remove_after(
    text: &str,
    before: &Scalar,
    key: &Scalar,
    value: &Scalar,
) -> Option<(Edit, (String, String))> {
    let value_span = value.span.clone()?;
    let change = (value.value.clone(), String::new());
    let key_start = key_start(key);
    let value_end = value_span.end + quote(value.style);
    if value.in_flow {
        let before_end = before.span.as_ref()?.end + quote(before.style);
        let between = text.get(before_end..key_start)?;
        if between.trim() != "," {
            return None;
        }
        return Some((Edit::replace(before_end..value_end, ""), change));
    }
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..key_start].trim().is_empty() {
        return None;
    }
    let line_end = text[value_end..].find('\n').map(|i| value_end + i + 1);
    let rest = text[value_end..line_end.unwrap_or(text.len())].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let range = match line_end {
        Some(end) => line_start..end,
        // The last line, with no line break: the break before it goes.
        None => {
            let before = text[..line_start].trim_end_matches('\n');
            before.trim_end_matches('\r').len()..text.len()
        }
    };
    Some((Edit::replace(range, ""), change))
}
