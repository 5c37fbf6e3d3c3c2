//! Trust that survives IdP signing-key rollover: each issuer's keys come from its federation
//! metadata (`metadata_url` and/or `metadata_file`) as well as from pinned certificates, and are
//! refreshed while fedrp runs.
//!
//! * **Start-up** ([`TrustManager::new`]): every metadata URL is fetched (in parallel, bounded);
//!   a URL that fails falls back to the last-known-good backing file (`metadata_file`); an issuer
//!   left with no key at all is a start-up error ([`TrustManager::startup_errors`]).
//! * **Background refresh** ([`TrustManager::spawn`]): one task per issuer on the actix runtime,
//!   sleeping for `cacheDuration` clamped to `[metadata_min_refresh_secs,
//!   metadata_refresh_secs]` (the latter without `cacheDuration`), earlier when `validUntil` is
//!   near, minus up to 10 % jitter; after a failure it retries from the floor, doubling.
//! * **On demand** ([`TrustManager::on_demand`]): a token that failed only because its signing
//!   key is unknown ([`crate::token::TokenError::unknown_key`]) triggers one refresh of its
//!   issuer, at most once per `metadata_min_refresh_secs`; concurrent ones wait for the same
//!   refresh (a per-issuer async lock) and are retried once if the keys changed.
//! * **Never worse**: a document that cannot be fetched, is too large, does not parse, lacks the
//!   issuer's entity or any usable signing key, has a `validUntil` in the past, or (with
//!   `metadata_signing_certs`) is not signed by a pinned key, never replaces good trust. A good
//!   one fetched from the URL is written atomically to the backing file.
//! * **Atomic swap**: the keys live in [`IssuerSlot`]s shared by every realm's validators; a
//!   change replaces the issuer at once, and validations never take a lock.
//! * **Lapse**: when the trusted document's own `validUntil` passes and no newer document could
//!   be had, its keys are withdrawn (the IdP said they must not be used after that instant);
//!   pinned keys stay. This is checked at every refresh and by an hourly watch, which also logs
//!   a warning `key_expiry_warning_days` before a trusted certificate expires.

mod fetch;

pub use fetch::{FetchOptions, fetch, fetch_blocking, read_capped, write_atomic};

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::config::{Config, MetadataConfig};
use crate::http::Clock;
use crate::token::document::verify_metadata_signature;
use crate::trust::keys::hex_upper;
use crate::trust::{IssuerPolicy, IssuerSlot, Metadata, Thumbprint, TrustedIssuer, TrustedKey};

/// How often the watch re-checks key expiry and document lapse.
const WATCH_EVERY: StdDuration = StdDuration::from_secs(3600);
/// A key expiry warning is repeated at most this often per key.
const WARN_EVERY_HOURS: i64 = 24;

/// Where a trusted metadata document came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Fetched from `metadata_url`.
    Url,
    /// Read from `metadata_file` (the issuer's only metadata source).
    File,
    /// Read from the last-known-good backing file (`metadata_file` next to a URL).
    BackingFile,
}

impl Origin {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Url => "metadata_url",
            Origin::File => "metadata_file",
            Origin::BackingFile => "backing_file",
        }
    }
}

/// A metadata document that passed every check, with the signing keys read from it.
#[derive(Clone, Debug)]
pub struct AcceptedDocument {
    /// The issuer's signing keys (parsed once).
    pub keys: Vec<TrustedKey>,
    /// Keys listed but not trusted (under the RSA floor, unsupported type), with the reason.
    pub skipped: Vec<String>,
    /// The document's `validUntil` for the entity (the earliest that applies).
    pub valid_until: Option<DateTime<Utc>>,
    /// The document's `cacheDuration` in seconds.
    pub cache_duration_secs: Option<u64>,
    /// SHA-256 thumbprint of the key that verified the document's signature, when required.
    pub signed_by: Option<String>,
    /// When it was obtained (fetched, or the backing file's modification time).
    pub obtained_at: DateTime<Utc>,
    /// Where it came from.
    pub origin: Origin,
    /// SHA-256 of the document bytes (upper hex).
    pub sha256: String,
}

