//! Sessions: the [`Principal`] a sign-in produced, sealed (AES-256-GCM) into `__Host-` cookie
//! chunks, or kept in the session store with only a sealed reference in the cookie.
//!
//! Invariants: every cookie byte is authenticated (AEAD over the header — key id, realm+host
//! scope, chunk count — and the base cookie name); times live inside the ciphertext; a session
//! is never extended past its absolute lifetime; sign-in always mints a fresh session id; all
//! chunks are written and deleted together. `http/` decides when; this module decides how.

pub mod codec;
pub mod cookie;
pub mod seal;

use chrono::{DateTime, Duration, Utc};

use crate::Reason;
use codec::{Reader, Writer};
use cookie::{CookieAttrs, Cookies, chunk_name, chunks_for};
use seal::{OpenError, Sealer};

/// The signed-in user, as the claim mapping produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Fully-qualified name, `Label:DOMAIN\user`.
    pub fqn: String,
    /// The identity claim's value.
    pub name: String,
    /// The issuer's entity ID.
    pub issuer: String,
    /// The issuer's configured short name.
    pub issuer_name: String,
    /// Group / role values.
    pub groups: Vec<String>,
    /// Every other claim kept: (type, value); the group claim's values are only in `groups`.
    pub claims: Vec<(String, String)>,
    /// When the IdP authenticated the user.
    pub authn_instant: Option<DateTime<Utc>>,
}

/// A session id: 128 random bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// A fresh random id.
    pub fn random() -> SessionId {
        let mut b = [0u8; 16];
        // rand_bytes only fails when OpenSSL's generator is unusable; the id is then still
        // unpredictable enough to be unique, and sealing (which needs randomness) fails closed.
        let _ = openssl::rand::rand_bytes(&mut b);
        SessionId(b)
    }

    /// Lower-case hex (store keys, logs).
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its id (fresh at every sign-in).
    pub id: SessionId,
    /// The realm it belongs to.
    pub realm: String,
    /// Who.
    pub principal: Principal,
    /// Sign-in time (absolute lifetime starts here).
    pub issued_at: DateTime<Utc>,
    /// Last use (sliding lifetime).
    pub last_seen: DateTime<Utc>,
}

/// What a session cookie holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookiePayload {
    /// The whole session.
    Full(Session),
    /// A reference to a session in the store.
    Ref {
        /// Session id.
        id: SessionId,
        /// Realm.
        realm: String,
        /// Sign-in time.
        issued_at: DateTime<Utc>,
        /// Last use.
        last_seen: DateTime<Utc>,
    },
}

impl CookiePayload {
    /// The session id.
    pub fn id(&self) -> SessionId {
        match self {
            CookiePayload::Full(s) => s.id,
            CookiePayload::Ref { id, .. } => *id,
        }
    }
    /// (issued_at, last_seen).
    pub fn times(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        match self {
            CookiePayload::Full(s) => (s.issued_at, s.last_seen),
            CookiePayload::Ref {
                issued_at,
                last_seen,
                ..
            } => (*issued_at, *last_seen),
        }
    }
    /// Sets last_seen.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        match self {
            CookiePayload::Full(s) => s.last_seen = now,
            CookiePayload::Ref { last_seen, .. } => *last_seen = now,
        }
    }
}

const KIND_FULL: u8 = 1;
const KIND_REF: u8 = 2;
const KIND_HANDLE: u8 = 3;

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ts(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Encodes a full session (also the server-store record).
pub fn encode_session(s: &Session) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(256 + s.principal.claims.len() * 96));
    w.u8(KIND_FULL);
    w.bytes(&s.id.0);
    w.str(&s.realm);
    w.i64(ts(s.issued_at));
    w.i64(ts(s.last_seen));
    let p = &s.principal;
    w.str(&p.fqn);
    w.str(&p.name);
    w.str(&p.issuer);
    w.str(&p.issuer_name);
    w.opt_i64(p.authn_instant.map(ts));
    w.u32(p.groups.len() as u32);
    for g in &p.groups {
        w.str(g);
    }
    w.u32(p.claims.len() as u32);
    for (t, v) in &p.claims {
        w.str(t);
        w.str(v);
    }
    w.0
}

/// Encodes a cookie payload.
pub fn encode_payload(p: &CookiePayload) -> Vec<u8> {
    match p {
        CookiePayload::Full(s) => encode_session(s),
        CookiePayload::Ref {
            id,
            realm,
            issued_at,
            last_seen,
        } => {
            let mut w = Writer::default();
            w.u8(KIND_REF);
            w.bytes(&id.0);
            w.str(realm);
            w.i64(ts(*issued_at));
            w.i64(ts(*last_seen));
            w.0
        }
    }
}

