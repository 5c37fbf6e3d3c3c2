//! The signed token fixtures (`fixtures/tokens`, generated with signxml from `certs/`) posted
//! over HTTP as `wresult`: every WS-Fed case whose relying-party setup is the standard one
//! (IdP A only, audience `urn:fedrp:test`, default skew, no Recipient, no replay pairing, no
//! claim-mapping note) must get its verdict — ACCEPT signs in (303 + session cookie), REJECT
//! answers the expected reason code and sets no session.

use chrono::DateTime;
use serde_json::Value;

use crate::helpers::*;

fn json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn selectable(s: &Value) -> bool {
    let issuers = s["issuers"].as_array().cloned().unwrap_or_default();
    let simple_issuer = issuers.len() == 1
        && issuers[0]
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "issuer" || k == "trust"))
        && issuers[0]["trust"] == serde_json::json!(["certs/idp-a.pem"]);
    s["binding"] == "wsfed"
        && simple_issuer
        && s.get("recipient").is_none()
        && s.get("replay_of").is_none()
        && s.get("claims_note").is_none()
        && s.get("in_response_to").is_none()
        && s["audience"] == serde_json::json!([REALM])
        && s.get("skew").and_then(Value::as_i64).unwrap_or(300) == 300
        && !(s["expect"] == "ACCEPT" && s["subject"].as_str().is_none())
}

#[test]
fn wsfed_token_fixtures_get_their_verdict_over_http() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let index = json(&root.join("fixtures/tokens/INDEX.json"));
    // As the sidecars: realm "app" trusts IdP A only; IdP A accepts unsolicited posts here and
    // names the user by the token's subject.
    let a = format!("trust_files = [{:?}]", idps()[0].pem.display().to_string());
    let text = config_text("", "").replacen(
        &a,
        &format!("{a}\nallow_unsolicited = true\n\n[issuers.claims]\nlabel = \"K2\"\nidentity = {{ subject = true }}\n"),
        1,
    )
    .replacen("issuers = [\"idp-a\", \"idp-b\", \"idp-saml\", \"dev\"]", "issuers = [\"idp-a\"]", 1);
    let mut failures = Vec::new();
    let mut ran = 0;
    for f in index["fixtures"].as_array().unwrap() {
        let side = json(&root.join(f["sidecar"].as_str().unwrap()));
        if !selectable(&side) {
            continue;
        }
        ran += 1;
        let app = spawn_with(&text);
        let now = DateTime::parse_from_rfc3339(side["now"].as_str().unwrap())
            .unwrap()
            .to_utc();
        app.clock.set(now);
        let token = std::fs::read(root.join(f["file"].as_str().unwrap())).unwrap();
        let body = format!(
            "wa=wsignin1.0&wresult={}",
            url::form_urlencoded::byte_serialize(&token).collect::<String>()
        );
        let r = app.send(
            "POST",
            "/signin-wsfed",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        let name = f["name"].as_str().unwrap();
        let has_session = r.cookie(COOKIE).is_some();
        // A body over the 256 KiB cap is refused before any parsing (H06), whatever the token.
        let expect_code = if body.len() > 262_144 {
            Some("http.too_large")
        } else {
            side["expect_code"].as_str()
        };
        match side["expect"].as_str() {
            Some("ACCEPT") if r.status != 303 || !has_session => failures.push(format!(
                "{name}: expected a sign-in, got {} {:?}",
                r.status,
                r.reason()
            )),
            Some("REJECT") if r.reason() != expect_code || has_session => failures.push(format!(
                "{name}: expected {expect_code:?}, got {} {:?}",
                r.status,
                r.reason()
            )),
            _ => {}
        }
    }
    assert!(ran >= 300, "only {ran} fixtures ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} fixtures failed over HTTP:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
