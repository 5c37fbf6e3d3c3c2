//! [`AppState`]: everything a request needs, built once at start-up from the [`Config`] —
//! one [`Validator`] per realm and binding (keys parsed once), cookie names and scopes,
//! resolved IdP URLs, the stores, the clock and the metrics. Shared read-only across workers
//! (`web::Data`), with no lock on the request path beyond the sharded stores.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponseBuilder};
use chrono::{DateTime, Utc};
use url::Url;

use super::clock::Clock;
use crate::config::{Config, Profile, SessionMode, StoreConfig};
use crate::metrics::Metrics;
use crate::refresh::TrustManager;
use crate::session::cookie::{CookieAttrs, Cookies};
use crate::session::seal::scope_tag;
use crate::session::{CookiePayload, Session, SessionError, SessionManager, decode_payload};
use crate::store::{MemoryReplayCache, MemorySessionStore, RedisStore, ReplayStore, SessionStore};
use crate::token::{Policy, ValidatedAssertion, Validator};
use crate::trust::TrustStore;
use crate::{Reason, xml};

/// The WS-Fed assertion consumer path.
pub const ACS_WSFED: &str = "/signin-wsfed";
/// The SAML-P assertion consumer path.
pub const ACS_SAML: &str = "/signin-saml";

/// A realm, ready to serve.
pub struct RealmRt {
    /// Index in [`Config::realms`].
    pub index: usize,
    /// Short name.
    pub name: String,
    /// Realm URI.
    pub realm: String,
    /// Session cookie name.
    pub cookie_name: String,
    /// Cookie attributes (profile).
    pub attrs: CookieAttrs,
    /// Session scope tag (realm + host).
    pub scope: [u8; 4],
    /// Validator for WS-Fed posts.
    pub wsfed: Arc<Validator>,
    /// Validator for SAML-P posts (Recipient / Destination = our ACS).
    pub saml: Arc<Validator>,
    /// Issuer indices, in the validators' trust-store order.
    pub issuers: Vec<usize>,
    /// Default issuer.
    pub default_issuer: Option<usize>,
    /// `frame-ancestors` source list.
    pub frame_ancestors: String,
    /// Whether `X-Frame-Options: DENY` is sent (no framing configured).
    pub deny_framing: bool,
    /// Landing path.
    pub landing: String,
    /// Path prefixes.
    pub prefixes: Vec<String>,
    /// Profile.
    pub profile: Profile,
    /// Whether sessions also get a sign-out handle cookie (cross-site `wsignoutcleanup1.0`).
    pub signout_handle: bool,
}

impl RealmRt {
    /// The CSP for this realm's pages (`nonce`: allow one inline script).
    pub fn csp(&self, nonce: Option<&str>, form_action: Option<&str>) -> String {
        let script = nonce
            .map(|n| format!(" script-src 'nonce-{n}';"))
            .unwrap_or_default();
        let form = form_action.map(|f| format!(" {f}")).unwrap_or_default();
        format!(
            "default-src 'none';{script} style-src {}; img-src 'self'; form-action 'self'{form}; base-uri 'none'; frame-ancestors {}",
            super::pages::style_src(),
            self.frame_ancestors
        )
    }

    /// Adds this realm's framing headers.
    pub fn frame_headers(&self, b: &mut HttpResponseBuilder) {
        b.insert_header(("Content-Security-Policy", self.csp(None, None)));
        if self.deny_framing {
            b.insert_header(("X-Frame-Options", "DENY"));
        }
    }

    /// The configured issuer whose key verified `v` (by its position in the realm's trust
    /// store, which both validators share and which a key refresh does not change).
    pub fn issuer_of(&self, v: &ValidatedAssertion) -> Option<usize> {
        self.issuers.get(v.trust_index()).copied()
    }
}

/// An issuer's resolved URLs.
pub struct IssuerRt {
    /// Where sign-in goes.
    pub signin_url: Url,
    /// Where sign-out goes.
    pub signout_url: Url,
}

/// The application state.
pub struct AppState {
    /// The configuration.
    pub config: Config,
    /// Our external base URL.
    pub public_url: Url,
    /// Host part of the public URL.
    pub host: String,
    /// Send HSTS.
    pub hsts: bool,
    /// Realms, in configuration order.
    pub realms: Vec<RealmRt>,
    /// Issuers, in configuration order.
    pub issuers: Vec<IssuerRt>,
    /// Cookie sealing.
    pub sessions: SessionManager,
    /// Session store (`store = "memory"` or `"redis"`).
    pub store: Arc<dyn SessionStore>,
    /// Replay cache (tokens and used sign-in states); the same Redis store with `"redis"`.
    pub replay: Arc<dyn ReplayStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Metrics,
    /// Slots for token validations (`limits.max_concurrent_validations`).
    pub validation_slots: tokio::sync::Semaphore,
    /// Scope tag of sign-in states.
    pub state_scope: [u8; 4],
    /// The trusted issuers' keys, their metadata refresh and state.
    pub trust: Arc<TrustManager>,
}

