//! The edits of a Helm image map: fill its `digest`, add a `digest` field
//! beside its `tag` when the chart reads one ([`ReadsDigest`]), or append
//! `@sha256:…` to its tag ([`HelmStyle`]); move a pin to a new digest; take
//! it back. `detect::helm` finds the maps and their scalars; this module only
//! edits.

use std::path::{Path, PathBuf};

use crate::detect::helm::{Located, Value};
use crate::edit::{Edit, field};

/// How an image map without a pin is pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HelmStyle {
    /// Fill `digest` where the map has one, else append `@sha256:…` to the tag.
    #[default]
    Auto,
    /// Always append `@sha256:…` to the tag, leaving any `digest` alone.
    TagSuffix,
}

/// How Helm image maps are pinned: `[helm] style` and `[helm] reads-digest`.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    pub style: HelmStyle,
    pub reads_digest: ReadsDigest,
}

/// `[helm] reads-digest`: the values files (globs, matched as include globs
/// are: against the path relative to the working directory, or the file
/// name) whose charts read an image map's `digest` key although the map has
/// none. In them `pin` adds a `digest` field beside `tag` and `unpin`
/// removes it.
#[derive(Debug, Clone, Default)]
pub struct ReadsDigest {
    globs: Option<globset::GlobSet>,
    cwd: PathBuf,
}

impl ReadsDigest {
    /// The globs, checked; none matches nothing.
    pub fn new(globs: &[String]) -> Result<Self, globset::Error> {
        if globs.is_empty() {
            return Ok(Self::default());
        }
        let mut builder = globset::GlobSetBuilder::new();
        for glob in globs {
            builder.add(globset::Glob::new(glob)?);
        }
        Ok(Self {
            globs: Some(builder.build()?),
            cwd: std::env::current_dir().unwrap_or_default(),
        })
    }

    /// Whether the chart of the values in `path` reads a `digest` key.
    pub fn matches(&self, path: &Path) -> bool {
        self.globs
            .as_ref()
            .is_some_and(|globs| crate::walk::is_included(globs, &self.cwd, path))
    }
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

    /// Pins an unpinned map to `digest`: in its `digest` value; with
    /// `reads_digest` (the chart reads a `digest` key the map lacks) in a
    /// `digest` field added beside `tag`; else as a suffix of the tag.
    pub fn pin(&self, text: &str, digest: &str, style: HelmStyle, reads_digest: bool) -> Rewrite {
        let suffix = || replace(&self.tag, format!("{}@{digest}", self.tag.value));
        match (&self.digest, style) {
            (Some(field), HelmStyle::Auto) => replace(field, digest.to_string()),
            (None, HelmStyle::Auto) if reads_digest => {
                self.add_digest(text, digest).unwrap_or_else(suffix)
            }
            _ => suffix(),
        }
    }

