//! Runs every vector of `fixtures/claims/vectors.json` and `fixtures/claims/fqn.json` through
//! the library and through `fedrp decode-claim --json`, with the comparison rules of
//! `fixtures/claims/README.md` §1–2. A field absent from a vector is not asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use fedrp::Reason;
use fedrp::claims::{Claim, ClaimMapping, EncodedClaim, Label, decode, fqn_from_encoded_str};
use fedrp::config::claims::{ClaimsToml, DomainToml, IdentityToml, RequiredClaimToml};
use serde_json::Value;

fn load(text: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(text).expect("fixture is JSON");
    v.as_array().expect("fixture is an array").clone()
}

fn vectors() -> Vec<Value> {
    load(include_str!("../fixtures/claims/vectors.json"))
}

fn fqn_vectors() -> Vec<Value> {
    load(include_str!("../fixtures/claims/fqn.json"))
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// The text after the last `/`, `#` or `:`.
fn short(uri: &str) -> &str {
    uri.rsplit(['/', '#', ':']).next().unwrap_or(uri)
}

/// §1: a URI matches exactly, or by its short name without regard to case.
fn uri_matches(got: Option<&str>, want: &str) -> bool {
    got.is_some_and(|g| g == want || short(g).eq_ignore_ascii_case(short(want)))
}

/// §1: `issuer_type` after lower-casing and dropping `_`, `-` and spaces; `local` for `system`.
fn issuer_type_matches(got: &str, want: &str) -> bool {
    let norm = |s: &str| {
        s.to_lowercase()
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .collect::<String>()
    };
    let (got, want) = (norm(got), norm(want));
    got == want || (want == "system" && got == "local")
}

fn ci_eq(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The decoded fields of one output, library or command line, in the vectors' vocabulary.
struct Fields {
    kind: Option<String>,
    claim_type: Option<String>,
    value_type: Option<String>,
    issuer_type: String,
    issuer_name: Option<String>,
    value: String,
}

impl From<&EncodedClaim> for Fields {
    fn from(c: &EncodedClaim) -> Self {
        Fields {
            kind: c.kind.map(|k| k.as_str().to_owned()),
            claim_type: c.claim_type.uri().map(str::to_owned),
            value_type: Some(c.value_type.uri().to_owned()),
            issuer_type: c.issuer.issuer_type().to_owned(),
            issuer_name: c.issuer.name().map(str::to_owned),
            value: c.value.clone(),
        }
    }
}

impl Fields {
    fn from_json(out: &Value) -> Fields {
        let opt = |k: &str| match &out[k] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => panic!("{k} is {other}"),
        };
        Fields {
            kind: opt("kind"),
            claim_type: opt("claim_type"),
            value_type: opt("value_type"),
            issuer_type: opt("issuer_type").unwrap_or_default(),
            issuer_name: opt("issuer_name"),
            value: opt("value").unwrap_or_default(),
        }
    }
}

/// Asserts every field the vector holds; returns the problems found.
fn compare(v: &Value, got: &Fields) -> Vec<String> {
    let mut problems = Vec::new();
    let obj = v.as_object().expect("vector is an object");
    if let Some(want) = obj.get("kind")
        && got.kind.as_deref() != want.as_str()
    {
        problems.push(format!("kind: got {:?}, want {want}", got.kind));
    }
    for (key, got_uri) in [
        ("claim_type", got.claim_type.as_deref()),
        ("value_type", got.value_type.as_deref()),
    ] {
        if let Some(want) = obj.get(key) {
            let want = want.as_str().expect("URI");
            if !uri_matches(got_uri, want) {
                problems.push(format!("{key}: got {got_uri:?}, want {want}"));
            }
        }
    }
    if let Some(want) = obj.get("issuer_type") {
        let want = want.as_str().expect("issuer_type");
        if !issuer_type_matches(&got.issuer_type, want) {
            problems.push(format!("issuer_type: got {}, want {want}", got.issuer_type));
        }
    }
    match obj.get("issuer_name") {
        None => {}
        Some(Value::Null) if got.issuer_name.as_deref().is_some_and(|n| !n.is_empty()) => {
            problems.push(format!("issuer_name: got {:?}, want none", got.issuer_name));
        }
        Some(Value::Null) => {}
        Some(want) => {
            let want = want.as_str().expect("issuer_name");
            if !got.issuer_name.as_deref().is_some_and(|n| ci_eq(n, want)) {
                problems.push(format!(
                    "issuer_name: got {:?}, want {want}",
                    got.issuer_name
                ));
            }
        }
    }
    if let Some(want) = obj.get("value") {
        let want = want.as_str().expect("value");
        if !ci_eq(&got.value, want) {
            problems.push(format!("value: got {:?}, want {want:?}", got.value));
        }
    }
    problems
}

/// Runs `fedrp decode-claim` with the given arguments: exit code and parsed JSON output.
fn cli(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .arg("decode-claim")
        .args(args)
        .output()
        .expect("fedrp runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {stdout:?}, stderr {:?}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn fixture_counts() {
    let all = vectors();
    assert_eq!(all.len(), 155);
    let errors = all.iter().filter(|v| v["expect"] == "error").count();
    assert_eq!(errors, 19);
    assert_eq!(fqn_vectors().len(), 12);
}

#[test]
fn every_vector_through_the_library() {
    let mut failures = Vec::new();
    for v in vectors() {
        let id = str_field(&v, "id");
        let input = str_field(&v, "encoded");
        let got = decode(input);
        if v["expect"] == "error" {
            match got {
                Ok(c) => failures.push(format!("{id}: {input:?} decoded to {c:?}")),
                Err(e) => {
                    assert_eq!(e.reason, Reason::ClaimsEncoding, "{id}");
                    assert!(!e.message.is_empty(), "{id}");
                }
            }
            continue;
        }
        match got {
            Err(e) => failures.push(format!("{id}: {input:?}: {e}")),
            Ok(c) => {
                for p in compare(&v, &Fields::from(&c)) {
                    failures.push(format!("{id}: {p}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_vector_through_the_command_line() {
    let mut failures = Vec::new();
    for v in vectors() {
        let id = str_field(&v, "id");
        let input = str_field(&v, "encoded");
        let (code, out) = cli(&["--json", input]);
        if v["expect"] == "error" {
            let error_code = out["error"]["code"].as_str().unwrap_or("");
            if code != 1 || !error_code.starts_with("claims.") {
                failures.push(format!("{id}: exit {code}, output {out}"));
            }
            continue;
        }
        if code != 0 {
            failures.push(format!("{id}: exit {code}, output {out}"));
            continue;
        }
        for p in compare(&v, &Fields::from_json(&out)) {
            failures.push(format!("{id}: {p}"));
        }
        if out.get("fqn").is_some() {
            failures.push(format!("{id}: fqn printed without --label"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// §2: the label part exactly, the name part without regard to case.
fn fqn_matches(got: &str, want: &str) -> bool {
    match (got.split_once(':'), want.split_once(':')) {
        (Some((gl, gn)), Some((wl, wn))) => gl == wl && ci_eq(gn, wn),
        _ => false,
    }
}

#[test]
fn fqn_string_vectors_through_the_library_and_the_command_line() {
    let mut seen = 0;
    for v in fqn_vectors().iter().filter(|v| v.get("encoded").is_some()) {
        seen += 1;
        let id = str_field(v, "id");
        let label = str_field(v, "label");
        let input = str_field(v, "encoded");
        let lib = fqn_from_encoded_str(input, &Label::new(label).expect("label"));
        let (code, out) = cli(&["--json", "--label", label, input]);
        if v["expect"] == "error" {
            // fq10 must fail like the decode error it contains.
            let decode_error = decode(input).expect_err(id);
            let lib_error = lib.expect_err(id);
            assert_eq!(lib_error.reason, decode_error.reason, "{id}");
            assert_eq!(code, 1, "{id}: {out}");
            assert_eq!(out["error"]["code"], decode_error.reason.code(), "{id}");
            continue;
        }
        let want = str_field(v, "fqn");
        let lib = lib.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(fqn_matches(&lib.to_string(), want), "{id}: {lib} vs {want}");
        assert_eq!(code, 0, "{id}: {out}");
        let got = out["fqn"].as_str().unwrap_or_else(|| panic!("{id}: {out}"));
        assert!(fqn_matches(got, want), "{id}: {got} vs {want}");
        assert_eq!(got, lib.to_string(), "{id}: command line and library agree");
    }
    assert_eq!(seen, 10);
}

/// The token-path vectors (`claims` + `label_config`), mapped through the TOML configuration
/// types. The domain rule follows README §4: label `K2` (Active Directory) names users
/// `Domain\Username` (`domain = "down-level"`); other labels use the value as is.
#[test]
fn fqn_claim_set_vectors_through_the_mapping() {
    let mut seen = 0;
    for v in fqn_vectors().iter().filter(|v| v.get("claims").is_some()) {
        seen += 1;
        let id = str_field(v, "id");
        let label = str_field(v, "label");
        let config = &v["label_config"];
        let identity = IdentityToml {
            claim: Some(str_field(config, "identity_claim_type").to_owned()),
            subject: None,
            original_issuer: config["identity_claim_original_issuer"]
                .as_str()
                .map(str::to_owned),
            encoding: None,
            issuers: None,
        };
        let identity_provider = config
            .get("identity_provider_claim")
            .map(|p| RequiredClaimToml {
                claim: str_field(p, "type").to_owned(),
                original_issuer: p["original_issuer"].as_str().map(str::to_owned),
                value: str_field(p, "value").to_owned(),
            });
        let toml = ClaimsToml {
            label: label.to_owned(),
            identity,
            fallback: Vec::new(),
            domain: if label == "K2" {
                DomainToml::DownLevel
            } else {
                DomainToml::None
            },
            upn_suffixes: None,
            case: Default::default(),
            user_prefix: String::new(),
            group_prefix: String::new(),
            max_value_length: 256,
            max_groups: 200,
            too_many_groups: Default::default(),
            identity_provider,
            groups: Vec::new(),
            claim_type_encodings: Default::default(),
        };
        let mapping: ClaimMapping = toml.into_mapping().unwrap_or_else(|e| panic!("{id}: {e}"));
        let claims: Vec<Claim> = v["claims"]
            .as_array()
            .expect("claims")
            .iter()
            .map(|c| Claim {
                claim_type: str_field(c, "type").to_owned(),
                value: str_field(c, "value").to_owned(),
                original_issuer: c["original_issuer"].as_str().map(str::to_owned),
            })
            .collect();
        let p = mapping
            .map("urn:test:issuer", None, claims.clone())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let want = str_field(v, "fqn");
        assert!(fqn_matches(&p.fqn, want), "{id}: {} vs {want}", p.fqn);
        assert_eq!(p.label, label, "{id}");
        assert_eq!(p.fqn, format!("{label}:{}", p.name), "{id}");
        assert_eq!(p.claims, claims, "{id}: raw claims kept");
        // "keeps its original case": the exact FQN, not only a case-insensitive match.
        assert_eq!(p.fqn, want, "{id}");

        // Without the identity claim, the mapping must not fall back to another claim.
        let without: Vec<Claim> = claims
            .iter()
            .filter(|c| c.claim_type != str_field(config, "identity_claim_type"))
            .cloned()
            .collect();
        let e = mapping
            .map("urn:test:issuer", Some("subject"), without)
            .expect_err(id);
        assert_eq!(e.reason, Reason::ClaimsMissing, "{id}");
    }
    assert_eq!(seen, 2);
}

#[test]
fn command_line_usage_and_text_mode() {
    // An invalid label is a usage error.
    let (code, out) = cli(&["--json", "--label", "K2:x", "i:0#.w|a\\b"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(out["error"]["code"], "claims.mapping");
    // Text mode: two lines on success, a message on standard error on failure.
    let ok = Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(["decode-claim", "--label", "K2", "i:0#.w|denallix\\bob"])
        .output()
        .expect("runs");
    assert_eq!(ok.status.code(), Some(0));
    let text = String::from_utf8(ok.stdout).expect("UTF-8");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("fqn: K2:denallix\\bob"), "{text}");
    let bad = Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(["decode-claim", "i:0#.w|"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    let err = String::from_utf8(bad.stderr).expect("UTF-8");
    assert!(
        err.contains("claims.encoding") && err.contains("position 7"),
        "{err}"
    );
    // A value starting with '-' is an argument, not an option.
    let (code, out) = cli(&["--json", "-"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["error"]["code"], "claims.encoding");
}
