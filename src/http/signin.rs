//! Sign-in: starting it (`GET /signin`, or any protected page without a session) and finishing
//! it (`POST /signin-wsfed`, `POST /signin-saml`).
//!
//! The sign-in state (`wctx` / `RelayState`) is sealed with the session keys: realm, issuer,
//! return URL, expiry, the SAML request ID and a nonce. The nonce is also the value of a
//! short-lived correlation cookie (`SameSite=None; Secure`, so it survives the IdP's cross-site
//! POST), named after the state id so parallel sign-ins in several tabs do not collide. On the
//! way back: a state that does not open or has expired is `wsf.ctx`; one whose cookie is absent
//! or different (login CSRF, another browser) is `wsf.ctx_unbound` unless the issuer accepts
//! unsolicited sign-ins; a state used twice is `wsf.ctx`. The checks run in the catalogue's
//! order: HTTP and state first, the token (off the executor) next, replay, then the claims.

use std::io::Write as _;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};

use super::error::Rejection;
use super::form::{self, Params};
use super::pages::{self, esc};
use super::redirect;
use super::state::{ACS_SAML, ACS_WSFED, AppState, Lookup, RealmRt, cookies_of};
use crate::Reason;
use crate::config::{Profile, Protocol};
use crate::session::codec::{Reader, Writer};
use crate::session::{Session, SessionId, decode_payload, encode_session};
use crate::token::{Binding, InResponseTo};

/// How long a pop-up hand-off code lives.
const HANDOFF_SECS: i64 = 60;

/// The sign-in state behind `wctx` / `RelayState`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInState {
    /// Random id (one-time use, correlation cookie name).
    pub id: [u8; 16],
    /// Realm name.
    pub realm: String,
    /// Issuer name.
    pub issuer: String,
    /// Checked return URL ("" = landing page).
    pub return_url: String,
    /// Expiry.
    pub expires: DateTime<Utc>,
    /// Correlation nonce.
    pub nonce: [u8; 16],
    /// SAML AuthnRequest ID ("" for WS-Fed).
    pub request_id: String,
    /// Started from the iframe fallback pop-up.
    pub popup: bool,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn random16() -> [u8; 16] {
    SessionId::random().0
}

impl SignInState {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(1);
        w.bytes(&self.id);
        w.str(&self.realm);
        w.str(&self.issuer);
        w.str(&self.return_url);
        w.i64(self.expires.timestamp());
        w.bytes(&self.nonce);
        w.str(&self.request_id);
        w.u8(u8::from(self.popup));
        w.0
    }

    fn decode(data: &[u8]) -> Option<SignInState> {
        let mut r = Reader::new(data);
        if r.u8()? != 1 {
            return None;
        }
        let s = SignInState {
            id: r.bytes()?.try_into().ok()?,
            realm: r.str()?,
            issuer: r.str()?,
            return_url: r.str()?,
            expires: DateTime::from_timestamp(r.i64()?, 0)?,
            nonce: r.bytes()?.try_into().ok()?,
            request_id: r.str()?,
            popup: r.u8()? == 1,
        };
        r.at_end().then_some(s)
    }

    /// The opaque `wctx` / `RelayState` value.
    pub fn seal(&self, state: &AppState) -> Option<String> {
        let blob = state.sessions.sealer().seal(
            state.state_scope,
            1,
            b"fedrp sign-in state",
            &self.encode(),
        )?;
        Some(URL_SAFE_NO_PAD.encode(blob))
    }

    /// Opens a `wctx` / `RelayState` value (`wsf.ctx` when it does not).
    pub fn open(state: &AppState, value: &str) -> Result<SignInState, Rejection> {
        let bad = || Rejection::new(Reason::WsfCtx, "the sign-in state does not authenticate");
        let blob = URL_SAFE_NO_PAD
            .decode(value.as_bytes())
            .map_err(|_| bad())?;
        let (plain, _) = state
            .sessions
            .sealer()
            .open(state.state_scope, b"fedrp sign-in state", &blob)
            .map_err(|_| bad())?;
        SignInState::decode(&plain).ok_or_else(bad)
    }

    /// The correlation cookie's name.
    pub fn cookie_name(&self, base: &str) -> String {
        format!("{base}-c-{}", hex(&self.id[..4]))
    }
}

/// Whether the request is a navigation inside a frame (Fetch Metadata, or `framed=1`).
pub fn is_framed(req: &HttpRequest, params: Option<&Params>) -> bool {
    let dest = req
        .headers()
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    matches!(dest, "iframe" | "frame") || params.and_then(|p| p.get("framed")) == Some("1")
}

