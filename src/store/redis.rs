//! The Redis store: replay records, server-side sessions, pop-up hand-offs, revocations and the
//! active-session count shared by every node of a farm (`store = "redis"`).
//!
//! Connections: `pool_size` redis-rs `ConnectionManager`s, used round-robin. Each multiplexes
//! concurrent commands over one TCP (or TLS) connection, reconnects by itself with a short
//! exponential backoff, and bounds its in-flight commands; every store operation is one
//! pipelined round trip under `command_timeout` (waiting for a connection included), so a
//! Redis that is down or slow turns into a [`StoreError`] quickly and nothing queues without
//! bound. Callers fail closed; the node recovers as soon as a command succeeds again.
//!
//! Keys (all under `key_prefix`, default `fedrp:`):
//!
//! | key | value | expiry |
//! |---|---|---|
//! | `r:<sha256(issuer, assertion ID)>` | `1` | the token's replay window (`SET NX PX`) |
//! | `r:<sha256(sign-in state id)>` | `1` | the state's lifetime |
//! | `s:<session id>` | server-side session record | sliding: idle lifetime, capped at the absolute one |
//! | `h:<code>` | pop-up hand-off | 60 s, taken once (`GETDEL`) |
//! | `v:<session id>` | `1`: the session was signed out | the session's absolute end |
//! | `active` | sorted set of live session ids by expiry | pruned on every sign-in |
//! | `epoch` | when this key set began (ms) | none |
//!
//! **Data loss.** A Redis restarted without persistence forgets replay records and sign-outs.
//! The `epoch` key tells: it is created once (`SET NX`) and read with every replay insert and
//! every session check. A session issued before the current epoch is treated as revoked (the
//! store cannot vouch for it). A node that sees the epoch change refuses, from then on, every
//! token that could have been used before the new epoch (`earliest_use` earlier than it), since
//! its replay record may have been lost.
//!
//! **Cookie sessions while Redis is down.** A cookie-mode session needs only its revocation
//! check. When that check cannot be made, the session is accepted if, and only if, this node
//! confirmed it not revoked within the last `revocation_grace` (a bounded local cache); anything
//! else is a [`StoreError`]. A sign-out made on another node can thus be missed for at most
//! `revocation_grace`, and only while this node cannot read Redis.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, Pipeline, Value};

use super::session::{Bounded, SessionCheck, SessionStore, StoreFuture};
use super::{ReplayStore, StoreError};
use crate::config::RedisConfig;

/// The shared store (see the module documentation).
pub struct RedisStore {
    pool: Vec<ConnectionManager>,
    next: AtomicUsize,
    timeout: StdDuration,
    prefix: String,
    /// The epoch this node last saw (ms since 1970; 0: none yet).
    epoch: AtomicI64,
    /// The epoch this node saw replace another one (0: none): data was lost then.
    loss: AtomicI64,
    /// Whether the last operation succeeded (logs one line per change, not per request).
    healthy: AtomicBool,
    /// The farm's live sessions as of this node's last sign-in.
    active: AtomicU64,
    /// Cookie sessions this node found not revoked, kept for `revocation_grace`.
    confirmed: Bounded,
    grace: chrono::Duration,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Milliseconds from `now` to `until`, at least 1 (`PX 0` is an error).
fn ttl(until: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (ms(until) - ms(now)).max(1)
}

fn hashed(key: &str) -> String {
    openssl::sha::sha256(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `SET` / `SET NX` answered: `OK` (set) or nil (not set).
fn was_set(v: &Value) -> bool {
    matches!(v, Value::Okay) || matches!(v, Value::SimpleString(s) if s == "OK")
}

fn as_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        _ => None,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn unexpected(what: &str) -> StoreError {
    StoreError(format!("unexpected Redis answer to {what}"))
}

impl RedisStore {
    /// Prepares the pool; connections open on first use (fedrp starts, not ready, while Redis
    /// is down). Must be called inside a tokio runtime. `capacity` bounds the local cache of
    /// confirmed cookie sessions.
    pub fn new(cfg: &RedisConfig, capacity: usize) -> Result<RedisStore, String> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("the Redis store needs a running tokio runtime".into());
        }
        let info = cfg
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| format!("redis.url: {e}"))?;
        let info = match &cfg.password {
            Some(p) => {
                let settings = info.redis_settings().clone().set_password(p.expose());
                info.set_redis_settings(settings)
            }
            None => info,
        };
        let client = match &cfg.tls_ca_pem {
            Some(pem) => Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
            None => Client::open(info),
        }
        .map_err(|e| format!("redis: {e}"))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(cfg.connect_timeout))
            .set_response_timeout(Some(cfg.command_timeout))
            .set_number_of_retries(1)
            .set_min_delay(StdDuration::from_millis(10))
            .set_max_delay(StdDuration::from_millis(200))
            .set_pipeline_buffer_size(256)
            .set_concurrency_limit(256);
        let pool = (0..cfg.pool_size)
            .map(|_| ConnectionManager::new_lazy_with_config(client.clone(), manager.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("redis: {e}"))?;
        Ok(RedisStore {
            pool,
            next: AtomicUsize::new(0),
            timeout: cfg.command_timeout,
            prefix: cfg.key_prefix.clone(),
            epoch: AtomicI64::new(0),
            loss: AtomicI64::new(0),
            healthy: AtomicBool::new(true),
            active: AtomicU64::new(0),
            confirmed: Bounded::new(capacity, false),
            grace: cfg.revocation_grace,
        })
    }

