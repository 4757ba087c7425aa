//! The [`Resolver`]: the registry client the rest of the crate uses.
//!
//! It owns a single-threaded runtime and the layers below it (`http` sends,
//! `auth` authenticates, `manifest` knows what manifests mean), and runs
//! batches: every key of a batch once, concurrently, each with its own
//! result, through [`Resolver::batch`], the one batch loop. With a cache
//! ([`ResolverOptions::cache`]), [`Resolver::cached_batch`] answers what it
//! can from the cache first, sends the rest (none offline) and stores the
//! answers.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::auth::Session;
use super::cache::{Cache, CacheUse};
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
    cache: Option<Cache>,
    /// The tag keys the cache answered, with the digest it gave.
    from_cache: std::sync::Mutex<BTreeMap<ResolveKey, String>>,
    trace: Option<Trace>,
}

/// Called with (done, total) as the keys of a batch resolve.
pub type Progress = Box<dyn Fn(usize, usize) + Send + Sync>;

/// What a [`Trace`] hears of, for `--verbose`: where each answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// One attempt of an HTTP request: the method, the URL (a password in it
    /// hidden), the status or why there was none (`timeout`, `connection
    /// failed`, `failed`), and the time to the answer's headers.
    Request {
        method: String,
        url: String,
        status: Result<u16, &'static str>,
        elapsed: Duration,
    },
    /// A tag resolved to its digest, or the error.
    Resolved {
        key: ResolveKey,
        result: Result<String, String>,
    },
}