/// Decides whether `bytes` may become the trusted metadata of issuer `entity_id`, in this order:
/// size, signature (when `md.signing_keys` is set), parse, the entity, `validUntil` at `now`,
/// at least one usable signing key. `source` names the document in messages.
#[allow(clippy::too_many_arguments)]
pub fn accept_document(
    bytes: &[u8],
    entity_id: &str,
    md: &MetadataConfig,
    policy: &IssuerPolicy,
    now: DateTime<Utc>,
    origin: Origin,
    obtained_at: DateTime<Utc>,
    source: &str,
) -> Result<AcceptedDocument, String> {
    if bytes.len() > md.max_bytes {
        return Err(format!(
            "{} bytes is larger than {} (metadata_max_bytes)",
            bytes.len(),
            md.max_bytes
        ));
    }
    let signed_by = if md.signing_keys.is_empty() {
        None
    } else {
        let key = verify_metadata_signature(bytes, &md.signing_keys, policy)
            .map_err(|e| format!("metadata signature: {e}"))?;
        Some(key.thumbprint_sha256())
    };
    let parsed = Metadata::parse(bytes, source)?;
    let Some(entity) = parsed.entity(entity_id) else {
        let found: Vec<&str> = parsed
            .entities
            .iter()
            .map(|e| e.entity_id.as_str())
            .collect();
        return Err(format!(
            "no EntityDescriptor for {entity_id:?} (found {found:?})"
        ));
    };
    if let Some(t) = entity.valid_until
        && t <= now
    {
        return Err(format!(
            "the document expired: validUntil {} is not after {}",
            ts(t),
            ts(now)
        ));
    }
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for k in &entity.signing_keys {
        if k.key_type().is_none() || k.is_weak(policy.min_rsa_bits) {
            skipped.push(format!(
                "{} {} (under the key floor or unsupported)",
                k.describe(),
                k.thumbprint_sha256()
            ));
        } else {
            keys.push(k.clone());
        }
    }
    if keys.is_empty() {
        return Err(format!(
            "{entity_id}: no usable signing key ({} listed{})",
            entity.signing_keys.len(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped: {}", skipped.join(", "))
            }
        ));
    }
    let sha256 = openssl::hash::hash(openssl::hash::MessageDigest::sha256(), bytes)
        .map(|d| hex_upper(&d))
        .unwrap_or_default();
    Ok(AcceptedDocument {
        keys,
        skipped,
        valid_until: entity.valid_until,
        cache_duration_secs: entity.cache_duration_secs,
        signed_by,
        obtained_at,
        origin,
        sha256,
    })
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What an on-demand refresh request came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDemand {
    /// The issuer's keys changed since the token was validated: validate it once more.
    Retry,
    /// A refresh ran (or was running) and the keys are the same.
    Unchanged,
    /// The refresh failed; the last good trust is kept.
    Failed(String),
    /// An on-demand refresh of this issuer ran less than `metadata_min_refresh_secs` ago.
    RateLimited {
        /// When the next one is allowed.
        next_allowed: DateTime<Utc>,
    },
    /// The issuer has no metadata source.
    NotRefreshable,
}

/// Why a refresh runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    Scheduled,
    OnDemand,
}

#[derive(Default)]
struct State {
    doc: Option<AcceptedDocument>,
    lapsed: bool,
    last_attempt: Option<DateTime<Utc>>,
    last_success: Option<DateTime<Utc>>,
    last_error: Option<String>,
    backing_error: Option<String>,
    next_refresh: Option<DateTime<Utc>>,
    last_on_demand: Option<DateTime<Utc>>,
    failures: u32,
    warned: HashMap<String, DateTime<Utc>>,
    startup_error: Option<String>,
}

struct Managed {
    name: String,
    entity_id: String,
    slot: Arc<IssuerSlot>,
    pinned: Vec<TrustedKey>,
    thumbprints: Vec<Thumbprint>,
    policy: IssuerPolicy,
    metadata: Option<MetadataConfig>,
    warn_before: Duration,
    generation: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    on_demand: AtomicU64,
    rate_limited: AtomicU64,
    refresh_lock: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

impl Managed {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state inconsistent in a way that
        // matters more than losing trust updates would: keep going with what is there.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pinned keys plus the document's (deduplicated); an issuer with none trusts nothing.
    fn build(&self, doc: Option<&AcceptedDocument>) -> TrustedIssuer {
        let mut keys = self.pinned.clone();
        for k in doc.map(|d| d.keys.as_slice()).unwrap_or_default() {
            if !keys
                .iter()
                .any(|p| p.thumbprint_sha256() == k.thumbprint_sha256())
            {
                keys.push(k.clone());
            }
        }
        let name = Some(self.entity_id.clone());
        TrustedIssuer::new(
            name.clone(),
            keys,
            self.thumbprints.clone(),
            self.policy.clone(),
        )
        .unwrap_or_else(|_| TrustedIssuer::withdrawn(name, self.policy.clone()))
    }