/// The cookies of a request (every `Cookie` header).
pub fn cookies_of(req: &HttpRequest) -> Cookies<'_> {
    Cookies::parse(
        req.headers()
            .get_all("cookie")
            .filter_map(|v| v.to_str().ok()),
    )
}

/// What [`AppState::end_session`] did.
pub struct Ended {
    /// The session that was signed in (from its cookie), if any.
    pub session: Option<Session>,
    /// The id of the session revoked, if any: from its cookie (then `session` is set) or
    /// from its sign-out handle alone.
    pub id: Option<String>,
    /// `Set-Cookie` values deleting the session's cookies.
    pub cookies: Vec<String>,
}

/// The outcome of looking for a session.
pub enum Lookup {
    /// No session cookie.
    None,
    /// A valid session; `set_cookies` re-issues the cookie (sliding window, key rotation).
    Found {
        /// The session.
        session: Box<Session>,
        /// `Set-Cookie` values to send.
        set_cookies: Vec<String>,
    },
    /// A cookie that was refused.
    Refused(Reason),
}

impl AppState {
    /// Builds the state. `public_url` is the resolved external base URL.
    pub fn new(config: Config, public_url: Url, clock: Arc<dyn Clock>) -> Result<AppState, String> {
        let host = public_url.host_str().unwrap_or("localhost").to_owned();
        let mut issuers = Vec::new();
        for i in &config.issuers {
            let resolve = |u: &str| {
                public_url
                    .join(u)
                    .map_err(|e| format!("issuer {}: {u:?}: {e}", i.name))
            };
            let signin_url = resolve(&i.signin_url)?;
            let signout_url = match &i.signout_url {
                Some(u) => resolve(u)?,
                None => signin_url.clone(),
            };
            issuers.push(IssuerRt {
                signin_url,
                signout_url,
            });
        }
        let limits = &config.limits;
        let acs_saml = public_url
            .join(ACS_SAML)
            .map_err(|e| e.to_string())?
            .to_string();
        let mut realms = Vec::new();
        // Every issuer's keys (pinned and from metadata) live in one slot, shared by the
        // validators of every realm that trusts it: a refresh reaches them all at once.
        let trust_manager = TrustManager::new(&config, Arc::clone(&clock), true);
        let errors = trust_manager.startup_errors();
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        for (index, r) in config.realms.iter().enumerate() {
            let slots = r
                .issuers
                .iter()
                .map(|&k| {
                    trust_manager
                        .slot(k)
                        .ok_or_else(|| format!("realm {}: issuer {k} is missing", r.name))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let trust = TrustStore::from_slots(slots);
            let policy = Policy {
                audiences: r.audiences.clone(),
                recipient: None,
                skew: limits.clock_skew,
                max_token_bytes: limits.max_token_bytes,
                max_token_age: limits.max_token_age,
                limits: xml::Limits {
                    max_bytes: limits.max_token_bytes,
                    ..Default::default()
                },
                ..Default::default()
            };
            let wsfed = Validator::new(trust.clone(), policy.clone())
                .map_err(|e| format!("realm {}: {e}", r.name))?;
            let saml = Validator::new(
                trust,
                Policy {
                    recipient: Some(acs_saml.clone()),
                    ..policy
                },
            )
            .map_err(|e| format!("realm {}: {e}", r.name))?;
            let frame_ancestors = if r.frame_ancestors.is_empty() {
                "'none'".to_owned()
            } else {
                r.frame_ancestors.join(" ")
            };
            realms.push(RealmRt {
                index,
                name: r.name.clone(),
                realm: r.realm.clone(),
                cookie_name: r.cookie_name.clone(),
                attrs: CookieAttrs { profile: r.profile },
                scope: scope_tag(&[&r.name, &host]),
                wsfed: Arc::new(wsfed),
                saml: Arc::new(saml),
                issuers: r.issuers.clone(),
                default_issuer: r.default_issuer,
                frame_ancestors,
                deny_framing: r.frame_ancestors.is_empty(),
                landing: r.landing_path.clone(),
                prefixes: r.path_prefixes.clone(),
                profile: r.profile,
                signout_handle: r.cross_site_signout,
            });
        }
        let keys: Vec<[u8; 32]> = config.session.keys.iter().map(|k| *k.expose()).collect();
        let sessions = SessionManager::new(
            &keys,
            &config.session.cookie_name,
            config.session.idle_timeout,
            config.session.absolute_timeout,
            config.session.max_chunks,
        );
        let hsts = config.server.hsts && public_url.scheme() == "https";
        let (store, replay): (Arc<dyn SessionStore>, Arc<dyn ReplayStore>) = match &config.store {
            StoreConfig::Memory => (
                Arc::new(MemorySessionStore::new(config.session.store_capacity)),
                Arc::new(MemoryReplayCache::new(config.limits.replay_cache_capacity)),
            ),
            StoreConfig::Redis(r) => {
                let shared = Arc::new(RedisStore::new(r, config.session.store_capacity)?);
                (shared.clone(), shared)
            }
        };
        Ok(AppState {
            store,
            replay,
            state_scope: scope_tag(&["sign-in state", &host]),
            sessions,
            host,
            hsts,
            public_url,
            realms,
            issuers,
            clock,
            validation_slots: tokio::sync::Semaphore::new(config.limits.max_concurrent_validations),
            trust: trust_manager,
            metrics: Metrics::default(),
            config,
        })
    }

    /// Our origin (`https://rp.example.com`).
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        self.public_url
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| path.to_owned())
    }