/// Decodes a cookie payload or store record.
pub fn decode_payload(data: &[u8]) -> Option<CookiePayload> {
    let mut r = Reader::new(data);
    let kind = r.u8()?;
    let id = SessionId(r.bytes()?.try_into().ok()?);
    let realm = r.str()?;
    let issued_at = from_ts(r.i64()?)?;
    let last_seen = from_ts(r.i64()?)?;
    let out = match kind {
        KIND_REF => CookiePayload::Ref {
            id,
            realm,
            issued_at,
            last_seen,
        },
        KIND_FULL => {
            let fqn = r.str()?;
            let name = r.str()?;
            let issuer = r.str()?;
            let issuer_name = r.str()?;
            let authn_instant = match r.opt_i64()? {
                Some(ms) => Some(from_ts(ms)?),
                None => None,
            };
            let n = r.u32()? as usize;
            let mut groups = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                groups.push(r.str()?);
            }
            let n = r.u32()? as usize;
            let mut claims = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                claims.push((r.str()?, r.str()?));
            }
            let principal = Principal {
                fqn,
                name,
                issuer,
                issuer_name,
                groups,
                claims,
                authn_instant,
            };
            CookiePayload::Full(Session {
                id,
                realm,
                principal,
                issued_at,
                last_seen,
            })
        }
        _ => return None,
    };
    r.at_end().then_some(out)
}

/// Why a session cookie was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// Does not authenticate, malformed, missing or mixed chunks (`session.invalid`).
    Invalid,
    /// Past its idle or absolute lifetime (`session.expired`).
    Expired,
    /// Sealed for another realm or host (`session.scope`).
    Scope,
}

impl SessionError {
    /// The reason code.
    pub fn reason(self) -> Reason {
        match self {
            SessionError::Invalid => Reason::SessionInvalid,
            SessionError::Expired => Reason::SessionExpired,
            SessionError::Scope => Reason::SessionScope,
        }
    }
}

/// The session is too large for the configured number of cookie chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

/// Seals sessions into cookies and opens them again.
#[derive(Debug)]
pub struct SessionManager {
    sealer: Sealer,
    aad: Vec<u8>,
    idle: Duration,
    absolute: Duration,
    max_chunks: usize,
    refresh_after: Duration,
}

/// A successfully opened session cookie.
#[derive(Debug)]
pub struct Opened {
    /// What it holds.
    pub payload: CookiePayload,
    /// The cookie must be re-issued (older key, or the sliding window moved).
    pub reissue: bool,
    /// How many chunks it had.
    pub chunks: usize,
}

impl SessionManager {
    /// A manager. `base_cookie_name` (common to all realms) is associated data.
    pub fn new(
        keys: &[[u8; 32]],
        base_cookie_name: &str,
        idle: Duration,
        absolute: Duration,
        max_chunks: usize,
    ) -> SessionManager {
        let refresh_after = (idle / 10).max(Duration::seconds(30)).min(idle);
        SessionManager {
            sealer: Sealer::new(keys),
            aad: base_cookie_name.as_bytes().to_vec(),
            idle,
            absolute,
            max_chunks,
            refresh_after,
        }
    }

    /// The sealer (also used for sign-in state and hand-off codes, with their own AAD).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Absolute lifetime.
    pub fn absolute(&self) -> Duration {
        self.absolute
    }

    /// The `Set-Cookie` values for `payload` under `name`, deleting leftover chunks of an
    /// earlier, larger cookie (`present`: chunk names the request carried).
    pub fn write(
        &self,
        name: &str,
        scope: [u8; 4],
        attrs: CookieAttrs,
        payload: &CookiePayload,
        present: &[&str],
    ) -> Result<Vec<String>, TooLarge> {
        let plain = encode_payload(payload);
        let n = chunks_for(Sealer::sealed_len(plain.len()));
        if n > self.max_chunks {
            return Err(TooLarge);
        }
        let blob = self
            .sealer
            .seal(scope, n as u8, &self.aad, &plain)
            .ok_or(TooLarge)?;
        let (issued, _) = payload.times();
        let max_age = (issued + self.absolute - payload.times().1)
            .num_seconds()
            .max(0);
        let mut out: Vec<String> = cookie::split(&blob)
            .iter()
            .enumerate()
            .map(|(i, v)| attrs.set(&chunk_name(name, i), v, Some(max_age)))
            .collect();
        for p in present {
            if let Some(i) = chunk_index(name, p)
                && i >= n
            {
                out.push(attrs.delete(p));
            }
        }
        Ok(out)
    }

    /// `Set-Cookie` values deleting every chunk of `name`: the configured maximum plus any
    /// extra the request carried.
    pub fn clear(&self, name: &str, attrs: CookieAttrs, present: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = (0..self.max_chunks)
            .map(|i| attrs.delete(&chunk_name(name, i)))
            .collect();
        for p in present {
            if chunk_index(name, p).is_some_and(|i| i >= self.max_chunks) {
                out.push(attrs.delete(p));
            }
        }
        out
    }