    fn fetch_options(md: &MetadataConfig) -> FetchOptions {
        FetchOptions {
            ca_file: md.ca_file.clone(),
            timeout: md.timeout,
            max_bytes: md.max_bytes,
        }
    }

    /// Makes `doc` the trusted document; swaps the slot when the key set differs (or trust
    /// had lapsed). Returns whether the keys changed.
    fn install(&self, st: &mut State, doc: AcceptedDocument) -> bool {
        let set = |d: &AcceptedDocument| -> BTreeSet<String> {
            d.keys.iter().map(TrustedKey::thumbprint_sha256).collect()
        };
        let old = st
            .doc
            .as_ref()
            .filter(|_| !st.lapsed)
            .map(set)
            .unwrap_or_default();
        let new = set(&doc);
        let changed = old != new;
        if changed {
            self.slot.store(self.build(Some(&doc)));
            self.generation.fetch_add(1, Ordering::AcqRel);
            let added: Vec<&String> = new.difference(&old).collect();
            let removed: Vec<&String> = old.difference(&new).collect();
            tracing::info!(
                issuer = %self.name,
                origin = doc.origin.name(),
                added = ?added,
                removed = ?removed,
                "trusted signing keys changed"
            );
        }
        st.doc = Some(doc);
        st.lapsed = false;
        changed
    }

    fn source_name(&self, origin: Origin) -> String {
        let md = self.metadata.as_ref();
        match origin {
            Origin::Url => md
                .and_then(|m| m.url.as_ref())
                .map(|u| u.to_string())
                .unwrap_or_default(),
            Origin::File | Origin::BackingFile => md
                .and_then(|m| m.file.as_ref())
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
        }
    }

    fn accept(
        &self,
        bytes: &[u8],
        origin: Origin,
        now: DateTime<Utc>,
        obtained_at: DateTime<Utc>,
    ) -> Result<AcceptedDocument, String> {
        let md = self
            .metadata
            .as_ref()
            .ok_or_else(|| "no metadata source".to_owned())?;
        accept_document(
            bytes,
            &self.entity_id,
            md,
            &self.policy,
            now,
            origin,
            obtained_at,
            &self.source_name(origin),
        )
    }