    /// A realm by name.
    pub fn realm_by_name(&self, name: &str) -> Option<&RealmRt> {
        self.realms.iter().find(|r| r.name == name)
    }

    /// The realm a path belongs to (longest prefix), if any.
    pub fn realm_for_path(&self, path: &str) -> Option<&RealmRt> {
        self.realms
            .iter()
            .flat_map(|r| r.prefixes.iter().map(move |p| (r, p)))
            .filter(|(_, p)| path.starts_with(p.as_str()) || path == p.trim_end_matches('/'))
            .max_by_key(|(_, p)| p.len())
            .map(|(r, _)| r)
    }

    /// The default realm.
    pub fn default_realm(&self) -> &RealmRt {
        &self.realms[0]
    }

    /// Finds the session of `realm` in the request.
    pub async fn lookup(&self, req: &HttpRequest, realm: &RealmRt) -> Lookup {
        let cookies = cookies_of(req);
        let now = self.clock.now();
        let opened = match self
            .sessions
            .read(&realm.cookie_name, realm.scope, &cookies, now)
        {
            Ok(None) => return Lookup::None,
            Ok(Some(o)) => o,
            Err(e) => return Lookup::Refused(e.reason()),
        };
        let id = opened.payload.id().hex();
        let (issued_at, _) = opened.payload.times();
        let record_key = match &opened.payload {
            CookiePayload::Ref { .. } => Some(format!("s:{id}")),
            CookiePayload::Full(_) => None,
        };
        // One round trip: the revocation record (sign-out on any node) and, in server mode,
        // the session record.
        let check = match self
            .store
            .check_session(&id, issued_at, record_key.as_deref(), now)
            .await
        {
            Ok(c) if c.revoked => return Lookup::Refused(Reason::SessionInvalid),
            Ok(c) => c,
            Err(_) => return Lookup::Refused(Reason::StoreUnavailable),
        };
        let payload_realm = match &opened.payload {
            CookiePayload::Full(s) => &s.realm,
            CookiePayload::Ref { realm, .. } => realm,
        };
        if *payload_realm != realm.name {
            return Lookup::Refused(SessionError::Scope.reason());
        }
        // Re-issue first (sliding window, key rotation), then move the session out.
        let set_cookies = if opened.reissue {
            let present = cookies.names_with_prefix(&realm.cookie_name);
            self.sessions
                .write(
                    &realm.cookie_name,
                    realm.scope,
                    realm.attrs,
                    &opened.payload,
                    &present,
                )
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let session = match opened.payload {
            CookiePayload::Full(s) => s,
            CookiePayload::Ref {
                id,
                realm: rn,
                issued_at,
                last_seen,
            } => {
                let Some(rec) = check.record else {
                    return Lookup::Refused(Reason::SessionInvalid);
                };
                if opened.reissue
                    && let Some(key) = &record_key
                    && self
                        .store
                        .touch(key, self.record_until(issued_at, now), now)
                        .await
                        .is_err()
                {
                    return Lookup::Refused(Reason::StoreUnavailable);
                }
                match decode_payload(&rec) {
                    Some(CookiePayload::Full(mut s)) if s.id == id && s.realm == rn => {
                        s.issued_at = issued_at;
                        s.last_seen = last_seen;
                        s
                    }
                    _ => return Lookup::Refused(Reason::SessionInvalid),
                }
            }
        };
        Lookup::Found {
            session: Box::new(session),
            set_cookies,
        }
    }

    /// When a server-side record used `now` expires: after the idle lifetime, renewed on use
    /// (sliding), never past the absolute lifetime.
    fn record_until(&self, issued_at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.config.session.idle_timeout).min(issued_at + self.sessions.absolute())
    }

