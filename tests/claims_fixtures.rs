//! Claim-mapping attacks on validly signed tokens (catalogue §11 and C08/C09): each token is
//! accepted by the token core and its mapping gives exactly the expected result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use fedrp::claims::ClaimMapping;
use fedrp::config::claims::ClaimsToml;
use fedrp::token::{InResponseTo, ValidatedAssertion};
use fedrp::trust::Engine;

const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
const ROLE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

fn mapping(toml_text: &str) -> ClaimMapping {
    let t: ClaimsToml = toml::from_str(toml_text).unwrap();
    t.into_mapping().unwrap()
}

fn upn_mapping() -> ClaimMapping {
    mapping(&format!(
        "label = \"AAD\"\nidentity = {{ claim = \"{UPN}\" }}\n[[groups]]\nclaim = \"{ROLE}\"\n"
    ))
}

fn token(group: &str, name: &str) -> ValidatedAssertion {
    let side_path = root().join(format!("fixtures/tokens/{group}/{name}.json"));
    let side = json(&side_path);
    let mut bytes = std::fs::read(side_path.with_extension("xml")).unwrap();
    if side["binding"] == "samlp" {
        use base64::Engine as _;
        bytes = base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into_bytes();
    }
    let v = validator(&side, &root(), Engine::Streaming, false);
    let v = match side["in_response_to"].as_str() {
        Some(id) => v.with_in_response_to(InResponseTo::Expect(id.to_owned())),
        None => v,
    };
    v.validate(&bytes, binding(&side), now(&side))
        .unwrap_or_else(|e| panic!("{name}: token rejected: {e}"))
}

/// Every fixture of a case (one per baseline it was built on).
fn variants(group: &str, case: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("fixtures/tokens").join(group))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with(case) && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures for {case}");
    v
}

fn expect_code(group: &str, case: &str, m: &ClaimMapping, code: &str) {
    for name in variants(group, case) {
        let t = token(group, &name);
        match m.map_token(&t) {
            Ok(p) => panic!("{name}: mapped to {} (expected {code})", p.fqn),
            Err(e) => assert_eq!(e.code(), code, "{name}: {e}"),
        }
    }
}

#[test]
fn m01_separators_in_the_identity_are_refused_never_split() {
    for case in [
        "M01-upn-backslash-domain",
        "M01-upn-label-prefix",
        "M01-upn-pipe",
        "M01-upn-sharepoint-encoded",
    ] {
        expect_code("claims", case, &upn_mapping(), "claims.invalid_chars");
    }
}

#[test]
fn m02_two_values_are_ambiguous() {
    expect_code(
        "claims",
        "M02-upn-two-values",
        &upn_mapping(),
        "claims.ambiguous",
    );
}

#[test]
fn m03_two_attributes_are_duplicates() {
    expect_code(
        "claims",
        "M03-upn-two-attributes",
        &upn_mapping(),
        "claims.duplicate",
    );
}

#[test]
fn m04_absent_identity_is_missing_without_fallback() {
    expect_code("claims", "M04-upn-absent", &upn_mapping(), "claims.missing");
}

#[test]
fn m05_claim_types_match_exactly() {
    expect_code(
        "claims",
        "M05-short-name-upn",
        &upn_mapping(),
        "claims.missing",
    );
}

#[test]
fn m06_confusables_stay_distinct() {
    let m = upn_mapping();
    let mut fqns = Vec::new();
    for case in [
        "M06-confusable-cyrillic-a",
        "M06-confusable-fullwidth",
        "M06-confusable-uppercase",
    ] {
        let t = token("claims", &format!("{case}-rstrc13-s11"));
        let p = m.map_token(&t).unwrap_or_else(|e| panic!("{case}: {e}"));
        let upn = t
            .claims()
            .into_iter()
            .find(|c| c.claim_type == UPN)
            .unwrap()
            .value;
        assert_eq!(
            p.fqn,
            format!("AAD:{upn}"),
            "{case}: the value is kept exactly, no folding"
        );
        fqns.push(p.fqn);
    }
    // None of them is the plain-ASCII name, and they differ from one another.
    fqns.sort();
    fqns.dedup();
    assert_eq!(fqns.len(), 3);
}

#[test]
fn m07_control_and_bidi_characters_are_refused() {
    for case in ["M07-control-bidi", "M07-control-cr", "M07-control-lf"] {
        expect_code("claims", case, &upn_mapping(), "claims.invalid_chars");
    }
}

#[test]
fn m08_oversized_identity_and_too_many_groups() {
    let t = token("claims", "M08-upn-64kb-rstrc13-s20");
    assert_eq!(
        upn_mapping().map_token(&t).unwrap_err().code(),
        "claims.too_large"
    );

    for base in ["rstrc13-s11", "samlp-a"] {
        let name = format!("M08-1200-roles-{base}");
        let Ok(side) =
            std::fs::metadata(root().join(format!("fixtures/tokens/claims/{name}.json")))
        else {
            continue;
        };
        let _ = side;
        let t = token("claims", &name);
        assert_eq!(
            upn_mapping().map_token(&t).unwrap_err().code(),
            "claims.too_large",
            "{name}"
        );
        let drop = mapping(&format!(
            "label = \"AAD\"\nidentity = {{ claim = \"{UPN}\" }}\ntoo_many_groups = \"drop\"\n[[groups]]\nclaim = \"{ROLE}\"\n"
        ));
        let p = drop.map_token(&t).unwrap();
        assert_eq!(
            p.groups.len(),
            200,
            "{name}: groups are cut to max_groups with a log line"
        );
    }
}

#[test]
fn c08_identity_with_element_content_is_refused() {
    expect_code(
        "claims",
        "C08-upn-complex-value",
        &upn_mapping(),
        "claims.complex_value",
    );
}

#[test]
fn c09_subject_whitespace_is_refused_not_trimmed() {
    let m = mapping("label = \"AAD\"\nidentity = { subject = true }\n");
    for case in ["C09-nameid-leading-space", "C09-nameid-trailing-newline"] {
        expect_code("claims", case, &m, "claims.invalid_chars");
    }
}

#[test]
fn the_baseline_user_maps_to_k2_denallix_bob() {
    let m = mapping(
        "label = \"K2\"\nidentity = { claim = \"http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname\" }\ndomain = \"down-level\"\n[[groups]]\nclaim = \"http://schemas.microsoft.com/ws/2008/06/identity/claims/role\"\n",
    );
    for base in ["rstrc13-s11", "rstr05-s20", "samlp-a"] {
        let t = token("baseline", base);
        let p = m.map_token(&t).unwrap();
        assert_eq!(p.fqn, "K2:DENALLIX\\bob", "{base}");
        assert!(
            p.groups.iter().any(|g| g == "K2:DENALLIX\\Finance"),
            "{base}: {:?}",
            p.groups
        );
    }
}
