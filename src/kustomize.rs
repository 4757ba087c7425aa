//! Edits of kustomize `images[]` entries: the `digest` field.
//!
//! A kustomization is pinned by adding `digest: sha256:…` beside `newTag`
//! (kustomize 5 renders `newName:newTag@digest`), not by rewriting a value.
//! In block style the field is a new line right after the `newTag` line, at
//! the column of the `newTag` key, with the file's line ending; in flow style
//! it is `, digest: …` right after the `newTag` value. The digest is quoted
//! as `newTag` is ([`crate::edit::field`], shared with Helm image maps).
//! [`pin_edit`] adds the field, [`digest_edit`] rewrites its
//! value (`update`), [`unpin_edit`] removes it where `pin` would have put it.
//!
//! Each returns the change for [`crate::edit::check_rewrite`]: `("", digest)`
//! for an added field, `(digest, "")` for a removed one, `(old, new)` for a
//! rewritten value.

use crate::detect::Site;
use crate::detect::kustomize::{self as detect, Entry};
use crate::detect::yaml::{self, Tree};
use crate::edit::{Edit, field};

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

/// The edit adding `digest: <digest>` beside the entry's `newTag`.
pub fn pin_edit(text: &str, site: &Site, digest: &str) -> Option<EntryEdit> {
    let (tree, entry) = locate(text, site)?;
    let (key, value) = entry.new_tag?;
    field::insert_after(text, tree.scalar(key)?, tree.scalar(value)?, digest)
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
    field::remove_after(
        text,
        tree.scalar(tag_value)?,
        tree.scalar(digest_key)?,
        tree.scalar(digest_value)?,
    )
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