    /// Stores a new session and returns its `Set-Cookie` values (the old cookie's extra chunks
    /// deleted). Server mode keeps the data in the store and only a reference in the cookie.
    pub async fn issue(
        &self,
        req: &HttpRequest,
        realm: &RealmRt,
        session: &Session,
    ) -> Result<Vec<String>, Reason> {
        let cookies = cookies_of(req);
        let present = cookies.names_with_prefix(&realm.cookie_name);
        let now = self.clock.now();
        let until = session.issued_at + self.sessions.absolute();
        let id = session.id.hex();
        let payload = match self.config.session.mode {
            SessionMode::Cookie => CookiePayload::Full(session.clone()),
            SessionMode::Server => {
                let rec = crate::session::encode_session(session);
                self.store
                    .put(
                        &format!("s:{id}"),
                        rec,
                        self.record_until(session.issued_at, now),
                        now,
                    )
                    .await
                    .map_err(|_| Reason::StoreUnavailable)?;
                CookiePayload::Ref {
                    id: session.id,
                    realm: session.realm.clone(),
                    issued_at: session.issued_at,
                    last_seen: session.last_seen,
                }
            }
        };
        let set = self
            .sessions
            .write(
                &realm.cookie_name,
                realm.scope,
                realm.attrs,
                &payload,
                &present,
            )
            .map_err(|_| Reason::ClaimsTooLarge)?;
        let mut set = set;
        if realm.signout_handle {
            set.extend(self.sessions.write_handle(
                &realm.cookie_name,
                realm.scope,
                realm.attrs,
                session.id,
                session.issued_at,
                now,
            ));
        }
        self.store
            .note_active(&id, until, now)
            .await
            .map_err(|_| Reason::StoreUnavailable)?;
        Ok(set)
    }

    /// Ends the session in the request (if any) for `realm`: revokes it in the store and
    /// returns the `Set-Cookie` values deleting every chunk (and the sign-out handle).
    /// `cleanup` (`wsignoutcleanup1.0`, typically a cross-site image that carries no
    /// `SameSite=Lax` cookie): without a session cookie, the sign-out handle names the session.
    pub async fn end_session(
        &self,
        req: &HttpRequest,
        realm: &RealmRt,
        cleanup: bool,
    ) -> Result<Ended, Reason> {
        let cookies = cookies_of(req);
        let present = cookies.names_with_prefix(&realm.cookie_name);
        let mut clear = self
            .sessions
            .clear(&realm.cookie_name, realm.attrs, &present);
        let handle_name = SessionManager::handle_name(&realm.cookie_name);
        let has_handle = matches!(cookies.get(&handle_name), Ok(Some(_)) | Err(()));
        if has_handle {
            clear.push(realm.attrs.set_cross_site(&handle_name, "", 0));
        }
        let now = self.clock.now();
        let session = match self.lookup(req, realm).await {
            Lookup::Found { session, .. } => Some(*session),
            // A sign-out that cannot be recorded fails rather than only clearing this browser.
            Lookup::Refused(Reason::StoreUnavailable) => return Err(Reason::StoreUnavailable),
            _ => None,
        };
        let (id, issued_at) = match &session {
            Some(s) => (s.id, s.issued_at),
            None => match cleanup
                .then(|| {
                    self.sessions
                        .read_handle(&realm.cookie_name, realm.scope, &cookies, now)
                })
                .flatten()
            {
                Some(named) => named,
                None => {
                    return Ok(Ended {
                        session: None,
                        id: None,
                        cookies: clear,
                    });
                }
            },
        };
        let hex = id.hex();
        self.store
            .revoke(&hex, issued_at + self.sessions.absolute(), now)
            .await
            .map_err(|_| Reason::StoreUnavailable)?;
        let _ = self.store.remove(&format!("s:{hex}")).await;
        Ok(Ended {
            session,
            id: Some(hex),
            cookies: clear,
        })
    }
}
