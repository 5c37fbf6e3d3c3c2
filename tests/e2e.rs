//! End-to-end tests: real IdPs and headless Chromium against fedrp, all on 127.0.0.1.
//!
//! The IdPs (SimpleSAMLphp under php-fpm + nginx, auth0's `wsfed` and `samlp` in a small Node
//! server) are started by each test on free ports with generated configuration under
//! `target/e2e-run/<test>/`, and stopped when the test ends (also on panic). Chromium is
//! driven by `tests/e2e/browser.js` (playwright-core); screenshots and reports go to
//! `target/e2e-artifacts/`. Prerequisites come from `scripts/install-deps.sh test`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/idps.rs"]
mod idps;
#[path = "e2e/matrix.rs"]
mod matrix;
#[path = "e2e/rp.rs"]
mod rp;

use serde_json::{Value, json};

use idps::{APP, APP20, LEGACY, LEGACY20, NodeIdp, Realm, RpEndpoints, Ssp, Tenant, WSFED_DEFAULT};
use matrix::{Case, Expect, Line, Software};

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const SHA1_NOTE: &str = "RSA-SHA1 from an issuer without the per-issuer SHA-1 opt-in (`allow_sha1`): \
     refused with `sig.alg` by the token core and by `fedrp serve` alike, whatever other issuers \
     are trusted";
const WSFED_LIFETIME_NOTE: &str = "`wsfed` with its default 8 h token lifetime: the `saml` 1.0.x \
     library under it stamps AuthenticationInstant = IssueInstant + lifetime (moment's `add` \
     mutates `now`), an authentication in the future, which fedrp refuses. The other `wsfed` \
     SAML 1.1 rows use a 240 s lifetime, inside fedrp's 300 s clock skew";

/// Every row of the interop matrix, in the order the README shows them.
fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let k2 = Tenant::K2.users();
    let (bob, many) = (k2[0].clone(), k2[1].clone());
    let aad = Tenant::Aad.users()[0].clone();
    let sql = Tenant::Sql.users()[0].clone();
    let mut push = |software, user: &idps::User, realm: Realm, expect: Expect| {
        v.push(Case {
            software,
            user: user.clone(),
            realm,
            expect,
        })
    };
    let sha1_refused = Expect::Refuse("sig.alg", SHA1_NOTE);
    // One software × realm pair: the four identity styles with SHA-256, SHA-1 with and without
    // the issuer's opt-in.
    for (software, r256, r1, ok) in [
        // SimpleSAMLphp's adfs module writes SAML 1.1 assertions without SubjectConfirmation:
        // accepted through its issuer's `require_subject_confirmation = false`.
        (Software::SspAdfs, APP, LEGACY, Expect::Accept),
        (Software::SspSaml2, APP, LEGACY, Expect::Accept),
        (Software::NodeWsfed, APP, LEGACY, Expect::Accept),
        (Software::NodeWsfed, APP20, LEGACY20, Expect::Accept),
        (Software::NodeSamlp, APP, LEGACY, Expect::Accept),
    ] {
        for u in [&bob, &many, &aad, &sql] {
            push(software, u, r256, ok.clone());
        }
        push(software, &bob, r1, ok.clone());
        push(software, &aad, r1, sha1_refused.clone());
        if software == Software::NodeWsfed && r256 == APP {
            push(
                software,
                &bob,
                WSFED_DEFAULT,
                Expect::Refuse("tok.authn_stale", WSFED_LIFETIME_NOTE),
            );
        }
    }
    // fedrp's own development IdP: SAML 1.1 and 2.0 (chosen on its page), the 200-group user.
    push(Software::DevIdp, &bob, APP, Expect::Accept);
    push(Software::DevIdp, &many, APP, Expect::Accept);
    push(Software::DevIdp, &bob, APP20, Expect::Accept);
    // samlp signing both the Response and the Assertion.
    push(Software::NodeSamlp, &bob, APP20, Expect::Accept);
    push(Software::NodeSamlp, &bob, LEGACY20, Expect::Accept);
    push(Software::NodeSamlp, &aad, LEGACY20, sha1_refused);
    v
}

struct Idps {
    _ssp: Ssp,
    _node: NodeIdp,
}

impl Idps {
    /// The fedrp issuer (`whr`) of a row.
    fn issuer_name(case: &Case) -> String {
        let sw = match case.software {
            Software::SspAdfs => "ssp-adfs",
            Software::SspSaml2 => "ssp-saml2",
            Software::NodeWsfed => "node-wsfed",
            Software::NodeSamlp => "node-samlp",
            Software::DevIdp => return "dev".to_owned(),
        };
        format!("{sw}-{}", case.user.tenant.name())
    }