fn redirect_to(location: &str, status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::build(status);
    b.insert_header(("Location", location.to_owned()));
    b.insert_header(("Cache-Control", "no-store"));
    b
}

/// Checks a return URL; an unacceptable one is logged (`redirect.not_allowed`) and replaced by
/// the realm's landing page.
fn checked_return(
    state: &AppState,
    req: &HttpRequest,
    realm: &RealmRt,
    ru: Option<&str>,
) -> String {
    match ru {
        None | Some("") => realm.landing.clone(),
        Some(t) => {
            match redirect::check(t, &state.public_url, &state.config.redirect.allowed_origins) {
                Some(ok) => ok,
                None => {
                    state.note(
                        req,
                        Reason::RedirectNotAllowed,
                        "return URL outside the allow-list",
                    );
                    realm.landing.clone()
                }
            }
        }
    }
}

/// `GET /signin?ru=&whr=&realm=&popup=`.
pub async fn signin_get(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let params = match form::query(&req) {
        Ok(p) => p,
        Err(r) => return state.reject(&req, r),
    };
    let ru = params.get("ru");
    let realm = match params.get("realm") {
        Some(n) => match state.realm_by_name(n) {
            Some(r) => r,
            None => {
                return state.reject(
                    &req,
                    Rejection::new(Reason::HttpMissingParam, format!("unknown realm {n:?}")),
                );
            }
        },
        None => ru
            .and_then(|u| u.split('?').next())
            .filter(|p| p.starts_with('/'))
            .and_then(|p| state.realm_for_path(p))
            .unwrap_or_else(|| state.default_realm()),
    };
    let target = checked_return(&state, &req, realm, ru);
    let issuer =
        params.get("whr").and_then(|w| {
            realm.issuers.iter().copied().find(|&i| {
                state.config.issuers[i].name == w || state.config.issuers[i].entity_id == w
            })
        });
    let popup = params.get("popup") == Some("1");
    if !popup && realm.profile == Profile::Iframe && is_framed(&req, Some(&params)) {
        return probe_redirect(&state, realm, &target);
    }
    start(&state, &req, realm, issuer, &target, popup, Vec::new())
}

