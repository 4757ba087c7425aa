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
pub(super) fn detect(tree: &Tree, collector: &mut Collector<'_>) -> Option<FileKind> {
    let mut any = false;
    for &root in &tree.documents {
        if is_object(tree, root) {
            any = true;
            object(tree, root, collector, 0);
        }
    }
    any.then_some(FileKind::Kubernetes)
}

fn is_object(tree: &Tree, node: NodeId) -> bool {
    tree.is_mapping(node)
        && tree
            .get(node, "apiVersion")
            .and_then(|n| tree.str(n))
            .is_some()
        && tree.get(node, "kind").and_then(|n| tree.str(n)).is_some()
}

fn object(tree: &Tree, node: NodeId, collector: &mut Collector<'_>, depth: usize) {
    if depth > 8 || !is_object(tree, node) {
        return;
    }
    let api_version = tree
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
                    object(tree, item, collector, depth + 1);
                }
            }
            return;
        }
        _ if is_builtin(api_version) => return,
        _ => {
            any_image(tree, node, collector, 0);
            return;
        }
    };
    if let Some(spec) = tree.path(node, pod_spec) {
        pod(tree, spec, collector);
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

/// Every `image` key holding a scalar, at any depth.
fn any_image(tree: &Tree, node: NodeId, collector: &mut Collector<'_>, depth: usize) {
    if depth > 64 {
        return;
    }
    match &tree.nodes[node] {
        Node::Mapping(entries) => {
            for &(key, value) in entries {
                if tree.str(key) == Some("image") && tree.scalar(value).is_some() {
                    collector.add(value, false, Strictness::Drop);
                } else {
                    any_image(tree, value, collector, depth + 1);
                }
            }
        }
        Node::Sequence(items) => {
            for &item in items {
                any_image(tree, item, collector, depth + 1);
            }
        }
        Node::Scalar(_) => {}
    }
}
