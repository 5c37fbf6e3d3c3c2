//! Shared state behind traits: the replay cache (and, in the server, sessions). The memory
//! implementations are the default; the Redis ones let several nodes share state.

pub mod memory;
pub mod session;

use chrono::{DateTime, Utc};

pub use memory::MemoryReplayCache;
pub use session::{MemorySessionStore, SessionStore, StoreFuture};

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