/// Starts a sign-in at the IdP (or shows the issuer picker). `extra_cookies` are sent along
/// (cookies being cleared).
pub fn start(
    state: &AppState,
    req: &HttpRequest,
    realm: &RealmRt,
    issuer: Option<usize>,
    return_url: &str,
    popup: bool,
    extra_cookies: Vec<String>,
) -> HttpResponse {
    let issuer = issuer
        .or(realm.default_issuer)
        .or_else(|| (realm.issuers.len() == 1).then(|| realm.issuers[0]));
    let Some(issuer) = issuer else {
        return picker(state, realm, return_url, popup);
    };
    let icfg = &state.config.issuers[issuer];
    let now = state.clock.now();
    let id = random16();
    let st = SignInState {
        id,
        realm: realm.name.clone(),
        issuer: icfg.name.clone(),
        return_url: return_url.to_owned(),
        expires: now + state.config.limits.state_ttl,
        nonce: random16(),
        request_id: if icfg.protocol == Protocol::Saml2 {
            format!("_{}", hex(&id))
        } else {
            String::new()
        },
        popup,
    };
    let Some(sealed) = st.seal(state) else {
        return state.reject(
            req,
            Rejection::new(Reason::StoreUnavailable, "cannot seal the sign-in state"),
        );
    };
    let mut url = state.issuers[issuer].signin_url.clone();
    match icfg.protocol {
        Protocol::WsFed => {
            url.query_pairs_mut()
                .append_pair("wa", "wsignin1.0")
                .append_pair("wtrealm", &realm.realm)
                .append_pair("wreply", &state.url(ACS_WSFED))
                .append_pair("wctx", &sealed)
                .append_pair("wct", &now.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        Protocol::Saml2 => {
            let xml = authn_request(
                &st.request_id,
                now,
                url.as_str(),
                &state.url(ACS_SAML),
                &realm.realm,
            );
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            let deflated = enc
                .write_all(xml.as_bytes())
                .and_then(|_| enc.finish())
                .unwrap_or_default();
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("SAMLRequest", &STANDARD.encode(deflated))
                .append_pair("RelayState", &sealed);
            let mut query = q.finish();
            if icfg.sign_authn_requests
                && let Some(sp) = &state.config.sp_signing
            {
                match redirect_signature(sp, &query) {
                    Ok(signed) => query = signed,
                    Err(e) => {
                        return state.reject(
                            req,
                            Rejection::new(
                                Reason::StoreUnavailable,
                                format!("cannot sign the AuthnRequest: {e}"),
                            ),
                        );
                    }
                }
            }
            // The signed octets are exactly what is sent (SAML bindings §3.4.4.1), after any
            // query the configured sign-in URL already has.
            let full = match url.query() {
                Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
                _ => query,
            };
            url.set_query(Some(&full));
        }
    }
    let attrs = realm.attrs;
    let ttl = state.config.limits.state_ttl.num_seconds();
    let mut b = redirect_to(url.as_str(), StatusCode::FOUND);
    b.append_header((
        "Set-Cookie",
        attrs.set_cross_site(
            &st.cookie_name(&state.config.session.cookie_name),
            &URL_SAFE_NO_PAD.encode(st.nonce),
            ttl,
        ),
    ));
    for c in extra_cookies {
        b.append_header(("Set-Cookie", c));
    }
    realm.frame_headers(&mut b);
    b.finish()
}

/// Appends `SigAlg` and `Signature` to an HTTP-Redirect binding query
/// (`SAMLRequest=…&RelayState=…`), signing `…&SigAlg=…` exactly as it will be sent.
fn redirect_signature(
    sp: &crate::config::SpSigning,
    query: &str,
) -> Result<String, openssl::error::ErrorStack> {
    let key = sp.key.expose();
    let alg = if key.id() == openssl::pkey::Id::EC {
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    } else {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    };
    let mut signed = String::with_capacity(query.len() + 600);
    signed.push_str(query);
    signed.push_str("&SigAlg=");
    signed.extend(url::form_urlencoded::byte_serialize(alg.as_bytes()));
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key)?;
    signer.update(signed.as_bytes())?;
    let sig = signer.sign_to_vec()?;
    signed.push_str("&Signature=");
    signed.extend(url::form_urlencoded::byte_serialize(
        STANDARD.encode(sig).as_bytes(),
    ));
    Ok(signed)
}

/// A SAML 2.0 AuthnRequest (HTTP-Redirect binding; signed by [`redirect_signature`] when the
/// issuer asks for it).
pub fn authn_request(
    id: &str,
    now: DateTime<Utc>,
    destination: &str,
    acs: &str,
    issuer: &str,
) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" AssertionConsumerServiceURL=\"{}\" \
ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>{}</saml:Issuer>\
<samlp:NameIDPolicy AllowCreate=\"true\"/></samlp:AuthnRequest>",
        esc(id),
        now.format("%Y-%m-%dT%H:%M:%SZ"),
        esc(destination),
        esc(acs),
        esc(issuer)
    )
}

fn picker(state: &AppState, realm: &RealmRt, return_url: &str, popup: bool) -> HttpResponse {
    let mut items = String::new();
    for &i in &realm.issuers {
        let c = &state.config.issuers[i];
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        u.append_pair("realm", &realm.name)
            .append_pair("whr", &c.name)
            .append_pair("ru", return_url);
        if popup {
            u.append_pair("popup", "1");
        }
        items.push_str(&format!(
            "<li><a href=\"/signin?{}\">{}</a></li>",
            esc(&u.finish()),
            esc(&c.display_name)
        ));
    }
    let mut b = HttpResponse::Ok();
    b.content_type("text/html; charset=utf-8");
    realm.frame_headers(&mut b);
    b.body(pages::page(
        "Choose how to sign in",
        &format!("<h1>Sign in</h1><p>Choose your organisation:</p><ul>{items}</ul>"),
        None,
    ))
}

fn probe_cookie(state: &AppState) -> String {
    format!("{}-probe", state.config.session.cookie_name)
}

/// Framed sign-in in the iframe profile: first check that the browser keeps our (partitioned)
/// cookies in this frame.
fn probe_redirect(state: &AppState, realm: &RealmRt, return_url: &str) -> HttpResponse {
    let mut u = url::form_urlencoded::Serializer::new(String::new());
    u.append_pair("realm", &realm.name)
        .append_pair("ru", return_url);
    let mut b = redirect_to(&format!("/signin/probe?{}", u.finish()), StatusCode::FOUND);
    b.append_header((
        "Set-Cookie",
        realm.attrs.set_cross_site(&probe_cookie(state), "1", 60),
    ));
    realm.frame_headers(&mut b);
    b.finish()
}

