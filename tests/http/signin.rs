//! Sign-in: redirects, the complete flow, state binding (CSRF), replay, unsolicited,
//! issuers per realm, SAML-P, return URLs.

use std::io::Read as _;

use base64::Engine as _;
use chrono::Duration;

use crate::helpers::*;

#[test]
fn signin_redirects_to_the_idp_with_wsfed_parameters_and_a_correlation_cookie() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let (r, wctx) = app.start_signin(&mut jar, "ru=%2Fapp%2Fx");
    let loc = r.location();
    assert!(
        loc.starts_with("https://idp-a.example.test/adfs/ls/?"),
        "{loc}"
    );
    assert_eq!(param(loc, "wa").as_deref(), Some("wsignin1.0"));
    assert_eq!(param(loc, "wtrealm").as_deref(), Some(REALM));
    assert_eq!(
        param(loc, "wreply"),
        Some(format!("http://localhost:{}/signin-wsfed", app.port))
    );
    assert!(
        wctx.len() > 40 && !wctx.contains("/app/x"),
        "wctx must be opaque: {wctx}"
    );
    let corr = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-fedrp-c-"))
        .expect("correlation cookie");
    for attr in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=None",
        "Max-Age=900",
    ] {
        assert!(corr.contains(attr), "{corr}");
    }
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn a_protected_page_without_a_session_starts_sign_in_and_whr_picks_the_issuer() {
    let app = spawn_app();
    let r = app.get("/app/reports?id=7", &Jar::default());
    assert_eq!(r.status, 302);
    assert!(r.location().starts_with("https://idp-a.example.test/"));
    let r = app.get("/signin?whr=idp-b", &Jar::default());
    assert!(
        r.location()
            .starts_with("https://idp-b.example.test/wsfed?"),
        "{}",
        r.location()
    );
    let r = app.get(
        &format!(
            "/signin?whr={}",
            url::form_urlencoded::byte_serialize(IDP_B.as_bytes()).collect::<String>()
        ),
        &Jar::default(),
    );
    assert!(
        r.location()
            .starts_with("https://idp-b.example.test/wsfed?")
    );
}

#[test]
fn several_issuers_without_a_default_show_a_picker() {
    let text = config_text("", "").replace("default_issuer = \"idp-a\"\n", "");
    let app = spawn_with(&text);
    let r = app.get("/signin?ru=%2Fapp%2F", &Jar::default());
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(
        body.contains("whr=idp-a") && body.contains("whr=idp-b") && body.contains("whr=dev"),
        "{body}"
    );
}

#[test]
fn full_sign_in_sets_the_session_and_redirects_to_the_return_url() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let r = app.sign_in(&mut jar, spec(app.now()));
    assert_eq!(r.status, 303, "{:?} {}", r.reason(), r.text());
    assert_eq!(r.location(), "/app/page");
    let c = r.cookie(COOKIE).expect("session cookie");
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(c.contains(attr), "{c}");
    }
    assert!(!c.contains("Domain="), "__Host- cookies have no Domain");
    // The correlation cookie is deleted.
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with("__Host-fedrp-c-") && c.contains("Max-Age=0"))
    );
    let page = app.get("/app/page", &jar);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("K2:DENALLIX\\bob"), "{}", page.text());
    let me = app.get("/me", &jar);
    assert_eq!(me.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&me.body).unwrap();
    assert_eq!(v["fqn"], "K2:DENALLIX\\bob");
    assert_eq!(v["issuer"], IDP_A);
    assert_eq!(v["groups"], serde_json::json!(["K2:Sales", "K2:Everyone"]));
    assert_eq!(v["expires_at"], "2027-01-01T01:00:00Z");
}

#[test]
fn saml20_in_wsfed_signs_in_too() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let mut s = spec(app.now());
    s.saml20 = true;
    let r = app.sign_in(&mut jar, s);
    assert_eq!(r.status, 303, "{:?}", r.reason());
}

