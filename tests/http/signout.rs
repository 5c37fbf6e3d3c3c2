//! Sign-out and sign-out cleanup (catalogue Q06, R12, W19).

use crate::helpers::*;

#[test]
fn signout_clears_every_chunk_revokes_and_goes_to_the_idp() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let mut s = spec(app.now());
    for i in 0..150 {
        s.claims.push((
            fedrp::config::CLAIM_ROLE.into(),
            format!("group-with-a-long-name-{i:04}"),
        ));
    }
    app.sign_in(&mut jar, s);
    let chunks = jar.session_chunks(COOKIE);
    assert!(chunks.len() >= 2);
    let captured = jar.clone();
    let r = app.get("/signout?wreply=https%3A%2F%2Fevil.example%2F", &jar);
    assert_eq!(r.status, 302);
    let loc = r.location();
    assert!(
        loc.starts_with("https://idp-a.example.test/adfs/ls/?wa=wsignout1.0"),
        "{loc}"
    );
    assert_eq!(
        param(loc, "wreply"),
        Some(format!("http://localhost:{}/signed-out", app.port)),
        "our wreply, never the request's"
    );
    for c in &chunks {
        assert!(
            r.set_cookies()
                .iter()
                .any(|x| x.starts_with(&format!("{c}=;")) && x.contains("Max-Age=0")),
            "{c} not cleared"
        );
    }
    jar.take(&r);
    assert!(jar.session_chunks(COOKIE).is_empty());
    // Q06: the captured cookie is dead.
    assert_eq!(app.get("/me", &captured).reason(), Some("session.invalid"));
    // Without a session: our own signed-out page.
    let r = app.send("POST", "/signout", &[], b"");
    assert_eq!((r.status, r.location()), (302, "/signed-out"));
    assert_eq!(app.get("/signed-out", &Jar::default()).status, 200);
}

#[test]
fn wsignoutcleanup_clears_and_answers_with_an_image() {
    let app = spawn_app();
    for path in [
        "/signout-cleanup",
        "/signin-wsfed?wa=wsignoutcleanup1.0&wreply=https%3A%2F%2Fevil.example%2F",
    ] {
        let mut jar = Jar::default();
        app.sign_in(&mut jar, spec(app.now()));
        let captured = jar.clone();
        let r = app.get(path, &jar);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("image/gif"));
        assert_eq!(r.header("location"), None, "W19: never a redirect");
        assert!(
            r.set_cookies()
                .iter()
                .filter(|c| c.contains("Max-Age=0"))
                .count()
                >= 8
        );
        assert_eq!(
            app.get("/me", &captured).reason(),
            Some("session.invalid"),
            "{path}"
        );
    }
    // wsignout1.0 sent to the WS-Fed endpoint signs out too.
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    let r = app.get("/signin-wsfed?wa=wsignout1.0", &jar);
    assert!(r.location().contains("wa=wsignout1.0"));
}

/// An IdP on another site loads `wsignoutcleanup1.0` as an image: the browser sends only
/// `SameSite=None` cookies, so the sign-out handle names the session to end.
#[test]
fn cross_site_cleanup_ends_the_session_named_by_its_signout_handle() {
    let app = spawn_app();
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    let handle = format!("{COOKIE}.so");
    let value = jar
        .0
        .get(&handle)
        .cloned()
        .expect("a sign-out handle cookie");
    let session = jar.clone();
    // The handle alone is not a session.
    let only_handle = Jar([(handle.clone(), value.clone())].into_iter().collect());
    assert_eq!(app.get("/me", &only_handle).status, 401);
    // wsignout1.0 (RP-initiated, a top-level navigation) does not act on the handle alone.
    let r = app.get("/signout", &only_handle);
    assert_eq!(r.location(), "/signed-out");
    assert_eq!(app.get("/me", &session).status, 200);
    // A forged or tampered handle ends nothing.
    let mut forged = value.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = Jar([(handle.clone(), String::from_utf8(forged).unwrap())]
        .into_iter()
        .collect());
    assert_eq!(
        app.get("/signin-wsfed?wa=wsignoutcleanup1.0", &forged)
            .status,
        200
    );
    assert_eq!(app.get("/me", &session).status, 200);
    // The cross-site cleanup image: the session is revoked, the handle deleted.
    let r = app.get("/signin-wsfed?wa=wsignoutcleanup1.0", &only_handle);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/gif"));
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("{handle}=;"))
                && c.contains("SameSite=None")
                && c.contains("Max-Age=0")),
        "{:?}",
        r.set_cookies()
    );
    assert_eq!(app.get("/me", &session).reason(), Some("session.invalid"));
}

#[test]
fn cross_site_signout_can_be_turned_off() {
    let text = config_text("", "").replace(
        "landing_path = \"/app/\"",
        "landing_path = \"/app/\"\ncross_site_signout = false",
    );
    let app = spawn_with(&text);
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    assert!(
        !jar.0.contains_key(&format!("{COOKIE}.so")),
        "{:?}",
        jar.0.keys()
    );
}
