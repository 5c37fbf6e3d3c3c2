//! Form checks before any parsing: method, content type, size, duplicate and missing
//! parameters, `wa` (catalogue H01–H06, D01).

use crate::helpers::*;

fn token(app: &TestApp) -> String {
    wresult(&idps()[0], &spec(app.now()), None)
}

#[test]
fn tokens_in_urls_are_refused_with_405() {
    let app = spawn_app();
    let w: String = url::form_urlencoded::byte_serialize(token(&app).as_bytes()).collect();
    let r = app.get(
        &format!("/signin-wsfed?wa=wsignin1.0&wresult={w}"),
        &Jar::default(),
    );
    r.rejected(405, "http.method");
    assert_eq!(r.header("allow"), Some("POST"));
    app.get(
        "/signin-saml?SAMLResponse=PHg%2BPC94Pg%3D%3D",
        &Jar::default(),
    )
    .rejected(405, "http.method");
    app.send(
        "PUT",
        "/signin-wsfed",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"wa=wsignin1.0",
    )
    .rejected(405, "http.method");
}

#[test]
fn only_urlencoded_forms_are_accepted() {
    let app = spawn_app();
    for ct in [
        "multipart/form-data; boundary=x",
        "application/json",
        "text/plain",
        "",
    ] {
        let h: Vec<(&str, &str)> = if ct.is_empty() {
            vec![]
        } else {
            vec![("Content-Type", ct)]
        };
        app.send("POST", "/signin-wsfed", &h, b"wa=wsignin1.0&wresult=x")
            .rejected(400, "http.content_type");
    }
    // A charset parameter is fine (the request proceeds to the next check).
    let r = app.send(
        "POST",
        "/signin-wsfed",
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )],
        b"wa=wsignin1.0",
    );
    r.rejected(400, "http.missing_param");
}

#[test]
fn duplicate_parameters_are_refused_anywhere() {
    let app = spawn_app();
    let w = token(&app);
    let r = app.post_form(
        "/signin-wsfed",
        &[
            ("wa", "wsignin1.0"),
            ("wresult", &w),
            ("wresult", "<evil/>"),
        ],
        &Jar::default(),
    );
    r.rejected(400, "http.dup_param");
    let r = app.post_form(
        "/signin-wsfed?wresult=x",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    );
    r.rejected(400, "http.dup_param");
    let r = app.post_form(
        "/signin-wsfed",
        &[
            ("wa", "wsignin1.0"),
            ("wresult", &w),
            ("wctx", "a"),
            ("wctx", "b"),
        ],
        &Jar::default(),
    );
    r.rejected(400, "http.dup_param");
    app.post_form(
        "/signin-saml",
        &[
            ("SAMLResponse", "a"),
            ("RelayState", "x"),
            ("RelayState", "y"),
        ],
        &Jar::default(),
    )
    .rejected(400, "http.dup_param");
    app.get("/signin?ru=%2Fa&ru=%2Fb", &Jar::default())
        .rejected(400, "http.dup_param");
}

#[test]
fn oversized_bodies_get_413_before_parsing() {
    let app = spawn_app();
    // Declared too large: refused from the header, the body is never read.
    let big = vec![b'a'; 300_000];
    let r = app.send(
        "POST",
        "/signin-wsfed",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &big,
    );
    r.rejected(413, "http.too_large");
    // Chunked (no Content-Length): refused once the cap is passed.
    let mut chunked = Vec::new();
    for _ in 0..40 {
        chunked.extend_from_slice(format!("{:x}\r\n", 8192).as_bytes());
        chunked.extend_from_slice(&[b'a'; 8192]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = app.send(
        "POST",
        "/signin-wsfed",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Transfer-Encoding", "chunked"),
        ],
        &chunked,
    );
    r.rejected(413, "http.too_large");
}

#[test]
fn missing_parameters_and_wrong_wa() {
    let app = spawn_app();
    app.post_form("/signin-wsfed", &[("wa", "wsignin1.0")], &Jar::default())
        .rejected(400, "http.missing_param");
    let w = token(&app);
    app.post_form("/signin-wsfed", &[("wresult", &w)], &Jar::default())
        .rejected(400, "wsf.wa");
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignout1.0"), ("wresult", &w)],
        &Jar::default(),
    )
    .rejected(400, "wsf.wa");
    app.post_form("/signin-saml", &[("RelayState", "x")], &Jar::default())
        .rejected(400, "http.missing_param");
}

#[test]
fn malformed_tokens_get_a_generic_page_with_a_request_id() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "");
    let r = app.post_form(
        "/signin-wsfed",
        &[
            ("wa", "wsignin1.0"),
            ("wresult", "<a><b></a>"),
            ("wctx", &wctx),
        ],
        &jar,
    );
    r.rejected(400, "xml.malformed");
    let body = r.text();
    let rid = r.header("x-request-id").unwrap();
    assert!(
        body.contains("Sign-in failed") && body.contains(rid),
        "{body}"
    );
    assert!(
        !body.contains("xml.malformed"),
        "the reason is never in the page"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    app.post_form(
        "/signin-saml",
        &[("SAMLResponse", "not base64!")],
        &Jar::default(),
    )
    .rejected(400, "http.base64");
}

/// A small deterministic generator (no test-only dependency needed).
fn noise(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed >> 24) as u8
        })
        .collect()
}

#[test]
fn garbage_never_panics_or_answers_5xx() {
    let app = spawn_app();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "");
    for i in 0..150 {
        let len = (i * 37) % 900 + 1;
        let bytes = noise(&mut seed, len);
        let enc: String = url::form_urlencoded::byte_serialize(&bytes).collect();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &bytes);
        let bodies = [
            format!("wa=wsignin1.0&wresult={enc}&wctx={wctx}"),
            format!("wa=wsignin1.0&wresult=%3Ca%2F%3E&wctx={b64}"),
            String::from_utf8_lossy(&bytes).into_owned(),
        ];
        for body in &bodies {
            let r = app.send(
                "POST",
                "/signin-wsfed",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                body.as_bytes(),
            );
            assert!((400..500).contains(&r.status), "{} for {body:?}", r.status);
        }
        let r = app.send(
            "POST",
            "/signin-saml",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("SAMLResponse={enc}").as_bytes(),
        );
        assert!((400..500).contains(&r.status));
        // Garbage session cookies, one and several chunks.
        let mut j = Jar::default();
        j.0.insert(COOKIE.into(), b64.clone());
        j.0.insert(format!("{COOKIE}.1"), b64.chars().rev().collect());
        assert_eq!(app.get("/me", &j).status, 401);
        assert_eq!(app.get("/app/", &j).status, 302);
    }
}
