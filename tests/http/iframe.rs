//! Iframe mode (SharePoint add-in pages): framing headers, the cookie probe, the fallback page
//! and the pop-up hand-off; never a redirect loop (catalogue Q09, Q10).

use crate::helpers::*;

const FRAMED: (&str, &str) = ("Sec-Fetch-Dest", "iframe");

#[test]
fn framed_pages_probe_cookies_first() {
    let app = spawn_app();
    let r = app.get_with("/sp/page", &Jar::default(), &[FRAMED]);
    assert_eq!(r.status, 302);
    assert!(
        r.location().starts_with("/signin/probe?realm=sp"),
        "{}",
        r.location()
    );
    let probe = r.cookie("__Host-fedrp-probe").unwrap();
    assert!(
        probe.contains("SameSite=None")
            && probe.contains("Partitioned")
            && probe.contains("Secure")
    );
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains(&format!("frame-ancestors {SHAREPOINT}"))
    );
    // Cookies work in the frame: the probe continues to the IdP, inside the frame.
    let mut jar = Jar::default();
    jar.take(&r);
    let next = app.get_with(r.location(), &jar, &[FRAMED]);
    assert_eq!(next.status, 302);
    assert!(
        next.location().starts_with("https://idp-a.example.test/"),
        "{}",
        next.location()
    );
    assert!(
        next.set_cookies()
            .iter()
            .any(|c| c.starts_with("__Host-fedrp-probe=;") && c.contains("Max-Age=0"))
    );
}

#[test]
fn blocked_cookies_get_the_fallback_page_not_a_loop() {
    let app = spawn_app();
    let r = app.get_with("/sp/page", &Jar::default(), &[FRAMED]);
    // The browser dropped the probe cookie.
    let fb = app.get_with(r.location(), &Jar::default(), &[FRAMED]);
    assert_eq!(fb.status, 200, "a page, not another redirect");
    assert_eq!(fb.header("location"), None);
    let body = fb.text();
    assert!(
        body.contains("pop-up") && body.contains("target=\"_blank\""),
        "{body}"
    );
    assert!(body.contains("popup=1"));
    let csp = fb.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'nonce-")
            && csp.contains(&format!("frame-ancestors {SHAREPOINT}")),
        "{csp}"
    );
}

#[test]
fn the_popup_hands_the_session_to_the_frame() {
    let app = spawn_app();
    // In the pop-up (top level): sign in with popup=1.
    let mut popup = Jar::default();
    let (_, wctx) = app.start_signin(&mut popup, "realm=sp&ru=%2Fsp%2Fpage&popup=1");
    let mut s = spec(app.now());
    s.audience = SP_REALM.into();
    let w = wresult(&idps()[0], &s, Some(&wctx));
    let done = app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &w), ("wctx", &wctx)],
        &popup,
    );
    assert_eq!(done.status, 200, "{:?}", done.reason());
    let body = done.text();
    assert!(
        body.contains("postMessage") && body.contains("window.close"),
        "{body}"
    );
    let code = body
        .split("fedrp_handoff:\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // In the frame: the code becomes the frame's own (partitioned) session.
    let r = app.post_form(
        "/signin/handoff",
        &[("code", &code), ("realm", "sp"), ("ru", "/sp/page")],
        &Jar::default(),
    );
    assert_eq!(r.status, 303);
    let probe = r.location().to_owned();
    assert_eq!(
        probe, "/signin/probe?realm=sp&ru=%2Fsp%2Fpage&handoff=1",
        "back through the probe"
    );
    let c = r.cookie(SP_COOKIE).unwrap();
    assert!(c.contains("SameSite=None; Partitioned"), "{c}");
    let mut frame = Jar::default();
    frame.take(&r);
    // The frame kept the session: on to the page.
    let back = app.get_with(&probe, &frame, &[FRAMED]);
    assert_eq!((back.status, back.location()), (303, "/sp/page"));
    assert_eq!(app.get_with("/sp/page", &frame, &[FRAMED]).status, 200);
    // A frame that kept nothing: a page with the new-tab link, no second pop-up offer.
    let nothing = app.get_with(&probe, &Jar::default(), &[FRAMED]);
    assert_eq!((nothing.status, nothing.header("location")), (200, None));
    let body = nothing.text();
    assert!(
        body.contains("id=\"kept-nothing\"")
            && body.contains("href=\"/sp/page\" target=\"_blank\"")
            && !body.contains("id=\"popup\""),
        "{body}"
    );
    assert!(
        nothing
            .header("content-security-policy")
            .unwrap()
            .contains(&format!("frame-ancestors {SHAREPOINT}"))
    );
    // One-time code.
    app.post_form(
        "/signin/handoff",
        &[("code", &code), ("realm", "sp"), ("ru", "/sp/page")],
        &Jar::default(),
    )
    .rejected(400, "wsf.ctx");
}
