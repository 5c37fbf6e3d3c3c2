//! /auth, metadata, health, metrics and the headers every response carries.

use crate::helpers::*;

#[test]
fn auth_gateway_answers_204_with_identity_headers_or_401() {
    let app = spawn_app();
    assert_eq!(app.get("/auth", &Jar::default()).status, 401);
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    let r = app.get_with("/auth", &jar, &[("X-Original-URI", "/app/x")]);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("x-fedrp-fqn"), Some("K2:DENALLIX\\bob"));
    assert_eq!(r.header("x-fedrp-groups"), Some("K2:Sales,K2:Everyone"));
    assert_eq!(
        r.header("x-fedrp-issuer"),
        Some("https:%2F%2Fidp-a.example.test%2Fadfs%2Fservices%2Ftrust")
    );
}

#[test]
fn federation_metadata_describes_the_realm() {
    let app = spawn_app();
    let r = app.get(
        "/FederationMetadata/2007-06/FederationMetadata.xml",
        &Jar::default(),
    );
    assert_eq!(r.status, 200);
    let xml = r.text();
    assert!(xml.contains(&format!("entityID=\"{REALM}\"")));
    assert!(xml.contains(&format!("http://localhost:{}/signin-wsfed", app.port)));
    assert!(xml.contains("AssertionConsumerService"));
    // It is valid metadata for fedrp's own reader.
    let md = fedrp::trust::Metadata::parse(xml.as_bytes(), "rp").unwrap();
    assert_eq!(md.entities[0].entity_id, REALM);
    let sp = app.get(
        "/FederationMetadata/2007-06/FederationMetadata.xml?realm=sp",
        &Jar::default(),
    );
    assert!(sp.text().contains(&format!("entityID=\"{SP_REALM}\"")));
}

#[test]
fn health_readiness_and_metrics() {
    let app = spawn_app();
    assert_eq!(app.get("/healthz", &Jar::default()).status, 200);
    assert_eq!(app.get("/readyz", &Jar::default()).status, 200);
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    app.post_form("/signin-wsfed", &[("wa", "x")], &Jar::default());
    let m = app.get("/metrics", &Jar::default());
    assert_eq!(m.status, 200);
    let text = m.text();
    assert!(text.contains("fedrp_signins_total 1"), "{text}");
    assert!(text.contains("fedrp_rejections_total{reason=\"wsf.wa\"} 1"));
    assert!(text.contains("fedrp_token_validation_seconds_count 1"));
    assert!(text.contains("fedrp_token_validation_seconds_bucket{le=\"+Inf\"} 1"));
    assert!(text.contains("fedrp_active_sessions 1"));
}

#[test]
fn security_headers_on_every_response() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let signin = app.sign_in(&mut jar, spec(app.now()));
    let responses = [
        app.get("/healthz", &Jar::default()),
        app.get("/metrics", &Jar::default()),
        app.get("/app/", &Jar::default()),
        app.get("/app/", &jar),
        app.get("/me", &jar),
        app.post_form("/signin-wsfed", &[], &Jar::default()),
        app.get("/nowhere-realm-less", &Jar::default()),
        signin,
    ];
    for r in &responses {
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{:?}",
            r.headers
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert!(
            r.header("content-security-policy")
                .is_some_and(|c| c.contains("frame-ancestors"))
        );
        assert!(r.header("x-request-id").is_some());
        assert!(r.header("cache-control").is_some());
    }
    assert!(
        responses
            .iter()
            .all(|r| r.header("strict-transport-security").is_none()),
        "no HSTS on plain HTTP"
    );
}
