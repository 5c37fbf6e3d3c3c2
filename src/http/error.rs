//! Rejections: a stable [`Reason`] plus detail for the log. The browser sees the generic page
//! with a request id, the status from [`Reason::http_status`], `Cache-Control: no-store`, and —
//! only when `server.expose_reason_header` is on — `X-Fedrp-Reason`.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use super::headers::RequestId;
use super::state::AppState;
use crate::Reason;

/// A request refused for `reason`.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// Stable code.
    pub reason: Reason,
    /// Detail for the log (never shown).
    pub detail: String,
    /// Realm context, when known.
    pub realm: Option<String>,
    /// Issuer context, when known.
    pub issuer: Option<String>,
}

impl Rejection {
    /// A rejection.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            detail: detail.into(),
            realm: None,
            issuer: None,
        }
    }
    /// With realm context.
    pub fn realm(mut self, realm: &str) -> Rejection {
        self.realm = Some(realm.to_owned());
        self
    }
    /// With issuer context (when not already set).
    pub fn issuer(mut self, issuer: &str) -> Rejection {
        if self.issuer.is_none() {
            self.issuer = Some(issuer.to_owned());
        }
        self
    }
}

impl From<crate::token::TokenError> for Rejection {
    fn from(e: crate::token::TokenError) -> Rejection {
        Rejection::new(e.reason, e.message)
    }
}

/// The request id assigned by the headers middleware.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "-".into())
}

impl AppState {
    /// Logs and counts `rej`, and renders the generic error page.
    pub fn reject(&self, req: &HttpRequest, rej: Rejection) -> HttpResponse {
        let rid = request_id(req);
        tracing::warn!(
            reason = rej.reason.code(),
            request_id = %rid,
            realm = rej.realm.as_deref().unwrap_or("-"),
            issuer = rej.issuer.as_deref().unwrap_or("-"),
            path = req.path(),
            detail = %rej.detail,
            "request rejected"
        );
        self.metrics.rejection(rej.reason);
        let status =
            StatusCode::from_u16(rej.reason.http_status()).unwrap_or(StatusCode::FORBIDDEN);
        let mut b = HttpResponse::build(status);
        b.insert_header(("Cache-Control", "no-store"));
        b.content_type("text/html; charset=utf-8");
        if rej.reason == Reason::HttpMethod {
            b.insert_header(("Allow", "POST"));
        }
        if self.config.server.expose_reason_header {
            b.insert_header(("X-Fedrp-Reason", rej.reason.code()));
        }
        if let Some(r) = rej.realm.as_deref().and_then(|n| self.realm_by_name(n)) {
            r.frame_headers(&mut b);
        }
        b.body(super::pages::error(&rid))
    }

    /// Logs and counts a condition that is not an error page (a fallback, a cleared cookie).
    pub fn note(&self, req: &HttpRequest, reason: Reason, detail: &str) {
        tracing::info!(reason = reason.code(), request_id = %request_id(req), path = req.path(), detail, "noted");
        self.metrics.rejection(reason);
    }
}
