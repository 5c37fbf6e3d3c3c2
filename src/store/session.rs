//! The session store: server-side session records, sign-in hand-offs and revocations.
//!
//! The trait returns boxed futures so that a networked implementation ([`super::RedisStore`])
//! fits without blocking the executor; the memory implementation answers immediately. Keys are
//! opaque strings chosen by `http/` (`s:<id>` records, `h:<code>` hand-offs); revocations are
//! kept by session id until the session could no longer be valid anyway, so a cookie captured
//! before sign-out or `wsignoutcleanup1.0` stays dead (catalogue Q06). Every failure is a
//! [`StoreError`]; callers fail closed (`store.unavailable`, 503).

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::StoreError;

/// A store operation in flight.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What [`SessionStore::check_session`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionCheck {
    /// The session was ended (sign-out, `wsignoutcleanup1.0`), or the store cannot vouch for it
    /// (it lost its records after the session was issued).
    pub revoked: bool,
    /// The record under the requested key, when one was asked for, the session is not revoked
    /// and the record exists.
    pub record: Option<Vec<u8>>,
}

/// Server-side session state shared by every request (and, with Redis, every node).
pub trait SessionStore: Send + Sync {
    /// Stores `value` under `key` until `until`.
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()>;
    /// The value under `key`, if present and not expired.
    fn get<'a>(&'a self, key: &'a str, now: DateTime<Utc>) -> StoreFuture<'a, Option<Vec<u8>>>;
    /// Removes and returns the value under `key` (one-time use).
    fn take<'a>(&'a self, key: &'a str, now: DateTime<Utc>) -> StoreFuture<'a, Option<Vec<u8>>>;
    /// Removes `key`.
    fn remove<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;
    /// Marks session `id` as ended until `until`.
    fn revoke<'a>(
        &'a self,
        id: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()>;
    /// Whether session `id` was ended.
    fn is_revoked<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> StoreFuture<'a, bool>;
    /// Records that session `id` is live until `until` (the active-sessions gauge).
    fn note_active<'a>(
        &'a self,
        id: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()>;
    /// Live sessions (approximate; for metrics).
    fn active_sessions(&self, now: DateTime<Utc>) -> u64;
    /// Moves the expiry of the record under `key` to `until` (sliding renewal); absent keys
    /// stay absent.
    fn touch<'a>(
        &'a self,
        key: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()>;
    /// The revocation check of session `id` (issued at `issued_at`) and, when `record` names a
    /// key, the record under it: one round trip where the store can.
    fn check_session<'a>(
        &'a self,
        id: &'a str,
        issued_at: DateTime<Utc>,
        record: Option<&'a str>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, SessionCheck> {
        let _ = issued_at;
        Box::pin(async move {
            let revoked = self.is_revoked(id, now).await?;
            let record = match (revoked, record) {
                (false, Some(key)) => self.get(key, now).await?,
                _ => None,
            };
            Ok(SessionCheck { revoked, record })
        })
    }
}

const SHARDS: usize = 16;

#[derive(Default)]
struct Map {
    entries: HashMap<String, (i64, Vec<u8>)>,
    /// Earliest time (ms) the next full expiry sweep may run: sweeps are O(n), so a full
    /// shard sweeps at most once a second and otherwise evicts one entry in O(1).
    next_sweep: i64,
}

/// A bounded, sharded, expiring map (also the Redis store's local cache of confirmed sessions).
pub(crate) struct Bounded {
    shards: Vec<Mutex<Map>>,
    per_shard: usize,
    /// Evicting would lose a security decision (revocations): refuse instead.
    fail_when_full: bool,
}

impl Bounded {
    /// At most `capacity` entries; when full, evict (or refuse with `fail_when_full`).
    pub(crate) fn new(capacity: usize, fail_when_full: bool) -> Bounded {
        Bounded {
            shards: (0..SHARDS).map(|_| Mutex::new(Map::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            fail_when_full,
        }
    }

    fn shard(&self, key: &str) -> Result<std::sync::MutexGuard<'_, Map>, StoreError> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        self.shards[(h.finish() as usize) % SHARDS]
            .lock()
            .map_err(|_| StoreError("session store lock poisoned".into()))
    }

    /// Stores `value` under `key` until `until`.
    pub(crate) fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = now.timestamp_millis();
        let mut guard = self.shard(key)?;
        let m = &mut *guard;
        if m.entries.len() >= self.per_shard && !m.entries.contains_key(key) {
            if now >= m.next_sweep {
                m.entries.retain(|_, (exp, _)| *exp > now);
                m.next_sweep = now + 1000;
            }
            if m.entries.len() >= self.per_shard {
                if self.fail_when_full {
                    return Err(StoreError("revocation list is full".into()));
                }
                if let Some(k) = m.entries.keys().next().cloned() {
                    m.entries.remove(&k);
                }
            }
        }
        m.entries
            .insert(key.to_owned(), (until.timestamp_millis(), value));
        Ok(())
    }