    fn idp_name(&self, case: &Case) -> String {
        let ssp = Ssp::version();
        match case.software {
            Software::SspAdfs => format!("SimpleSAMLphp {ssp} `adfs` module"),
            Software::SspSaml2 => format!("SimpleSAMLphp {ssp} SAML 2.0 IdP"),
            Software::NodeWsfed if case.realm.token == "saml20" => format!(
                "auth0 `wsfed` {} + `saml` {} `Saml20`",
                NodeIdp::package_version("wsfed"),
                NodeIdp::package_version("wsfed/node_modules/saml")
            ),
            Software::NodeWsfed => format!(
                "auth0 `wsfed` {} ({} token lifetime)",
                NodeIdp::package_version("wsfed"),
                match case.realm.wsfed_lifetime {
                    Some(s) => format!("{s} s"),
                    None => "default 8 h".to_owned(),
                }
            ),
            Software::DevIdp => format!("fedrp {} development IdP", env!("CARGO_PKG_VERSION")),
            Software::NodeSamlp => format!(
                "auth0 `samlp` {} (signs {})",
                NodeIdp::package_version("samlp"),
                if case.realm.samlp_sign == "both" {
                    "Response + Assertion"
                } else {
                    "Assertion"
                }
            ),
        }
    }
}

/// Every IdP × token type × algorithm × identity style of the matrix: a real sign-in through
/// `fedrp serve` at the real IdP in Chromium (`/signin?realm=&whr=` → IdP login → token POST →
/// fedrp), `/me` read back; the same posted token is also checked by the token core
/// (`fedrp check-token`) and both must agree. The README's matrix must match what was seen.
#[test]
fn interop_matrix() {
    let dir = harness::run_dir("interop_matrix");
    let (port, origin) = rp::Fedrp::reserve(false);
    let rp_ep = RpEndpoints {
        origin: origin.clone(),
    };
    let ssp = Ssp::start(&dir, &rp_ep);
    let node = NodeIdp::start(&dir, &rp_ep);
    let issuers = rp::live_issuers(Some(&ssp), Some(&node));
    let mut issuer_blocks: Vec<Value> = issuers.iter().map(rp::IssuerSpec::to_json).collect();
    issuer_blocks.push(rp::dev_issuer());
    let mut names: Vec<String> = issuers.iter().map(|i| i.name.clone()).collect();
    names.push("dev".into());
    let config = json!({
        "dev_idp": rp::dev_idp_section(),
        "issuers": issuer_blocks,
        "realms": rp::matrix_realms(&names),
    });
    let fedrp = rp::Fedrp::start(&dir, "fedrp", port, false, config);
    let idps = Idps {
        _ssp: ssp,
        _node: node,
    };

    let cases = cases();
    let mut steps = Vec::new();
    for case in &cases {
        let (form, user) = match case.software {
            Software::SspAdfs | Software::SspSaml2 => ("ssp", case.user.login.clone()),
            Software::NodeWsfed | Software::NodeSamlp => ("node", case.user.login.clone()),
            // The development IdP's page: a radio button per configured user.
            Software::DevIdp => ("dev", rp::dev_user_index(&case.user).to_string()),
        };
        let saml = if case.realm.token == "saml20" {
            "2.0"
        } else {
            "1.1"
        };
        let ctx = case.id();
        let r = case.realm.name;
        let start = fedrp.url(&format!(
            "/signin?realm={r}&whr={}&ru={}",
            Idps::issuer_name(case),
            enc(&format!("/{r}/"))
        ));
        let login_form = if form == "dev" {
            "input[name=user]"
        } else {
            "#username"
        };
        steps.push(json!({"op": "goto", "ctx": ctx, "label": ctx, "url": start, "wait_selector": login_form}));
        steps.push(json!({"op": "login", "ctx": ctx, "label": ctx, "form": form, "user": user, "saml": saml, "password": idps::PASSWORD, "wait_url_prefix": fedrp.origin}));
        steps.push(json!({"op": "fetch", "ctx": ctx, "label": ctx, "url": fedrp.url(&format!("/me?realm={r}"))}));
        steps.push(json!({"op": "close", "ctx": ctx}));
    }
    let plan = json!({
        "record_posts": ["/signin-wsfed", "/signin-saml"],
        "steps": steps,
    });
    let report = harness::run_browser("interop_matrix", &dir, plan);
    if report["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&report, "interop matrix sign-ins");

    let steps = report["steps"].as_array().unwrap();
    let logins: Vec<&Value> = steps.iter().filter(|s| s["op"] == "login").collect();
    let mes: Vec<&Value> = steps.iter().filter(|s| s["op"] == "fetch").collect();
    assert_eq!(logins.len(), cases.len());
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    for ((case, login), me) in cases.iter().zip(logins).zip(mes) {
        let posts = login["posts"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            posts.len(),
            1,
            "{}: expected exactly one token POST, saw {posts:?}",
            case.id()
        );
        let navs = login["navigations"].as_array().map_or(0, Vec::len);
        if navs > 6 {
            failures.push(format!(
                "{}: {navs} navigations from the IdP's login back to fedrp (a loop?): {}",
                case.id(),
                login["navigations"]
            ));
        }
        let post = &posts[0];
        let (_, token) = matrix::posted_token(&post["fields"])
            .unwrap_or_else(|| panic!("{}: no wresult / SAMLResponse posted", case.id()));
        let recipient = case.software.is_samlp().then(|| rp_ep.saml());
        // The token core on the same bytes, configured with just this row's issuer block.
        let name = Idps::issuer_name(case);
        let block = issuer_blocks
            .iter()
            .find(|b| b["name"] == name.as_str())
            .cloned()
            .unwrap();
        let single = dir.join(format!("check-token-{name}.toml"));
        if !single.exists() {
            // check-token --config validates the whole file, session keys included.
            let mut c = json!({"session": {"ephemeral_key": true}, "issuers": [block],
                               "realms": rp::matrix_realms(std::slice::from_ref(&name))});
            if case.software == Software::DevIdp {
                c["dev_idp"] = rp::dev_idp_section();
            }
            std::fs::write(&single, toml::to_string(&c).unwrap()).unwrap();
        }
        let core = matrix::check_token(&dir, case, &token, &single, recipient.as_deref());
        // What fedrp serve decided: the ACS answer and /me.
        let served = matrix::served_outcome(&core, post, me);
        for (what, o) in [("fedrp serve", &served), ("check-token", &core)] {
            if let Some(m) = matrix::mismatch(case, o) {
                failures.push(format!("{} ({what}): {m}", case.id()));
            }
        }
        lines.push(Line {
            idp: idps.idp_name(case),
            protocol: if case.software.is_samlp() {
                "SAML-P POST".into()
            } else {
                "WS-Fed".into()
            },
            case: case.clone(),
            outcome: served,
        });
    }
    let rendered = matrix::render(&lines);
    std::fs::write(
        harness::artifacts_dir().join("interop-matrix.md"),
        &rendered,
    )
    .unwrap();
    assert!(
        failures.is_empty(),
        "interop rows differ from what fedrp must decide:\n{}\n(tokens: {})\nfedrp log:\n{}",
        failures.join("\n"),
        dir.display(),
        fedrp.log()
    );
    matrix::check_readme(&rendered);
}

/// The session's cookies (`__Host-fedrp`, its chunks), as the browser holds them.
fn session_cookies(cookies: &Value) -> Vec<Value> {
    cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let n = c["name"].as_str().unwrap_or("");
            n == "__Host-fedrp"
                || n.strip_prefix("__Host-fedrp.")
                    .is_some_and(|i| i.parse::<usize>().is_ok())
        })
        .cloned()
        .collect()
}