#[test]
fn login_csrf_without_the_correlation_cookie_is_ctx_unbound() {
    let app = spawn_app();
    let mut attacker = Jar::default();
    let (_, wctx) = app.start_signin(&mut attacker, "");
    let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
    // R09: posted into the victim's browser (no correlation cookie).
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &Jar::default(),
    );
    r.rejected(400, "wsf.ctx_unbound");
    assert!(r.cookie(COOKIE).is_none());
    // A correlation cookie of the right name with a wrong value (any length).
    for value in [
        "x",
        "AAAAAAAAAAAAAAAAAAAAAA",
        "a-much-longer-value-than-the-nonce-is-ever-going-to-be",
    ] {
        let mut forged = attacker.clone();
        let name = forged
            .0
            .keys()
            .find(|k| k.starts_with("__Host-fedrp-c-"))
            .unwrap()
            .clone();
        forged.0.insert(name, value.into());
        let r = app.post_form(
            "/signin-wsfed",
            &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
            &forged,
        );
        r.rejected(400, "wsf.ctx_unbound");
    }
    // R10: a state from another browser.
    let mut victim = Jar::default();
    app.start_signin(&mut victim, "");
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &victim,
    );
    r.rejected(400, "wsf.ctx_unbound");
}

#[test]
fn forged_expired_and_reused_state_is_ctx() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "");
    let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
    // R08: one flipped character.
    let mut forged = wctx.clone().into_bytes();
    forged[30] = if forged[30] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &forged)],
        &jar,
    )
    .rejected(400, "wsf.ctx");
    // W13: the RSTR Context differs from wctx.
    let w_other = wresult(&idps()[0], &spec(app.now()), Some("something-else"));
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w_other), ("wctx", &wctx)],
        &jar,
    )
    .rejected(400, "wsf.ctx");
    // Success, then R11: the same state with a fresh token.
    let ok = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    );
    assert_eq!(ok.status, 303, "{:?}", ok.reason());
    let w2 = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w2), ("wctx", &wctx)],
        &jar,
    )
    .rejected(400, "wsf.ctx");
    // Expired state.
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "");
    app.clock.advance(Duration::minutes(16));
    let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    )
    .rejected(400, "wsf.ctx");
}

#[test]
fn replay_of_the_same_post_is_refused() {
    let app = spawn_app();
    // Unsolicited (IdP B allows it): the same wresult twice -> tok.replay (V24).
    let mut s = spec(app.now());
    s.issuer = IDP_B.into();
    let w = wresult(&idps()[1], &s, None);
    let first = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    );
    assert_eq!(first.status, 303, "{:?}", first.reason());
    assert_eq!(first.location(), "/app/");
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    )
    .rejected(403, "tok.replay");
    // Solicited: the exact same POST again.
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "");
    let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
    let pairs = [
        ("wa", "wsignin1.0"),
        ("wresult", w.as_str()),
        ("wctx", wctx.as_str()),
    ];
    assert_eq!(app.post_form("/signin-wsfed", &pairs, &jar).status, 303);
    app.post_form("/signin-wsfed", &pairs, &jar)
        .rejected(403, "tok.replay");
}

#[test]
fn unsolicited_sign_in_is_refused_unless_the_issuer_allows_it() {
    let app = spawn_app();
    // IdP A does not allow unsolicited sign-in (V34).
    let w = wresult(&idps()[0], &spec(app.now()), None);
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    )
    .rejected(403, "tok.unsolicited");
    // With no issuer allowing it at all, refused before validation.
    let text = config_text("", "").replace("allow_unsolicited = true\n", "");
    let strict = spawn_with(&text);
    let mut s = spec(strict.now());
    s.issuer = IDP_B.into();
    let w = wresult(&idps()[1], &s, None);
    strict
        .post_form(
            "/signin-wsfed",
            &[("wa", "wsignin1.0"), ("wresult", &w)],
            &Jar::default(),
        )
        .rejected(403, "tok.unsolicited");
}