/// Called with each [`TraceEvent`], from the resolver's thread.
pub type Trace = Arc<dyn Fn(&TraceEvent) + Send + Sync>;

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
        let cache = options
            .cache
            .map(|cache| Cache::new(cache, options.verify_digest));
        Ok(Resolver {
            progress: None,
            cache,
            from_cache: std::sync::Mutex::default(),
            trace: None,
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
        let trace = self.trace.clone();
        self.cached_batch(
            keys,
            self.progress.as_ref(),
            |cache, key| {
                let url = self.cache_url(&key.registry, &key.repository, &key.tag)?;
                let resolved = cache.tag(&url, key.platform.as_ref())?;
                if let Ok(mut served) = self.from_cache.lock() {
                    served.insert(key.clone(), resolved.digest.clone());
                }
                Some(resolved)
            },
            move |registry, key| {
                let trace = trace.clone();
                async move {
                    let result = registry.resolve(&key).await;
                    if let Some(trace) = trace {
                        trace(&TraceEvent::Resolved {
                            result: result
                                .as_ref()
                                .map(|r| r.digest.clone())
                                .map_err(ToString::to_string),
                            key,
                        });
                    }
                    result
                }
            },
            |cache, key, resolved| {
                if let Some(url) = self.cache_url(&key.registry, &key.repository, &key.tag) {
                    cache.store_tag(&url, key.platform.as_ref(), resolved);
                }
            },
        )
    }

    /// Whether the cache answered `key` in this run.
    pub fn answered_from_cache(&self, key: &ResolveKey) -> bool {
        self.from_cache
            .lock()
            .is_ok_and(|served| served.contains_key(key))
    }

    /// Whether the cache answered a key of this registry, repository and tag
    /// with `digest` in this run (for any platform).
    pub fn digest_from_cache(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
        digest: &str,
    ) -> bool {
        // The keys of one tag (for each platform) sort together, the one
        // without a platform first.
        let first = ResolveKey {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.to_string(),
            platform: None,
        };
        self.from_cache.lock().is_ok_and(|served| {
            served
                .range(&first..)
                .take_while(|(key, _)| {
                    key.registry == registry && key.repository == repository && key.tag == tag
                })
                .any(|(_, served)| served == digest)
        })
    }

    /// What the cache did in this run; `None` without a cache.
    pub fn cache_use(&self) -> Option<CacheUse> {
        self.cache.as_ref().map(Cache::usage)
    }

    /// [`Resolver::batch`] behind the cache: each key `lookup` answers is
    /// not sent; each answer `work` gets is given to `store`. Offline, a key
    /// the cache does not answer fails with [`ResolveError::NotCached`].
    fn cached_batch<'a, K, T, F>(
        &'a self,
        keys: &[K],
        progress: Option<&Progress>,
        lookup: impl Fn(&Cache, &K) -> Option<T>,
        work: impl Fn(&'a Registry, K) -> F,
        store: impl Fn(&Cache, &K, &T),
    ) -> BTreeMap<K, Result<T, ResolveError>>
    where
        K: Clone + Ord + Repository,
        F: Future<Output = Result<T, ResolveError>>,
    {
        let Some(cache) = &self.cache else {
            return self.batch(keys, progress, work);
        };
        let mut answered = BTreeMap::new();
        let mut missing = Vec::new();
        for key in keys {
            if answered.contains_key(key) {
                continue;
            }
            match lookup(cache, key) {
                Some(value) => {
                    answered.insert(key.clone(), Ok(value));
                }
                None => missing.push(key.clone()),
            }
        }
        if cache.offline() {
            for key in missing {
                answered.insert(key, Err(ResolveError::NotCached));
            }
            return answered;
        }
        if missing.is_empty() {
            return answered;
        }
        for (key, result) in self.batch(&missing, progress, work) {
            if let Ok(value) = &result {
                store(cache, &key, value);
            }
            answered.insert(key, result);
        }
        cache.prune_if_due();
        answered
    }

    /// The manifest URL a request for `reference` goes to, without user
    /// information: the cache's key.
    fn cache_url(&self, registry: &str, repository: &str, reference: &str) -> Option<String> {
        let mut url = self
            .registry
            .session
            .http
            .manifest_url(registry, repository, reference)
            .ok()?;
        url.set_username("").ok()?;
        url.set_password(None).ok()?;
        url.set_query(None);
        url.set_fragment(None);
        Some(url.to_string())
    }

    /// Tells `trace` of every request sent and every tag resolved.
    pub fn set_trace(&mut self, trace: Trace) {
        self.registry.session.http.set_trace(trace.clone());
        self.trace = Some(trace);
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
        self.cached_batch(
            keys,
            None,
            |cache, key| cache.described(&self.digest_url(key)?),
            |registry, key| async move { registry.describe(&key).await },
            |cache, key, described| {
                if let Some(url) = self.digest_url(key) {
                    cache.store_digest(&url, Some(described));
                }
            },
        )
    }

    /// Puts the manifest or index `key` names under each of `tags` in its
    /// repository (`dry_run`: reads only); each tag with its old digest.
    pub fn retag(
        &self,
        key: &DigestKey,
        tags: &[String],
        dry_run: bool,
    ) -> Result<Vec<super::TagMove>, super::RetagError> {
        self.runtime
            .block_on(self.registry.retag(key, tags, dry_run))
    }

    /// The provenance (OCI annotations, else config labels) of each pinned
    /// digest, each once, concurrently.
    pub fn provenance_all(
        &self,
        keys: &[DigestKey],
    ) -> BTreeMap<DigestKey, Result<super::Provenance, ResolveError>> {
        self.batch(keys, None, |registry, key| async move {
            registry.provenance(&key).await
        })
    }

    /// The tags of `key`'s repository other than `except` that name the
    /// same digest as `key` (`digest` if given, else `key`'s tag resolved)
    /// and that `keep` keeps; with the digest compared.
    pub fn same_tags(
        &self,
        key: &ResolveKey,
        digest: Option<&str>,
        except: Option<&str>,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<(String, super::SameTags), ResolveError> {
        self.runtime.block_on(async {
            let digest = match digest {
                Some(digest) => digest.to_string(),
                None => self.registry.resolve(key).await?.digest,
            };
            let same = self
                .registry
                .same_tags(
                    &key.registry,
                    &key.repository,
                    &digest,
                    except,
                    keep,
                    super::tags::PAGE * super::tags::MAX_PAGES,
                )
                .await?;
            Ok((digest, same))
        })
    }

    /// The tags of `key`'s repository that name its digest: the tag list
    /// (at most `max` tags, paged), then one HEAD per tag, concurrently
    /// within the per-registry bound. `complete` is false when the list
    /// was cut at `max`.
    pub fn tags_naming(
        &self,
        key: &DigestKey,
        max: usize,
    ) -> Result<super::SameTags, ResolveError> {
        self.runtime.block_on(self.registry.same_tags(
            &key.registry,
            &key.repository,
            &key.digest,
            None,
            &|_| true,
            max,
        ))
    }

    /// Whether each digest still exists in its repository.
    pub fn exist_all(&self, keys: &[DigestKey]) -> BTreeMap<DigestKey, Result<bool, ResolveError>> {
        self.cached_batch(
            keys,
            None,
            |cache, key| cache.exists(&self.digest_url(key)?),
            |registry, key| async move { registry.exists(&key).await },
            |cache, key, exists| {
                if let (true, Some(url)) = (*exists, self.digest_url(key)) {
                    cache.store_digest(&url, None);
                }
            },
        )
    }

    fn digest_url(&self, key: &DigestKey) -> Option<String> {
        self.cache_url(&key.registry, &key.repository, &key.digest)
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
