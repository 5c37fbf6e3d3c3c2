//! The HTML fedrp shows: small, self-contained, no external resources. Every dynamic value
//! goes through [`esc`].

/// HTML-escapes text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}\
code,pre{background:#f4f4f4;padding:.1rem .3rem}table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #ddd;vertical-align:top;word-break:break-all}\
.warn{background:#fff3cd;border:1px solid #e0c060;padding:.6rem}button,.button{font-size:1rem;padding:.4rem .9rem}";

/// The CSP source allowing the pages' one inline `<style>` (its SHA-256 hash; no inline style
/// from anywhere else).
pub fn style_src() -> &'static str {
    static SRC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SRC.get_or_init(|| {
        use base64::Engine as _;
        let digest = openssl::hash::hash(openssl::hash::MessageDigest::sha256(), STYLE.as_bytes())
            .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
            .unwrap_or_default();
        format!("'sha256-{digest}'")
    })
}

/// The default CSP: nothing loads but the pages' style, no framing.
pub fn default_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            style_src()
        )
    })
}

/// A complete page. `nonce` allows the page's inline script (CSP `script-src 'nonce-…'`).
pub fn page(title: &str, body: &str, script: Option<(&str, &str)>) -> String {
    let script = match script {
        Some((nonce, js)) => format!("<script nonce=\"{}\">{js}</script>", esc(nonce)),
        None => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{}</title><style>{STYLE}</style></head><body>{body}{script}</body></html>",
        esc(title)
    )
}

/// The generic error page: never the reason, only a request id to quote.
pub fn error(request_id: &str) -> String {
    page(
        "Sign-in failed",
        &format!(
            "<h1>Sign-in failed</h1><p>We could not sign you in. Please try again from the start page.</p>\
<p>If this keeps happening, contact support and quote this reference: <code>{}</code></p>",
            esc(request_id)
        ),
        None,
    )
}

/// An auto-submitting POST form (the dev IdP's reply); works without script via the button.
pub fn auto_post(action: &str, fields: &[(&str, &str)], nonce: &str) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    page(
        "Signing in",
        &format!(
            "<form id=\"f\" method=\"post\" action=\"{}\">{inputs}<p>Signing you in…</p><noscript><button type=\"submit\">Continue</button></noscript></form>",
            esc(action)
        ),
        Some((nonce, "document.getElementById('f').submit();")),
    )
}