    /// The live value under `key` (removed with `take`).
    pub(crate) fn get(
        &self,
        key: &str,
        now: DateTime<Utc>,
        take: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut guard = self.shard(key)?;
        let m = &mut guard.entries;
        let live = matches!(m.get(key), Some((exp, _)) if *exp > now.timestamp_millis());
        if !live {
            m.remove(key);
            return Ok(None);
        }
        Ok(if take {
            m.remove(key).map(|(_, v)| v)
        } else {
            m.get(key).map(|(_, v)| v.clone())
        })
    }

    /// Removes `key`.
    pub(crate) fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.shard(key)?.entries.remove(key);
        Ok(())
    }

    /// Moves the expiry of a live `key` to `until`.
    fn touch(&self, key: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut guard = self.shard(key)?;
        if let Some((exp, _)) = guard.entries.get_mut(key)
            && *exp > now.timestamp_millis()
        {
            *exp = until.timestamp_millis();
        }
        Ok(())
    }

    fn count_live(&self, now: DateTime<Utc>) -> u64 {
        let now = now.timestamp_millis();
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .map(|m| m.entries.values().filter(|(exp, _)| *exp > now).count() as u64)
                    .unwrap_or(0)
            })
            .sum()
    }
}

/// The in-process store: bounded, expiring, sharded.
pub struct MemorySessionStore {
    records: Bounded,
    revoked: Bounded,
    active: Bounded,
}

impl MemorySessionStore {
    /// A store holding at most `capacity` entries of each kind.
    pub fn new(capacity: usize) -> MemorySessionStore {
        MemorySessionStore {
            records: Bounded::new(capacity, false),
            revoked: Bounded::new(capacity, true),
            active: Bounded::new(capacity, false),
        }
    }
}

fn ready<'a, T: Send + 'a>(r: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(r))
}

impl SessionStore for MemorySessionStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        ready(self.records.put(key, value, until, now))
    }
    fn get<'a>(&'a self, key: &'a str, now: DateTime<Utc>) -> StoreFuture<'a, Option<Vec<u8>>> {
        ready(self.records.get(key, now, false))
    }
    fn take<'a>(&'a self, key: &'a str, now: DateTime<Utc>) -> StoreFuture<'a, Option<Vec<u8>>> {
        ready(self.records.get(key, now, true))
    }
    fn remove<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        ready(self.records.remove(key))
    }
    fn revoke<'a>(
        &'a self,
        id: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        let r = self
            .revoked
            .put(id, Vec::new(), until, now)
            .and_then(|_| self.active.remove(id));
        ready(r)
    }
    fn is_revoked<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> StoreFuture<'a, bool> {
        ready(self.revoked.get(id, now, false).map(|v| v.is_some()))
    }
    fn note_active<'a>(
        &'a self,
        id: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        ready(self.active.put(id, Vec::new(), until, now))
    }
    fn active_sessions(&self, now: DateTime<Utc>) -> u64 {
        self.active.count_live(now)
    }
    fn touch<'a>(
        &'a self,
        key: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        ready(self.records.touch(key, until, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn run<T>(f: StoreFuture<'_, T>) -> Result<T, StoreError> {
        // The memory store's futures are already complete.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = f;
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => Err(StoreError("pending".into())),
        }
    }

    #[test]
    fn records_expire_take_is_one_time_and_revocations_stick() {
        let s = MemorySessionStore::new(64);
        let now = Utc::now();
        run(s.put("k", b"v".to_vec(), now + Duration::seconds(10), now)).unwrap();
        assert_eq!(run(s.get("k", now)).unwrap(), Some(b"v".to_vec()));
        assert_eq!(run(s.get("k", now + Duration::seconds(11))).unwrap(), None);
        run(s.put("h", b"x".to_vec(), now + Duration::seconds(10), now)).unwrap();
        assert_eq!(run(s.take("h", now)).unwrap(), Some(b"x".to_vec()));
        assert_eq!(run(s.take("h", now)).unwrap(), None);
        run(s.note_active("id", now + Duration::hours(1), now)).unwrap();
        assert_eq!(s.active_sessions(now), 1);
        run(s.revoke("id", now + Duration::hours(1), now)).unwrap();
        assert!(run(s.is_revoked("id", now)).unwrap());
        assert_eq!(s.active_sessions(now), 0);
    }

    #[test]
    fn a_full_store_evicts_in_constant_time() {
        let s = MemorySessionStore::new(64);
        let now = Utc::now();
        for i in 0..10_000 {
            run(s.note_active(&format!("id{i}"), now + Duration::hours(1), now)).unwrap();
        }
        assert!(s.active_sessions(now) <= 64 + SHARDS as u64);
    }

    #[test]
    fn a_full_revocation_list_fails_closed() {
        let s = MemorySessionStore::new(16);
        let now = Utc::now();
        let mut failed = false;
        for i in 0..200 {
            if run(s.revoke(&format!("id{i}"), now + Duration::hours(1), now)).is_err() {
                failed = true;
            }
        }
        assert!(failed);
    }
}
