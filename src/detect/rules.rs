//! Which paths of a custom resource hold images, and which do not.
//!
//! A custom resource is searched for every `image` key, which is too wide for
//! kinds whose `image` is not a pullable tag (Flux image automation scans a
//! repository name, Shipwright pushes to `output.image`, Cluster API and
//! Crossplane name VM images). Those kinds are known here as built-in rules;
//! users add their own in `.digestpin.toml` (as kbld's search rules do: match
//! by apiVersion and kind, list paths). A rule's `images` are read as image
//! references, its `not-images` (and everything below them) never are.
//!
//! Paths are keys separated by dots; `name[]` steps into every item of the
//! sequence under `name`, and `*` matches any key: `spec.steps[].image`,
//! `spec.output.image`, `*`.

use serde::{Deserialize, Serialize};

use super::yaml::{NodeId, Tree};

/// One rule, as written in `.digestpin.toml` under `[[custom-resources]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ResourceRule {
    /// A full apiVersion (`example.com/v1`) or an API group (`example.com`,
    /// every version); any when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// A kind; any kind of the apiVersion when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Paths holding image references.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Paths that never hold an image to pin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_images: Vec<String>,
}

/// A path that does not follow the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path `{path}`: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    AnyKey,
    Items,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let error = |reason| PathError {
            path: text.to_string(),
            reason,
        };
        if text.is_empty() {
            return Err(error("empty"));
        }
        let mut steps = Vec::new();
        for segment in text.split('.') {
            let (key, items) = match segment.strip_suffix("[]") {
                Some(key) => (key, true),
                None => (segment, false),
            };
            if key.contains(['[', ']']) {
                return Err(error("`[]` only ends a key, as in `containers[]`"));
            }
            match key {
                "" if !items => return Err(error("empty key between dots")),
                "" => {}
                "*" => steps.push(Step::AnyKey),
                key => steps.push(Step::Key(key.to_string())),
            }
            if items {
                steps.push(Step::Items);
            }
        }
        Ok(Path {
            text: text.to_string(),
            steps,
        })
    }

    /// The nodes this path reaches from `root`, each once.
    pub(super) fn resolve(&self, tree: &Tree, root: NodeId) -> Vec<NodeId> {
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for &node in &current {
                match step {
                    Step::Key(key) => next.extend(tree.get(node, key)),
                    Step::AnyKey => {
                        if tree.is_mapping(node) {
                            next.extend(tree.entries(node).into_iter().map(|(_, v)| v));
                        }
                    }
                    Step::Items => next.extend_from_slice(tree.items(node)),
                }
            }
            // Aliases make a DAG: keep each node once, or a path through
            // nested aliased sequences grows with their expansion.
            next.sort_unstable();
            next.dedup();
            current = next;
        }
        current
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
struct Compiled {
    api_version: Option<String>,
    kind: Option<String>,
    images: Vec<Path>,
    not_images: Vec<Path>,
    /// Why `not-images` are not images, for the skip message.
    why: String,
}

impl Compiled {
    fn matches(&self, api_version: &str, kind: &str) -> bool {
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        self.api_version
            .as_deref()
            .is_none_or(|a| a == api_version || a == group)
            && self.kind.as_deref().is_none_or(|k| k == kind)
    }
}

/// Built-in rules: kinds whose `image` names something other than a pullable
/// container image (README lists them).
const BUILTIN: &[(&str, Option<&str>, &[&str], &str)] = &[
    (
        "image.toolkit.fluxcd.io",
        None,
        &["*"],
        "Flux image automation names a repository to scan; a tag or digest breaks it",
    ),
    (
        "shipwright.io",
        Some("Build"),
        &["spec.output.image"],
        "a Shipwright push destination, not an image to pull",
    ),
    (
        "shipwright.io",
        Some("BuildRun"),
        &[
            "spec.output.image",
            "spec.build.spec.output.image",
            "spec.buildSpec.output.image",
        ],
        "a Shipwright push destination, not an image to pull",
    ),
    (
        "infrastructure.cluster.x-k8s.io",
        None,
        &["*"],
        "a Cluster API machine image, not a container image",
    ),
    (
        "compute.gcp.upbound.io",
        None,
        &["*"],
        "a Crossplane compute (VM) image, not a container image",
    ),
    (
        "compute.gcp.crossplane.io",
        None,
        &["*"],
        "a Crossplane compute (VM) image, not a container image",
    ),
    (
        "compute.azure.upbound.io",
        None,
        &["*"],
        "a Crossplane compute (VM) image, not a container image",
    ),
];

