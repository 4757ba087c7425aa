//! Images in kustomizations (`kustomization.yaml`, `.yml`, `Kustomization`).
//!
//! Each `images[]` entry names an image (`name`, or `newName` when set) and
//! the tag kustomize writes (`newTag`); kustomize 5 adds `@digest` when the
//! entry has a `digest` field. An entry is one finding whose value is the
//! reference kustomize renders (`newName:newTag`, `newName:newTag@digest`)
//! and whose site is the `newTag` value (the `digest` value when there is no
//! `newTag`), so that a `# digestpin:ignore` on that line applies. Pinning
//! adds a `digest:` field rather than rewriting a value: [`Entry`] gives the
//! edit layer (`crate::kustomize`) the nodes it needs.

use std::path::Path;

use super::yaml::{Node, NodeId, Tree};
use super::{FileKind, Finding, Positions, Site, SkipReason, is_templated};
use crate::reference::Reference;

/// Whether `path` names a kustomization.
pub fn is_kustomization_path(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        matches!(
            n,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        )
    })
}

/// One `images[]` entry: the key and value nodes of its fields.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub mapping: NodeId,
    pub name: Option<NodeId>,
    pub new_name: Option<NodeId>,
    pub new_tag: Option<(NodeId, NodeId)>,
    pub digest: Option<(NodeId, NodeId)>,
}

impl Entry {
    /// The node a finding for this entry is placed at.
    pub fn site_node(&self) -> Option<NodeId> {
        self.new_tag
            .map(|(_, v)| v)
            .or(self.digest.map(|(_, v)| v))
            .or(self.new_name)
            .or(self.name)
    }
}

/// The `images[]` entries of every document, in file order.
pub fn entries(tree: &Tree) -> Vec<Entry> {
    let mut out = Vec::new();
    for &root in &tree.documents {
        let Some(images) = tree.get(root, "images") else {
            continue;
        };
        for &item in tree.items(images) {
            let Node::Mapping(fields) = &tree.nodes[item] else {
                continue;
            };
            let field = |key: &str| {
                fields
                    .iter()
                    .find(|&&(k, _)| tree.str(k) == Some(key))
                    .copied()
            };
            out.push(Entry {
                mapping: item,
                name: field("name").map(|(_, v)| v),
                new_name: field("newName").map(|(_, v)| v),
                new_tag: field("newTag"),
                digest: field("digest"),
            });
        }
    }
    out
}

/// The findings of a kustomization; `None` when it has no `images`.
pub(super) fn detect(text: &str, tree: &Tree) -> Option<Vec<Finding>> {
    let entries = entries(tree);
    if entries.is_empty() {
        return None;
    }
    let mut findings: Vec<Finding> = entries
        .iter()
        .filter_map(|entry| finding(tree, entry))
        .collect();
    findings.sort_by_key(|f| f.site().span.start);
    let mut positions = Positions::new(text);
    for finding in &mut findings {
        let site = match finding {
            Finding::Image { site, .. } | Finding::Skipped { site, .. } => site,
        };
        (site.line, site.column) = positions.at(site.span.start);
    }
    Some(findings)
}

fn finding(tree: &Tree, entry: &Entry) -> Option<Finding> {
    let image = entry.new_name.or(entry.name).and_then(|n| tree.str(n))?;
    let at = tree.scalar(entry.site_node()?)?;
    let tag = entry.new_tag.and_then(|(_, v)| tree.str(v));
    let digest = entry.digest.and_then(|(_, v)| tree.str(v));
    let value = match (tag, digest) {
        (Some(tag), Some(digest)) => format!("{image}:{tag}@{digest}"),
        (None, Some(digest)) => format!("{image}@{digest}"),
        (Some(tag), None) => format!("{image}:{tag}"),
        (None, None) => image.to_string(),
    };
    let site = Site::at_scalar(at, value.clone(), FileKind::Kustomize);
    let skipped = |reason| {
        Some(Finding::Skipped {
            site: site.clone(),
            reason,
        })
    };
    if tag.is_none() && digest.is_none() {
        return skipped(SkipReason::NoNewTag);
    }
    if is_templated(&value) {
        return skipped(SkipReason::Templated);
    }
    if at.style.is_none() {
        return skipped(SkipReason::BlockScalar);
    }
    if at.span.is_none() {
        return skipped(SkipReason::Escaped);
    }
    match Reference::parse(&value) {
        Ok(reference) => Some(Finding::Image { site, reference }),
        Err(err) => skipped(SkipReason::NotAReference(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan_kustomization;

    #[test]
    fn kustomization_files_are_chosen_by_name() {
        for yes in [
            "kustomization.yaml",
            "a/kustomization.yml",
            "b/Kustomization",
        ] {
            assert!(is_kustomization_path(Path::new(yes)), "{yes}");
        }
        for no in [
            "kustomization.json",
            "Kustomization.yaml",
            "my-kustomization.yaml",
        ] {
            assert!(!is_kustomization_path(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn entries_become_the_reference_kustomize_renders() {
        const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
        let text = format!(
            "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
- name: nginx
  newTag: \"1.25\"
- name: app
  newName: reg.local:5000/team/app
  newTag: v3
  digest: {D}
- {{name: only-digest, digest: '{D}'}}
- name: renamed
  newName: other/name
- name: templated
  newTag: ${{TAG}}
- name: bad
  newTag: \"no spaces allowed\"
"
        );
        let (kind, findings) = scan_kustomization(&text).unwrap().unwrap();
        assert_eq!(kind, FileKind::Kustomize);
        let got: Vec<(String, &str, usize, Option<String>)> = findings
            .iter()
            .map(|f| {
                let site = f.site();
                let reason = match f {
                    Finding::Image { .. } => None,
                    Finding::Skipped { reason, .. } => Some(reason.to_string()),
                };
                (
                    site.value.clone(),
                    &text[site.span.clone()],
                    site.line,
                    reason,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("nginx:1.25".to_string(), "1.25", 5, None),
                (format!("reg.local:5000/team/app:v3@{D}"), "v3", 8, None),
                (format!("only-digest@{D}"), D, 10, None),
                (
                    "other/name".to_string(),
                    "other/name",
                    12,
                    Some(SkipReason::NoNewTag.to_string())
                ),
                (
                    "templated:${TAG}".to_string(),
                    "${TAG}",
                    14,
                    Some(SkipReason::Templated.to_string())
                ),
                (
                    "bad:no spaces allowed".to_string(),
                    "no spaces allowed",
                    16,
                    Some(
                        "not an image reference: ".to_string()
                            + &Reference::parse("bad:no spaces allowed")
                                .unwrap_err()
                                .to_string()
                    )
                ),
            ]
        );
    }

    #[test]
    fn a_kustomization_without_images_is_not_kept() {
        let text = "resources:\n- deploy.yaml\n";
        assert!(is_kustomization_path(Path::new("kustomization.yaml")));
        assert_eq!(scan_kustomization(text), Ok(None));
    }
}
