//! A property over mutated real manifests (the fixture inputs, and the
//! corpus when `DIGESTPIN_CORPUS` names one): whatever the mutation, a pin
//! changes nothing but image values, checked node by node on the YAML trees.

use super::detect_rules::findings;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use digestpin::detect::yaml::{self, Node, NodeId, Tree};
use digestpin::detect::{self, Finding};
use digestpin::edit::PinStyle;
use digestpin::jobs::{
    check, list,
    pin::{self, PinOptions},
};
use digestpin::registry::{ResolveError, ResolveKey, Resolved};
use digestpin::scan::ScannedFile;
use proptest::prelude::*;

/// Real manifests: the fixture inputs, and the corpus when
/// `DIGESTPIN_CORPUS` names one.
fn manifests() -> &'static [String] {
    static CACHE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        let mut texts = Vec::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pin");
        let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path().join("input.yaml"))
            .filter(|p| p.is_file())
            .collect();
        cases.sort();
        if let Some(corpus) = std::env::var_os("DIGESTPIN_CORPUS") {
            let mut found = Vec::new();
            collect_yaml(Path::new(&corpus), &mut found);
            found.sort();
            cases.extend(found.into_iter().take(400));
        }
        for case in cases {
            if let Ok(text) = std::fs::read_to_string(&case)
                && text.len() < 64 * 1024
                && detect::scan(&text).is_ok_and(|s| s.is_some())
            {
                texts.push(text);
            }
        }
        assert!(texts.len() >= 8, "too few manifests to mutate");
        texts
    })
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if entry.file_name() != ".git" {
                collect_yaml(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            out.push(path);
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(prop::sample::Index, &'static str),
    Delete(prop::sample::Index, usize),
    DuplicateLine(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets = prop::sample::select(vec![
        " ",
        "\n",
        "  ",
        ":",
        ": ",
        "- ",
        "#",
        " # c",
        "&a ",
        "*a",
        "'",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ",",
        "|",
        ">-\n  ",
        "!!str ",
        "<<: *a\n",
        "image: x:1\n",
        "\t",
        "é",
        "${V}",
        "{{",
        "@sha256:",
        "---\n",
    ]);
    prop_oneof![
        (any::<prop::sample::Index>(), snippets).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<prop::sample::Index>(), 1..6usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<prop::sample::Index>().prop_map(Mutation::DuplicateLine),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn boundary(text: &str, index: &prop::sample::Index) -> usize {
    let mut at = index.index(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn mutate(text: &str, mutation: &Mutation) -> String {
    match mutation {
        Mutation::Insert(i, snippet) => {
            let at = boundary(text, i);
            format!("{}{snippet}{}", &text[..at], &text[at..])
        }
        Mutation::Delete(i, n) => {
            let at = boundary(text, i);
            let mut end = (at + n).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{}", &text[..at], &text[end..])
        }
        Mutation::DuplicateLine(i) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let at = i.index(lines.len());
                lines.insert(at, lines[at]);
            }
            lines.concat()
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
            }
            lines.concat()
        }
    }
}

fn resolutions(file: &ScannedFile) -> BTreeMap<ResolveKey, Result<Resolved, ResolveError>> {
    let mut map = BTreeMap::new();
    for finding in &file.findings {
        if let Finding::Image { reference, .. } = finding {
            let key = pin::resolve_key(reference, None);
            map.insert(
                key,
                Ok(Resolved {
                    digest: format!("sha256:{}", "c".repeat(64)),
                    media_type: "application/vnd.oci.image.index.v1+json".into(),
                }),
            );
        }
    }
    map
}

/// Compares two trees node by node. Scalars must be equal, except the old
/// file's image values, which must have become a pin of the same name.
struct Compare<'a> {
    old: &'a Tree,
    new: &'a Tree,
    /// Old image value start offset → the reference's name.
    images: BTreeMap<usize, String>,
    /// Image values that may also stay as they are (a Helm tag whose map's
    /// `digest` is filled instead).
    may_stay: HashSet<usize>,
    seen: HashSet<(NodeId, NodeId)>,
}

impl Compare<'_> {
    fn node(&mut self, a: NodeId, b: NodeId) -> Result<(), String> {
        if !self.seen.insert((a, b)) {
            return Ok(());
        }
        match (&self.old.nodes[a], &self.new.nodes[b]) {
            (Node::Scalar(x), Node::Scalar(y)) => {
                let at = x.span.as_ref().map_or(x.start, |s| s.start);
                match self.images.get(&at) {
                    Some(_)
                        if self.may_stay.contains(&at)
                            && x.value == y.value
                            && x.style == y.style =>
                    {
                        Ok(())
                    }
                    Some(name) => {
                        // A Helm map's `digest` value gets a bare digest.
                        let pinned = y.value.starts_with(name.as_str())
                            && (y.value.contains("@sha256:") || name == "sha256:")
                            && y.style == x.style;
                        pinned
                            .then_some(())
                            .ok_or_else(|| format!("image `{}` became `{}`", x.value, y.value))
                    }
                    None if x.value == y.value && x.style == y.style => Ok(()),
                    None => Err(format!("scalar `{}` became `{}`", x.value, y.value)),
                }
            }
            (Node::Sequence(x), Node::Sequence(y)) if x.len() == y.len() => {
                for (&p, &q) in x.iter().zip(y) {
                    self.node(p, q)?;
                }
                Ok(())
            }
            (Node::Mapping(x), Node::Mapping(y)) if x.len() == y.len() => {
                for (&(k1, v1), &(k2, v2)) in x.iter().zip(y) {
                    self.node(k1, k2)?;
                    self.node(v1, v2)?;
                }
                Ok(())
            }
            (x, y) => Err(format!("{x:?} became {y:?}")),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// No panic on a mutated manifest; every file the planner would write
    /// parses to the same tree as the original except its image values.
    #[test]
    fn mutated_manifests_never_panic_and_writes_change_only_images(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
        tag_digest in any::<bool>(),
    ) {
        let texts = manifests();
        let mut text = texts[pick.index(texts.len())].clone();
        for m in &mutations {
            text = mutate(&text, m);
        }
        let Ok(Some((kind, found))) = detect::scan(&text) else {
            return Ok(());
        };
        let file = ScannedFile {
            path: PathBuf::from("mutated.yaml"),
            text: text.clone(),
            kind,
            findings: found,
        };
        let _ = check::check(
            std::slice::from_ref(&file),
            &check::Checker::new(&check::Policy::default()).unwrap(),
        );
        let _ = list::list(std::slice::from_ref(&file));
        let options = PinOptions {
            style: if tag_digest { PinStyle::TagDigest } else { PinStyle::Comment },
            platform: None,
            ..Default::default()
        };
        let outcome = pin::plan_with(std::slice::from_ref(&file), &resolutions(&file), &options);
        for change in &outcome.changes {
            let old = yaml::parse(&change.original).unwrap();
            let new = yaml::parse(&change.updated)
                .map_err(|e| TestCaseError::fail(format!("pinned text does not parse: {e}\n{}", change.updated)))?;
            prop_assert_eq!(old.documents.len(), new.documents.len());
            let mut images: BTreeMap<usize, String> = BTreeMap::new();
            let mut may_stay = HashSet::new();
            for finding in &file.findings {
                let Finding::Image { site, reference } = finding else {
                    continue;
                };
                // A Helm image map: its site is the tag, which may get the
                // digest as a suffix, or its `digest` may be filled.
                match detect::helm::locate(&file.text, &site.span) {
                    Some(map) => {
                        images.insert(site.span.start, file.text[site.span.clone()].to_string());
                        if let Some(at) = map.digest_start() {
                            images.insert(at, "sha256:".to_string());
                            may_stay.insert(at);
                            may_stay.insert(site.span.start);
                        }
                    }
                    None => {
                        images.insert(site.span.start, reference.name().to_string());
                    }
                }
            }
            let mut compare = Compare { old: &old, new: &new, images, may_stay, seen: HashSet::new() };
            for (&a, &b) in old.documents.iter().zip(&new.documents) {
                compare
                    .node(a, b)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n--- before\n{}\n--- after\n{}", change.original, change.updated)))?;
            }
        }
    }
}

/// The oracle of the property above rejects what it must.
#[test]
fn the_tree_comparison_rejects_changes_outside_image_values() {
    let old_text =
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: nginx:1.25\n";
    let compare = |new_text: &str| {
        let old = yaml::parse(old_text).unwrap();
        let new = yaml::parse(new_text).unwrap();
        let images = findings(old_text)
            .iter()
            .map(|f| (f.site().span.start, "nginx".to_string()))
            .collect();
        let mut compare = Compare {
            old: &old,
            new: &new,
            images,
            may_stay: HashSet::new(),
            seen: HashSet::new(),
        };
        compare.node(old.documents[0], new.documents[0])
    };
    let digest = format!("sha256:{}", "c".repeat(64));
    assert_eq!(
        compare(&old_text.replace("nginx:1.25", &format!("nginx@{digest} # 1.25"))),
        Ok(())
    );
    assert_eq!(
        compare(&old_text.replace("name: a", "name: b")),
        Err("scalar `a` became `b`".to_string())
    );
    assert_eq!(
        compare(&old_text.replace("nginx:1.25", "redis@sha256:1")),
        Err("image `nginx:1.25` became `redis@sha256:1`".to_string())
    );
}
