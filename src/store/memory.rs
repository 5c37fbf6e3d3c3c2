//! Bounded in-memory replay cache, sharded so concurrent sign-ins do not contend on one lock.

use std::cmp::Reverse;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use super::{ReplayCache, StoreError};

const SHARDS: usize = 16;

#[derive(Default)]
struct Shard {
    entries: HashMap<String, i64>,
    /// (expiry, key), earliest first; may hold stale pairs for keys re-inserted later.
    expiries: BinaryHeap<Reverse<(i64, String)>>,
}

impl Shard {
    fn purge(&mut self, now: i64) {
        while let Some(Reverse((t, _))) = self.expiries.peek() {
            if *t > now {
                break;
            }
            if let Some(Reverse((t, k))) = self.expiries.pop()
                && self.entries.get(&k) == Some(&t)
            {
                self.entries.remove(&k);
            }
        }
    }

    fn evict_one(&mut self) -> bool {
        while let Some(Reverse((t, k))) = self.expiries.pop() {
            if self.entries.get(&k) == Some(&t) {
                self.entries.remove(&k);
                return true;
            }
        }
        false
    }
}

/// A bounded, expiring, in-process replay cache.
///
/// When full, expired entries go first; if it is still full, the entry closest to expiry is
/// evicted and counted in [`MemoryReplayCache::evictions`] (size it above the sign-in rate times
/// the token lifetime so that never happens).
pub struct MemoryReplayCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    evictions: AtomicU64,
}

impl MemoryReplayCache {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> MemoryReplayCache {
        MemoryReplayCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            evictions: AtomicU64::new(0),
        }
    }

    /// Entries evicted before expiry because the cache was full.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Live entries (approximate under concurrency).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|s| s.entries.len()).unwrap_or(0))
            .sum()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayCache for MemoryReplayCache {
    fn insert_if_absent(
        &self,
        key: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let idx = (h.finish() as usize) % SHARDS;
        let mut shard = self.shards[idx]
            .lock()
            .map_err(|_| StoreError("replay cache lock poisoned".into()))?;
        let now_ms = now.timestamp_millis();
        if let Some(&exp) = shard.entries.get(key)
            && exp > now_ms
        {
            return Ok(false);
        }
        if shard.entries.len() >= self.per_shard {
            shard.purge(now_ms);
            while shard.entries.len() >= self.per_shard {
                if !shard.evict_one() {
                    break;
                }
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        let exp = until.timestamp_millis();
        shard.entries.insert(key.to_owned(), exp);
        shard.expiries.push(Reverse((exp, key.to_owned())));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn second_insert_is_a_replay_until_expiry() {
        let c = MemoryReplayCache::new(100);
        let now = Utc::now();
        assert!(
            c.insert_if_absent("a", now + Duration::minutes(5), now)
                .unwrap()
        );
        assert!(
            !c.insert_if_absent("a", now + Duration::minutes(5), now)
                .unwrap()
        );
        let later = now + Duration::minutes(6);
        assert!(
            c.insert_if_absent("a", later + Duration::minutes(5), later)
                .unwrap()
        );
    }

    #[test]
    fn bounded() {
        let c = MemoryReplayCache::new(32);
        let now = Utc::now();
        for i in 0..1000 {
            c.insert_if_absent(&format!("k{i}"), now + Duration::minutes(5), now)
                .unwrap();
        }
        assert!(c.len() <= 32 + SHARDS);
        assert!(c.evictions() > 0);
    }

    #[test]
    fn expired_entries_make_room_first() {
        let c = MemoryReplayCache::new(16);
        let now = Utc::now();
        for i in 0..64 {
            c.insert_if_absent(&format!("old{i}"), now + Duration::seconds(1), now)
                .unwrap();
        }
        let before = c.evictions();
        let later = now + Duration::seconds(10);
        for i in 0..16 {
            c.insert_if_absent(&format!("new{i}"), later + Duration::minutes(5), later)
                .unwrap();
        }
        assert!(c.evictions() - before <= 16);
    }
}