#[test]
fn unsolicited_sign_in_to_another_realm_names_it_in_the_path() {
    let text = config_text("", "").replacen(
        "issuers = [\"idp-a\"]\nprofile",
        "issuers = [\"idp-a\", \"idp-b\"]\nprofile",
        1,
    );
    let app = spawn_with(&text);
    let mut s = spec(app.now());
    s.issuer = IDP_B.into();
    s.audience = SP_REALM.into();
    let w = wresult(&idps()[1], &s, None);
    // At the default realm's endpoint the audience is wrong...
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    )
    .rejected(403, "tok.audience");
    // ...at the realm's own endpoint it signs in there.
    let mut s = spec(app.now());
    s.issuer = IDP_B.into();
    s.audience = SP_REALM.into();
    let w = wresult(&idps()[1], &s, None);
    let r = app.post_form(
        "/signin-wsfed/sp",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    );
    assert_eq!((r.status, r.location()), (303, "/sp/"), "{:?}", r.reason());
    assert!(r.cookie(SP_COOKIE).is_some());
    app.post_form(
        "/signin-wsfed/nope",
        &[("wa", "wsignin1.0"), ("wresult", &w)],
        &Jar::default(),
    )
    .rejected(400, "http.missing_param");
}

#[test]
fn unbound_state_for_an_unsolicited_issuer_lands_on_the_default_page() {
    let app = spawn_app();
    let mut other = Jar::default();
    let (_, wctx) = app.start_signin(&mut other, "whr=idp-b&ru=%2Fapp%2Fsecret");
    let mut s = spec(app.now());
    s.issuer = IDP_B.into();
    let w = wresult(&idps()[1], &s, Some(&wctx));
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &Jar::default(),
    );
    assert_eq!(r.status, 303, "{:?}", r.reason());
    assert_eq!(r.location(), "/app/", "no return URL from an unbound state");
}

#[test]
fn tokens_from_untrusted_or_other_realm_issuers_and_tampered_tokens_are_refused() {
    let app = spawn_app();
    // Attacker key.
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "");
    let w = wresult(&idps()[3], &spec(app.now()), Some(&wctx));
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    );
    assert_eq!(r.status, 403);
    assert!(r.reason().unwrap().starts_with("sig."), "{:?}", r.reason());
    // Tampered NameIdentifier / claim after signing.
    let (_, wctx) = app.start_signin(&mut jar, "");
    let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx))
        .replace("DENALLIX\\bob", "DENALLIX\\eve");
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    )
    .rejected(403, "sig.invalid");
    // K13: IdP B is trusted only for realm "app"; a token for realm "sp" from it.
    let mut sp = Jar::default();
    let (_, wctx) = app.start_signin(&mut sp, "realm=sp");
    let mut s = spec(app.now());
    s.issuer = IDP_B.into();
    s.audience = SP_REALM.into();
    let w = wresult(&idps()[1], &s, Some(&wctx));
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &sp,
    );
    assert_eq!(r.status, 403);
    assert!(
        matches!(r.reason(), Some("tok.issuer" | "sig.key_untrusted")),
        "{:?}",
        r.reason()
    );
    // Wrong audience.
    let (_, wctx) = app.start_signin(&mut jar, "");
    let mut s = spec(app.now());
    s.audience = "urn:other".into();
    let w = wresult(&idps()[0], &s, Some(&wctx));
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    )
    .rejected(403, "tok.audience");
    // Expired token.
    let (_, wctx) = app.start_signin(&mut jar, "");
    let mut s = spec(app.now() - Duration::hours(3));
    s.not_on_or_after = app.now() - Duration::hours(2);
    let w = wresult(&idps()[0], &s, Some(&wctx));
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    )
    .rejected(403, "tok.expired");
}

#[test]
fn claims_that_cannot_make_a_principal_are_refused() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let mut s = spec(app.now());
    s.claims
        .retain(|(t, _)| t != fedrp::config::CLAIM_WINDOWS_ACCOUNT_NAME);
    app.sign_in(&mut jar, s).rejected(403, "claims.missing");
    let mut s = spec(app.now());
    s.claims.push((
        fedrp::config::CLAIM_WINDOWS_ACCOUNT_NAME.into(),
        "DENALLIX\\eve".into(),
    ));
    app.sign_in(&mut jar, s).rejected(403, "claims.ambiguous");
    let mut s = spec(app.now());
    s.claims[0].1 = "DENALLIX\\bob\u{202E}".into();
    app.sign_in(&mut jar, s)
        .rejected(403, "claims.invalid_chars");
}

