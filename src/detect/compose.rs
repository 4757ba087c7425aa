//! Images in Compose files.
//!
//! A file is a Compose file when its top level has a `services` mapping with
//! at least one service that has `image` or `build`. The `image` of each
//! service is read through `<<` merge keys and aliases, so a value anchored
//! once in an `x-` extension is one finding however many services use it. A
//! service with `build` names the image it builds: that image is reported as
//! skipped. A service's own `platform:` is kept with its image, so that
//! `pin --platform` resolves it for that platform.

use super::yaml::Tree;
use super::{Collector, FileKind, Strictness};

pub(super) fn detect(tree: &Tree, collector: &mut Collector<'_>) -> Option<FileKind> {
    let mut any = false;
    for &root in &tree.documents {
        if !tree.is_mapping(root) {
            continue;
        }
        let Some(services) = tree.get(root, "services") else {
            continue;
        };
        if !tree.is_mapping(services) {
            continue;
        }
        for (_, service) in tree.entries(services) {
            if !tree.is_mapping(service) {
                continue;
            }
            let built = tree.get(service, "build").is_some();
            if let Some(image) = tree.get(service, "image") {
                any = true;
                collector.add(image, built, Strictness::Report);
                let platform = tree.get(service, "platform").and_then(|p| tree.str(p));
                collector.platform(image, platform);
            } else if built {
                any = true;
            }
        }
    }
    any.then_some(FileKind::Compose)
}
