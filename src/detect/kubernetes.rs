//! Images in Kubernetes manifests.
//!
//! A document is a Kubernetes object when its top level has `apiVersion` and
//! `kind`. Workloads are read by their schema: the `image` of every container,
//! init container and ephemeral container of the pod spec, and image volumes
//! (`volumes[].image.reference`). `List` items are read as objects. Other
//! kinds (custom resources: Argo Rollouts, Tekton, Knative, Prometheus, …)
//! are searched for any `image` key holding a reference; other kinds of
//! Kubernetes' own API groups (ConfigMap, Secret, PersistentVolume, CRDs, …)
//! hold no image outside a pod spec and are not searched. Configuration files
//! that carry `apiVersion` and `kind` but are not deployed objects (skaffold,
//! kustomize, kind, kubeadm, component configs) are not searched either.

use std::collections::{HashMap, HashSet};

use super::rules::Rules;
use super::yaml::{Node, NodeId, Tree};
use super::{Collector, FileKind, Strictness};

/// API groups of configuration files, not deployed objects.
const CONFIG_GROUPS: &[&str] = &[
    "skaffold/",
    "kustomize.config.k8s.io/",
    "kind.x-k8s.io/",
    "kubeadm.k8s.io/",
    "kubelet.config.k8s.io/",
    "kubeproxy.config.k8s.io/",
    "kubescheduler.config.k8s.io/",
    "apiserver.config.k8s.io/",
    "ctlptl.dev/",
    "k3d.io/",
];

/// Whether an apiVersion belongs to Kubernetes itself (core `v1`, `apps`,
/// `batch`, …, `*.k8s.io`). Their schemas are known: only pod specs hold
/// images, so a ConfigMap's `data.image` or an RBD volume's `image` is never
/// taken for one.
fn is_builtin(api_version: &str) -> bool {
    match api_version.split_once('/') {
        None => true,
        Some((group, _)) => {
            matches!(
                group,
                "apps" | "batch" | "extensions" | "policy" | "autoscaling"
            ) || group.ends_with(".k8s.io")
        }
    }
}

/// Finds the images of every Kubernetes document; `None` when no document is one.
pub(super) fn detect(
    tree: &Tree,
    rules: &Rules,
    collector: &mut Collector<'_>,
) -> Option<FileKind> {
    let mut any = false;
    let mut walk = Walk {
        tree,
        rules,
        objects: HashSet::new(),
        searched: HashSet::new(),
    };
    for &root in &tree.documents {
        if is_object(tree, root) {
            any = true;
            walk.object(root, collector, 0);
        }
    }
    any.then_some(FileKind::Kubernetes)
}

/// One file's walk. Aliases make the tree a DAG: each object and each
/// searched node is visited once, so an alias bomb costs its size.
struct Walk<'t> {
    tree: &'t Tree,
    rules: &'t Rules,
    objects: HashSet<NodeId>,
    /// Nodes searched for `image` keys, and whether under a `not-images` path.
    searched: HashSet<(NodeId, bool)>,
}

fn is_object(tree: &Tree, node: NodeId) -> bool {
    tree.is_mapping(node)
        && tree
            .get(node, "apiVersion")
            .and_then(|n| tree.str(n))
            .is_some()
        && tree.get(node, "kind").and_then(|n| tree.str(n)).is_some()
}

impl Walk<'_> {
    fn object(&mut self, node: NodeId, collector: &mut Collector<'_>, depth: usize) {
        let tree = self.tree;
        if depth > 8 || !is_object(tree, node) || !self.objects.insert(node) {
            return;
        }
        let mut api_version = tree
            .get(node, "apiVersion")
            .and_then(|n| tree.str(n))
            .unwrap_or("");
        let kind = tree
            .get(node, "kind")
            .and_then(|n| tree.str(n))
            .unwrap_or("");
        if CONFIG_GROUPS.iter().any(|g| api_version.starts_with(g)) {
            return;
        }
        if api_version == "v1" && kind == "DeploymentConfig" {
            // OpenShift's legacy API group.
            api_version = "apps.openshift.io/v1";
        }
        let applied = self.rules.apply(api_version, kind);
        for path in &applied.images {
            for image in path.resolve(tree, node) {
                collector.add(image, false, Strictness::Report);
            }
        }
        let pod_spec: &[&str] = match kind {
            "Pod" => &["spec"],
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job" => &["spec", "template", "spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            "PodTemplate" => &["template", "spec"],
            kind if kind.ends_with("List") && tree.get(node, "items").is_some() => {
                if let Some(items) = tree.get(node, "items") {
                    for &item in tree.items(items) {
                        self.object(item, collector, depth + 1);
                    }
                }
                return;
            }
            _ if is_builtin(api_version) => return,
            _ => {
                let mut excluded: HashMap<NodeId, &str> = HashMap::new();
                for (path, why) in &applied.not_images {
                    for n in path.resolve(tree, node) {
                        excluded.entry(n).or_insert(why);
                    }
                }
                self.any_image(node, None, &excluded, collector, 0);
                return;
            }
        };
        if let Some(spec) = tree.path(node, pod_spec) {
            pod(tree, spec, collector);
        }
    }

    /// Every `image` key holding a scalar, at any depth; under a
    /// `not-images` path (`why` set) reported as not an image.
    fn any_image<'w>(
        &mut self,
        node: NodeId,
        mut why: Option<&'w str>,
        excluded: &HashMap<NodeId, &'w str>,
        collector: &mut Collector<'_>,
        depth: usize,
    ) {
        let tree = self.tree;
        if depth > 64 {
            return;
        }
        if let Some(&reason) = excluded.get(&node) {
            why = Some(reason);
        }
        if !self.searched.insert((node, why.is_some())) {
            return;
        }
        match &tree.nodes[node] {
            Node::Mapping(entries) => {
                for &(key, value) in entries {
                    let image = tree.str(key) == Some("image") && tree.scalar(value).is_some();
                    let value_why = excluded.get(&value).copied().or(why);
                    match (image, value_why) {
                        (true, Some(reason)) => collector.add_not_image(value, reason),
                        (true, None) => collector.add(value, false, Strictness::Drop),
                        (false, _) => self.any_image(value, why, excluded, collector, depth + 1),
                    }
                }
            }
            Node::Sequence(items) => {
                for &item in items {
                    self.any_image(item, why, excluded, collector, depth + 1);
                }
            }
            Node::Scalar(_) => {}
        }
    }
}

/// The images of a pod spec.
pub(super) fn pod(tree: &Tree, spec: NodeId, collector: &mut Collector<'_>) {
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(containers) = tree.get(spec, list) {
            for &container in tree.items(containers) {
                if let Some(image) = tree.get(container, "image") {
                    collector.add(image, false, Strictness::Report);
                }
            }
        }
    }
    if let Some(volumes) = tree.get(spec, "volumes") {
        for &volume in tree.items(volumes) {
            if let Some(reference) = tree.path(volume, &["image", "reference"]) {
                collector.add(reference, false, Strictness::Report);
            }
        }
    }
}