#[test]
fn saml_p_sign_in_uses_authn_request_and_in_response_to() {
    let app = spawn_app();
    let mut jar = Jar::default();
    let (r, relay) = app.start_signin(&mut jar, "whr=idp-saml&ru=%2Fapp%2Fsaml");
    let loc = r.location();
    assert!(
        loc.starts_with("https://saml-idp.example.test/sso?SAMLRequest="),
        "{loc}"
    );
    let req = base64::engine::general_purpose::STANDARD
        .decode(param(loc, "SAMLRequest").unwrap())
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&req[..])
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains(&format!(
            "AssertionConsumerServiceURL=\"http://localhost:{}/signin-saml\"",
            app.port
        )),
        "{xml}"
    );
    let id = xml
        .split("ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let acs = format!("http://localhost:{}/signin-saml", app.port);
    let make = |irt: Option<&str>| {
        let mut s = spec(app.now());
        s.issuer = IDP_SAML.into();
        s.saml20 = true;
        s.recipient = Some(acs.clone());
        s.in_response_to = irt.map(str::to_owned);
        let a =
            fedrp::devidp::token::signed_assertion(&s, &idps()[2].key, &idps()[2].cert).unwrap();
        let resp = fedrp::devidp::token::samlp_response(&a, &s, &acs, irt);
        base64::engine::general_purpose::STANDARD.encode(resp)
    };
    // InResponseTo of another request.
    let bad = make(Some("_not-our-request"));
    app.post_form(
        "/signin-saml",
        &[("SAMLResponse", &bad), ("RelayState", &relay)],
        &jar,
    )
    .rejected(403, "tok.in_response_to");
    let good = make(Some(&id));
    let r = app.post_form(
        "/signin-saml",
        &[("SAMLResponse", &good), ("RelayState", &relay)],
        &jar,
    );
    assert_eq!(r.status, 303, "{:?} {}", r.reason(), r.text());
    assert_eq!(r.location(), "/app/saml");
    // Unsolicited SAML-P response (issuer does not allow it).
    app.post_form(
        "/signin-saml",
        &[("SAMLResponse", &make(None))],
        &Jar::default(),
    )
    .rejected(403, "tok.unsolicited");
    // A WS-Fed RSTR posted to the SAML-P endpoint.
    let (_, relay) = app.start_signin(&mut jar, "whr=idp-saml");
    let w = base64::engine::general_purpose::STANDARD.encode(wresult(
        &idps()[2],
        &spec(app.now()),
        None,
    ));
    let r = app.post_form(
        "/signin-saml",
        &[("SAMLResponse", &w), ("RelayState", &relay)],
        &jar,
    );
    assert_eq!(r.status, 400);
    assert!(
        matches!(r.reason(), Some("xml.root" | "wsf.rstr_shape")),
        "{:?}",
        r.reason()
    );
}

#[test]
fn open_redirect_attempts_fall_back_to_the_landing_page() {
    let app = spawn_app();
    for ru in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "https:evil.example",
        "https://localhost@evil.example/",
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
        "/signin-wsfed",
    ] {
        let mut jar = Jar::default();
        let q: String = url::form_urlencoded::byte_serialize(ru.as_bytes()).collect();
        let (_, wctx) = app.start_signin(&mut jar, &format!("ru={q}"));
        let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
        let r = app.post_form(
            "/signin-wsfed",
            &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
            &jar,
        );
        assert_eq!(
            (r.status, r.location()),
            (303, "/app/"),
            "return URL {ru:?}"
        );
    }
    // An allow-listed origin is kept.
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "ru=https%3A%2F%2Fapp.example.com%2Fdash");
    let w = wresult(&idps()[0], &spec(app.now()), Some(&wctx));
    let r = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &jar,
    );
    assert_eq!(r.location(), "https://app.example.com/dash");
}