    /// The name of the sign-out handle cookie of session cookie `name`.
    pub fn handle_name(name: &str) -> String {
        format!("{name}.so")
    }

    /// `Set-Cookie` for the sign-out handle of session `id`: the sealed id and sign-in time,
    /// `SameSite=None` so that an IdP's cross-site `wsignoutcleanup1.0` image carries it. It
    /// can only end the session it names; [`SessionManager::read`] never accepts it (own AAD).
    pub fn write_handle(
        &self,
        name: &str,
        scope: [u8; 4],
        attrs: CookieAttrs,
        id: SessionId,
        issued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let mut plain = Writer(Vec::with_capacity(25));
        plain.u8(KIND_HANDLE);
        plain.bytes(&id.0);
        plain.i64(ts(issued_at));
        let aad = Self::handle_name(name);
        let blob = self.sealer.seal(scope, 1, aad.as_bytes(), &plain.0)?;
        let max_age = (issued_at + self.absolute - now).num_seconds();
        let value = cookie::split(&blob).concat();
        Some(attrs.set_cross_site(&aad, &value, max_age))
    }

    /// Opens the sign-out handle of session cookie `name`: the session id and sign-in time.
    /// `None` when absent, unreadable or past the absolute lifetime.
    pub fn read_handle(
        &self,
        name: &str,
        scope: [u8; 4],
        cookies: &Cookies<'_>,
        now: DateTime<Utc>,
    ) -> Option<(SessionId, DateTime<Utc>)> {
        let aad = Self::handle_name(name);
        let blob = cookie::decode(cookies.get(&aad).ok()??)?;
        let (plain, _) = self.sealer.open(scope, aad.as_bytes(), &blob).ok()?;
        let mut r = Reader::new(&plain);
        if r.u8()? != KIND_HANDLE {
            return None;
        }
        let id = SessionId(r.bytes()?.try_into().ok()?);
        let issued_at = from_ts(r.i64()?)?;
        (r.at_end() && now - issued_at < self.absolute).then_some((id, issued_at))
    }

