//! The [`Resolver`]: the registry client the rest of the crate uses.
//!
//! It owns a single-threaded runtime and the layers below it (`http` sends,
//! `auth` authenticates, `manifest` knows what manifests mean), and runs
//! batches: every key of a batch once, concurrently, each with its own
//! result, through [`Resolver::batch`], the one batch loop.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::auth::Session;
use super::credentials::DockerConfig;
use super::http::Http;
use super::manifest::Registry;
use super::{
    Described, DigestKey, RegistryError, ResolveError, ResolveKey, Resolved, ResolverOptions,
};

/// Resolves tags to digests; cheap to share, holds one connection pool.
pub struct Resolver {
    runtime: tokio::runtime::Runtime,
    registry: Registry,
    progress: Option<Progress>,
}

/// Called with (done, total) as the keys of a batch resolve.
pub type Progress = Box<dyn Fn(usize, usize) + Send + Sync>;

impl Resolver {
    pub fn new(options: ResolverOptions) -> Result<Resolver, RegistryError> {
        let http = Http::new(&options)?;
        let config = DockerConfig::load(options.docker_config_dir.as_deref())
            .map_err(RegistryError::DockerConfig)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Client(e.to_string()))?;
        let session = Session::new(http, config, options.timeout);
        Ok(Resolver {
            progress: None,
            runtime,
            registry: Registry::new(session, options.verify_digest),
        })
    }

    /// Runs `work` for every key, each once, concurrently; blocks until all
    /// are done. `progress`, if given, hears of each key finished.
    fn batch<'a, K, T, F>(
        &'a self,
        keys: &[K],
        progress: Option<&Progress>,
        work: impl Fn(&'a Registry, K) -> F,
    ) -> BTreeMap<K, T>
    where
        K: Clone + Ord + Repository,
        F: Future<Output = T>,
    {
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        // Their token requests may be shared.
        self.registry
            .session
            .plan(unique.iter().map(Repository::registry_repository));
        let done = AtomicUsize::new(0);
        let total = unique.len();
        let tasks = unique.iter().map(|key| {
            let task = work(&self.registry, key.clone());
            let done = &done;
            async move {
                let result = task.await;
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(progress) = progress {
                    progress(finished, total);
                }
                result
            }
        });
        let results = self.runtime.block_on(futures_util::future::join_all(tasks));
        unique.into_iter().zip(results).collect()
    }

    /// Resolves every key, each once, concurrently. Blocks until all are done.
    pub fn resolve_all(
        &self,
        keys: &[ResolveKey],
    ) -> BTreeMap<ResolveKey, Result<Resolved, ResolveError>> {
        self.batch(keys, self.progress.as_ref(), |registry, key| async move {
            registry.resolve(&key).await
        })
    }

    /// Reports batch progress to `progress` (e.g. a progress bar).
    pub fn set_progress(&mut self, progress: Progress) {
        self.progress = Some(progress);
    }

    /// Resolves one key.
    pub fn resolve(&self, key: &ResolveKey) -> Result<Resolved, ResolveError> {
        self.runtime.block_on(self.registry.resolve(key))
    }

    /// Describes each pinned digest, each once, concurrently.
    pub fn describe_all(
        &self,
        keys: &[DigestKey],
    ) -> BTreeMap<DigestKey, Result<Described, ResolveError>> {
        self.batch(keys, None, |registry, key| async move {
            registry.describe(&key).await
        })
    }

    /// Whether each digest still exists in its repository.
    pub fn exist_all(&self, keys: &[DigestKey]) -> BTreeMap<DigestKey, Result<bool, ResolveError>> {
        self.batch(keys, None, |registry, key| async move {
            registry.exists(&key).await
        })
    }
}

/// A key's (registry, repository).
trait Repository {
    fn registry_repository(&self) -> (&str, &str);
}

impl Repository for ResolveKey {
    fn registry_repository(&self) -> (&str, &str) {
        (&self.registry, &self.repository)
    }
}

impl Repository for DigestKey {
    fn registry_repository(&self) -> (&str, &str) {
        (&self.registry, &self.repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_refuses_before_sending() {
        let r = Resolver::new(ResolverOptions {
            loopback_only: true,
            docker_config_dir: Some(std::env::temp_dir().join("digestpin-no-config")),
            ..ResolverOptions::default()
        })
        .unwrap();
        let key = ResolveKey {
            registry: "10.42.0.1:30000".into(),
            repository: "team/app".into(),
            tag: "v1".into(),
            platform: None,
        };
        assert!(matches!(
            r.resolve(&key),
            Err(ResolveError::NonLoopback { .. })
        ));
    }
}