/// `GET /signin/probe?realm=&ru=`: cookies work in this frame → sign in here; otherwise the
/// fallback page (pop-up or new tab). Never redirects to itself, so it cannot loop.
pub async fn probe(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let params = match form::query(&req) {
        Ok(p) => p,
        Err(r) => return state.reject(&req, r),
    };
    let Some(realm) = params.get("realm").and_then(|n| state.realm_by_name(n)) else {
        return state.reject(&req, Rejection::new(Reason::HttpMissingParam, "realm"));
    };
    let target = checked_return(&state, &req, realm, params.get("ru"));
    if params.get("handoff") == Some("1") {
        // Back from a pop-up hand-off: did the frame keep the session it was given?
        return match state.lookup(&req, realm).await {
            Lookup::Found { .. } => redirect_to(&target, StatusCode::SEE_OTHER).finish(),
            _ => {
                state.note(
                    &req,
                    Reason::SessionInvalid,
                    "the framed page kept no cookie, not even the handed-over session: new tab offered",
                );
                kept_nothing_page(realm, &target)
            }
        };
    }
    let name = probe_cookie(&state);
    if matches!(cookies_of(&req).get(&name), Ok(Some(_))) {
        let clear = realm.attrs.set_cross_site(&name, "", 0);
        return start(&state, &req, realm, None, &target, false, vec![clear]);
    }
    state.note(
        &req,
        Reason::SessionInvalid,
        "the framed page cannot keep cookies: fallback offered",
    );
    fallback_page(&state, realm, &target)
}

fn nonce() -> String {
    hex(&random16())
}

