//! `GET /me`, `GET /auth` (nginx `auth_request`), RP federation metadata, `/healthz`,
//! `/healthz/trust`, `/readyz`, `/metrics`.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use chrono::SecondsFormat;
use serde_json::json;

use super::error::Rejection;
use super::form;
use super::pages::esc;
use super::state::{ACS_SAML, ACS_WSFED, AppState, Lookup, RealmRt};
use crate::Reason;
use crate::session::cookie::Cookies;

fn realm_of<'a>(state: &'a AppState, req: &HttpRequest) -> &'a RealmRt {
    if let Ok(p) = form::query(req)
        && let Some(r) = p.get("realm").and_then(|n| state.realm_by_name(n))
    {
        return r;
    }
    let original = req
        .headers()
        .get("x-original-uri")
        .and_then(|v| v.to_str().ok());
    original
        .and_then(|u| state.realm_for_path(u.split('?').next().unwrap_or(u)))
        .unwrap_or_else(|| state.default_realm())
}

fn unauthorized(
    state: &AppState,
    req: &HttpRequest,
    realm: &RealmRt,
    refused: Option<Reason>,
) -> HttpResponse {
    let mut b = HttpResponse::Unauthorized();
    b.content_type("application/json");
    if let Some(r) = refused {
        state.note(req, r, "session cookie refused");
        let cookies = Cookies::parse(
            req.headers()
                .get_all("cookie")
                .filter_map(|v| v.to_str().ok()),
        );
        for c in state.sessions.clear(
            &realm.cookie_name,
            realm.attrs,
            &cookies.names_with_prefix(&realm.cookie_name),
        ) {
            b.append_header(("Set-Cookie", c));
        }
        if state.config.server.expose_reason_header {
            b.insert_header(("X-Fedrp-Reason", r.code()));
        }
    }
    b.body(json!({"error": "not signed in"}).to_string())
}

/// `GET /me`: the principal as JSON.
pub async fn me(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let realm = realm_of(&state, &req);
    match state.lookup(&req, realm).await {
        Lookup::Found {
            session,
            set_cookies,
        } => {
            let p = &session.principal;
            let idle = session.last_seen + state.config.session.idle_timeout;
            let absolute = session.issued_at + state.config.session.absolute_timeout;
            let t = |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
            let claims: Vec<serde_json::Value> = p
                .claims
                .iter()
                .map(|(k, v)| json!({"type": k, "value": v}))
                .collect();
            let body = json!({
                "fqn": p.fqn,
                "name": p.name,
                "groups": p.groups,
                "claims": claims,
                "issuer": p.issuer,
                "issuer_name": p.issuer_name,
                "realm": session.realm,
                "authn_instant": p.authn_instant.map(t),
                "signed_in_at": t(session.issued_at),
                "expires_at": t(idle.min(absolute)),
            });
            let mut b = HttpResponse::Ok();
            b.content_type("application/json");
            for c in set_cookies {
                b.append_header(("Set-Cookie", c));
            }
            b.body(body.to_string())
        }
        Lookup::None => unauthorized(&state, &req, realm, None),
        Lookup::Refused(Reason::StoreUnavailable) => state.reject(
            &req,
            Rejection::new(Reason::StoreUnavailable, "session store").realm(&realm.name),
        ),
        Lookup::Refused(r) => unauthorized(&state, &req, realm, Some(r)),
    }
}

fn header_safe(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace("%5C", "\\")
        .replace("%3A", ":")
}

/// `GET /auth`: 204 with `X-Fedrp-Fqn`, `X-Fedrp-Name`, `X-Fedrp-Issuer`, `X-Fedrp-Groups`
/// (each group percent-encoded, comma-separated) for a session, 401 otherwise.
pub async fn auth(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let realm = realm_of(&state, &req);
    match state.lookup(&req, realm).await {
        Lookup::Found {
            session,
            set_cookies,
        } => {
            let p = &session.principal;
            let groups: Vec<String> = p.groups.iter().map(|g| header_safe(g)).collect();
            let mut b = HttpResponse::NoContent();
            b.insert_header(("X-Fedrp-Fqn", header_safe(&p.fqn)));
            b.insert_header(("X-Fedrp-Name", header_safe(&p.name)));
            b.insert_header(("X-Fedrp-Issuer", header_safe(&p.issuer)));
            b.insert_header(("X-Fedrp-Groups", groups.join(",")));
            for c in set_cookies {
                b.append_header(("Set-Cookie", c));
            }
            b.finish()
        }
        Lookup::None => unauthorized(&state, &req, realm, None),
        Lookup::Refused(Reason::StoreUnavailable) => state.reject(
            &req,
            Rejection::new(Reason::StoreUnavailable, "session store").realm(&realm.name),
        ),
        Lookup::Refused(r) => unauthorized(&state, &req, realm, Some(r)),
    }
}

/// `GET /FederationMetadata/2007-06/FederationMetadata.xml[?realm=]`: WS-Fed
/// `ApplicationServiceType` plus a SAML 2.0 `SPSSODescriptor`, unsigned.
pub async fn metadata(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let realm = realm_of(&state, &req);
    let entity = esc(&realm.realm);
    let wsfed = esc(&state.url(ACS_WSFED));
    let saml = esc(&state.url(ACS_SAML));
    // With [sp_signing], AuthnRequests may be signed: say so and publish the key.
    let (signed, key_descriptor) = match &state.config.sp_signing {
        Some(sp) => {
            let der = sp.cert.to_der().unwrap_or_default();
            (
                "true",
                format!(
                    "\n    <md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der)
                ),
            )
        }
        None => ("false", String::new()),
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" entityID="{entity}">
  <md:RoleDescriptor xsi:type="fed:ApplicationServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706">
    <fed:TargetScopes><wsa:EndpointReference><wsa:Address>{entity}</wsa:Address></wsa:EndpointReference></fed:TargetScopes>
    <fed:PassiveRequestorEndpoint><wsa:EndpointReference><wsa:Address>{wsfed}</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint>
  </md:RoleDescriptor>
  <md:SPSSODescriptor AuthnRequestsSigned="{signed}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key_descriptor}
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{saml}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#
    );
    HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(xml)
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// `GET /healthz/trust`: per issuer, the trust state as JSON (metadata source, the trusted
/// document, last / next refresh, last error, key thumbprints and expiry). 200 while every issuer
/// trusts at least one key, 503 otherwise.
pub async fn trust(state: Data<AppState>) -> HttpResponse {
    let mut b = if state.trust.all_trusted() {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    b.content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .body(state.trust.status_json().to_string())
}

/// `GET /readyz`: the stores answer.
pub async fn readyz(state: Data<AppState>) -> HttpResponse {
    let now = state.clock.now();
    match state.store.is_revoked("readyz-probe", now).await {
        Ok(_) => HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("session store unavailable\n"),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    let active = state.store.active_sessions(state.clock.now());
    let mut body = state.metrics.render(active);
    body.push_str(&state.trust.render_metrics());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