    fn key(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }

    /// Runs `pipe` on the next connection under the command timeout.
    async fn run(&self, pipe: &Pipeline) -> Result<Vec<Value>, StoreError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        let mut conn = self.pool[i].clone();
        let r = match tokio::time::timeout(self.timeout, pipe.query_async::<Vec<Value>>(&mut conn))
            .await
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(StoreError(format!("redis: {e}"))),
            Err(_) => Err(StoreError(format!(
                "redis: no answer within {} ms",
                self.timeout.as_millis()
            ))),
        };
        match &r {
            Ok(_) => {
                if !self.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!("redis reachable again: shared state available");
                }
            }
            Err(e) => {
                if self.healthy.swap(false, Ordering::Relaxed) {
                    tracing::error!(error = %e.0, "redis unavailable: sign-ins and server-side sessions refused (store.unavailable) until it answers");
                }
            }
        }
        r
    }

    /// The current epoch, creating it when missing; notes a change (data loss).
    async fn epoch(&self, seen: Option<i64>, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let current = match seen {
            Some(e) => e,
            None => {
                let mut p = redis::pipe();
                p.cmd("SET")
                    .arg(self.key("epoch"))
                    .arg(ms(now))
                    .arg("NX")
                    .ignore()
                    .cmd("GET")
                    .arg(self.key("epoch"));
                let v = self.run(&p).await?;
                v.first()
                    .and_then(as_int)
                    .ok_or_else(|| unexpected("GET epoch"))?
            }
        };
        let known = self.epoch.swap(current, Ordering::Relaxed);
        if known != 0 && known != current {
            self.loss.fetch_max(current, Ordering::Relaxed);
            tracing::error!(
                previous = known,
                current,
                "redis lost its data (epoch changed): sessions issued before it end, tokens that could have been used before it are refused"
            );
        }
        Ok(current)
    }

    /// The epoch as read by a pipeline (`GET epoch`), resolved.
    async fn epoch_from(&self, v: &Value, now: DateTime<Utc>) -> Result<i64, StoreError> {
        match v {
            Value::Nil => self.epoch(None, now).await,
            other => {
                self.epoch(
                    Some(as_int(other).ok_or_else(|| unexpected("GET epoch"))?),
                    now,
                )
                .await
            }
        }
    }

    /// Whether Redis answered the last operation.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}

impl ReplayStore for RedisStore {
    fn insert_if_absent<'a>(
        &'a self,
        key: &'a str,
        earliest_use: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("GET").arg(self.key("epoch"));
            p.cmd("SET")
                .arg(self.key(&format!("r:{}", hashed(key))))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl(until, now));
            let v = self.run(&p).await?;
            let [epoch, set] = v.as_slice() else {
                return Err(unexpected("SET NX"));
            };
            self.epoch_from(epoch, now).await?;
            let loss = self.loss.load(Ordering::Relaxed);
            if loss != 0 && ms(earliest_use) < loss {
                return Ok(false);
            }
            Ok(was_set(set))
        })
    }
}