    /// Opens the session cookie `name` from the request's cookies. `Ok(None)`: no cookie.
    pub fn read(
        &self,
        name: &str,
        scope: [u8; 4],
        cookies: &Cookies<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<Opened>, SessionError> {
        let first = match cookies.get(name) {
            Ok(Some(v)) => v,
            Ok(None) => return Ok(None),
            Err(()) => return Err(SessionError::Invalid),
        };
        let head = cookie::decode(first).ok_or(SessionError::Invalid)?;
        let n = Sealer::chunk_count(&head).ok_or(SessionError::Invalid)? as usize;
        if n == 0 || n > self.max_chunks {
            return Err(SessionError::Invalid);
        }
        let blob = if n == 1 {
            head
        } else {
            let mut all = String::with_capacity(n * cookie::CHUNK_CHARS);
            all.push_str(first);
            for i in 1..n {
                match cookies.get(&chunk_name(name, i)) {
                    Ok(Some(v)) => all.push_str(v),
                    _ => return Err(SessionError::Invalid),
                }
            }
            cookie::decode(&all).ok_or(SessionError::Invalid)?
        };
        let (plain, current_key) =
            self.sealer
                .open(scope, &self.aad, &blob)
                .map_err(|e| match e {
                    OpenError::Invalid => SessionError::Invalid,
                    OpenError::Scope => SessionError::Scope,
                })?;
        let mut payload = decode_payload(&plain).ok_or(SessionError::Invalid)?;
        let (issued, last) = payload.times();
        if issued > now + Duration::minutes(5) || last < issued {
            return Err(SessionError::Invalid);
        }
        if now - issued >= self.absolute || now - last >= self.idle {
            return Err(SessionError::Expired);
        }
        let slide = now - last >= self.refresh_after;
        if slide {
            payload.touch(now);
        }
        Ok(Some(Opened {
            payload,
            reissue: slide || !current_key,
            chunks: n,
        }))
    }
}

fn chunk_index(base: &str, name: &str) -> Option<usize> {
    if name == base {
        return Some(0);
    }
    name.strip_prefix(base)?.strip_prefix('.')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;

    fn session(groups: usize) -> Session {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Session {
            id: SessionId([9; 16]),
            realm: "app".into(),
            principal: Principal {
                fqn: "K2:DENALLIX\\bob".into(),
                name: "DENALLIX\\bob".into(),
                issuer: "urn:idp".into(),
                issuer_name: "idp".into(),
                groups: (0..groups)
                    .map(|i| format!("group-{i:04}-with-a-long-name"))
                    .collect(),
                claims: vec![("t".into(), "v".into())],
                authn_instant: Some(now),
            },
            issued_at: now,
            last_seen: now,
        }
    }

    fn manager() -> (SessionManager, CookieAttrs, [u8; 4]) {
        let m = SessionManager::new(
            &[[3; 32]],
            "__Host-fedrp",
            Duration::hours(1),
            Duration::hours(8),
            8,
        );
        let attrs = CookieAttrs {
            profile: Profile::TopLevel,
        };
        (m, attrs, seal::scope_tag(&["app", "localhost"]))
    }

    fn jar(set: &[String]) -> String {
        set.iter()
            .filter(|s| !s.contains("Max-Age=0"))
            .map(|s| s.split(';').next().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn signout_handle_names_its_session_and_nothing_else() {
        let (m, attrs, scope) = manager();
        let s = session(0);
        let set = m
            .write_handle("__Host-fedrp", scope, attrs, s.id, s.issued_at, s.issued_at)
            .unwrap();
        assert!(set.starts_with("__Host-fedrp.so="), "{set}");
        assert!(set.contains("SameSite=None") && set.contains("HttpOnly"));
        assert!(set.contains("Max-Age=28800"), "{set}");
        let header = jar(std::slice::from_ref(&set));
        let c = Cookies::parse([header.as_str()]);
        let later = s.issued_at + Duration::hours(2);
        assert_eq!(
            m.read_handle("__Host-fedrp", scope, &c, later),
            Some((s.id, s.issued_at))
        );
        // Past the absolute lifetime, under another scope or another cookie: nothing.
        let after = s.issued_at + Duration::hours(8);
        assert_eq!(m.read_handle("__Host-fedrp", scope, &c, after), None);
        let other = seal::scope_tag(&["other", "localhost"]);
        assert_eq!(m.read_handle("__Host-fedrp", other, &c, later), None);
        assert_eq!(m.read_handle("__Host-fedrp-b", scope, &c, later), None);
        // Never a session: the handle's value under the session cookie's name is refused.
        let value = header.split_once('=').unwrap().1;
        let as_session = format!("__Host-fedrp={value}");
        let c2 = Cookies::parse([as_session.as_str()]);
        assert!(m.read("__Host-fedrp", scope, &c2, later).is_err());
        // A session cookie's value is not a handle either.
        let cookie = m
            .write(
                "__Host-fedrp",
                scope,
                attrs,
                &CookiePayload::Full(s.clone()),
                &[],
            )
            .unwrap();
        let v = jar(&cookie);
        let as_handle = format!("__Host-fedrp.so={}", v.split_once('=').unwrap().1);
        let c3 = Cookies::parse([as_handle.as_str()]);
        assert_eq!(m.read_handle("__Host-fedrp", scope, &c3, later), None);
    }

    #[test]
    fn round_trip_small_and_chunked() {
        let (m, attrs, scope) = manager();
        for groups in [0, 300] {
            let s = session(groups);
            let set = m
                .write(
                    "__Host-fedrp",
                    scope,
                    attrs,
                    &CookiePayload::Full(s.clone()),
                    &[],
                )
                .unwrap();
            assert!(set.iter().all(|c| c.len() < 4096));
            assert_eq!(set.len() > 1, groups > 0);
            let header = jar(&set);
            let cookies = Cookies::parse([header.as_str()]);
            let o = m
                .read("__Host-fedrp", scope, &cookies, s.issued_at)
                .unwrap()
                .unwrap();
            assert_eq!(o.payload, CookiePayload::Full(s.clone()));
            // Dropping the last chunk, or presenting it under another scope, fails.
            if set.len() > 1 {
                let fewer = jar(&set[..set.len() - 1]);
                let c = Cookies::parse([fewer.as_str()]);
                assert_eq!(
                    m.read("__Host-fedrp", scope, &c, s.issued_at).unwrap_err(),
                    SessionError::Invalid
                );
            }
            let other = seal::scope_tag(&["other", "localhost"]);
            assert_eq!(
                m.read("__Host-fedrp", other, &cookies, s.issued_at)
                    .unwrap_err(),
                SessionError::Scope
            );
            assert_eq!(
                m.read(
                    "__Host-fedrp",
                    scope,
                    &cookies,
                    s.issued_at + Duration::hours(2)
                )
                .unwrap_err(),
                SessionError::Expired
            );
        }
        assert_eq!(
            m.write(
                "__Host-fedrp",
                scope,
                attrs,
                &CookiePayload::Full(session(5000)),
                &[]
            ),
            Err(TooLarge)
        );
    }

    #[test]
    fn decoding_garbage_never_panics() {
        let full = encode_session(&session(3));
        for cut in 0..full.len() {
            let _ = decode_payload(&full[..cut]);
        }
        assert!(decode_payload(&full).is_some());
    }
}