fn fallback_page(state: &AppState, realm: &RealmRt, target: &str) -> HttpResponse {
    let mut popup = url::form_urlencoded::Serializer::new(String::new());
    popup
        .append_pair("realm", &realm.name)
        .append_pair("ru", target)
        .append_pair("popup", "1");
    let popup_url = format!("/signin?{}", popup.finish());
    let mut top = url::form_urlencoded::Serializer::new(String::new());
    top.append_pair("realm", &realm.name)
        .append_pair("ru", target);
    let top_url = format!("/signin?{}", top.finish());
    let n = nonce();
    let js = format!(
        "document.getElementById('popup').addEventListener('click',function(){{window.open({},'fedrp_signin','width=520,height=680');}});\
window.addEventListener('message',function(e){{if(e.origin!=={}||!e.data||typeof e.data.fedrp_handoff!=='string')return;\
document.getElementById('code').value=e.data.fedrp_handoff;document.getElementById('h').submit();}});",
        serde_json::Value::String(popup_url)
            .to_string()
            .replace('<', "\\u003c"),
        serde_json::Value::String(state.origin())
            .to_string()
            .replace('<', "\\u003c"),
    );
    let body = format!(
        "<h1>Sign in</h1><p>Your browser does not let this embedded page keep you signed in by itself.</p>\
<p><button id=\"popup\" type=\"button\">Sign in in a pop-up window</button></p>\
<p>Or <a href=\"{}\" target=\"_blank\" rel=\"noopener\">open the application in a new tab</a>.</p>\
<form id=\"h\" method=\"post\" action=\"/signin/handoff\"><input type=\"hidden\" name=\"code\" id=\"code\" value=\"\">\
<input type=\"hidden\" name=\"realm\" value=\"{}\"><input type=\"hidden\" name=\"ru\" value=\"{}\"></form>",
        esc(&top_url),
        esc(&realm.name),
        esc(target)
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", realm.csp(Some(&n), None)))
        .insert_header(("Cache-Control", "no-store"))
        .body(pages::page("Sign in", &body, Some((&n, &js))))
}

/// The end of the framed fallback when the browser keeps no cookie for this site inside the
/// host page: the pop-up signed the user in at top level, so the application opens signed in
/// in a new tab. A page, not a redirect: no loop, and no second pop-up offer that would end the
/// same way.
fn kept_nothing_page(realm: &RealmRt, target: &str) -> HttpResponse {
    let body = format!(
        "<h1>Signed in</h1><p id=\"kept-nothing\">You are signed in, but your browser keeps no cookies for \
this application inside this page, so it cannot be shown here.</p>\
<p><a id=\"new-tab\" href=\"{}\" target=\"_blank\" rel=\"noopener\">Open the application in a new tab</a>.</p>",
        esc(target)
    );
    let mut b = HttpResponse::Ok();
    b.content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"));
    realm.frame_headers(&mut b);
    b.body(pages::page("Signed in", &body, None))
}

/// `POST /signin/handoff` (code, realm, ru): the framed page takes over the session the pop-up
/// created. The code is one-time and lives 60 seconds.
pub async fn handoff(req: HttpRequest, payload: Payload, state: Data<AppState>) -> HttpResponse {
    match handoff_inner(&req, payload, &state).await {
        Ok(r) => r,
        Err(r) => state.reject(&req, r),
    }
}

async fn handoff_inner(
    req: &HttpRequest,
    payload: Payload,
    state: &AppState,
) -> Result<HttpResponse, Rejection> {
    let params = form::read_post(req, payload, 8 * 1024).await?;
    let code = params.require("code")?;
    let realm = state
        .realm_by_name(params.require("realm")?)
        .ok_or_else(|| Rejection::new(Reason::HttpMissingParam, "unknown realm"))?;
    let now = state.clock.now();
    let rec = state
        .store
        .take(&format!("h:{code}"), now)
        .await
        .map_err(|e| Rejection::new(Reason::StoreUnavailable, e.to_string()))?
        .ok_or_else(|| {
            Rejection::new(Reason::WsfCtx, "unknown, used or expired hand-off code")
                .realm(&realm.name)
        })?;
    let Some(crate::session::CookiePayload::Full(session)) = decode_payload(&rec) else {
        return Err(Rejection::new(
            Reason::SessionInvalid,
            "bad hand-off record",
        ));
    };
    if session.realm != realm.name {
        return Err(
            Rejection::new(Reason::SessionScope, "hand-off for another realm").realm(&realm.name),
        );
    }
    let set = state
        .issue(req, realm, &session)
        .await
        .map_err(|r| Rejection::new(r, "cannot issue the session"))?;
    let target = checked_return(state, req, realm, params.get("ru"));
    // Through the probe: it tells a frame that kept the session from one that kept nothing.
    let mut u = url::form_urlencoded::Serializer::new(String::new());
    u.append_pair("realm", &realm.name)
        .append_pair("ru", &target)
        .append_pair("handoff", "1");
    let mut b = redirect_to(
        &format!("/signin/probe?{}", u.finish()),
        StatusCode::SEE_OTHER,
    );
    for c in set {
        b.append_header(("Set-Cookie", c));
    }
    realm.frame_headers(&mut b);
    Ok(b.finish())
}

/// `POST /signin-wsfed`.
pub async fn acs_wsfed(req: HttpRequest, payload: Payload, state: Data<AppState>) -> HttpResponse {
    match acs(&req, payload, &state, Binding::WsFed).await {
        Ok(r) => r,
        Err(r) => state.reject(&req, r),
    }
}

/// `POST /signin-saml`.
pub async fn acs_saml(req: HttpRequest, payload: Payload, state: Data<AppState>) -> HttpResponse {
    match acs(&req, payload, &state, Binding::SamlP).await {
        Ok(r) => r,
        Err(r) => state.reject(&req, r),
    }
}

async fn acs(
    req: &HttpRequest,
    payload: Payload,
    state: &AppState,
    binding: Binding,
) -> Result<HttpResponse, Rejection> {
    let params = form::read_post(req, payload, state.config.limits.max_body_bytes).await?;
    let (token, ctx) = match binding {
        Binding::SamlP => (
            params.require_bytes("SAMLResponse")?,
            params.get("RelayState"),
        ),
        _ => {
            match params.get("wa") {
                Some("wsignin1.0") => {}
                other => {
                    return Err(Rejection::new(
                        Reason::WsfWa,
                        format!("wa = {other:?} on the sign-in endpoint"),
                    ));
                }
            }
            (params.require_bytes("wresult")?, params.get("wctx"))
        }
    };
    let now = state.clock.now();
    let ctx = ctx.filter(|c| !c.is_empty());
    // SAML-P IdP-initiated sign-in (Okta, ADFS, Entra "RelayState" deep links): a RelayState
    // that is a URL or a local path, never one of our states (those are base64url), is the
    // requested target of an unsolicited sign-in. It goes through the return-URL allow-list
    // like any other; nothing else about the sign-in changes.
    let (ctx, relay_target) = match (binding, ctx) {
        (Binding::SamlP, Some(c))
            if c.starts_with('/') || c.starts_with("https://") || c.starts_with("http://") =>
        {
            (None, Some(c))
        }
        (_, c) => (c, None),
    };
    let cookies = cookies_of(req);
    // 1. The sign-in state and its correlation cookie.
    let (realm, st, bound) = match ctx {
        Some(c) => {
            let st = SignInState::open(state, c)?;
            let realm = state
                .realm_by_name(&st.realm)
                .ok_or_else(|| Rejection::new(Reason::WsfCtx, "state for an unknown realm"))?;
            if st.expires <= now {
                return Err(
                    Rejection::new(Reason::WsfCtx, "the sign-in state expired").realm(&realm.name)
                );
            }
            let name = st.cookie_name(&state.config.session.cookie_name);
            let expected = URL_SAFE_NO_PAD.encode(st.nonce);
            // Length first: memcmp::eq compares equal-length inputs only (in constant time).
            let bound = matches!(cookies.get(&name), Ok(Some(v))
                if v.len() == expected.len() && openssl::memcmp::eq(v.as_bytes(), expected.as_bytes()));
            if !bound {
                let allows = state
                    .config
                    .issuer_index(&st.issuer)
                    .is_some_and(|i| state.config.issuers[i].allow_unsolicited);
                if !allows {
                    return Err(Rejection::new(
                        Reason::WsfCtxUnbound,
                        "no matching correlation cookie",
                    )
                    .realm(&realm.name)
                    .issuer(&st.issuer));
                }
            }
            (realm, Some(st), bound)
        }
        None => {
            // Unsolicited: the realm named in the path (`/signin-wsfed/{realm}`), else the default.
            let realm = match req.match_info().get("realm") {
                Some(n) => state.realm_by_name(n).ok_or_else(|| {
                    Rejection::new(
                        Reason::HttpMissingParam,
                        format!("unknown realm {n:?} in the path"),
                    )
                })?,
                None => state.default_realm(),
            };
            if !realm
                .issuers
                .iter()
                .any(|&i| state.config.issuers[i].allow_unsolicited)
            {
                return Err(Rejection::new(
                    Reason::TokUnsolicited,
                    "no sign-in state and no issuer accepts unsolicited sign-ins",
                )
                .realm(&realm.name));
            }
            (realm, None, false)
        }
    };
    // 2. The token, off the executor.
    let validator = match binding {
        Binding::SamlP => {
            let irt = match (&st, bound) {
                (Some(s), true) if !s.request_id.is_empty() => {
                    InResponseTo::Expect(s.request_id.clone())
                }
                _ => InResponseTo::Unsolicited,
            };
            std::sync::Arc::new(realm.saml.with_in_response_to(irt))
        }
        _ => std::sync::Arc::clone(&realm.wsfed),
    };
    let bytes: std::sync::Arc<[u8]> = std::sync::Arc::from(token);
    // The issuers' key generations before validating: an unknown-key failure asks for a
    // metadata refresh only if nothing changed since (see `refresh_for_unknown_key`).
    let generations = state.trust.generations();
    let v = match validate_token(state, &validator, &bytes, binding, now).await? {
        Ok(v) => v,
        Err(e) => {
            if refresh_for_unknown_key(req, state, realm, &e, &generations).await {
                // The issuer's keys changed: this token gets exactly one more try.
                validate_token(state, &validator, &bytes, binding, now)
                    .await?
                    .map_err(|e| Rejection::from(e).realm(&realm.name))?
            } else {
                return Err(Rejection::from(e).realm(&realm.name));
            }
        }
    };
    // W13: the unsigned RSTR Context must echo the posted wctx.
    if binding == Binding::WsFed
        && let (Some(c), Some(rc)) = (ctx, v.rstr_context())
        && c != rc
    {
        return Err(
            Rejection::new(Reason::WsfCtx, "RSTR Context differs from wctx")
                .realm(&realm.name)
                .issuer(v.issuer()),
        );
    }
    // 3. Which issuer, and may it sign in this way.
    let issuer_idx = realm.issuer_of(&v).ok_or_else(|| {
        Rejection::new(Reason::TokIssuer, "issuer not trusted for this realm").realm(&realm.name)
    })?;
    let issuer = &state.config.issuers[issuer_idx];
    if let (Some(s), true) = (&st, bound)
        && s.issuer != issuer.name
    {
        return Err(Rejection::new(
            Reason::TokIssuer,
            format!(
                "sign-in started at {} but {} answered",
                s.issuer, issuer.name
            ),
        )
        .realm(&realm.name)
        .issuer(&issuer.name));
    }
    if !bound && !issuer.allow_unsolicited {
        let reason = if st.is_some() {
            Reason::WsfCtxUnbound
        } else {
            Reason::TokUnsolicited
        };
        return Err(
            Rejection::new(reason, "unsolicited sign-in not allowed for this issuer")
                .realm(&realm.name)
                .issuer(&issuer.name),
        );
    }
    // 4. Replay: the token, then the one-time state. `earliest_use`: the first moment each
    // could have been accepted (a store that lost its records refuses what predates the loss).
    let ctxt = |r: Rejection| r.realm(&realm.name).issuer(&issuer.name);
    let skew = state.config.limits.clock_skew;
    match state
        .replay
        .insert_if_absent(
            &v.replay_key(),
            v.issue_instant() - skew,
            v.replay_until(),
            now,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return Err(ctxt(Rejection::new(
                Reason::TokReplay,
                format!("assertion {} already used", v.assertion_id()),
            )));
        }
        Err(e) => {
            return Err(ctxt(Rejection::new(
                Reason::StoreUnavailable,
                e.to_string(),
            )));
        }
    }
    if let Some(s) = &st {
        match state
            .replay
            .insert_if_absent(
                &format!("wctx\u{1f}{}", hex(&s.id)),
                s.expires - state.config.limits.state_ttl,
                s.expires,
                now,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return Err(ctxt(Rejection::new(
                    Reason::WsfCtx,
                    "sign-in state already used",
                )));
            }
            Err(e) => {
                return Err(ctxt(Rejection::new(
                    Reason::StoreUnavailable,
                    e.to_string(),
                )));
            }
        }
    }
    // 5. Claims → principal → a fresh session.
    let principal =
        super::principal::build(&v, issuer, state.config.limits.max_claims).map_err(ctxt)?;
    let session = Session {
        id: SessionId::random(),
        realm: realm.name.clone(),
        principal,
        issued_at: now,
        last_seen: now,
    };
    let mut set = state
        .issue(req, realm, &session)
        .await
        .map_err(|r| ctxt(Rejection::new(r, "cannot issue the session")))?;
    if let Some(s) = &st {
        set.push(realm.attrs.set_cross_site(
            &s.cookie_name(&state.config.session.cookie_name),
            "",
            0,
        ));
    }
    state.metrics.signin();
    tracing::info!(
        request_id = %super::error::request_id(req),
        realm = %realm.name,
        issuer = %issuer.name,
        fqn = %session.principal.fqn,
        session = %session.id.hex(),
        "signed in"
    );
    if let (Some(s), true) = (&st, bound)
        && s.popup
    {
        return popup_done(state, realm, &session, set, now).await;
    }
    let target = match (&st, bound) {
        (Some(s), true) if !s.return_url.is_empty() => {
            checked_return(state, req, realm, Some(&s.return_url))
        }
        (None, _) => checked_return(state, req, realm, relay_target),
        _ => realm.landing.clone(),
    };
    let mut b = redirect_to(&target, StatusCode::SEE_OTHER);
    for c in set {
        b.append_header(("Set-Cookie", c));
    }
    realm.frame_headers(&mut b);
    Ok(b.finish())
}