/// The record of the step labelled `label` (also inside `branch` steps).
fn step<'a>(report: &'a Value, label: &str) -> &'a Value {
    fn find<'a>(steps: &'a Value, label: &str) -> Option<&'a Value> {
        steps.as_array()?.iter().find_map(|s| {
            if s["label"] == label {
                Some(s)
            } else {
                find(&s["steps"], label)
            }
        })
    }
    find(&report["steps"], label).unwrap_or_else(|| panic!("no step {label} in the report"))
}

fn screenshot(name: &str) -> String {
    harness::artifacts_dir()
        .join(format!("{name}.png"))
        .display()
        .to_string()
}

/// Item 2 of the issue, in one browser: a protected page sends the browser to the IdP (auth0
/// `wsfed`), the login brings it back signed in, `/me` shows the FQN and groups; RP-initiated
/// sign-out and IdP-initiated cleanup (wsignoutcleanup1.0) each end the session in the
/// browser; neither a second browser context nor the old cookie replayed after sign-out gets
/// the session. The cleanup is also tried from an IdP page on another site, with third-party
/// cookies blocked (the session survives: nothing can name it) and allowed (the sign-out
/// handle ends it).
#[test]
fn browser_session_lifecycle() {
    let dir = harness::run_dir("browser_session_lifecycle");
    let (port, origin) = rp::Fedrp::reserve(false);
    let rp_ep = RpEndpoints {
        origin: origin.clone(),
    };
    let node = NodeIdp::start(&dir, &rp_ep);
    let issuer = rp::live_issuers(None, Some(&node))
        .into_iter()
        .find(|i| i.name == "node-wsfed-k2")
        .unwrap();
    let config = json!({
        "issuers": [issuer.to_json()],
        "realms": [{
            "name": "app", "realm": APP.uri(), "path_prefixes": ["/app/"],
            "issuers": ["node-wsfed-k2"], "default_issuer": "node-wsfed-k2",
        }],
    });
    let fedrp = rp::Fedrp::start(&dir, "fedrp", port, false, config);
    let bob = &Tenant::K2.users()[0];
    let app = fedrp.url("/app/");
    let me = fedrp.url("/me");
    let idp_prefix = node.wsfed_url(Tenant::K2);
    // The IdP's sign-out page on another site (http://localhost:<port>), as real IdPs are.
    let cross_site_logout = node
        .logout_url(Tenant::K2)
        .replace("127.0.0.1", "localhost");
    let login = |label: &str| {
        json!({"op": "login", "ctx": "a", "label": label, "form": "node", "user": bob.login,
               "password": idps::PASSWORD, "wait_url_prefix": app})
    };
    let plan = json!({
        "record_posts": ["/signin-wsfed"],
        "steps": [
            {"op": "goto", "ctx": "a", "label": "open", "url": app, "wait_url_prefix": idp_prefix, "wait_selector": "#username"},
            login("login"),
            {"op": "screenshot", "ctx": "a", "label": "shot-signed-in", "path": screenshot("session-signed-in")},
            {"op": "fetch", "ctx": "a", "label": "me", "url": me},
            {"op": "cookies", "ctx": "a", "label": "cookies"},
            // Another browser context shares nothing: no session, and the IdP asks again.
            {"op": "fetch", "ctx": "b", "label": "b-me", "url": me},
            {"op": "goto", "ctx": "b", "label": "b-open", "url": app, "wait_url_prefix": idp_prefix, "wait_selector": "#username"},
            // RP-initiated sign-out: fedrp → IdP wsignout1.0 → back to /signed-out.
            {"op": "goto", "ctx": "a", "label": "signout", "url": fedrp.url("/signout"), "wait_url_prefix": fedrp.url("/signed-out")},
            {"op": "screenshot", "ctx": "a", "label": "shot-signed-out", "path": screenshot("session-rp-signed-out")},
            {"op": "fetch", "ctx": "a", "label": "me-after-signout", "url": me},
            {"op": "cookies", "ctx": "a", "label": "cookies-after-signout"},
            // The IdP session ended too: the protected page asks for a login again.
            {"op": "goto", "ctx": "a", "label": "reopen", "url": app, "wait_url_prefix": idp_prefix, "wait_selector": "#username"},
            login("login-again"),
            {"op": "fetch", "ctx": "a", "label": "me-again", "url": me},
            // IdP-initiated sign-out: the IdP's page loads fedrp's wsignoutcleanup1.0 image.
            {"op": "goto", "ctx": "a", "label": "idp-logout", "url": node.logout_url(Tenant::K2), "wait_selector": "#signed-out"},
            {"op": "screenshot", "ctx": "a", "label": "shot-idp-logout", "path": screenshot("session-idp-cleanup")},
            {"op": "count", "ctx": "a", "label": "cleanup-failed", "selector": ".cleanup-failed"},
            {"op": "fetch", "ctx": "a", "label": "me-after-cleanup", "url": me},
            // The same from an IdP on another site (http://localhost:<port>), as real IdPs are:
            // the cleanup image is then a cross-site request.
            {"op": "goto", "ctx": "a", "label": "reopen-2", "url": app, "wait_url_prefix": idp_prefix, "wait_selector": "#username"},
            login("login-3"),
            {"op": "fetch", "ctx": "a", "label": "me-3", "url": me},
            {"op": "goto", "ctx": "a", "label": "idp-logout-cross-site", "url": cross_site_logout, "wait_selector": "#signed-out"},
            {"op": "screenshot", "ctx": "a", "label": "shot-idp-logout-cross-site", "path": screenshot("session-idp-cleanup-cross-site")},
            {"op": "fetch", "ctx": "a", "label": "me-after-cross-site-cleanup", "url": me},
        ],
    });
    let report = harness::run_browser("browser_session_lifecycle", &dir, plan);
    if report["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&report, "session lifecycle");

    // Sign-in: protected page → IdP (wsignin1.0 for our realm) → token POST → 303 → the page.
    let open = step(&report, "open");
    let first_nav = open["navigations"][0]["url"].as_str().unwrap();
    assert_eq!(first_nav, app);
    let idp_url = open["url"].as_str().unwrap();
    assert!(
        idp_url.contains("wa=wsignin1.0") && idp_url.contains(&enc(&APP.uri())),
        "not a wsignin1.0 for our realm: {idp_url}"
    );
    let login_step = step(&report, "login");
    assert_eq!(
        login_step["url"], app,
        "the browser is back on the protected page"
    );
    let post = &login_step["posts"][0];
    assert_eq!(post["status"], 303, "token POST answer: {post}");
    assert!(
        login_step["navigations"].as_array().unwrap().len() <= 4,
        "too many navigations for one sign-in: {}",
        login_step["navigations"]
    );
    let set_cookie: Vec<&str> = post["set_cookie"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let session_set = set_cookie
        .iter()
        .find(|c| c.starts_with("__Host-fedrp="))
        .unwrap_or_else(|| panic!("no session cookie set: {set_cookie:?}"));
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(session_set.contains(attr), "{attr} missing: {session_set}");
    }
    assert!(
        !session_set.contains("Domain="),
        "__Host- cookie with Domain: {session_set}"
    );

    // /me: the FQN and groups.
    let me1 = step(&report, "me");
    assert_eq!(me1["status"], 200);
    assert_eq!(me1["json"]["fqn"], bob.fqn());
    assert_eq!(me1["json"]["groups"], json!(["K2:Sales", "K2:Everyone"]));
    let cookies = session_cookies(step(&report, "cookies"));
    assert!(!cookies.is_empty(), "the browser holds no session cookie");
    for c in &cookies {
        assert_eq!(c["httpOnly"], true, "{c}");
        assert_eq!(c["secure"], true, "{c}");
        assert_eq!(c["sameSite"], "Lax", "{c}");
    }
    // The sign-out handle, the one cookie an IdP's cross-site cleanup image can carry.
    let handle = step(&report, "cookies")["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "__Host-fedrp.so")
        .expect("no sign-out handle cookie");
    assert_eq!(
        (&handle["httpOnly"], &handle["secure"], &handle["sameSite"]),
        (&json!(true), &json!(true), &json!("None")),
        "{handle}"
    );

    // The second context: not signed in, and sent to the IdP's login.
    assert_eq!(step(&report, "b-me")["status"], 401);
    assert!(
        step(&report, "b-open")["url"]
            .as_str()
            .unwrap()
            .starts_with(&idp_prefix)
    );

    // RP-initiated sign-out.
    let so = step(&report, "signout");
    let so_urls: Vec<&str> = so["navigations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["url"].as_str())
        .collect();
    assert!(
        so_urls
            .iter()
            .any(|u| u.starts_with(&idp_prefix) && u.contains("wa=wsignout1.0")),
        "sign-out did not go through the IdP's wsignout1.0: {so_urls:?}"
    );
    assert_eq!(step(&report, "me-after-signout")["status"], 401);
    assert!(
        session_cookies(step(&report, "cookies-after-signout")).is_empty()
            && !has_cookie(step(&report, "cookies-after-signout"), "__Host-fedrp.so"),
        "session cookie still in the browser after sign-out"
    );
    assert!(
        step(&report, "reopen")["url"]
            .as_str()
            .unwrap()
            .starts_with(&idp_prefix),
        "the IdP session survived the sign-out"
    );

    // Signed in again, then IdP-initiated cleanup.
    assert_eq!(step(&report, "me-again")["status"], 200);
    assert_eq!(
        step(&report, "cleanup-failed")["count"],
        0,
        "fedrp's wsignoutcleanup1.0 answer did not load as an image"
    );
    assert_eq!(step(&report, "me-after-cleanup")["status"], 401);
    assert_eq!(step(&report, "me-3")["status"], 200);
    // From an IdP on another site the cleanup image is a cross-site request. This context is
    // off the record (as an Incognito window), which blocks third-party cookies: neither the
    // `SameSite=Lax` session cookie nor the `SameSite=None` sign-out handle travels, nothing
    // names the session, and it survives (a documented limit of front-channel sign-out).
    assert_eq!(
        step(&report, "me-after-cross-site-cleanup")["status"],
        200,
        "with third-party cookies blocked no cookie can reach fedrp: what ended the session?"
    );
    // A regular profile (third-party cookies allowed, Chrome's default): the sign-out handle
    // travels with the cross-site image and the session ends.
    let profile_dir = dir.join("chromium-profile-cross-site-cleanup");
    std::fs::create_dir_all(&profile_dir).unwrap();
    let cross = json!({
        "user_data_dir": profile_dir.display().to_string(),
        "preferences": {"profile": {"cookie_controls_mode": 0}},
        "steps": [
            {"op": "goto", "ctx": "a", "label": "open", "url": app, "wait_url_prefix": idp_prefix, "wait_selector": "#username"},
            login("login"),
            {"op": "fetch", "ctx": "a", "label": "me", "url": me},
            {"op": "goto", "ctx": "a", "label": "idp-logout-cross-site", "url": cross_site_logout, "wait_selector": "#signed-out"},
            {"op": "count", "ctx": "a", "label": "cleanup-failed", "selector": ".cleanup-failed"},
            {"op": "fetch", "ctx": "a", "label": "me-after-cross-site-cleanup", "url": me},
        ],
    });
    let r3 = harness::run_browser("browser_cross_site_cleanup", &dir, cross);
    if r3["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&r3, "cross-site IdP-initiated cleanup");
    assert_eq!(step(&r3, "me")["status"], 200);
    assert_eq!(step(&r3, "cleanup-failed")["count"], 0);
    assert_eq!(
        step(&r3, "me-after-cross-site-cleanup")["status"],
        401,
        "cross-site wsignoutcleanup1.0 did not end the session"
    );

    // The cookie from before the sign-out, replayed in a fresh context, is dead (the session
    // is revoked server-side, not only deleted in the browser).
    let replay = json!({
        "steps": [
            {"op": "add_cookies", "ctx": "c", "label": "replay", "cookies": cookies},
            {"op": "fetch", "ctx": "c", "label": "c-me", "url": me},
        ],
    });
    let r2 = harness::run_browser("browser_session_replay", &dir, replay);
    harness::expect_ok(&r2, "replay of a signed-out cookie");
    assert_eq!(
        step(&r2, "c-me")["status"],
        401,
        "a signed-out session cookie still works in another context"
    );
}

/// Third-party cookies blocked: Chromium's switch for it plus the profile setting "Block
/// third-party cookies" (`profile.cookie_controls_mode = 1`). Partitioned (CHIPS) cookies stay
/// allowed, as in Chrome. (This Chromium build, headless, blocks them by default already: the
/// "allowed" run sets the setting to 0 explicitly.) A control cookie proves each state.
const BLOCK_3PC: &str = "--test-third-party-cookie-phaseout";

/// Item 3 of the issue: a SharePoint-style host page on another site (`https://localhost:<p>`)
/// frames a fedrp page of an `iframe` realm served over HTTPS (`https://127.0.0.1:<q>`, the
/// self-signed test certificate accepted by the browser). With third-party cookies allowed the
/// sign-in completes inside the frame on partitioned cookies; with them blocked it completes
/// without a loop (in the frame on CHIPS cookies, or through fedrp's pop-up fallback); a host
/// page that is not allow-listed cannot frame it at all. Screenshots of each end state.
#[test]
fn iframe_sharepoint_addin() {
    let dir = harness::run_dir("iframe_sharepoint_addin");
    let (port, origin) = rp::Fedrp::reserve(true);
    let rp_ep = RpEndpoints {
        origin: origin.clone(),
    };
    let node = NodeIdp::start_with(&dir, &rp_ep, true);
    // fedrp only lets https:// origins frame it: the host pages are HTTPS too (same test
    // certificate, for localhost and 127.0.0.1). localhost and 127.0.0.1 are different sites.
    let tls_port = node.tls_port.expect("host page HTTPS port");
    let host_ok = format!("https://localhost:{tls_port}");
    let host_bad = format!("https://127.0.0.1:{tls_port}");
    let issuer = rp::live_issuers(None, Some(&node))
        .into_iter()
        .find(|i| i.name == "node-wsfed-k2")
        .unwrap();
    let config = json!({
        "issuers": [issuer.to_json()],
        "realms": [{
            "name": "frame", "realm": APP.uri(), "path_prefixes": ["/frame/"],
            "issuers": ["node-wsfed-k2"], "default_issuer": "node-wsfed-k2",
            "profile": "iframe", "frame_ancestors": [host_ok],
        }],
    });
    let fedrp = rp::Fedrp::start(&dir, "fedrp", port, true, config);
    let bob = &Tenant::K2.users()[0];
    let app = fedrp.url("/frame/");
    let host = |h: &str| {
        format!(
            "{h}/host?src={}&probe={}",
            enc(&app),
            enc(&format!("https://127.0.0.1:{tls_port}/probe3p"))
        )
    };
    let signed_in = "text=Signed in as";
    // A fresh Chromium profile directory per browser run.
    let profile = |name: &str| {
        let p = dir.join(format!("chromium-profile-{name}"));
        std::fs::create_dir_all(&p).unwrap();
        p.display().to_string()
    };
    let in_frame_login = |label: &str| {
        json!({"op": "login", "ctx": "a", "label": label, "frame": "#app", "form": "node",
               "user": bob.login, "password": idps::PASSWORD,
               "wait_selector": signed_in, "wait_in_frame": "#app"})
    };
    let check_steps = |name: &str| {
        vec![
            json!({"op": "wait", "ctx": "a", "label": "probe-loaded", "frame": "#probe3p", "selector": "#probe"}),
            // What the framed page shows (its CSP forbids scripts, so /me is not fetched from
            // inside the frame; the page prints the same principal).
            json!({"op": "wait", "ctx": "a", "label": "me", "frame": "#app", "selector": "body"}),
            json!({"op": "cookies", "ctx": "a", "label": "cookies"}),
            json!({"op": "screenshot", "ctx": "a", "label": "shot", "path": screenshot(name)}),
        ]
    };

    // 1. Third-party cookies allowed: the sign-in runs inside the frame.
    let mut steps = vec![
        json!({"op": "goto", "ctx": "a", "label": "host", "url": host(&host_ok), "wait_selector": "#app"}),
        json!({"op": "wait", "ctx": "a", "label": "idp-in-frame", "frame": "#app", "selector": "#username"}),
        in_frame_login("login"),
    ];
    steps.extend(check_steps("iframe-3pc-allowed-signed-in"));
    let r1 = harness::run_browser(
        "iframe_3pc_allowed",
        &dir,
        json!({"ignore_https_errors": true, "user_data_dir": profile("allowed"),
               "preferences": {"profile": {"cookie_controls_mode": 0}},
               "record_posts": ["/signin-wsfed"], "steps": steps}),
    );
    if r1["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&r1, "framed sign-in, third-party cookies allowed");
    assert_framed_signed_in(&r1, bob, "allowed");
    assert!(
        has_cookie(step(&r1, "cookies"), "e2e_3p_probe"),
        "control: an unpartitioned third-party cookie was refused with third-party cookies allowed"
    );

    // 2. Third-party cookies blocked: in the frame on CHIPS cookies, or the pop-up fallback.
    let mut steps = vec![
        json!({"op": "goto", "ctx": "a", "label": "host", "url": host(&host_ok), "wait_selector": "#app"}),
        json!({"op": "branch", "ctx": "a", "label": "path", "frame": "#app",
        "selector": "#username", "other": "#popup",
        "then": [in_frame_login("login")],
        "else": [
            {"op": "screenshot", "ctx": "a", "label": "shot-fallback", "path": screenshot("iframe-3pc-blocked-fallback")},
            {"op": "click", "ctx": "a", "label": "open-popup", "frame": "#app", "selector": "#popup", "expect_popup": true, "popup_wait_selector": "#username"},
            {"op": "login", "ctx": "a", "label": "login", "popup": true, "form": "node", "user": bob.login,
             "password": idps::PASSWORD, "wait_selector": signed_in, "wait_in_frame": "#app"},
        ]}),
    ];
    steps.extend(check_steps("iframe-3pc-blocked-signed-in"));
    let r2 = harness::run_browser(
        "iframe_3pc_blocked",
        &dir,
        json!({"ignore_https_errors": true, "user_data_dir": profile("blocked"), "extra_args": [BLOCK_3PC],
               "preferences": {"profile": {"cookie_controls_mode": 1}},
               "record_posts": ["/signin-wsfed"], "steps": steps}),
    );
    if r2["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&r2, "framed sign-in, third-party cookies blocked");
    assert!(
        !has_cookie(step(&r2, "cookies"), "e2e_3p_probe"),
        "control: {BLOCK_3PC} did not block an unpartitioned third-party cookie"
    );
    assert_framed_signed_in(&r2, bob, "blocked");
    eprintln!(
        "third-party cookies blocked: sign-in path taken: {}",
        step(&r2, "path")["taken"]
    );

    // 2b. The framed site may keep no cookie at all (a site exception "block cookies of
    // 127.0.0.1 under localhost", partitioned ones included): fedrp's probe sees it and
    // offers the fallback; the pop-up signs in at top level and hands the session over.
    let steps = vec![
        json!({"op": "goto", "ctx": "a", "label": "host", "url": host(&host_ok), "wait_selector": "#app"}),
        json!({"op": "wait", "ctx": "a", "label": "fallback", "frame": "#app", "selector": "#popup"}),
        json!({"op": "screenshot", "ctx": "a", "label": "shot-fallback", "path": screenshot("iframe-no-cookies-fallback")}),
        json!({"op": "click", "ctx": "a", "label": "open-popup", "frame": "#app", "selector": "#popup", "expect_popup": true, "popup_wait_selector": "#username"}),
        json!({"op": "login", "ctx": "a", "label": "login", "popup": true, "form": "node", "user": bob.login,
               "password": idps::PASSWORD, "wait_popup_closed": true, "wait_post": "/signin/handoff", "wait_in_frame": "#app"}),
        json!({"op": "wait", "ctx": "a", "label": "me", "frame": "#app", "selector": "body"}),
        json!({"op": "cookies", "ctx": "a", "label": "cookies"}),
        json!({"op": "screenshot", "ctx": "a", "label": "shot", "path": screenshot("iframe-no-cookies-end")}),
    ];
    let block_site = format!("{origin},{host_ok}");
    let r2b = harness::run_browser(
        "iframe_no_cookies",
        &dir,
        json!({"ignore_https_errors": true, "user_data_dir": profile("no-cookies"), "extra_args": [BLOCK_3PC],
               "preferences": {"profile": {"cookie_controls_mode": 1,
                   "content_settings": {"exceptions": {"cookies": {block_site: {"setting": 2}}}}}},
               "record_posts": ["/signin-wsfed", "/signin/handoff"], "steps": steps}),
    );
    if r2b["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&r2b, "framed sign-in, no cookies for the framed site");
    let login = step(&r2b, "login");
    let navs = login["navigations"].as_array().map_or(0, Vec::len);
    assert!(
        navs <= 12,
        "no cookies for the framed site: {navs} navigations: a loop? {login}"
    );
    let posts = login["posts"].as_array().unwrap();
    let status_of = |path: &str| {
        posts
            .iter()
            .find(|p| p["url"].as_str().is_some_and(|u| u.ends_with(path)))
            .map(|p| p["status"].clone())
    };
    // The pop-up signed in at top level (its own session cookie) and handed the session over.
    assert_eq!(status_of("/signin-wsfed"), Some(json!(200)), "{posts:?}");
    assert_eq!(status_of("/signin/handoff"), Some(json!(303)), "{posts:?}");
    let top_level = session_cookies(step(&r2b, "cookies"));
    assert!(
        top_level.iter().any(|c| c["partitionKey"]
            .as_str()
            .is_some_and(|k| k.contains("127.0.0.1"))),
        "the pop-up holds no top-level session: {top_level:?}"
    );
    // The frame cannot store the handed-over session either (the hand-off answer's Set-Cookie
    // is refused like the probe's): fedrp's probe notices and ends on a page that says so and
    // opens the application, already signed in at top level, in a new tab; no second pop-up
    // offer, no loop.
    let page = step(&r2b, "me")["text"].as_str().unwrap_or("");
    assert!(
        page.contains("keeps no cookies") && page.contains("Open the application in a new tab"),
        "no cookies for the framed site: the frame shows {page:?}"
    );
    assert!(
        !page.contains("Sign in in a pop-up window"),
        "the pop-up is offered again: {page:?}"
    );

    // 3. A host page that is not allow-listed. fedrp's redirects to the IdP are not rendered,
    // so frame-ancestors does not apply to them and the (framable) test IdP's login shows in
    // the frame; every fedrp page is refused by the browser: after the login the frame ends
    // on Chromium's error page, never on fedrp's signed-in page.
    let r3 = harness::run_browser(
        "iframe_not_allowed",
        &dir,
        json!({"ignore_https_errors": true, "user_data_dir": profile("not-allowed"),
               "preferences": {"profile": {"cookie_controls_mode": 0}},
               "record_posts": ["/signin-wsfed"], "steps": [
            {"op": "goto", "ctx": "a", "label": "host", "url": host(&host_bad), "wait_selector": "#app"},
            {"op": "wait", "ctx": "a", "label": "idp-in-frame", "frame": "#app", "selector": "#username"},
            {"op": "login", "ctx": "a", "label": "login", "frame": "#app", "form": "node",
             "user": bob.login, "password": idps::PASSWORD},
            {"op": "frame_url", "ctx": "a", "label": "frame", "selector": "#app", "wait_prefix": "chrome-error:"},
            {"op": "screenshot", "ctx": "a", "label": "shot", "path": screenshot("iframe-host-not-allowed")},
        ]}),
    );
    if r3["error"].is_string() {
        eprintln!("fedrp log:\n{}", fedrp.log());
    }
    harness::expect_ok(&r3, "framing from a host that is not allow-listed");
    let frame = step(&r3, "frame");
    assert!(
        frame["blocked"] == "net::ERR_BLOCKED_BY_RESPONSE"
            || frame["frame_url"]
                .as_str()
                .is_some_and(|u| u.starts_with("chrome-error:")),
        "fedrp's page was rendered in a frame of {host_bad}: {frame}"
    );
    let navs = frame["navigations"].as_array().unwrap();
    let rendered: Vec<&Value> = navs
        .iter()
        .filter(|n| {
            n["frame"] == "sub"
                && n["url"].as_str().is_some_and(|u| u.starts_with(&origin))
                && n["status"].as_u64().is_some_and(|s| s == 200)
        })
        .collect();
    assert!(
        !rendered.is_empty(),
        "fedrp never answered the frame with a page: {navs:?}"
    );
    for n in navs
        .iter()
        .filter(|n| n["url"].as_str().is_some_and(|u| u.starts_with(&origin)))
    {
        let csp = n["csp"].as_str().unwrap_or("");
        assert!(
            csp.contains(&format!("frame-ancestors {host_ok}")) && !csp.contains(&host_bad),
            "fedrp's answer in the frame lacks the frame-ancestors allow-list: {n}"
        );
    }
}

fn has_cookie(cookies: &Value, name: &str) -> bool {
    cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == name)
}

/// The frame shows the signed-in page, `/me` from inside the frame has the user, the session
/// cookies are `SameSite=None; Secure; Partitioned` (partitioned under the host's site), and
/// the sign-in did not loop.
fn assert_framed_signed_in(report: &Value, bob: &idps::User, what: &str) {
    let login = step(report, "login");
    let navs = login["navigations"].as_array().map_or(0, Vec::len);
    assert!(
        navs <= 8,
        "third-party cookies {what}: {navs} navigations: a loop? {login}"
    );
    let posts = login["posts"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        posts.len(),
        1,
        "third-party cookies {what}: token POSTs {posts:?}"
    );
    let page = step(report, "me")["text"].as_str().unwrap_or("");
    assert!(
        page.contains(&format!("Signed in as {}", bob.fqn())) && page.contains("K2:Sales"),
        "third-party cookies {what}: the frame shows {page:?}"
    );
    let cookies = session_cookies(step(report, "cookies"));
    assert!(
        !cookies.is_empty(),
        "third-party cookies {what}: no session cookie"
    );
    for c in &cookies {
        assert_eq!(c["sameSite"], "None", "{c}");
        assert_eq!(c["secure"], true, "{c}");
        assert_eq!(c["httpOnly"], true, "{c}");
        assert!(
            c["partitionKey"]
                .as_str()
                .is_some_and(|k| k.contains("localhost")),
            "third-party cookies {what}: session cookie not partitioned under the host: {c}"
        );
    }
}
