//! Shared helpers for the data-driven token tests: sidecar parsing and validator construction.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use fedrp::token::{Binding, Policy, ValidatedAssertion, Validator};
use fedrp::trust::{Engine, IssuerPolicy, Thumbprint, TrustStore, TrustedIssuer, load_trust_file};
use serde_json::Value;

/// Repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a JSON file.
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A string or a list of strings.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Builds a validator from a sidecar. `base` resolves relative trust paths; `waive` lowers
/// the RSA floor and turns off the certificate-validity check (for "with the rule waived").
pub fn validator(side: &Value, base: &Path, engine: Engine, waive: bool) -> Validator {
    let mut issuers = Vec::new();
    let issuer_specs: Vec<Value> = match side.get("issuers") {
        Some(Value::Array(a)) => a.clone(),
        _ => vec![serde_json::json!({
            "issuer": side.get("issuer_binding").cloned().unwrap_or(Value::Null),
            "trust": side.get("trust").cloned().unwrap_or(Value::Null),
            "allow_sha1": side.get("allow_sha1").cloned().unwrap_or(Value::Bool(false)),
        })],
    };
    for spec in issuer_specs {
        let mut keys = Vec::new();
        for t in strings(&spec["trust"]) {
            let p = if Path::new(&t).is_absolute() {
                PathBuf::from(&t)
            } else {
                base.join(&t)
            };
            let p = if p.exists() { p } else { root().join(&t) };
            let (k, _) = load_trust_file(&p).unwrap_or_else(|e| panic!("trust {t}: {e}"));
            keys.extend(k);
        }
        if keys.is_empty() && strings(&spec["thumbprints"]).is_empty() {
            // Vectors whose upstream key was never published: a stand-in key, so that the
            // structural checks run (crypto then fails, as it must).
            let (k, _) = load_trust_file(&root().join("certs/unrelated.pem")).unwrap();
            keys.extend(k);
        }
        let pins: Vec<Thumbprint> = strings(&spec["thumbprints"])
            .iter()
            .map(|t| Thumbprint::parse(t).unwrap())
            .collect();
        let mut policy = IssuerPolicy {
            allow_sha1: spec["allow_sha1"].as_bool().unwrap_or(false),
            engine,
            ..Default::default()
        };
        if let Some(b) = spec["min_rsa_bits"].as_u64() {
            policy.min_rsa_bits = b as u32;
        }
        if let Some(c) = spec["check_cert_validity"].as_bool() {
            policy.check_cert_validity = c;
        }
        if let Some(c) = spec["require_authn_statement"].as_bool() {
            policy.require_authn_statement = c;
        }
        if let Some(c) = spec["require_subject_confirmation"].as_bool() {
            policy.require_subject_confirmation = c;
        }
        if waive {
            policy.min_rsa_bits = 1024;
            policy.check_cert_validity = false;
            policy.require_authn_statement = false;
        }
        let name = spec["issuer"].as_str().map(str::to_owned);
        issuers.push(TrustedIssuer::new(name, keys, pins, policy).unwrap());
    }
    let mut policy = Policy {
        audiences: strings(&side["audience"]),
        recipient: side["recipient"].as_str().map(str::to_owned),
        engine_override: Some(engine),
        ..Default::default()
    };
    if let Some(s) = side["skew"].as_i64() {
        policy.skew = chrono::Duration::seconds(s);
    }
    Validator::new(TrustStore::new(issuers), policy).unwrap()
}

/// The evaluation time of a sidecar.
pub fn now(side: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(side["now"].as_str().expect("now"))
        .unwrap()
        .with_timezone(&Utc)
}

/// The binding a sidecar names.
pub fn binding(side: &Value) -> Binding {
    match side["binding"].as_str() {
        Some("wsfed") => Binding::WsFed,
        Some("samlp") => Binding::SamlP,
        _ => Binding::Any,
    }
}

/// Claims as type -> values.
pub fn claim_map(v: &ValidatedAssertion) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in v.claims() {
        m.entry(c.claim_type).or_default().push(c.value);
    }
    m
}

/// The expected claims of a sidecar as type -> values.
pub fn expected_claims(side: &Value) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    if let Some(obj) = side["claims"].as_object() {
        for (k, v) in obj {
            m.insert(k.clone(), strings(v));
        }
    }
    m
}

/// What the HTTP binding carries: a SAML-P post is base64 of the XML file; every other form
/// is posted as is.
pub fn posted(side: &Value, bytes: Vec<u8>) -> Vec<u8> {
    use base64::Engine as _;
    if side["binding"] == "samlp" && side["input"] != "base64" {
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into_bytes()
    } else {
        bytes
    }
}

/// Both engines.
pub const ENGINES: [Engine; 2] = [Engine::Xmlsec, Engine::Streaming];
