//! Sign-out: `GET|POST /signout` (wsignout1.0: end the session here, then at the IdP),
//! `GET|POST /signout-cleanup` and `wa=wsignoutcleanup1.0` on the WS-Fed endpoint (end the
//! session, delete every chunk, answer with the image IdPs embed), `GET /signed-out`.
//! A `wreply` on these requests is never followed (catalogue R12, W19).

use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};

use super::error::Rejection;
use super::form;
use super::pages;
use super::state::AppState;
use crate::Reason;

/// A transparent 1×1 GIF, the answer IdPs expect from `wsignoutcleanup1.0`.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Ends the sessions of every realm in the request; returns the issuer to sign out at and the
/// `Set-Cookie` deletions. `cleanup`: a `wsignoutcleanup1.0`, which may name the session by its
/// sign-out handle alone.
async fn end_all(
    state: &AppState,
    req: &HttpRequest,
    cleanup: bool,
) -> Result<(Option<usize>, Vec<String>), Rejection> {
    let mut cookies = Vec::new();
    let mut issuer = None;
    let mut ended = false;
    for realm in &state.realms {
        let e = state
            .end_session(req, realm, cleanup)
            .await
            .map_err(|r| Rejection::new(r, "cannot revoke the session").realm(&realm.name))?;
        if let Some(s) = &e.session {
            issuer = issuer.or_else(|| state.config.issuer_index(&s.principal.issuer_name));
        }
        if let Some(id) = &e.id {
            ended = true;
            let how = if e.session.is_some() {
                "session cookie"
            } else {
                "sign-out handle"
            };
            tracing::info!(request_id = %super::error::request_id(req), realm = %realm.name, session = %id, named_by = how, "signed out");
        }
        cookies.extend(e.cookies);
    }
    if ended {
        state.metrics.signout();
    }
    Ok((issuer, cookies))
}

fn ignore_wreply(state: &AppState, req: &HttpRequest) {
    if let Ok(p) = form::query(req)
        && p.get("wreply").is_some()
    {
        state.note(
            req,
            Reason::RedirectNotAllowed,
            "wreply on a sign-out request is ignored",
        );
    }
}

/// `GET|POST /signout` and `wa=wsignout1.0`.
pub async fn signout(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    ignore_wreply(&state, &req);
    let (issuer, cookies) = match end_all(&state, &req, false).await {
        Ok(x) => x,
        Err(r) => return state.reject(&req, r),
    };
    let location = match issuer {
        Some(i) if state.config.issuers[i].protocol == crate::config::Protocol::WsFed => {
            let mut u = state.issuers[i].signout_url.clone();
            u.query_pairs_mut()
                .append_pair("wa", "wsignout1.0")
                .append_pair("wtrealm", &state.default_realm().realm)
                .append_pair("wreply", &state.url("/signed-out"));
            u.to_string()
        }
        // A SAML 2.0 IdP does not speak wsignout1.0 and fedrp sends no SAML LogoutRequest: the
        // operator's explicit sign-out page, as it is, or fedrp's own.
        Some(i) if state.config.issuers[i].signout_url.is_some() => {
            state.issuers[i].signout_url.to_string()
        }
        _ => "/signed-out".to_owned(),
    };
    let mut b = HttpResponse::Found();
    b.insert_header(("Location", location));
    for c in cookies {
        b.append_header(("Set-Cookie", c));
    }
    b.finish()
}

/// `GET|POST /signout-cleanup` and `wa=wsignoutcleanup1.0`: clear everything, answer 200
/// with an image (IdPs load it in an `<img>`); never redirect.
pub async fn cleanup(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    ignore_wreply(&state, &req);
    let (_, cookies) = match end_all(&state, &req, true).await {
        Ok(x) => x,
        Err(r) => return state.reject(&req, r),
    };
    let mut b = HttpResponse::Ok();
    b.content_type("image/gif");
    for c in cookies {
        b.append_header(("Set-Cookie", c));
    }
    b.body(PIXEL)
}

/// `GET /signed-out`.
pub async fn signed_out(state: Data<AppState>) -> HttpResponse {
    let landing = pages::esc(&state.default_realm().landing);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(pages::page(
            "Signed out",
            &format!("<h1>You are signed out</h1><p><a href=\"{landing}\">Sign in again</a></p>"),
            None,
        ))
}

/// `GET /signin-wsfed`: tokens never travel in URLs (`http.method`); the WS-Fed sign-out
/// actions IdPs send to the RP's endpoint are honoured.
pub async fn wsfed_get(req: HttpRequest, state: Data<AppState>, _payload: Payload) -> HttpResponse {
    let params = match form::query(&req) {
        Ok(p) => p,
        Err(r) => return state.reject(&req, r),
    };
    match params.get("wa") {
        Some("wsignoutcleanup1.0") if params.get("wresult").is_none() => cleanup(req, state).await,
        Some("wsignout1.0") if params.get("wresult").is_none() => signout(req, state).await,
        _ => state.reject(
            &req,
            Rejection::new(Reason::HttpMethod, "GET on the sign-in endpoint"),
        ),
    }
}