#[test]
fn sign_in_always_mints_a_fresh_session() {
    let app = spawn_app();
    let mut jar = Jar::default();
    app.sign_in(&mut jar, spec(app.now()));
    let first = jar.0.get(COOKIE).cloned().unwrap();
    let id1 = serde_json::from_slice::<serde_json::Value>(&app.get("/me", &jar).body).unwrap()["signed_in_at"].clone();
    app.clock.advance(Duration::seconds(5));
    let r = app.sign_in(&mut jar, spec(app.now()));
    assert_eq!(r.status, 303);
    assert_ne!(
        jar.0.get(COOKIE).unwrap(),
        &first,
        "Q07: a new cookie at every sign-in"
    );
    let id2 = serde_json::from_slice::<serde_json::Value>(&app.get("/me", &jar).body).unwrap()["signed_in_at"].clone();
    assert_ne!(id1, id2);
}

/// SAML-P IdP-initiated sign-in with a RelayState deep link (Okta, ADFS, Entra): the RelayState
/// is the target, through the return-URL allow-list; anything else that is not our state is
/// still `wsf.ctx`.
#[test]
fn saml_p_unsolicited_relay_state_is_an_allow_listed_target() {
    let unsolicited = |text: &str| {
        let app = spawn_with(text);
        let acs = format!("http://localhost:{}/signin-saml", app.port);
        let mut s = spec(app.now());
        s.issuer = IDP_SAML.into();
        s.saml20 = true;
        s.recipient = Some(acs.clone());
        (app, s, acs)
    };
    let post = |app: &TestApp, s: &fedrp::devidp::token::TokenSpec, acs: &str, relay: &str| {
        let mut s = s.clone();
        s.assertion_id = fedrp::devidp::token::new_id();
        let a =
            fedrp::devidp::token::signed_assertion(&s, &idps()[2].key, &idps()[2].cert).unwrap();
        let resp = fedrp::devidp::token::samlp_response(&a, &s, acs, None);
        let b64 = base64::engine::general_purpose::STANDARD.encode(resp);
        app.post_form(
            "/signin-saml",
            &[("SAMLResponse", &b64), ("RelayState", relay)],
            &Jar::default(),
        )
    };
    // The issuer does not accept unsolicited responses: a deep link changes nothing.
    let (app, s, acs) = unsolicited(&config_text("", ""));
    post(&app, &s, &acs, "/app/deep").rejected(403, "tok.unsolicited");
    drop(app);
    let text = config_text("", "").replace(
        "protocol = \"saml2\"\n",
        "protocol = \"saml2\"\nallow_unsolicited = true\n",
    );
    let (app, s, acs) = unsolicited(&text);
    for (relay, target) in [
        ("/app/deep?x=1", "/app/deep?x=1"),
        (
            "https://app.example.com/report",
            "https://app.example.com/report",
        ),
        ("https://evil.example/", "/app/"),
        ("//evil.example/", "/app/"),
    ] {
        let r = post(&app, &s, &acs, relay);
        assert_eq!(
            (r.status, r.location()),
            (303, target),
            "{relay}: {:?}",
            r.reason()
        );
    }
    // Not a URL and not our state.
    post(&app, &s, &acs, "garbage").rejected(400, "wsf.ctx");
    // Sign-out of a SAML 2.0 session: never a wsignout1.0 to a SAML IdP (fedrp sends no SAML
    // LogoutRequest and its metadata offers no SingleLogoutService): fedrp's own page, or the
    // issuer's configured sign-out page as it is.
    let mut jar = Jar::default();
    jar.take(&post(&app, &s, &acs, "/app/"));
    let r = app.get("/signout", &jar);
    assert_eq!((r.status, r.location()), (302, "/signed-out"));
    assert_eq!(app.get("/me", &jar).reason(), Some("session.invalid"));
    let md = app
        .get(
            "/FederationMetadata/2007-06/FederationMetadata.xml",
            &Jar::default(),
        )
        .text();
    assert!(!md.contains("SingleLogoutService"), "{md}");
    drop(app);
    let text = text.replace(
        "signin_url = \"https://saml-idp.example.test/sso\"\n",
        "signin_url = \"https://saml-idp.example.test/sso\"\nsignout_url = \"https://saml-idp.example.test/logout?app=fedrp\"\n",
    );
    let (app, s, acs) = unsolicited(&text);
    let mut jar = Jar::default();
    jar.take(&post(&app, &s, &acs, "/app/"));
    let r = app.get("/signout", &jar);
    assert_eq!(
        (r.status, r.location()),
        (302, "https://saml-idp.example.test/logout?app=fedrp")
    );
}

