//! Images in GitHub Actions workflow files.
//!
//! A workflow has no `apiVersion` or `kind`; it is recognised by its path,
//! `.github/workflows/*.yml` or `*.yaml`. Its images are a job's
//! `container` (a string, or a mapping's `image`), each of a job's
//! `services.<id>.image`, and the steps' `uses: docker://image:tag`, whose
//! reference is the text after `docker://`. Action references
//! (`uses: actions/checkout@v4`) are not images and are not looked at.
//! Values holding `${{ … }}` are reported as templated by the collector.

use std::path::Path;

use super::yaml::Tree;
use super::{Collector, FileKind, Strictness};

const DOCKER_SCHEME: &str = "docker://";

/// Whether `path` is a workflow file: `*.yml` or `*.yaml` directly in a
/// `.github/workflows` directory.
pub fn is_workflow_path(path: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str());
    if !matches!(extension, Some("yml" | "yaml")) {
        return false;
    }
    let Some(dir) = path.parent() else {
        return false;
    };
    dir.file_name().is_some_and(|n| n == "workflows")
        && dir
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == ".github")
}

/// Finds the images of every job; `None` when the file names none.
pub(super) fn detect(tree: &Tree, collector: &mut Collector<'_>) -> Option<FileKind> {
    let mut any = false;
    for &root in &tree.documents {
        let Some(jobs) = tree.get(root, "jobs").filter(|&j| tree.is_mapping(j)) else {
            continue;
        };
        for (_, job) in tree.entries(jobs) {
            if !tree.is_mapping(job) {
                continue;
            }
            if let Some(container) = tree.get(job, "container") {
                let image = if tree.is_mapping(container) {
                    tree.get(container, "image")
                } else {
                    Some(container)
                };
                if let Some(image) = image {
                    any = true;
                    collector.add(image, false, Strictness::Report);
                }
            }
            if let Some(services) = tree.get(job, "services") {
                for (_, service) in tree.entries(services) {
                    if let Some(image) = tree.get(service, "image") {
                        any = true;
                        collector.add(image, false, Strictness::Report);
                    }
                }
            }
            if let Some(steps) = tree.get(job, "steps") {
                for &step in tree.items(steps) {
                    let Some(uses) = tree.get(step, "uses") else {
                        continue;
                    };
                    if tree
                        .str(uses)
                        .is_some_and(|value| value.starts_with(DOCKER_SCHEME))
                    {
                        any = true;
                        collector.add_prefixed(uses, DOCKER_SCHEME.len());
                    }
                }
            }
        }
    }
    any.then_some(FileKind::Workflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Finding, SkipReason, scan_workflow};

    #[test]
    fn workflow_files_are_chosen_by_path() {
        for yes in [
            ".github/workflows/ci.yml",
            "repo/.github/workflows/release.yaml",
        ] {
            assert!(is_workflow_path(Path::new(yes)), "{yes}");
        }
        for no in [
            ".github/ci.yml",
            "workflows/ci.yml",
            ".github/workflows/sub/ci.yml",
            ".github/workflows/README.md",
            "github/workflows/ci.yml",
        ] {
            assert!(!is_workflow_path(Path::new(no)), "{no}");
        }
    }

    /// (value, text at the span, line, column, skip reason) of each finding.
    fn findings(text: &str) -> Vec<(String, String, usize, usize, Option<SkipReason>)> {
        assert!(is_workflow_path(Path::new(".github/workflows/ci.yml")));
        let (kind, findings) = scan_workflow(text).unwrap().unwrap();
        assert_eq!(kind, FileKind::Workflow);
        findings
            .into_iter()
            .map(|f| {
                let (site, reason) = match f {
                    Finding::Image { site, .. } => (site, None),
                    Finding::Skipped { site, reason } => (site, Some(reason)),
                };
                let at = text[site.span.clone()].to_string();
                (site.value, at, site.line, site.column, reason)
            })
            .collect()
    }

    #[test]
    fn containers_services_and_docker_steps() {
        let text = "\
on: push
jobs:
  a:
    container: 'node:20'
    services:
      db:
        image: postgres:16
      none: {ports: [80]}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.20
      - {uses: \"docker://ghcr.io/o/t:1\"}
      - run: echo docker://x:1
  b:
    container:
      image: ${{ matrix.image }}
      options: --cpus 1
  c:
    container: {options: --cpus 1}
";
        let image = |v: &str, line, column| (v.to_string(), v.to_string(), line, column, None);
        assert_eq!(
            findings(text),
            [
                image("node:20", 4, 17),
                image("postgres:16", 7, 16),
                image("alpine:3.20", 11, 24),
                image("ghcr.io/o/t:1", 12, 26),
                (
                    "${{ matrix.image }}".to_string(),
                    "${{ matrix.image }}".to_string(),
                    16,
                    14,
                    Some(SkipReason::Templated)
                ),
            ]
        );
    }

    #[test]
    fn a_workflow_without_images_is_not_kept() {
        let text = "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n";
        assert!(is_workflow_path(Path::new(".github/workflows/ci.yml")));
        assert_eq!(scan_workflow(text), Ok(None));
    }
}
