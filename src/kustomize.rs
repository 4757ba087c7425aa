//! Edits of kustomize `images[]` entries: the `digest` field.
//!
//! A kustomization is pinned by adding `digest: sha256:…` beside `newTag`
//! (kustomize 5 renders `newName:newTag@digest`), not by rewriting a value.
//! In block style the field is a new line right after the `newTag` line, at
//! the column of the `newTag` key, with the file's line ending; in flow style
//! it is `, digest: …` right after the `newTag` value. The digest is quoted
//! as `newTag` is. [`pin_edit`] adds the field, [`digest_edit`] rewrites its
//! value (`update`), [`unpin_edit`] removes it where `pin` would have put it.
//!
//! Each returns the change for [`crate::edit::check_rewrite`]: `("", digest)`
//! for an added field, `(digest, "")` for a removed one, `(old, new)` for a
//! rewritten value.

use crate::detect::kustomize::{self as detect, Entry};
use crate::detect::yaml::{self, Tree};
use crate::detect::{ScalarStyle, Site};
use crate::edit::Edit;

/// An edit of one entry and the scalar change it makes.
pub type EntryEdit = (Edit, (String, String));

/// The entry a finding's site stands for.
fn locate(text: &str, site: &Site) -> Option<(Tree, Entry)> {
    let tree = yaml::parse(text).ok()?;
    let entry = detect::entries(&tree).into_iter().find(|entry| {
        entry
            .site_node()
            .and_then(|n| tree.scalar(n))
            .and_then(|s| s.span.as_ref())
            .is_some_and(|span| span.start == site.span.start)
    })?;
    Some((tree, entry))
}