/// Validates on the blocking pool, holding one of the bounded validation slots only for the
/// validation itself.
async fn validate_token(
    state: &AppState,
    validator: &std::sync::Arc<crate::token::Validator>,
    bytes: &std::sync::Arc<[u8]>,
    binding: Binding,
    now: DateTime<Utc>,
) -> Result<Result<crate::token::ValidatedAssertion, crate::token::TokenError>, Rejection> {
    // A bounded number of validations run at once; the rest wait here, not in the pool.
    let _slot = state
        .validation_slots
        .acquire()
        .await
        .map_err(|_| Rejection::new(Reason::StoreUnavailable, "validation slots closed"))?;
    let (validator, bytes) = (
        std::sync::Arc::clone(validator),
        std::sync::Arc::clone(bytes),
    );
    let t0 = Instant::now();
    let result = web::block(move || validator.validate(&bytes, binding, now)).await;
    state.metrics.validation(t0.elapsed());
    result.map_err(|e| Rejection::new(Reason::StoreUnavailable, format!("validation pool: {e}")))
}

/// A token that failed only because its signing key is unknown: logs the token's key against
/// the trusted ones and, when the issuer it names has metadata, asks for an on-demand refresh
/// (rate-limited, coalesced). True when the keys changed and the token should be tried again.
async fn refresh_for_unknown_key(
    req: &HttpRequest,
    state: &AppState,
    realm: &RealmRt,
    e: &crate::token::TokenError,
    generations: &[u64],
) -> bool {
    let Some(uk) = e.unknown_signing_key() else {
        return false;
    };
    let token_key = match &uk.token_key {
        Some(k) => format!(
            "SHA-256 {}{}{}",
            k.sha256,
            k.sha1
                .as_deref()
                .map(|s| format!(", SHA-1 {s}"))
                .unwrap_or_default(),
            k.subject
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        ),
        None => "(KeyInfo names no key)".to_owned(),
    };
    let hint = uk.issuer_hint.as_deref().unwrap_or_default();
    let rid = super::error::request_id(req);
    let Some(k) = state.trust.refreshable(&realm.issuers, hint) else {
        tracing::warn!(
            request_id = %rid,
            realm = %realm.name,
            token_issuer = %hint,
            token_key = %token_key,
            trusted = ?uk.trusted,
            "unknown signing key; no issuer of this realm with that entity ID has metadata to refresh"
        );
        return false;
    };
    let seen = generations.get(k).copied().unwrap_or_default();
    let outcome = state.trust.on_demand(k, seen).await;
    tracing::warn!(
        request_id = %rid,
        realm = %realm.name,
        issuer = %state.config.issuers[k].name,
        token_key = %token_key,
        trusted = ?uk.trusted,
        outcome = ?outcome,
        "unknown signing key: on-demand metadata refresh"
    );
    outcome == crate::refresh::OnDemand::Retry
}

