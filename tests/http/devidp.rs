//! The development IdP end to end: sign-in page, token (SAML 1.1 and 2.0) signed with its key
//! through libxmlsec1, auto-post to the RP, session with the configured FQN.

use crate::helpers::*;

fn hidden(body: &str) -> Vec<(String, String)> {
    body.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|s| {
            let name = s.split('"').next().unwrap().to_owned();
            let value = s
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = value
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            (name, value)
        })
        .collect()
}

fn dev_sign_in(app: &TestApp, saml: &str) -> (Jar, Response) {
    let mut jar = Jar::default();
    let (r, _) = app.start_signin(&mut jar, "whr=dev&ru=%2Fapp%2Fhome");
    let loc = r
        .location()
        .replace(&format!("http://localhost:{}", app.port), "");
    assert!(loc.starts_with("/_dev/idp/wsfed?wa=wsignin1.0"), "{loc}");
    let page = app.get(&loc, &Jar::default());
    assert_eq!(page.status, 200);
    let body = page.text();
    assert!(
        body.contains("Development IdP") && body.contains("DENALLIX\\bob"),
        "{body}"
    );
    let mut form = hidden(&body);
    form.push(("user".into(), "0".into()));
    form.push(("saml".into(), saml.into()));
    form.push(("group.0".into(), "Sales".into()));
    form.push(("extra".into(), "urn:test:claim=hello".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let post = app.post_form("/_dev/idp/wsfed", &pairs, &Jar::default());
    assert_eq!(post.status, 200, "{}", post.text());
    let auto = hidden(&post.text());
    assert!(post.text().contains(&format!(
        "action=\"http://localhost:{}/signin-wsfed\"",
        app.port
    )));
    let pairs: Vec<(&str, &str)> = auto.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form("/signin-wsfed", &pairs, &jar);
    jar.take(&r);
    (jar, r)
}

#[test]
fn signing_in_with_the_dev_idp_ends_on_the_fqn() {
    let app = spawn_app();
    for saml in ["1.1", "2.0"] {
        let (jar, r) = dev_sign_in(&app, saml);
        assert_eq!(r.status, 303, "SAML {saml}: {:?}", r.reason());
        assert_eq!(r.location(), "/app/home");
        let page = app.get("/app/home", &jar);
        assert_eq!(page.status, 200);
        assert!(page.text().contains("K2:DENALLIX\\bob"));
        let v: serde_json::Value = serde_json::from_slice(&app.get("/me", &jar).body).unwrap();
        assert_eq!(v["groups"], serde_json::json!(["K2:Sales"]));
        assert!(
            v["claims"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "urn:test:claim" && c["value"] == "hello")
        );
    }
}

#[test]
fn the_builtin_dev_setup_signs_in_bob() {
    let config = fedrp::config::Config::load(
        None,
        &[
            ("FEDRP__SERVER__LISTEN".into(), "\"127.0.0.1:0\"".into()),
            ("FEDRP__SERVER__EXPOSE_REASON_HEADER".into(), "true".into()),
        ],
    )
    .unwrap();
    assert!(config.is_builtin_dev());
    let text = fedrp::config::DEV_CONFIG
        .replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"");
    let app = spawn_with(&text);
    let mut jar = Jar::default();
    let r = app.get("/", &jar);
    assert_eq!(r.status, 302);
    jar.take(&r);
    let loc = r
        .location()
        .replace(&format!("http://localhost:{}", app.port), "");
    let page = app.get(&loc, &Jar::default());
    let mut form = hidden(&page.text());
    form.push(("user".into(), "0".into()));
    form.push(("saml".into(), "1.1".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let post = app.post_form("/_dev/idp/wsfed", &pairs, &Jar::default());
    let auto = hidden(&post.text());
    let pairs: Vec<(&str, &str)> = auto.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form("/signin-wsfed", &pairs, &jar);
    assert_eq!((r.status, r.location()), (303, "/"));
    jar.take(&r);
    assert!(app.get("/", &jar).text().contains("K2:DENALLIX\\bob"));
}

#[test]
fn the_dev_idp_only_posts_to_the_rp() {
    let app = spawn_app();
    let r = app.get("/_dev/idp/wsfed?wa=wsignin1.0&wtrealm=urn%3Afedrp%3Atest&wreply=https%3A%2F%2Fevil.example%2F", &Jar::default());
    assert_eq!(r.status, 400);
    let r = app.post_form(
        "/_dev/idp/wsfed",
        &[
            ("wtrealm", REALM),
            ("wreply", "https://evil.example/"),
            ("user", "0"),
            ("saml", "1.1"),
        ],
        &Jar::default(),
    );
    assert_eq!(r.status, 400);
    assert!(!r.text().contains("wresult"));
}
