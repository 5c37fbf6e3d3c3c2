//! The development IdP: a WS-Fed sign-in page where you pick a test user, claims and the SAML
//! version, and which posts back a token signed with `certs/dev-idp.key` through libxmlsec1.
//! Its tokens go through the normal validation path (the RP trusts its certificate like any
//! issuer's); nothing in fedrp special-cases them.
//!
//! Off unless `[dev_idp] enabled = true`; every start logs a loud warning. It only answers to
//! `wreply` URLs on the relying party's own origin, so it cannot be used to mint tokens for
//! other sites.

pub mod metadata;
pub mod token;

use std::sync::Arc;

use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use crate::config::{CLAIM_ROLE, CLAIM_WINDOWS_ACCOUNT_NAME, Config, DevIdpConfig, DevUser};
use crate::http::clock::Clock;
use crate::http::pages::{self, esc};
use token::TokenSpec;

/// Claim types the development IdP issues.
pub const CLAIM_UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
/// Display name.
pub const CLAIM_NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
/// E-mail.
pub const CLAIM_EMAIL: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";

/// The running development IdP.
pub struct DevIdp {
    entity_id: String,
    key: PKey<Private>,
    cert: X509,
    path: String,
    users: Vec<DevUser>,
    lifetime: Duration,
    saml20_default: bool,
    reply_origins: Vec<String>,
    realms: Vec<String>,
    clock: Arc<dyn Clock>,
}

/// The loud warning.
pub const WARNING: &str =
    "DEVELOPMENT IdP ENABLED: it signs tokens for anyone who asks. Never enable it in production.";

impl DevIdp {
    /// From configuration. `reply_origins`: where it may post tokens (the RP's origin).
    pub fn new(
        d: &DevIdpConfig,
        config: &Config,
        reply_origins: Vec<String>,
        clock: Arc<dyn Clock>,
    ) -> Result<DevIdp, String> {
        tracing::warn!("{WARNING}");
        if d.ephemeral {
            tracing::warn!(
                "development IdP: certs/dev-idp.key not found, signing with an ephemeral key"
            );
        }
        Ok(DevIdp {
            entity_id: d.entity_id.clone(),
            key: d.key.expose().clone(),
            cert: d.cert.clone(),
            path: d.path.clone(),
            users: d.users.clone(),
            lifetime: d.token_lifetime,
            saml20_default: d.saml20_default,
            reply_origins,
            realms: config.realms.iter().map(|r| r.realm.clone()).collect(),
            clock,
        })
    }

    /// The claims the IdP issues for `user`, with `groups` chosen on the page.
    pub fn claims_for(&self, user: &DevUser, groups: &[String]) -> Vec<(String, String)> {
        let mut c = vec![
            (CLAIM_WINDOWS_ACCOUNT_NAME.to_owned(), user.login.clone()),
            (CLAIM_UPN.to_owned(), user.upn.clone()),
            (CLAIM_NAME.to_owned(), user.display_name.clone()),
            (CLAIM_EMAIL.to_owned(), user.email.clone()),
        ];
        c.extend(groups.iter().map(|g| (CLAIM_ROLE.to_owned(), g.clone())));
        c
    }

    /// A signed `wresult` (RSTR) for `user`.
    pub fn wresult(
        &self,
        user: &DevUser,
        claims: Vec<(String, String)>,
        realm: &str,
        saml20: bool,
        context: Option<&str>,
    ) -> Result<String, String> {
        let now = self.clock.now();
        let spec = TokenSpec {
            issuer: self.entity_id.clone(),
            audience: realm.to_owned(),
            name_id: user.upn.clone(),
            claims,
            issue_instant: now,
            not_before: now - Duration::minutes(1),
            not_on_or_after: now + self.lifetime,
            saml20,
            assertion_id: token::new_id(),
            recipient: None,
            in_response_to: None,
        };
        let a = token::signed_assertion(&spec, &self.key, &self.cert)?;
        Ok(token::rstr(&a, &spec, context))
    }

    fn reply_allowed(&self, wreply: &str) -> bool {
        url::Url::parse(wreply).is_ok_and(|u| {
            self.reply_origins
                .contains(&u.origin().ascii_serialization())
        })
    }
}

