//! Real IdP tokens (`fixtures/interop`): each must get exactly the decision its `expect.json`
//! pins, with the expected subject and claims, under both verification engines. REJECTs that
//! are policy decisions (weak key, expired certificate) must ACCEPT with the same subject and
//! claims once the rule is waived for that issuer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

fn run(dir: &std::path::Path, waive: bool) -> Vec<String> {
    let side = json(&dir.join("expect.json"));
    let mut side_full = side.clone();
    side_full["trust"] = serde_json::json!(["cert.pem"]);
    let token = ["token.xml", "token.b64"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .expect("token file");
    let bytes = std::fs::read(&token).unwrap();
    let mut failures = Vec::new();
    for engine in ENGINES {
        let v = validator(&side_full, dir, engine, waive);
        let name = format!(
            "{} [{}{}]",
            dir.file_name().unwrap().to_string_lossy(),
            engine.name(),
            if waive { ", waived" } else { "" }
        );
        let result = v.validate(&bytes, binding(&side), now(&side));
        let expect_accept = side["expect"] == "ACCEPT" || waive;
        match (&result, expect_accept) {
            (Ok(a), true) => {
                if a.subject() != side["subject"].as_str() {
                    failures.push(format!(
                        "{name}: subject {:?}, expected {:?}",
                        a.subject(),
                        side["subject"]
                    ));
                }
                let got = claim_map(a);
                let want = expected_claims(&side);
                if got != want {
                    failures.push(format!(
                        "{name}: claims differ\n  got  {got:?}\n  want {want:?}"
                    ));
                }
                if a.issuer() != side["issuer"].as_str().unwrap_or_default() {
                    failures.push(format!("{name}: issuer {:?}", a.issuer()));
                }
            }
            (Err(e), false) => {
                let want = side["expect_code"].as_str().unwrap_or_default();
                if e.reason.code() != want {
                    failures.push(format!("{name}: rejected with {e}, expected {want}"));
                }
            }
            (Ok(_), false) => failures.push(format!(
                "{name}: accepted, expected {}",
                side["expect_code"]
            )),
            (Err(e), true) => failures.push(format!("{name}: rejected with {e}")),
        }
    }
    failures
}

fn dirs() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join("fixtures/interop"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect.json").exists())
        .collect();
    v.sort();
    assert!(v.len() >= 20, "interop fixtures missing");
    v
}

#[test]
fn every_interop_token_gets_its_expected_decision() {
    let failures: Vec<String> = dirs().iter().flat_map(|d| run(d, false)).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn policy_rejections_accept_with_the_rule_waived() {
    let failures: Vec<String> = dirs()
        .iter()
        .filter(|d| {
            let s = json(&d.join("expect.json"));
            matches!(
                s["expect_code"].as_str(),
                Some("sig.key_weak" | "sig.cert_validity")
            )
        })
        .flat_map(|d| run(d, true))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