impl SessionStore for RedisStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("SET")
                .arg(self.key(key))
                .arg(value)
                .arg("PX")
                .arg(ttl(until, now));
            self.run(&p).await.map(|_| ())
        })
    }

    fn get<'a>(&'a self, key: &'a str, _now: DateTime<Utc>) -> StoreFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("GET").arg(self.key(key));
            Ok(self.run(&p).await?.into_iter().next().and_then(as_bytes))
        })
    }

    fn take<'a>(&'a self, key: &'a str, _now: DateTime<Utc>) -> StoreFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("GETDEL").arg(self.key(key));
            Ok(self.run(&p).await?.into_iter().next().and_then(as_bytes))
        })
    }

    fn remove<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("DEL").arg(self.key(key));
            self.run(&p).await.map(|_| ())
        })
    }

    fn revoke<'a>(
        &'a self,
        id: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _ = self.confirmed.remove(id);
            let mut p = redis::pipe();
            p.cmd("SET")
                .arg(self.key(&format!("v:{id}")))
                .arg(1)
                .arg("PX")
                .arg(ttl(until, now))
                .ignore()
                .cmd("ZREM")
                .arg(self.key("active"))
                .arg(id)
                .ignore();
            self.run(&p).await.map(|_| ())
        })
    }

    fn is_revoked<'a>(&'a self, id: &'a str, _now: DateTime<Utc>) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("EXISTS").arg(self.key(&format!("v:{id}")));
            let v = self.run(&p).await?;
            Ok(v.first().and_then(as_int).unwrap_or(0) > 0)
        })
    }

    fn note_active<'a>(
        &'a self,
        id: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let active = self.key("active");
            let mut p = redis::pipe();
            p.cmd("ZADD")
                .arg(&active)
                .arg(ms(until))
                .arg(id)
                .ignore()
                .cmd("ZREMRANGEBYSCORE")
                .arg(&active)
                .arg("-inf")
                .arg(ms(now))
                .ignore()
                .cmd("ZCARD")
                .arg(&active);
            let v = self.run(&p).await?;
            if let Some(n) = v.first().and_then(as_int) {
                self.active.store(n.max(0) as u64, Ordering::Relaxed);
            }
            Ok(())
        })
    }

    fn active_sessions(&self, _now: DateTime<Utc>) -> u64 {
        self.active.load(Ordering::Relaxed)
    }

    fn touch<'a>(
        &'a self,
        key: &'a str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("PEXPIRE").arg(self.key(key)).arg(ttl(until, now));
            self.run(&p).await.map(|_| ())
        })
    }

    fn check_session<'a>(
        &'a self,
        id: &'a str,
        issued_at: DateTime<Utc>,
        record: Option<&'a str>,
        now: DateTime<Utc>,
    ) -> StoreFuture<'a, SessionCheck> {
        Box::pin(async move {
            let mut p = redis::pipe();
            p.cmd("GET").arg(self.key("epoch"));
            p.cmd("EXISTS").arg(self.key(&format!("v:{id}")));
            if let Some(k) = record {
                p.cmd("GET").arg(self.key(k));
            }
            let v = match self.run(&p).await {
                Ok(v) => v,
                Err(e) => {
                    // A cookie session (no record needed) this node confirmed recently keeps
                    // working for the grace period; everything else fails closed.
                    if record.is_none() && matches!(self.confirmed.get(id, now, false), Ok(Some(_)))
                    {
                        return Ok(SessionCheck::default());
                    }
                    return Err(e);
                }
            };
            let mut it = v.into_iter();
            let (Some(epoch), Some(exists)) = (it.next(), it.next()) else {
                return Err(unexpected("EXISTS"));
            };
            let epoch = self.epoch_from(&epoch, now).await?;
            let revoked = as_int(&exists).unwrap_or(0) > 0 || ms(issued_at) < epoch;
            if revoked {
                let _ = self.confirmed.remove(id);
                return Ok(SessionCheck {
                    revoked,
                    record: None,
                });
            }
            if record.is_none() && self.grace > chrono::Duration::zero() {
                // Bounded (evicts when full): a forgotten confirmation only means failing closed.
                let _ = self.confirmed.put(id, Vec::new(), now + self.grace, now);
            }
            Ok(SessionCheck {
                revoked,
                record: it.next().and_then(as_bytes),
            })
        })
    }
}