fn params(data: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(data).into_owned().collect()
}

fn one<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

/// The IdP pages' CSP: forms post to the IdP itself and, for the auto-post, to `also`.
fn csp(also: &str, nonce: Option<&str>) -> String {
    let script = nonce
        .map(|n| format!(" script-src 'nonce-{n}';"))
        .unwrap_or_default();
    let form = if also.is_empty() {
        String::new()
    } else {
        format!(" {also}")
    };
    format!(
        "default-src 'none';{script} style-src {}; form-action 'self'{form}; base-uri 'none'; frame-ancestors 'self'",
        crate::http::pages::style_src()
    )
}

fn html(status: actix_web::http::StatusCode, csp_value: String, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", csp_value))
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

fn refuse(msg: &str) -> HttpResponse {
    html(
        actix_web::http::StatusCode::BAD_REQUEST,
        csp("", None),
        pages::page(
            "Development IdP",
            &format!("<h1>Development IdP</h1><p>{}</p>", esc(msg)),
            None,
        ),
    )
}

const BANNER: &str = "<p class=\"warn\"><strong>Development IdP.</strong> It signs tokens for anyone who asks. \
Never enable it in production.</p>";

/// `GET {path}/wsfed`: the sign-in page (`wa=wsignin1.0`) or the sign-out page.
async fn wsfed_get(req: HttpRequest, idp: Data<Arc<DevIdp>>) -> HttpResponse {
    let p = params(req.query_string().as_bytes());
    let wreply = one(&p, "wreply").unwrap_or("");
    match one(&p, "wa") {
        Some("wsignin1.0") => {}
        Some("wsignout1.0") | Some("wsignoutcleanup1.0") => {
            let back = if idp.reply_allowed(wreply) {
                format!(
                    "<p><a href=\"{}\">Back to the application</a></p>",
                    esc(wreply)
                )
            } else {
                String::new()
            };
            return html(
                actix_web::http::StatusCode::OK,
                csp("", None),
                pages::page(
                    "Signed out",
                    &format!("{BANNER}<h1>Signed out of the development IdP</h1>{back}"),
                    None,
                ),
            );
        }
        _ => return refuse("Expected wa=wsignin1.0."),
    }
    let realm = one(&p, "wtrealm").unwrap_or("");
    if !idp.reply_allowed(wreply) {
        return refuse("wreply is not on the relying party's origin.");
    }
    if !idp.realms.iter().any(|r| r == realm) {
        return refuse("Unknown wtrealm.");
    }
    let mut users = String::new();
    for (i, u) in idp.users.iter().enumerate() {
        let checked = if i == 0 { " checked" } else { "" };
        let groups: String = u
            .groups
            .iter()
            .map(|g| {
                format!(
                    "<label><input type=\"checkbox\" name=\"group.{i}\" value=\"{}\" checked> {}</label> ",
                    esc(g),
                    esc(g)
                )
            })
            .collect();
        users.push_str(&format!(
            "<tr><td><label><input type=\"radio\" name=\"user\" value=\"{i}\"{checked}> <strong>{}</strong></label><br><small>{} · {}</small></td><td>{groups}</td></tr>",
            esc(&u.login),
            esc(&u.display_name),
            esc(&u.upn)
        ));
    }
    let (c11, c20) = if idp.saml20_default {
        ("", " checked")
    } else {
        (" checked", "")
    };
    let hidden: String = [
        ("wtrealm", realm),
        ("wreply", wreply),
        ("wctx", one(&p, "wctx").unwrap_or("")),
    ]
    .iter()
    .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    .collect();
    let body = format!(
        "{BANNER}<h1>Sign in (development IdP)</h1><form method=\"post\" action=\"{}/wsfed\">{hidden}\
<table><tr><th>Test user</th><th>Group claims</th></tr>{users}</table>\
<p>Extra claims, one <code>type=value</code> per line:<br><textarea name=\"extra\" rows=\"3\" cols=\"60\"></textarea></p>\
<p>Token: <label><input type=\"radio\" name=\"saml\" value=\"1.1\"{c11}> SAML 1.1</label> \
<label><input type=\"radio\" name=\"saml\" value=\"2.0\"{c20}> SAML 2.0</label></p>\
<p><button type=\"submit\">Sign in</button></p></form><p><small>Issuer {}</small></p>",
        esc(&idp.path),
        esc(&idp.entity_id)
    );
    html(
        actix_web::http::StatusCode::OK,
        csp("", None),
        pages::page("Sign in — development IdP", &body, None),
    )
}

/// `POST {path}/wsfed`: issue the token and post it to `wreply`.
async fn wsfed_post(body: web::Bytes, idp: Data<Arc<DevIdp>>) -> HttpResponse {
    if body.len() > 64 * 1024 {
        return refuse("Form too large.");
    }
    let p = params(&body);
    let wreply = one(&p, "wreply").unwrap_or("");
    let realm = one(&p, "wtrealm").unwrap_or("");
    if !idp.reply_allowed(wreply) || !idp.realms.iter().any(|r| r == realm) {
        return refuse("wreply or wtrealm not allowed.");
    }
    let Some((i, user)) = one(&p, "user")
        .and_then(|u| u.parse::<usize>().ok())
        .and_then(|i| idp.users.get(i).map(|u| (i, u)))
    else {
        return refuse("Pick a test user.");
    };
    let key = format!("group.{i}");
    let groups: Vec<String> = p
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
        .collect();
    let mut claims = idp.claims_for(user, &groups);
    for line in one(&p, "extra").unwrap_or("").lines() {
        if let Some((t, v)) = line.split_once('=')
            && !t.trim().is_empty()
        {
            claims.push((t.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let saml20 = one(&p, "saml") == Some("2.0");
    let wctx = one(&p, "wctx").filter(|c| !c.is_empty());
    let wresult = match idp.wresult(user, claims, realm, saml20, wctx) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "development IdP: signing failed");
            return refuse("Signing failed; see the server log.");
        }
    };
    let mut fields = vec![("wa", "wsignin1.0"), ("wresult", wresult.as_str())];
    if let Some(c) = wctx {
        fields.push(("wctx", c));
    }
    let n = format!("{:x}", rand_u64());
    let origin = url::Url::parse(wreply)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    html(
        actix_web::http::StatusCode::OK,
        csp(&origin, Some(&n)),
        pages::auto_post(wreply, &fields, &n),
    )
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = openssl::rand::rand_bytes(&mut b);
    u64::from_le_bytes(b)
}

/// `GET {path}/certificate.pem`: the signing certificate (to trust it elsewhere).
async fn certificate(idp: Data<Arc<DevIdp>>) -> HttpResponse {
    match idp.cert.to_pem() {
        Ok(pem) => HttpResponse::Ok()
            .content_type("application/x-pem-file")
            .body(pem),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Registers the development IdP's routes under its path.
pub fn routes(cfg: &mut web::ServiceConfig, idp: Arc<DevIdp>) {
    let path = idp.path.clone();
    cfg.service(
        web::scope(&path)
            .app_data(Data::new(idp))
            .route("/wsfed", web::get().to(wsfed_get))
            .route("/wsfed", web::post().to(wsfed_post))
            .route("/certificate.pem", web::get().to(certificate)),
    );
}

/// Runs the development IdP alone on `dev_idp.listen` (`fedrp dev-idp`); it posts tokens to
/// the configured relying party's origin.
pub async fn run_standalone(config: Config) -> Result<(), String> {
    let d = config
        .dev_idp
        .as_ref()
        .ok_or("the development IdP is not enabled ([dev_idp] enabled = true)")?;
    let listen = d.listen.clone();
    let rp = match &config.server.public_url {
        Some(u) => u.origin().ascii_serialization(),
        None => {
            let port = config.server.listen.rsplit(':').next().unwrap_or("8080");
            format!("http://localhost:{port}")
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(crate::http::SystemClock);
    let idp = Arc::new(DevIdp::new(d, &config, vec![rp.clone()], clock)?);
    let path = idp.path.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(
                crate::http::headers::security_headers,
            ))
            .configure(|c| routes(c, idp.clone()))
    })
    .bind(&listen)
    .map_err(|e| format!("bind {listen}: {e}"))?;
    eprintln!("development IdP on http://{listen}{path}/wsfed (posting tokens to {rp})");
    server.run().await.map_err(|e| e.to_string())
}