    /// Reads the metadata file as `origin`.
    fn read_file(&self, origin: Origin, now: DateTime<Utc>) -> Result<AcceptedDocument, String> {
        let md = self
            .metadata
            .as_ref()
            .ok_or_else(|| "no metadata source".to_owned())?;
        let file = md
            .file
            .as_ref()
            .ok_or_else(|| "no metadata_file".to_owned())?;
        let bytes = read_capped(file, md.max_bytes)?;
        let obtained_at = std::fs::metadata(file)
            .and_then(|m| m.modified())
            .map(DateTime::<Utc>::from)
            .unwrap_or(now);
        self.accept(&bytes, origin, now, obtained_at)
            .map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Withdraws lapsed document keys and logs expiry warnings.
    fn watch(&self, now: DateTime<Utc>) {
        let mut st = self.state();
        if let Some(vu) = st.doc.as_ref().and_then(|d| d.valid_until)
            && vu <= now
            && !st.lapsed
        {
            st.lapsed = true;
            self.slot.store(self.build(None));
            self.generation.fetch_add(1, Ordering::AcqRel);
            tracing::error!(
                issuer = %self.name,
                valid_until = %ts(vu),
                "the trusted metadata document expired (validUntil) and no newer one could be obtained: its keys are no longer trusted"
            );
        }
        let issuer = self.slot.load();
        for k in issuer.keys() {
            let Some(c) = &k.cert else { continue };
            let left = c.not_after - now;
            if left > self.warn_before {
                continue;
            }
            let tp = k.thumbprint_sha256();
            if st
                .warned
                .get(&tp)
                .is_some_and(|t| now - *t < Duration::hours(WARN_EVERY_HOURS))
            {
                continue;
            }
            st.warned.insert(tp.clone(), now);
            if left <= Duration::zero() {
                tracing::warn!(
                    issuer = %self.name,
                    thumbprint = %tp,
                    subject = %c.subject,
                    not_after = %ts(c.not_after),
                    "a trusted signing certificate has expired"
                );
            } else {
                tracing::warn!(
                    issuer = %self.name,
                    thumbprint = %tp,
                    subject = %c.subject,
                    not_after = %ts(c.not_after),
                    days_left = left.num_days(),
                    "a trusted signing certificate expires soon: make sure the IdP's next key is published (and trusted) before then"
                );
            }
        }
    }

    fn next_delay(&self, now: DateTime<Utc>) -> StdDuration {
        let Some(md) = &self.metadata else {
            return WATCH_EVERY;
        };
        let st = self.state();
        let base = if st.failures > 0 {
            let factor = 1u32 << st.failures.saturating_sub(1).min(16);
            md.min_refresh.saturating_mul(factor).min(md.refresh)
        } else {
            let mut d = st
                .doc
                .as_ref()
                .and_then(|d| d.cache_duration_secs)
                .map(|c| StdDuration::from_secs(c).clamp(md.min_refresh, md.refresh))
                .unwrap_or(md.refresh);
            if let Some(vu) = st.doc.as_ref().and_then(|d| d.valid_until) {
                let left = (vu - now).to_std().unwrap_or_default();
                d = d.min((left * 3 / 4).max(md.min_refresh));
            }
            d
        };
        jitter(base)
    }
}

/// Up to 10 % off `d` (so many relying parties do not refresh in step).
fn jitter(d: StdDuration) -> StdDuration {
    let mut b = [0u8; 2];
    if openssl::rand::rand_bytes(&mut b).is_err() {
        return d;
    }
    let r = u16::from_le_bytes(b) as u32 % 1000;
    d.saturating_sub(d / 10_000 * r)
}

/// The trusted issuers of a running fedrp (one per `[[issuers]]` entry, same order), their
/// metadata refresh and their state.
pub struct TrustManager {
    issuers: Vec<Managed>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TrustManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustManager")
            .field("issuers", &self.issuers.len())
            .finish()
    }
}

impl TrustManager {
    /// Loads every issuer's trust: pinned keys, then metadata (fetched when `fetch`, else and on
    /// failure from the backing file). Never fails: an issuer without any key is reported by
    /// [`TrustManager::startup_errors`] and trusts nothing.
    pub fn new(config: &Config, clock: Arc<dyn Clock>, fetch: bool) -> Arc<TrustManager> {
        let now = clock.now();
        let issuers: Vec<Managed> = config
            .issuers
            .iter()
            .map(|i| {
                let m = Managed {
                    name: i.name.clone(),
                    entity_id: i.entity_id.clone(),
                    slot: IssuerSlot::new(TrustedIssuer::withdrawn(
                        Some(i.entity_id.clone()),
                        i.policy.clone(),
                    )),
                    pinned: i.keys.clone(),
                    thumbprints: i.thumbprints.clone(),
                    policy: i.policy.clone(),
                    metadata: i.metadata.clone(),
                    warn_before: i.key_expiry_warning,
                    generation: AtomicU64::new(0),
                    ok: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    on_demand: AtomicU64::new(0),
                    rate_limited: AtomicU64::new(0),
                    refresh_lock: tokio::sync::Mutex::new(()),
                    state: Mutex::new(State::default()),
                };
                m.slot.store(m.build(None));
                m
            })
            .collect();
        let jobs: Vec<_> = if fetch {
            issuers
                .iter()
                .enumerate()
                .filter_map(|(k, m)| {
                    let md = m.metadata.as_ref()?;
                    Some((k, md.url.clone()?, Managed::fetch_options(md)))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut fetched: HashMap<usize, Result<Vec<u8>, String>> =
            fetch_blocking(jobs).into_iter().collect();
        for (k, m) in issuers.iter().enumerate() {
            let Some(md) = &m.metadata else { continue };
            let mut st = m.state();
            let mut errors = Vec::new();
            let mut accepted = None;
            if let Some(url) = &md.url {
                match fetched.remove(&k) {
                    Some(result) => {
                        st.last_attempt = Some(now);
                        match result
                            .and_then(|b| m.accept(&b, Origin::Url, now, now).map(|d| (b, d)))
                        {
                            Ok((bytes, doc)) => {
                                m.ok.fetch_add(1, Ordering::Relaxed);
                                st.last_success = Some(now);
                                if let Some(f) = &md.file
                                    && let Err(e) = write_atomic(f, &bytes)
                                {
                                    tracing::warn!(issuer = %m.name, error = %e, "cannot write the metadata backing file");
                                    st.backing_error = Some(e);
                                }
                                accepted = Some(doc);
                            }
                            Err(e) => {
                                m.failed.fetch_add(1, Ordering::Relaxed);
                                st.failures = 1;
                                errors.push(format!("{url}: {e}"));
                            }
                        }
                    }
                    None => errors.push(format!("{url}: not fetched (offline)")),
                }
            }
            if accepted.is_none() && md.file.is_some() {
                let origin = if md.url.is_some() {
                    Origin::BackingFile
                } else {
                    Origin::File
                };
                match m.read_file(origin, now) {
                    Ok(doc) => {
                        if origin == Origin::BackingFile {
                            tracing::warn!(
                                issuer = %m.name,
                                obtained_at = %ts(doc.obtained_at),
                                error = %errors.join("; "),
                                "metadata URL unavailable: using the last-known-good backing file"
                            );
                        } else {
                            st.last_attempt = Some(now);
                            st.last_success = Some(now);
                            m.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        accepted = Some(doc);
                    }
                    Err(e) => errors.push(e),
                }
            }
            if !errors.is_empty() {
                st.last_error = Some(errors.join("; "));
            }
            match accepted {
                Some(doc) => {
                    m.install(&mut st, doc);
                }
                None if m.pinned.is_empty() && m.thumbprints.is_empty() => {
                    st.startup_error = Some(format!(
                        "issuer {}: no trusted key: {}",
                        m.name,
                        errors.join("; ")
                    ));
                }
                None => tracing::warn!(
                    issuer = %m.name,
                    error = %errors.join("; "),
                    "no usable metadata: only the pinned keys are trusted"
                ),
            }
        }
        for m in &issuers {
            m.watch(now);
        }
        Arc::new(TrustManager { issuers, clock })
    }

    /// Issuers left without any trusted key at start-up (fedrp refuses to serve then).
    pub fn startup_errors(&self) -> Vec<String> {
        self.issuers
            .iter()
            .filter_map(|m| m.state().startup_error.clone())
            .collect()
    }

    /// The slot of issuer `index` (configuration order), shared by the validators.
    pub fn slot(&self, index: usize) -> Option<Arc<IssuerSlot>> {
        self.issuers.get(index).map(|m| Arc::clone(&m.slot))
    }

    /// Every issuer's key generation (bumped at each key change), read before a validation so
    /// that an on-demand request can tell whether the keys changed since.
    pub fn generations(&self) -> Vec<u64> {
        self.issuers
            .iter()
            .map(|m| m.generation.load(Ordering::Acquire))
            .collect()
    }

    /// Among `candidates` (configuration indices), the issuer with a metadata source whose
    /// entity ID is `entity_id`.
    pub fn refreshable(&self, candidates: &[usize], entity_id: &str) -> Option<usize> {
        candidates.iter().copied().find(|&k| {
            self.issuers
                .get(k)
                .is_some_and(|m| m.metadata.is_some() && m.entity_id == entity_id)
        })
    }

    /// Starts the background refresh (one task per issuer with metadata) and the hourly
    /// expiry / lapse watch on the current actix runtime. The tasks end with the runtime.
    pub fn spawn(self: &Arc<Self>) {
        for k in 0..self.issuers.len() {
            if self.issuers[k].metadata.is_none() {
                continue;
            }
            let me = Arc::clone(self);
            actix_web::rt::spawn(async move {
                loop {
                    let m = &me.issuers[k];
                    let now = me.clock.now();
                    let delay = m.next_delay(now);
                    m.state().next_refresh =
                        Some(now + Duration::from_std(delay).unwrap_or(Duration::zero()));
                    actix_web::rt::time::sleep(delay).await;
                    let _ = me.refresh(k, Why::Scheduled).await;
                }
            });
        }
        let me = Arc::clone(self);
        actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(WATCH_EVERY).await;
                me.watch();
            }
        });
    }

    /// Re-checks document lapse and key expiry for every issuer now.
    pub fn watch(&self) {
        let now = self.clock.now();
        for m in &self.issuers {
            m.watch(now);
        }
    }

    /// Asks for a refresh of issuer `k` because a token failed only for an unknown signing key;
    /// `seen` is the issuer's generation read before that token was validated.
    pub async fn on_demand(&self, k: usize, seen: u64) -> OnDemand {
        let Some(m) = self.issuers.get(k) else {
            return OnDemand::NotRefreshable;
        };
        let Some(md) = &m.metadata else {
            return OnDemand::NotRefreshable;
        };
        if m.generation.load(Ordering::Acquire) != seen {
            return OnDemand::Retry;
        }
        let _guard = m.refresh_lock.lock().await;
        if m.generation.load(Ordering::Acquire) != seen {
            return OnDemand::Retry;
        }
        {
            let now = self.clock.now();
            let mut st = m.state();
            let min = Duration::from_std(md.min_refresh).unwrap_or(Duration::minutes(5));
            if let Some(last) = st.last_on_demand
                && now - last < min
            {
                m.rate_limited.fetch_add(1, Ordering::Relaxed);
                return OnDemand::RateLimited {
                    next_allowed: last + min,
                };
            }
            st.last_on_demand = Some(now);
        }
        m.on_demand.fetch_add(1, Ordering::Relaxed);
        match self.refresh_locked(k, Why::OnDemand).await {
            Ok(true) => OnDemand::Retry,
            Ok(false) => OnDemand::Unchanged,
            Err(e) => OnDemand::Failed(e),
        }
    }

    /// Refreshes issuer `k` now (waiting for a refresh already running). Returns whether the
    /// keys changed.
    pub async fn refresh_now(&self, k: usize) -> Result<bool, String> {
        self.refresh(k, Why::Scheduled).await
    }

    async fn refresh(&self, k: usize, why: Why) -> Result<bool, String> {
        let m = self
            .issuers
            .get(k)
            .ok_or_else(|| "no such issuer".to_owned())?;
        let _guard = m.refresh_lock.lock().await;
        self.refresh_locked(k, why).await
    }

    /// One refresh; the caller holds the issuer's refresh lock.
    async fn refresh_locked(&self, k: usize, why: Why) -> Result<bool, String> {
        let m = self
            .issuers
            .get(k)
            .ok_or_else(|| "no such issuer".to_owned())?;
        let md = m
            .metadata
            .as_ref()
            .ok_or_else(|| "no metadata source".to_owned())?;
        let started = self.clock.now();
        m.state().last_attempt = Some(started);
        let result = match &md.url {
            Some(url) => fetch(url, &Managed::fetch_options(md))
                .await
                .map_err(|e| format!("{url}: {e}"))
                .and_then(|bytes| {
                    let now = self.clock.now();
                    m.accept(&bytes, Origin::Url, now, now)
                        .map(|d| (Some(bytes), d))
                        .map_err(|e| format!("{url}: {e}"))
                }),
            None => m
                .read_file(Origin::File, self.clock.now())
                .map(|d| (None, d)),
        };
        let now = self.clock.now();
        let outcome = {
            let mut st = m.state();
            match result {
                Ok((bytes, doc)) => {
                    if let (Some(bytes), Some(f)) = (bytes, &md.file) {
                        match write_atomic(f, &bytes) {
                            Ok(()) => st.backing_error = None,
                            Err(e) => {
                                tracing::warn!(issuer = %m.name, error = %e, "cannot write the metadata backing file");
                                st.backing_error = Some(e);
                            }
                        }
                    }
                    let changed = m.install(&mut st, doc);
                    st.last_success = Some(now);
                    st.last_error = None;
                    st.failures = 0;
                    m.ok.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        issuer = %m.name,
                        on_demand = why == Why::OnDemand,
                        keys_changed = changed,
                        "metadata refreshed"
                    );
                    Ok(changed)
                }
                Err(e) => {
                    st.last_error = Some(e.clone());
                    st.failures = st.failures.saturating_add(1);
                    m.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        issuer = %m.name,
                        on_demand = why == Why::OnDemand,
                        error = %e,
                        last_success = %st.last_success.map(ts).unwrap_or_else(|| "never".into()),
                        "metadata refresh failed: the last good trust is kept"
                    );
                    Err(e)
                }
            }
        };
        m.watch(now);
        outcome
    }