/// `sign_authn_requests` + `[sp_signing]`: the HTTP-Redirect binding signature over exactly
/// the octets sent (SAML bindings §3.4.4.1), verifiable with the certificate the RP metadata
/// publishes; configuration mistakes are refused with their key path.
#[test]
fn saml_authn_requests_are_signed_when_the_issuer_asks() {
    use openssl::{hash::MessageDigest, sign::Verifier, x509::X509};
    let signing =
        "\n[sp_signing]\nkey_file = \"certs/rp-enc.key\"\ncert_file = \"certs/rp-enc.pem\"\n";
    let text = config_text("", "").replace(
        "protocol = \"saml2\"\n",
        "protocol = \"saml2\"\nsign_authn_requests = true\n",
    ) + signing;
    let app = spawn_with(&text);
    let mut jar = Jar::default();
    let (r, relay) = app.start_signin(&mut jar, "whr=idp-saml");
    let loc = r.location().to_owned();
    let query = loc.split_once('?').unwrap().1;
    let (signed, sig) = query
        .split_once("&Signature=")
        .expect("a Signature parameter");
    assert!(signed.starts_with("SAMLRequest="), "{signed}");
    assert!(
        signed.ends_with("&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"),
        "{signed}"
    );
    assert_eq!(param(&loc, "RelayState").as_deref(), Some(relay.as_str()));
    let sig = base64::engine::general_purpose::STANDARD
        .decode(
            url::form_urlencoded::parse(format!("s={sig}").as_bytes())
                .next()
                .unwrap()
                .1
                .as_bytes(),
        )
        .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cert = X509::from_pem(&std::fs::read(root.join("certs/rp-enc.pem")).unwrap()).unwrap();
    let key = cert.public_key().unwrap();
    let verify = |bytes: &str| {
        let mut v = Verifier::new(MessageDigest::sha256(), &key).unwrap();
        v.update(bytes.as_bytes()).unwrap();
        v.verify(&sig).unwrap()
    };
    assert!(verify(signed), "the signature does not verify");
    assert!(!verify(&signed.replace("RelayState=", "RelayState=x")));
    // The metadata says so and publishes the certificate.
    let md = app
        .get(
            "/FederationMetadata/2007-06/FederationMetadata.xml",
            &Jar::default(),
        )
        .text();
    let der = base64::engine::general_purpose::STANDARD.encode(cert.to_der().unwrap());
    assert!(
        md.contains("AuthnRequestsSigned=\"true\"") && md.contains(&der),
        "{md}"
    );
    // WS-Fed sign-ins are unchanged.
    let (w, _) = app.start_signin(&mut jar, "whr=idp-a");
    assert!(!w.location().contains("Signature="));
    drop(app);
    // Without the flag nothing is signed, and the metadata says so.
    let plain = spawn_with(&(config_text("", "") + signing));
    let (r, _) = plain.start_signin(&mut Jar::default(), "whr=idp-saml");
    assert!(!r.location().contains("Signature=") && !r.location().contains("SigAlg="));
    // Mistakes: no key, or a WS-Fed issuer.
    let no_key = config_text("", "").replace(
        "protocol = \"saml2\"\n",
        "protocol = \"saml2\"\nsign_authn_requests = true\n",
    );
    let wsfed = config_text("", "").replace(
        "signin_url = \"https://idp-a.example.test/adfs/ls/\"\n",
        "signin_url = \"https://idp-a.example.test/adfs/ls/\"\nsign_authn_requests = true\n",
    ) + signing;
    let wrong_cert = config_text("", "")
        + "\n[sp_signing]\nkey_file = \"certs/rp-enc.key\"\ncert_file = \"certs/rp-tls.pem\"\n";
    for (text, want) in [
        (
            no_key,
            "issuers[2].sign_authn_requests: no [sp_signing] key",
        ),
        (
            wsfed,
            "issuers[0].sign_authn_requests: only SAML 2.0 issuers",
        ),
        (
            wrong_cert,
            "sp_signing.cert_file: the certificate is not the key's",
        ),
    ] {
        let err = fedrp::config::Config::from_toml(&text, root, Some("t.toml".into()), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
}