    /// A `digest` field added right after the map's own `tag` field; `None`
    /// when the tag comes from a merged map or the map already has a
    /// `digest` key (a null one).
    fn add_digest(&self, text: &str, digest: &str) -> Option<Rewrite> {
        let (key, value) = self.tag_field.as_ref()?;
        if self.digest_after_tag.is_some() {
            return None;
        }
        let (edit, change) = field::insert_after(text, key, value, digest)?;
        Some((vec![edit], vec![change]))
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

    /// Removes the pin: the tag's `@sha256:…` suffix; with `reads_digest`,
    /// a `digest` field right after `tag` (where `pin` adds one); else the
    /// digest value (the key stays: `digest: ""` when quoted, `digest:` when
    /// plain).
    pub fn unpin(&self, text: &str, reads_digest: bool) -> Option<Rewrite> {
        if self.tag.value.contains('@') {
            return Some(replace(&self.tag, bare_tag(&self.tag.value).to_string()));
        }
        let field = self.digest.as_ref().filter(|d| !d.value.is_empty())?;
        if reads_digest
            && let (Some((_, tag)), Some((key, value))) = (&self.tag_field, &self.digest_after_tag)
            && let Some((edit, change)) = field::remove_after(text, tag, key, value)
        {
            return Some((vec![edit], vec![change]));
        }
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

    /// Rewrites the first image map, found as the detector finds it.
    fn rewrite(text: &str, make: impl Fn(&Located) -> Rewrite) -> String {
        let (_, findings) = crate::detect::scan_values(text).unwrap().unwrap();
        let span = match &findings[0] {
            crate::detect::Finding::Image { site, .. } => site.span.clone(),
            crate::detect::Finding::Skipped { site, .. } => site.span.clone(),
        };
        let map = locate(text, &span).unwrap();
        let (edits, changes) = make(&map);
        let out = edit::apply(text, &edits).unwrap();
        edit::check_rewrite(text, &out, &changes).unwrap();
        out
    }

    #[test]
    fn pins_updates_and_unpins_in_either_form() {
        let quoted = "image:\n  repository: nginx\n  tag: \"1.25\"\n  digest: \"\"\n";
        let pinned = rewrite(quoted, |m| m.pin(quoted, D, HelmStyle::Auto, false));
        assert_eq!(
            pinned,
            quoted.replace("digest: \"\"", &format!("digest: \"{D}\""))
        );
        assert_eq!(
            rewrite(&pinned, |m| m.unpin(&pinned, false).unwrap()),
            quoted
        );
        let suffixed = rewrite(quoted, |m| m.pin(quoted, D, HelmStyle::TagSuffix, false));
        assert_eq!(suffixed, quoted.replace("1.25", &format!("1.25@{D}")));
        let moved = D.replace("01", "02");
        let updated = rewrite(&suffixed, |m| m.update(&moved));
        assert_eq!(updated, quoted.replace("1.25", &format!("1.25@{moved}")));
        assert_eq!(
            rewrite(&updated, |m| m.unpin(&updated, false).unwrap()),
            quoted
        );

        // A plain digest is emptied to a null `digest:`.
        let plain = format!("image:\n  repository: nginx\n  tag: v1\n  digest: {D}  # pinned\n");
        assert_eq!(
            rewrite(&plain, |m| m.unpin(&plain, false).unwrap()),
            "image:\n  repository: nginx\n  tag: v1\n  digest:  # pinned\n"
        );
        // A null `digest:` is no field to fill: the tag takes the digest.
        let null = "image:\n  repository: nginx\n  tag: v1\n  digest:\n";
        assert_eq!(
            rewrite(null, |m| m.pin(null, D, HelmStyle::Auto, true)),
            null.replace("v1", &format!("v1@{D}"))
        );
    }

    #[test]
    fn a_chart_that_reads_a_digest_gets_a_field_beside_the_tag() {
        let block = "image:\n  repository: nginx\n  tag: '1.25'  # app\n  pullPolicy: Always\n";
        let pinned = rewrite(block, |m| m.pin(block, D, HelmStyle::Auto, true));
        assert_eq!(
            pinned,
            format!(
                "image:\n  repository: nginx\n  tag: '1.25'  # app\n  digest: '{D}'\n  pullPolicy: Always\n"
            )
        );
        let moved = D.replace("01", "02");
        let updated = rewrite(&pinned, |m| m.update(&moved));
        assert_eq!(updated, pinned.replace(D, &moved));
        assert_eq!(
            rewrite(&updated, |m| m.unpin(&updated, true).unwrap()),
            block
        );
        // Without the setting, unpin empties the value and keeps the key.
        assert_eq!(
            rewrite(&pinned, |m| m.unpin(&pinned, false).unwrap()),
            block.replace("pullPolicy", "digest: ''\n  pullPolicy")
        );

        let flow = "image: {repository: nginx, \"tag\": \"1.25\"}\n";
        let pinned = rewrite(flow, |m| m.pin(flow, D, HelmStyle::Auto, true));
        assert_eq!(
            pinned,
            format!("image: {{repository: nginx, \"tag\": \"1.25\", \"digest\": \"{D}\"}}\n")
        );
        assert_eq!(rewrite(&pinned, |m| m.unpin(&pinned, true).unwrap()), flow);
        // The tag-suffix style wins over the setting.
        assert_eq!(
            rewrite(flow, |m| m.pin(flow, D, HelmStyle::TagSuffix, true)),
            flow.replace("1.25", &format!("1.25@{D}"))
        );
    }
}
