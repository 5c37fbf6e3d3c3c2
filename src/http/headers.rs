//! The middleware every response passes: a request id (`X-Request-Id`, also in logs and on the
//! error page) and the security headers — `X-Content-Type-Options`, `Referrer-Policy`, a default
//! CSP that forbids framing (with `X-Frame-Options: DENY`) unless the handler set a realm's
//! `frame-ancestors`, `Cache-Control: no-store` unless the handler chose otherwise, and HSTS on
//! HTTPS deployments.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The id of the current request.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

static COUNTER: AtomicU64 = AtomicU64::new(0);
static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn next_id() -> String {
    let prefix = PREFIX.get_or_init(|| {
        let mut b = [0u8; 4];
        let _ = openssl::rand::rand_bytes(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    });
    format!("{prefix}-{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let hsts = req
        .app_data::<actix_web::web::Data<super::state::AppState>>()
        .is_some_and(|s| s.hsts);
    let id = next_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let set = |h: &mut actix_web::http::header::HeaderMap, k: &'static str, v: &str| {
        if !h.contains_key(k)
            && let Ok(v) = HeaderValue::from_str(v)
        {
            h.insert(HeaderName::from_static(k), v);
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    if !h.contains_key("content-security-policy") {
        set(h, "content-security-policy", super::pages::default_csp());
        set(h, "x-frame-options", "DENY");
    }
    set(h, "cache-control", "no-store");
    if hsts {
        set(
            h,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    Ok(res)
}
