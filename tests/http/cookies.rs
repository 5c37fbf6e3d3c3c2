//! Session cookies: attributes per profile, chunking, tampering, mixing, scope, lifetimes,
//! key rotation, server-side mode (catalogue Q01–Q05, Q08, Q11).

use chrono::Duration;

use crate::helpers::*;

fn many_groups(n: usize) -> fedrp::devidp::token::TokenSpec {
    let mut s = spec(t0());
    for i in 0..n {
        s.claims.push((
            fedrp::config::CLAIM_ROLE.into(),
            format!("S-1-5-21-3623811015-3361044348-30300820-{i:05}"),
        ));
    }
    s
}

#[test]
fn large_sessions_are_chunked_under_4kb_and_read_back() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let r = app.sign_in(&mut jar, many_groups(250));
    assert_eq!(r.status, 303, "{:?}", r.reason());
    let chunks = jar.session_chunks(COOKIE);
    assert!(chunks.len() >= 3, "{chunks:?}");
    for c in r.set_cookies() {
        assert!(c.len() < 4096, "Set-Cookie of {} bytes", c.len());
    }
    let me = app.get("/me", &jar);
    assert_eq!(me.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&me.body).unwrap();
    assert_eq!(v["groups"].as_array().unwrap().len(), 252);
    // Too large for max_chunks in cookie mode: refused, nothing silently dropped (Q11).
    let mut jar2 = Jar::default();
    app.sign_in(&mut jar2, many_groups(900))
        .rejected(403, "claims.too_large");
}

#[test]
fn tampered_truncated_and_mixed_chunks_are_session_invalid() {
    let app = spawn_app();
    let mut a = Jar::default();
    app.sign_in(&mut a, many_groups(150));
    let mut b = Jar::default();
    app.sign_in(&mut b, many_groups(150));
    assert!(a.session_chunks(COOKIE).len() >= 2);
    // Q01: flip characters at several positions of each chunk.
    for name in a.session_chunks(COOKIE) {
        for pos in [0usize, 5, 13, 30, 100, 1000] {
            let mut t = a.clone();
            let v = t.0.get_mut(&name).unwrap();
            if pos >= v.len() {
                continue;
            }
            let mut bytes = v.clone().into_bytes();
            bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
            *v = String::from_utf8(bytes).unwrap();
            let r = app.get("/app/", &t);
            assert_eq!(
                (r.status, r.reason()),
                (302, Some("session.invalid")),
                "{name}@{pos}"
            );
        }
    }
    // Q02: a missing chunk, and chunks from two sessions.
    let mut t = a.clone();
    t.0.remove(&format!("{COOKIE}.1"));
    assert_eq!(app.get("/me", &t).reason(), Some("session.invalid"));
    let mut mixed = a.clone();
    mixed
        .0
        .insert(format!("{COOKIE}.1"), b.0[&format!("{COOKIE}.1")].clone());
    let r = app.get("/me", &mixed);
    assert_eq!((r.status, r.reason()), (401, Some("session.invalid")));
    // The refused cookie is cleared, every chunk.
    let cleared: Vec<_> = r
        .set_cookies()
        .into_iter()
        .filter(|c| c.contains("Max-Age=0"))
        .collect();
    assert!(cleared.len() >= 8, "{cleared:?}");
    // Untouched sessions still work.
    assert_eq!(app.get("/me", &a).status, 200);
    assert_eq!(app.get("/me", &b).status, 200);
}

#[test]
fn a_cookie_for_another_realm_is_session_scope() {
    let app = spawn_app();
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    let mut moved = Jar::default();
    moved.0.insert(SP_COOKIE.into(), jar.0[COOKIE].clone());
    let r = app.get("/sp/page", &moved);
    assert_eq!((r.status, r.reason()), (302, Some("session.scope")));
}

