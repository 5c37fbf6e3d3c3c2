//! `config.bench.toml` serves what shared/bench/http posts and expects: an unsolicited
//! `wa=wsignin1.0&wresult=<encodeURIComponent RSTR>` (tokens dated 2025), 302/303 with a
//! Set-Cookie, `GET /app/` 200 with the cookie and not without, a tampered token refused,
//! the same token refused the second time.

use chrono::{TimeZone, Utc};

use crate::helpers::*;

fn encode_uri_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_bench_config_serves_the_bench_protocol() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config.bench.toml")).unwrap();
    let pem = root.join("certs/idp-a.pem").display().to_string();
    let text = text
        .replace("listen = \"127.0.0.1:8090\"", "listen = \"127.0.0.1:0\"")
        .replace(
            "trust_files = [\"../shared/bench/http/corpus/keys/idp.crt\"]",
            &format!("trust_files = [{pem:?}]\ncheck_cert_validity = false"),
        );
    let app = spawn_with(&text);
    let t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().unwrap();
    let mut s = spec(t);
    s.issuer = "urn:bench:idp".into();
    s.audience = "urn:fedrp:bench".into();
    s.not_before = t;
    s.not_on_or_after = Utc.with_ymd_and_hms(2035, 1, 2, 0, 0, 0).single().unwrap();
    let post = |wresult: &str| {
        let body = format!("wa=wsignin1.0&wresult={}", encode_uri_component(wresult));
        app.send(
            "POST",
            "/signin-wsfed",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    };
    let w = wresult(&idps()[0], &s, None);
    let r = post(&w);
    assert!(
        matches!(r.status, 302 | 303),
        "{} {:?}",
        r.status,
        r.header("x-fedrp-reason")
    );
    assert!(!r.set_cookies().is_empty());
    let mut jar = Jar::default();
    jar.take(&r);
    let page = app.get("/app/", &jar);
    assert_eq!(page.status, 200);
    assert_ne!(app.get("/app/", &Jar::default()).status, 200);
    assert_ne!(post(&w).status / 100, 3, "the same token again");
    let mut s2 = s.clone();
    s2.assertion_id = fedrp::devidp::token::new_id();
    let tampered = wresult(&idps()[0], &s2, None).replace("DENALLIX\\bob", "DENALLIX\\eve");
    assert_eq!(post(&tampered).status, 403);
}
