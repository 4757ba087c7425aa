//! The edits of a Helm image map: fill its `digest`, or append `@sha256:…`
//! to its tag ([`HelmStyle`]); move a pin to a new digest; take it back.
//! `detect::helm` finds the maps and their scalars; this module only edits.

use crate::detect::helm::{Located, Value};
use crate::edit::Edit;

/// How an image map without a pin is pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HelmStyle {
    /// Fill `digest` where the map has one, else append `@sha256:…` to the tag.
    #[default]
    Auto,
    /// Always append `@sha256:…` to the tag, leaving any `digest` alone.
    TagSuffix,
}

/// Edits and the (old, new) scalar values they make, in file order.
pub type Rewrite = (Vec<Edit>, Vec<(String, String)>);

fn replace(value: &Value, new: String) -> Rewrite {
    (
        vec![Edit::replace(value.span.clone(), new.clone())],
        vec![(value.value.clone(), new)],
    )
}

/// The tag as written, without an `@sha256:…` suffix.
fn bare_tag(tag: &str) -> &str {
    tag.split_once('@').map_or(tag, |(tag, _)| tag)
}

impl Located {
    /// Where the map's `digest` value starts, when it has one to fill.
    pub fn digest_start(&self) -> Option<usize> {
        self.digest.as_ref().map(|d| d.span.start)
    }

    /// Pins an unpinned map to `digest`.
    pub fn pin(&self, digest: &str, style: HelmStyle) -> Rewrite {
        match (&self.digest, style) {
            (Some(field), HelmStyle::Auto) => replace(field, digest.to_string()),
            _ => replace(&self.tag, format!("{}@{digest}", self.tag.value)),
        }
    }

    /// Moves a pinned map to `digest`, in the form it is pinned in.
    pub fn update(&self, digest: &str) -> Rewrite {
        match &self.digest {
            Some(field) if !self.tag.value.contains('@') && !field.value.is_empty() => {
                replace(field, digest.to_string())
            }
            _ => replace(&self.tag, format!("{}@{digest}", bare_tag(&self.tag.value))),
        }
    }

    /// Removes the pin: the tag's `@sha256:…` suffix, or the digest value
    /// (the key stays: `digest: ""` when quoted, `digest:` when plain).
    pub fn unpin(&self, text: &str) -> Option<Rewrite> {
        if self.tag.value.contains('@') {
            return Some(replace(&self.tag, bare_tag(&self.tag.value).to_string()));
        }
        let field = self.digest.as_ref().filter(|d| !d.value.is_empty())?;
        if field.quoted {
            return Some(replace(field, String::new()));
        }
        // A plain value goes with the blanks before it: `digest:` is null.
        let start = text[..field.span.start].trim_end_matches([' ', '\t']).len();
        Some((
            vec![Edit::replace(start..field.span.end, "")],
            vec![(field.value.clone(), String::new())],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::helm::locate;
    use crate::edit;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    /// Rewrites the map whose tag value is the one after `tag: ` (quotes aside).
    fn rewrite(text: &str, make: impl Fn(&Located) -> Rewrite) -> String {
        let at = text.find("tag: ").unwrap() + 5;
        let at = at + usize::from(text[at..].starts_with('"'));
        let end = at + text[at..].find(['"', '\n']).unwrap();
        let map = locate(text, &(at..end)).unwrap();
        let (edits, changes) = make(&map);
        let out = edit::apply(text, &edits).unwrap();
        edit::check_rewrite(text, &out, &changes).unwrap();
        out
    }

    #[test]
    fn pins_updates_and_unpins_in_either_form() {
        let quoted = "image:\n  repository: nginx\n  tag: \"1.25\"\n  digest: \"\"\n";
        let pinned = rewrite(quoted, |m| m.pin(D, HelmStyle::Auto));
        assert_eq!(
            pinned,
            quoted.replace("digest: \"\"", &format!("digest: \"{D}\""))
        );
        assert_eq!(rewrite(&pinned, |m| m.unpin(&pinned).unwrap()), quoted);
        let suffixed = rewrite(quoted, |m| m.pin(D, HelmStyle::TagSuffix));
        assert_eq!(suffixed, quoted.replace("1.25", &format!("1.25@{D}")));
        let moved = D.replace("01", "02");
        let updated = rewrite(&suffixed, |m| m.update(&moved));
        assert_eq!(updated, quoted.replace("1.25", &format!("1.25@{moved}")));
        assert_eq!(rewrite(&updated, |m| m.unpin(&updated).unwrap()), quoted);

        // A plain digest is emptied to a null `digest:`.
        let plain = format!("image:\n  repository: nginx\n  tag: v1\n  digest: {D}  # pinned\n");
        assert_eq!(
            rewrite(&plain, |m| m.unpin(&plain).unwrap()),
            "image:\n  repository: nginx\n  tag: v1\n  digest:  # pinned\n"
        );
        // A null `digest:` is no field to fill: the tag takes the digest.
        let null = "image:\n  repository: nginx\n  tag: v1\n  digest:\n";
        assert_eq!(
            rewrite(null, |m| m.pin(D, HelmStyle::Auto)),
            null.replace("v1", &format!("v1@{D}"))
        );
    }
}