/// The pop-up's last page: hands a one-time code to the framed page that opened it, then
/// closes.
async fn popup_done(
    state: &AppState,
    realm: &RealmRt,
    session: &Session,
    set: Vec<String>,
    now: DateTime<Utc>,
) -> Result<HttpResponse, Rejection> {
    let code = hex(&random16());
    state
        .store
        .put(
            &format!("h:{code}"),
            encode_session(session),
            now + Duration::seconds(HANDOFF_SECS),
            now,
        )
        .await
        .map_err(|e| Rejection::new(Reason::StoreUnavailable, e.to_string()))?;
    let n = nonce();
    let js = format!(
        "(function(){{if(window.opener){{window.opener.postMessage({{fedrp_handoff:{}}},{});}}window.close();}})();",
        serde_json::Value::String(code),
        serde_json::Value::String(state.origin())
            .to_string()
            .replace('<', "\\u003c"),
    );
    let mut b = HttpResponse::Ok();
    b.content_type("text/html; charset=utf-8");
    b.insert_header(("Content-Security-Policy", realm.csp(Some(&n), None)));
    for c in set {
        b.append_header(("Set-Cookie", c));
    }
    Ok(b.body(pages::page(
        "Signed in",
        "<p>Signed in. You can close this window.</p>",
        Some((&n, &js)),
    )))
}

