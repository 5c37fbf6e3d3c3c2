//! Shared state behind traits: the replay cache (and, in the server, sessions). The memory
//! implementations are the default; the Redis ones let several nodes share state.

pub mod memory;
pub mod redis;
pub mod session;

use chrono::{DateTime, Utc};

pub use memory::MemoryReplayCache;
pub use redis::RedisStore;
pub use session::{MemorySessionStore, SessionCheck, SessionStore, StoreFuture};

/// A store that could not answer (Redis down or slow). Callers fail closed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state store unavailable: {0}")]
pub struct StoreError(pub String);

/// Remembers which tokens were used, so each is accepted at most once.
pub trait ReplayCache: Send + Sync {
    /// Atomically records `key` until `until`. Returns `Ok(true)` when it was new and
    /// `Ok(false)` when it was already recorded (a replay).
    fn insert_if_absent(
        &self,
        key: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// The replay cache as the server uses it: asynchronous, so that a networked store (Redis) never
/// blocks an executor thread. The token core keeps the synchronous [`ReplayCache`]; the memory
/// cache implements both.
pub trait ReplayStore: Send + Sync {
    /// Atomically records `key` until `until`: `Ok(true)` when it was new, `Ok(false)` when it
    /// was already recorded (a replay) **or** when the store cannot vouch for it: a store that
    /// lost its records (see [`RedisStore`]) refuses everything that could have been used
    /// before the loss, i.e. whose `earliest_use` is earlier than the loss.
    fn insert_if_absent<'a>(
        &'a self,
        key: &'a str,
        earliest_use: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, bool>;
}

impl ReplayStore for MemoryReplayCache {
    fn insert_if_absent<'a>(
        &'a self,
        key: &'a str,
        _earliest_use: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, bool> {
        Box::pin(std::future::ready(ReplayCache::insert_if_absent(
            self, key, until, now,
        )))
    }
}