/// The rules in force: the user's first, then the built-in ones.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Compiled>,
}

impl Default for Rules {
    fn default() -> Self {
        Self::new(&[]).unwrap_or(Rules { rules: Vec::new() })
    }
}

/// What the rules say about one document.
#[derive(Debug, Default)]
pub(super) struct Applied<'r> {
    /// Paths read as images.
    pub images: Vec<&'r Path>,
    /// Paths never read as images, each with why.
    pub not_images: Vec<(&'r Path, &'r str)>,
}

impl Rules {
    /// The built-in rules with `user`'s before them.
    pub fn new(user: &[ResourceRule]) -> Result<Rules, PathError> {
        let mut rules = Vec::new();
        for rule in user {
            rules.push(Compiled {
                api_version: rule.api_version.clone(),
                kind: rule.kind.clone(),
                images: rule
                    .images
                    .iter()
                    .map(|p| Path::parse(p))
                    .collect::<Result<_, _>>()?,
                not_images: rule
                    .not_images
                    .iter()
                    .map(|p| Path::parse(p))
                    .collect::<Result<_, _>>()?,
                why: "listed under not-images in the configuration".to_string(),
            });
        }
        for &(group, kind, paths, why) in BUILTIN {
            rules.push(Compiled {
                api_version: Some(group.to_string()),
                kind: kind.map(String::from),
                images: Vec::new(),
                not_images: paths
                    .iter()
                    .map(|p| Path::parse(p))
                    .collect::<Result<_, _>>()?,
                why: why.to_string(),
            });
        }
        Ok(Rules { rules })
    }

    pub(super) fn apply(&self, api_version: &str, kind: &str) -> Applied<'_> {
        let mut applied = Applied::default();
        for rule in self.rules.iter().filter(|r| r.matches(api_version, kind)) {
            applied.images.extend(rule.images.iter());
            applied
                .not_images
                .extend(rule.not_images.iter().map(|p| (p, rule.why.as_str())));
        }
        applied
    }
}

/// Checks the paths of `rules` (for configuration loading).
pub fn validate(rules: &[ResourceRule]) -> Result<(), PathError> {
    Rules::new(rules).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_reject_bad_syntax() {
        let path = Path::parse("spec.steps[].image").unwrap();
        assert_eq!(
            path.steps,
            [
                Step::Key("spec".into()),
                Step::Key("steps".into()),
                Step::Items,
                Step::Key("image".into())
            ]
        );
        assert_eq!(Path::parse("*").unwrap().steps, [Step::AnyKey]);
        assert_eq!(
            Path::parse("a..b").unwrap_err().to_string(),
            "invalid path `a..b`: empty key between dots"
        );
        assert_eq!(
            Path::parse("a[0].b").unwrap_err().to_string(),
            "invalid path `a[0].b`: `[]` only ends a key, as in `containers[]`"
        );
        assert_eq!(
            Path::parse("").unwrap_err().to_string(),
            "invalid path ``: empty"
        );
    }

    #[test]
    fn rules_match_by_group_version_and_kind() {
        let rule = ResourceRule {
            api_version: Some("example.com".into()),
            kind: Some("Widget".into()),
            images: vec!["spec.x".into()],
            not_images: Vec::new(),
        };
        let rules = Rules::new(&[rule]).unwrap();
        assert_eq!(rules.apply("example.com/v1", "Widget").images.len(), 1);
        assert_eq!(rules.apply("example.com/v2", "Widget").images.len(), 1);
        assert!(rules.apply("example.com/v1", "Gadget").images.is_empty());
        assert!(rules.apply("example.org/v1", "Widget").images.is_empty());
        assert_eq!(
            rules
                .apply("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy")
                .not_images
                .len(),
            1
        );
    }
}