    /// Whether every issuer trusts at least one key or pin now.
    pub fn all_trusted(&self) -> bool {
        self.issuers.iter().all(|m| {
            let i = m.slot.load();
            !i.keys().is_empty() || !i.thumbprints().is_empty()
        })
    }

    /// Per-issuer state as JSON: source, trusted document, refresh times, last error, keys.
    pub fn status_json(&self) -> Value {
        let now = self.clock.now();
        let issuers: Vec<Value> = self
            .issuers
            .iter()
            .map(|m| {
                let st = m.state();
                let issuer = m.slot.load();
                let keys: Vec<Value> = issuer
                    .keys()
                    .iter()
                    .map(|k| {
                        let mut o = json!({
                            "key": k.describe(),
                            "sha256": k.thumbprint_sha256(),
                            "source": k.source,
                        });
                        if let Some(c) = &k.cert {
                            o["subject"] = json!(c.subject);
                            o["sha1"] = json!(hex_upper(&c.sha1));
                            o["not_before"] = json!(ts(c.not_before));
                            o["not_after"] = json!(ts(c.not_after));
                            o["expires_in_days"] = json!((c.not_after - now).num_days());
                            o["expiring"] = json!(c.not_after - now <= m.warn_before);
                        }
                        o
                    })
                    .collect();
                let state = if issuer.keys().is_empty() && issuer.thumbprints().is_empty() {
                    "no_trust"
                } else if m.metadata.is_none() {
                    "pinned"
                } else if st.lapsed {
                    "lapsed"
                } else if st.doc.is_none() {
                    "pinned_only"
                } else if st.last_error.is_some() {
                    "stale"
                } else {
                    "ok"
                };
                let source = m.metadata.as_ref().map(|md| {
                    json!({
                        "metadata_url": md.url.as_ref().map(|u| u.to_string()),
                        "metadata_file": md.file.as_ref().map(|f| f.display().to_string()),
                        "file_role": md.file.as_ref().map(|_| if md.url.is_some() { "backing" } else { "source" }),
                        "signature_required": !md.signing_keys.is_empty(),
                        "refresh_secs": md.refresh.as_secs(),
                        "min_refresh_secs": md.min_refresh.as_secs(),
                    })
                });
                let doc = st.doc.as_ref().map(|d| {
                    json!({
                        "origin": d.origin.name(),
                        "obtained_at": ts(d.obtained_at),
                        "valid_until": d.valid_until.map(ts),
                        "cache_duration_secs": d.cache_duration_secs,
                        "signed_by": d.signed_by,
                        "sha256": d.sha256,
                        "skipped_keys": d.skipped,
                        "lapsed": st.lapsed,
                    })
                });
                json!({
                    "name": m.name,
                    "entity_id": m.entity_id,
                    "state": state,
                    "metadata": source,
                    "document": doc,
                    "last_attempt": st.last_attempt.map(ts),
                    "last_success": st.last_success.map(ts),
                    "next_refresh": st.next_refresh.map(ts),
                    "last_error": st.last_error,
                    "backing_file_error": st.backing_error,
                    "consecutive_failures": st.failures,
                    "refreshes": {
                        "success": m.ok.load(Ordering::Relaxed),
                        "failure": m.failed.load(Ordering::Relaxed),
                        "on_demand": m.on_demand.load(Ordering::Relaxed),
                        "on_demand_rate_limited": m.rate_limited.load(Ordering::Relaxed),
                    },
                    "thumbprint_pins": issuer.thumbprints().iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                    "keys": keys,
                })
            })
            .collect();
        json!({ "now": ts(now), "issuers": issuers })
    }