#[test]
fn idle_and_absolute_lifetimes_are_enforced_and_the_window_slides() {
    let app = spawn_app();
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    // Sliding: used every 50 minutes, the session lives past the 1 h idle timeout...
    for _ in 0..5 {
        app.clock.advance(Duration::minutes(50));
        let r = app.get("/app/", &jar);
        assert_eq!(r.status, 200, "{:?}", r.reason());
        assert!(
            r.cookie(COOKIE).is_some(),
            "the cookie is re-issued as the window slides"
        );
        jar.take(&r);
    }
    // ...but not past the absolute 8 h (Q04), whatever the token said.
    app.clock.advance(Duration::hours(4));
    let r = app.get("/app/", &jar);
    assert_eq!((r.status, r.reason()), (302, Some("session.expired")));
    // Idle.
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    app.clock.advance(Duration::minutes(61));
    assert_eq!(app.get("/me", &jar).reason(), Some("session.expired"));
}

#[test]
fn key_rotation_opens_old_cookies_and_reseals_them() {
    let old = spawn_app();
    let mut jar = Jar::default();
    old.sign_in(&mut jar, spec(old.now()));
    // New key first, old key still listed: accepted and re-issued under the new key (Q05).
    let rotated_text = config_text("", "").replace(
        &format!("keys = [\"{}\"]", key_b64(1)),
        &format!("keys = [\"{}\", \"{}\"]", key_b64(2), key_b64(1)),
    );
    let rotated = spawn_with(&rotated_text);
    let r = rotated.get("/app/", &jar);
    assert_eq!(r.status, 200);
    assert!(r.cookie(COOKIE).is_some(), "re-sealed with the current key");
    let mut resealed = jar.clone();
    resealed.take(&r);
    // The old key retired: the old cookie is refused, the re-sealed one works.
    let retired = spawn_with(&rotated_text.replace(&format!(", \"{}\"", key_b64(1)), ""));
    assert_eq!(retired.get("/app/", &jar).reason(), Some("session.invalid"));
    assert_eq!(retired.get("/app/", &resealed).status, 200);
}

#[test]
fn server_mode_keeps_only_an_id_in_the_cookie() {
    let app = spawn_with(&config_text("mode = \"server\"", ""));
    let mut jar = Jar::default();
    let r = app.sign_in(&mut jar, many_groups(400));
    assert_eq!(r.status, 303, "{:?}", r.reason());
    assert_eq!(jar.session_chunks(COOKIE).len(), 1);
    assert!(jar.0[COOKIE].len() < 200, "{}", jar.0[COOKIE].len());
    let v: serde_json::Value = serde_json::from_slice(&app.get("/me", &jar).body).unwrap();
    assert_eq!(v["fqn"], "K2:DENALLIX\\bob");
    assert_eq!(v["groups"].as_array().unwrap().len(), 402);
    // Sign-out removes the record: the cookie is dead.
    let kept = jar.clone();
    app.get("/signout", &jar);
    assert_eq!(app.get("/me", &kept).reason(), Some("session.invalid"));
}

#[test]
fn cookie_attributes_in_both_profiles() {
    let app = spawn_app();
    // Top-level profile (Q08).
    let mut jar = Jar::default();
    let r = app.sign_in(&mut jar, spec(app.now()));
    let c = r.cookie(COOKIE).unwrap();
    assert!(
        c.starts_with("__Host-") && c.contains("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{c}"
    );
    assert!(!c.contains("Partitioned"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // Iframe profile: sign in to realm "sp".
    let mut sp = Jar::default();
    let (start, wctx) = sp_start(&app, &mut sp);
    assert!(
        start
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("__Host-fedrp-c-")
                && c.contains("SameSite=None")
                && c.contains("Partitioned"))
    );
    let mut s = spec(app.now());
    s.audience = SP_REALM.into();
    let w = wresult(&idps()[0], &s, Some(&wctx));
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &sp,
    );
    assert_eq!(r.status, 303, "{:?}", r.reason());
    let c = r.cookie(SP_COOKIE).unwrap();
    assert!(
        c.contains("; Path=/; Secure; HttpOnly; SameSite=None; Partitioned"),
        "{c}"
    );
    sp.take(&r);
    let page = app.get("/sp/page", &sp);
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .ends_with(&format!("frame-ancestors {SHAREPOINT}"))
    );
    assert_eq!(
        page.header("x-frame-options"),
        None,
        "XFO only where no framing is configured"
    );
}

fn sp_start(app: &TestApp, jar: &mut Jar) -> (Response, String) {
    app.start_signin(jar, "realm=sp&ru=%2Fsp%2Fpage")
}