/// A protected page: the session's page, or the start of a sign-in.
pub async fn protected(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    if !matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) {
        return HttpResponse::NotFound().finish();
    }
    let Some(realm) = state.realm_for_path(req.path()) else {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("not found");
    };
    let mut clear = Vec::new();
    let mut reason = None;
    match state.lookup(&req, realm).await {
        Lookup::Found {
            session,
            set_cookies,
        } => {
            let mut b = HttpResponse::Ok();
            b.content_type("text/html; charset=utf-8");
            realm.frame_headers(&mut b);
            for c in set_cookies {
                b.append_header(("Set-Cookie", c));
            }
            return b.body(session_page(&session));
        }
        Lookup::None => {}
        Lookup::Refused(Reason::StoreUnavailable) => {
            return state.reject(
                &req,
                Rejection::new(Reason::StoreUnavailable, "session store").realm(&realm.name),
            );
        }
        Lookup::Refused(r) => {
            state.note(&req, r, "session cookie refused; signing in again");
            let present = cookies_of(&req).names_with_prefix(&realm.cookie_name);
            clear = state
                .sessions
                .clear(&realm.cookie_name, realm.attrs, &present);
            reason = Some(r);
        }
    }
    let mut ru = req.path().to_owned();
    if !req.query_string().is_empty() {
        ru.push('?');
        ru.push_str(req.query_string());
    }
    let target = checked_return(&state, &req, realm, Some(&ru));
    let mut resp = if realm.profile == Profile::Iframe && is_framed(&req, None) {
        probe_redirect(&state, realm, &target)
    } else {
        start(&state, &req, realm, None, &target, false, Vec::new())
    };
    for c in clear {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&c) {
            resp.headers_mut()
                .append(actix_web::http::header::SET_COOKIE, v);
        }
    }
    if let (Some(r), true) = (reason, state.config.server.expose_reason_header)
        && let Ok(v) = actix_web::http::header::HeaderValue::from_str(r.code())
    {
        resp.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-fedrp-reason"),
            v,
        );
    }
    resp
}

fn session_page(s: &Session) -> String {
    let p = &s.principal;
    let mut rows = String::new();
    for (t, v) in &p.claims {
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(t),
            esc(v)
        ));
    }
    let groups = if p.groups.is_empty() {
        "(none)".to_owned()
    } else {
        esc(&p.groups.join(", "))
    };
    pages::page(
        "Signed in",
        &format!(
            "<h1>Signed in as <span id=\"fqn\">{}</span></h1><p>Issuer: {} ({})<br>Groups: {}</p>\
<p><a href=\"/me\">/me</a> · <a href=\"/signout\">Sign out</a></p><table>{rows}</table>",
            esc(&p.fqn),
            esc(&p.issuer_name),
            esc(&p.issuer),
            groups
        ),
        None,
    )
}
