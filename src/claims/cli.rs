//! `fedrp decode-claim [--json] [--label LABEL] <ENCODED>` (`DESIGN.md` §6).
//!
//! JSON on success (exit 0):
//! `{"kind":"identity"|"claim"|null,"claim_type":URI|null,"claim_type_char":"#",
//! "value_type":URI,"issuer_type":"windows"|"system"|"trusted"|"forms"|"claimprovider",
//! "issuer_name":..|null,"original_issuer":"Windows"|"TrustedProvider:adfs"|...,"value":..,
//! "fqn":.. (with --label), "warnings":[..] (when there are any)}`.
//! `kind` is `null` for the prefix-less form; `claim_type` is `null` for characters without a
//! known URI (custom and unpublished ones).
//!
//! On failure (exit 1): `{"error":{"code":"claims.encoding","message":..,"position":N}}`
//! (`position` only when known). A decoding error wins over any FQN error. An invalid
//! `--label` is a usage error (exit 2). Without `--json`, one or two lines of explanation go
//! to standard output, errors to standard error. Values are printed with control and invisible
//! characters escaped, so a hostile value cannot rewrite the terminal.

use serde_json::{Map, Value, json};

use crate::claims::encoding::{ClaimKind, ClaimTypeRef, EncodedClaim, decode};
use crate::claims::error::{ClaimsError, show_plain};
use crate::claims::fqn::{Label, fqn_from_encoded};
use crate::cli::DecodeClaimArgs;

/// Exit code: decoded (and mapped).
const EXIT_OK: u8 = 0;
/// Exit code: the claim (or its FQN) was rejected.
const EXIT_REJECTED: u8 = 1;
/// Exit code: usage error.
const EXIT_USAGE: u8 = 2;

/// Runs `fedrp decode-claim`; returns the process exit code.
pub fn decode_claim(args: &DecodeClaimArgs) -> u8 {
    let (code, out, err) = run(args);
    if !out.is_empty() {
        println!("{out}");
    }
    if !err.is_empty() {
        eprintln!("{err}");
    }
    code
}

/// The command without I/O: exit code, standard output, standard error.
pub fn run(args: &DecodeClaimArgs) -> (u8, String, String) {
    let label = match args.label.as_deref().map(Label::new).transpose() {
        Ok(label) => label,
        Err(e) => return failure(args.json, EXIT_USAGE, &e),
    };
    let claim = match decode(&args.encoded) {
        Ok(claim) => claim,
        Err(e) => return failure(args.json, EXIT_REJECTED, &e),
    };
    let fqn = match &label {
        None => None,
        Some(label) => match fqn_from_encoded(&claim, label) {
            Ok(fqn) => Some(fqn.to_string()),
            Err(e) => return failure(args.json, EXIT_REJECTED, &e),
        },
    };
    let warnings = warnings(&claim);
    let out = if args.json {
        json_output(&claim, fqn.as_deref(), &warnings).to_string()
    } else {
        text_output(&claim, fqn.as_deref(), &warnings)
    };
    (EXIT_OK, out, String::new())
}

fn failure(json: bool, code: u8, e: &ClaimsError) -> (u8, String, String) {
    if json {
        let mut error = Map::new();
        error.insert("code".into(), json!(e.code()));
        error.insert("message".into(), json!(e.message));
        if let Some(p) = e.position {
            error.insert("position".into(), json!(p));
        }
        (code, json!({ "error": error }).to_string(), String::new())
    } else {
        (
            code,
            String::new(),
            format!("fedrp: {}: {}", e.code(), e.message),
        )
    }
}

fn warnings(claim: &EncodedClaim) -> Vec<String> {
    let mut w = Vec::new();
    if let ClaimTypeRef::Known(k) = &claim.claim_type
        && k.is_never_encoded()
    {
        w.push(format!(
            "SharePoint never encodes the {} claim type ('{}'); this string was not \
                 written by SharePoint",
            k.short_name(),
            k.code()
        ));
    }
    w
}

fn json_output(claim: &EncodedClaim, fqn: Option<&str>, warnings: &[String]) -> Value {
    let mut m = Map::new();
    m.insert(
        "kind".into(),
        claim.kind.map_or(Value::Null, |k| json!(k.as_str())),
    );
    m.insert(
        "claim_type".into(),
        claim.claim_type.uri().map_or(Value::Null, |u| json!(u)),
    );
    m.insert(
        "claim_type_char".into(),
        json!(claim.claim_type.code().to_string()),
    );
    m.insert("value_type".into(), json!(claim.value_type.uri()));
    m.insert("issuer_type".into(), json!(claim.issuer.issuer_type()));
    m.insert(
        "issuer_name".into(),
        claim.issuer.name().map_or(Value::Null, |n| json!(n)),
    );
    m.insert(
        "original_issuer".into(),
        json!(claim.issuer.sharepoint_original_issuer()),
    );
    m.insert("value".into(), json!(claim.value));
    if let Some(fqn) = fqn {
        m.insert("fqn".into(), json!(fqn));
    }
    if !warnings.is_empty() {
        m.insert("warnings".into(), json!(warnings));
    }
    Value::Object(m)
}