/// `value` in the quotes of `style` (a digest needs no escaping).
fn quoted(value: &str, style: Option<ScalarStyle>) -> String {
    match style {
        Some(ScalarStyle::SingleQuoted) => format!("'{value}'"),
        Some(ScalarStyle::DoubleQuoted) => format!("\"{value}\""),
        _ => value.to_string(),
    }
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

/// The edit adding `digest: <digest>` beside the entry's `newTag`.
pub fn pin_edit(text: &str, site: &Site, digest: &str) -> Option<EntryEdit> {
    let (tree, entry) = locate(text, site)?;
    let (key, value) = entry.new_tag?;
    let key = tree.scalar(key)?;
    let value = tree.scalar(value)?;
    let value_span = value.span.clone()?;
    let field = format!(
        "{}: {}",
        quoted("digest", key.style),
        quoted(digest, value.style)
    );
    let change = (String::new(), digest.to_string());
    let after_value = value_span.end + usize::from(value.style != Some(ScalarStyle::Plain));
    if value.in_flow {
        return Some((Edit::insert(after_value, format!(", {field}")), change));
    }
    let key_start = key.span.as_ref().map_or(key.start, |s| s.start)
        - usize::from(key.style != Some(ScalarStyle::Plain));
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

/// The edit replacing the entry's `digest` value with `digest`.
pub fn digest_edit(text: &str, site: &Site, digest: &str) -> Option<EntryEdit> {
    let (tree, entry) = locate(text, site)?;
    let (_, value) = entry.digest?;
    let value = tree.scalar(value)?;
    Some((
        Edit::replace(value.span.clone()?, digest),
        (value.value.clone(), digest.to_string()),
    ))
}

/// The edit replacing the entry's `newTag` value with `tag` (`set`,
/// `promote`).
pub fn tag_edit(text: &str, site: &Site, tag: &str) -> Option<EntryEdit> {
    let (tree, entry) = locate(text, site)?;
    let (_, value) = entry.new_tag?;
    let value = tree.scalar(value)?;
    Some((
        Edit::replace(value.span.clone()?, tag),
        (value.value.clone(), tag.to_string()),
    ))
}

/// The edit removing the entry's `digest` field, where [`pin_edit`] puts
/// it: right after `newTag`, on a line of its own in block style.
pub fn unpin_edit(text: &str, site: &Site) -> Option<EntryEdit> {
    let (tree, entry) = locate(text, site)?;
    let (tag_key, tag_value) = entry.new_tag?;
    let (digest_key, digest_value) = entry.digest?;
    let crate::detect::yaml::Node::Mapping(fields) = &tree.nodes[entry.mapping] else {
        return None;
    };
    let tag_index = fields.iter().position(|&(k, _)| k == tag_key)?;
    if fields.get(tag_index + 1).map(|&(k, _)| k) != Some(digest_key) {
        return None;
    }
    let tag_value = tree.scalar(tag_value)?;
    let key = tree.scalar(digest_key)?;
    let value = tree.scalar(digest_value)?;
    let value_span = value.span.clone()?;
    let change = (value.value.clone(), String::new());
    let quote = |style: Option<ScalarStyle>| usize::from(style != Some(ScalarStyle::Plain));
    let key_start = key.span.as_ref()?.start - quote(key.style);
    let value_end = value_span.end + quote(value.style);
    if value.in_flow {
        let tag_end = tag_value.span.as_ref()?.end + quote(tag_value.style);
        let between = text.get(tag_end..key_start)?;
        if between.trim() != "," {
            return None;
        }
        return Some((Edit::replace(tag_end..value_end, ""), change));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{self as scan, Finding};

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    fn sites(text: &str) -> Vec<Site> {
        let (_, findings) = scan::scan_kustomization(text).unwrap().unwrap();
        findings
            .into_iter()
            .filter_map(|f| match f {
                Finding::Image { site, .. } => Some(site),
                Finding::Skipped { .. } => None,
            })
            .collect()
    }

    fn pin(text: &str) -> String {
        let site = &sites(text)[0];
        let (edit, change) = pin_edit(text, site, D).unwrap();
        let out = crate::edit::apply(text, &[edit]).unwrap();
        crate::edit::check_rewrite(text, &out, &[change]).unwrap();
        // And back.
        let site = &sites(&out)[0];
        let (edit, change) = unpin_edit(&out, site).unwrap();
        let back = crate::edit::apply(&out, &[edit]).unwrap();
        crate::edit::check_rewrite(&out, &back, &[change]).unwrap();
        assert_eq!(back, text);
        out
    }

    #[test]
    fn block_entry_gets_a_line_after_new_tag() {
        assert_eq!(
            pin("images:\n- name: nginx\n  newTag: \"1.25\" # web\n  newName: x/y\n"),
            format!(
                "images:\n- name: nginx\n  newTag: \"1.25\" # web\n  digest: \"{D}\"\n  newName: x/y\n"
            )
        );
    }

    #[test]
    fn first_key_of_item_and_crlf_and_no_final_newline() {
        assert_eq!(
            pin("images:\r\n  - newTag: '1'\r\n    name: a"),
            format!("images:\r\n  - newTag: '1'\r\n    digest: '{D}'\r\n    name: a")
        );
        assert_eq!(
            pin("images:\n- name: a\n  newTag: v1"),
            format!("images:\n- name: a\n  newTag: v1\n  digest: {D}")
        );
    }

    #[test]
    fn flow_entry_gets_a_field_after_new_tag() {
        assert_eq!(
            pin("images: [{name: x, newTag: \"1\", newName: y}]\n"),
            format!("images: [{{name: x, newTag: \"1\", digest: \"{D}\", newName: y}}]\n")
        );
    }

    #[test]
    fn a_digest_elsewhere_is_not_removed() {
        let text = format!("images:\n- name: a\n  digest: {D}\n  newTag: v1\n");
        let site = &sites(&text)[0];
        assert!(unpin_edit(&text, site).is_none());
    }

    #[test]
    fn an_unrelated_added_field_is_refused() {
        let text = "images:\n- name: a\n  newTag: v1\n";
        let out = format!("images:\n- name: a\n  newTag: v1\n  other: {D}\n");
        assert!(crate::edit::check_rewrite(text, &out, &[(String::new(), D.into())]).is_err());
        let out = format!("images:\n- name: a\n  newName: v1\n  digest: {D}\n");
        let text = "images:\n- name: a\n  newName: v1\n";
        assert!(crate::edit::check_rewrite(text, &out, &[(String::new(), D.into())]).is_err());
    }
}
