//! digestpin: find container image references in Kubernetes and Compose files,
//! resolve their tags to digests at the image's registry, and rewrite each
//! reference in place, changing no other byte.
//!
//! Pipeline: [`walk`] → [`scan`] ([`detect`]) → [`jobs`] ([`registry`], [`edit`])
//! → report (in the binary).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod commit;
pub mod config;
pub mod detect;
pub mod edit;
pub mod helm;
pub mod job;
pub mod jobs;
pub mod kustomize;
pub mod parallel;
pub mod reference;
pub mod registry;
pub mod scan;
pub mod settings;
pub mod state;
pub mod walk;
