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
pub(super) fn is_workflow_path(path: &Path) -> bool {
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