fn text_output(claim: &EncodedClaim, fqn: Option<&str>, warnings: &[String]) -> String {
    let kind = match claim.kind {
        Some(ClaimKind::Identity) => "identity claim (i:)".to_owned(),
        Some(ClaimKind::Claim) => "group or role claim (c:)".to_owned(),
        None => "prefix-less claim (no i:/c:)".to_owned(),
    };
    let claim_type = match &claim.claim_type {
        ClaimTypeRef::Known(k) => k.short_name().to_owned(),
        ClaimTypeRef::Unpublished(c) => format!("unpublished type '{c}'"),
        ClaimTypeRef::Custom { code, uri: None } => {
            format!(
                "farm-generated custom type '{code}' (U+{:04X})",
                u32::from(*code)
            )
        }
        ClaimTypeRef::Custom {
            code,
            uri: Some(uri),
        } => format!("custom type '{code}' ({uri})"),
    };
    let issuer = match claim.issuer.name() {
        Some(n) => format!("{} '{}'", claim.issuer.issuer_type(), show_plain(n)),
        None => claim.issuer.issuer_type().to_owned(),
    };
    let mut out = format!(
        "{kind}: type {claim_type}, value type {}, issuer {issuer}\nvalue: {}",
        claim.value_type.short_name(),
        show_plain(&claim.value)
    );
    if let Some(fqn) = fqn {
        out.push_str(&format!("  fqn: {}", show_plain(fqn)));
    }
    for w in warnings {
        out.push_str(&format!("\nwarning: {w}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: bool, label: Option<&str>, encoded: &str) -> DecodeClaimArgs {
        DecodeClaimArgs {
            json,
            label: label.map(str::to_owned),
            encoded: encoded.to_owned(),
        }
    }

    fn json_of(out: &str) -> Value {
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{out}: {e}"))
    }

    #[test]
    fn json_success() {
        let (code, out, err) = run(&args(true, Some("K2"), "i:0#.w|denallix\\bob"));
        assert_eq!(code, 0);
        assert!(err.is_empty());
        let v = json_of(&out);
        assert_eq!(v["kind"], "identity");
        assert_eq!(
            v["claim_type"],
            "http://schemas.microsoft.com/sharepoint/2009/08/claims/userlogonname"
        );
        assert_eq!(v["claim_type_char"], "#");
        assert_eq!(v["value_type"], "http://www.w3.org/2001/XMLSchema#string");
        assert_eq!(v["issuer_type"], "windows");
        assert_eq!(v["issuer_name"], Value::Null);
        assert_eq!(v["original_issuer"], "Windows");
        assert_eq!(v["value"], "denallix\\bob");
        assert_eq!(v["fqn"], "K2:denallix\\bob");
        assert!(v.get("warnings").is_none());
    }

    #[test]
    fn json_prefixless_custom_and_no_label() {
        let (code, out, _) = run(&args(true, None, "0ǵ.t|adfs ldap|bob"));
        assert_eq!(code, 0);
        let v = json_of(&out);
        assert_eq!(v["kind"], Value::Null);
        assert_eq!(v["claim_type"], Value::Null);
        assert_eq!(v["claim_type_char"], "ǵ");
        assert_eq!(v["issuer_name"], "adfs ldap");
        assert_eq!(v["original_issuer"], "TrustedProvider:adfs ldap");
        assert!(v.get("fqn").is_none());
    }

    #[test]
    fn json_errors() {
        let (code, out, err) = run(&args(true, Some("K2"), "i:0#.w|"));
        assert_eq!(code, 1);
        assert!(err.is_empty());
        let v = json_of(&out);
        assert_eq!(v["error"]["code"], "claims.encoding");
        assert_eq!(v["error"]["position"], 7);
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("empty value"))
        );
        let (code, out, _) = run(&args(true, Some("K2"), "i:0#.f|m|o%3aneill"));
        assert_eq!(code, 1);
        assert_eq!(json_of(&out)["error"]["code"], "claims.invalid_chars");
        let (code, out, _) = run(&args(true, Some("K2"), "c:0(.s|true"));
        assert_eq!(code, 1);
        assert_eq!(json_of(&out)["error"]["code"], "claims.mapping");
        let (code, out, _) = run(&args(true, Some("K2:x"), "i:0#.w|a\\b"));
        assert_eq!(code, 2);
        assert_eq!(json_of(&out)["error"]["code"], "claims.mapping");
    }

    #[test]
    fn warnings_for_types_sharepoint_never_encodes() {
        let (code, out, _) = run(&args(true, None, "c:0>.t|adfs|bob"));
        assert_eq!(code, 0);
        let v = json_of(&out);
        assert!(
            v["warnings"][0]
                .as_str()
                .is_some_and(|w| w.contains("never encodes"))
        );
        let (_, text, _) = run(&args(false, None, "c:0\".s|bob"));
        assert!(text.contains("warning: SharePoint never encodes"), "{text}");
    }

    #[test]
    fn text_output() {
        let (code, out, err) = run(&args(false, Some("K2"), "i:0#.w|denallix\\bob"));
        assert_eq!(code, 0);
        assert!(err.is_empty());
        assert_eq!(
            out,
            "identity claim (i:): type userlogonname, value type string, issuer windows\n\
             value: denallix\\bob  fqn: K2:denallix\\bob"
        );
        let (_, out, _) = run(&args(false, None, "i:0#.f|m|line1%0aline2"));
        assert!(out.contains("line1\\u{000a}line2"), "{out}");
        assert_eq!(out.lines().count(), 2);
        let (_, out, _) = run(&args(false, None, "c:0-.t|adfs|sales"));
        assert!(
            out.starts_with("group or role claim (c:): type role, "),
            "{out}"
        );
        let (_, out, _) = run(&args(false, None, "0#.w|denallix\\bob"));
        assert!(out.starts_with("prefix-less claim (no i:/c:): "), "{out}");
        let (code, out, err) = run(&args(false, None, "i:0#.wx|a"));
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert!(
            err.starts_with("fedrp: claims.encoding: expected '|' at position 6"),
            "{err}"
        );
    }
}