    /// Prometheus text: key expiry gauges, refresh counters and times.
    pub fn render_metrics(&self) -> String {
        let now = self.clock.now();
        let mut out = String::with_capacity(2048);
        let _ = writeln!(
            out,
            "# HELP fedrp_trust_key_expiry_seconds Seconds until a trusted signing certificate expires (negative: expired).\n# TYPE fedrp_trust_key_expiry_seconds gauge"
        );
        for m in &self.issuers {
            for k in m.slot.load().keys() {
                if let Some(c) = &k.cert {
                    let _ = writeln!(
                        out,
                        "fedrp_trust_key_expiry_seconds{{issuer=\"{}\",thumbprint=\"{}\"}} {}",
                        m.name,
                        k.thumbprint_sha256(),
                        (c.not_after - now).num_seconds()
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP fedrp_trust_keys Signing keys trusted per issuer.\n# TYPE fedrp_trust_keys gauge"
        );
        for m in &self.issuers {
            let _ = writeln!(
                out,
                "fedrp_trust_keys{{issuer=\"{}\"}} {}",
                m.name,
                m.slot.load().keys().len()
            );
        }
        let refreshable: Vec<&Managed> = self
            .issuers
            .iter()
            .filter(|m| m.metadata.is_some())
            .collect();
        counters_by_result(
            &mut out,
            "fedrp_metadata_refresh_total",
            "Metadata refreshes by result.",
            &refreshable,
            |m| [("success", &m.ok), ("failure", &m.failed)],
        );
        counters_by_result(
            &mut out,
            "fedrp_metadata_on_demand_total",
            "On-demand refresh requests (unknown signing key) by outcome.",
            &refreshable,
            |m| {
                [
                    ("refreshed", &m.on_demand),
                    ("rate_limited", &m.rate_limited),
                ]
            },
        );
        let _ = writeln!(
            out,
            "# HELP fedrp_metadata_consecutive_failures Metadata refreshes failed since the last success.\n# TYPE fedrp_metadata_consecutive_failures gauge"
        );
        for m in &refreshable {
            let _ = writeln!(
                out,
                "fedrp_metadata_consecutive_failures{{issuer=\"{}\"}} {}",
                m.name,
                m.state().failures
            );
        }
        let _ = writeln!(
            out,
            "# HELP fedrp_metadata_last_success_timestamp_seconds Unix time of the last good metadata refresh.\n# TYPE fedrp_metadata_last_success_timestamp_seconds gauge"
        );
        for m in &refreshable {
            let t = m.state().last_success.map(|t| t.timestamp()).unwrap_or(0);
            let _ = writeln!(
                out,
                "fedrp_metadata_last_success_timestamp_seconds{{issuer=\"{}\"}} {t}",
                m.name
            );
        }
        out
    }
}

/// The trust state as text (`check-config`).
pub fn status_text(status: &Value) -> String {
    let s = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| "-".into());
    let mut out = String::new();
    let _ = writeln!(out, "\ntrust (at {}):", s(&status["now"]));
    for i in status["issuers"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "\n  issuer {} ({}): {}",
            s(&i["name"]),
            s(&i["entity_id"]),
            s(&i["state"])
        );
        if let Some(md) = i["metadata"].as_object() {
            for (k, label) in [("metadata_url", "url"), ("metadata_file", "file")] {
                if let Some(v) = md.get(k).and_then(Value::as_str) {
                    let role = if k == "metadata_file" {
                        format!(
                            " ({})",
                            md.get("file_role").and_then(Value::as_str).unwrap_or("-")
                        )
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "    {label:<15}{v}{role}");
                }
            }
            let _ = writeln!(
                out,
                "    {:<15}{}",
                "signature",
                if md.get("signature_required") == Some(&Value::Bool(true)) {
                    "required (metadata_signing_certs)"
                } else {
                    "not checked"
                }
            );
        }
        if let Some(d) = i["document"].as_object() {
            let g = |k: &str| d.get(k).map(s).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "    {:<15}from {} obtained {}, validUntil {}, cacheDuration {} s{}",
                "document",
                g("origin"),
                g("obtained_at"),
                g("valid_until"),
                d.get("cache_duration_secs")
                    .and_then(Value::as_u64)
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                if d.get("lapsed") == Some(&Value::Bool(true)) {
                    " (LAPSED: keys withdrawn)"
                } else {
                    ""
                }
            );
        }
        for (k, label) in [
            ("last_success", "last success"),
            ("last_attempt", "last attempt"),
            ("next_refresh", "next refresh"),
            ("last_error", "last error"),
            ("backing_file_error", "backing file"),
        ] {
            if !i[k].is_null() {
                let _ = writeln!(out, "    {label:<15}{}", s(&i[k]));
            }
        }
        for p in i["thumbprint_pins"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "    {:<15}{}", "pin", s(p));
        }
        for k in i["keys"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "    key {} from {}\n      subject    {}\n      sha256     {}\n      sha1       {}\n      valid      {} .. {}{}",
                s(&k["key"]),
                s(&k["source"]),
                s(&k["subject"]),
                s(&k["sha256"]),
                s(&k["sha1"]),
                s(&k["not_before"]),
                s(&k["not_after"]),
                match k["expires_in_days"].as_i64() {
                    Some(d) if d < 0 => " (EXPIRED)".to_owned(),
                    Some(d) if k["expiring"] == Value::Bool(true) =>
                        format!(" (expires in {d} days)"),
                    Some(d) => format!(" ({d} days left)"),
                    None => String::new(),
                }
            );
        }
    }
    out
}

/// One Prometheus counter family with an `issuer` and a `result` label.
fn counters_by_result<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    issuers: &[&'a Managed],
    counters: impl Fn(&'a Managed) -> [(&'static str, &'a AtomicU64); 2],
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for &m in issuers {
        for (result, v) in counters(m) {
            let _ = writeln!(
                out,
                "{name}{{issuer=\"{}\",result=\"{result}\"}} {}",
                m.name,
                v.load(Ordering::Relaxed)
            );
        }
    }
}

#[cfg(test)]
mod tests;
