//! `fedrp check-token` as operators and the benchmarks use it: flags, input forms, exit codes,
//! JSON shape, human output, and fast refusal of hostile inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

fn fedrp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run fedrp")
}

fn fedrp_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

const BASE: [&str; 6] = [
    "check-token",
    "--trust",
    "certs/idp-a.pem",
    "--audience",
    "urn:fedrp:test",
    "--now",
];
const NOW: &str = "2027-01-01T00:05:00Z";

fn json_out(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn accepted_token_json_shape_and_exit_0() {
    let mut args = BASE.to_vec();
    args.extend([
        NOW,
        "--json",
        "--label",
        "K2",
        "fixtures/tokens/baseline/rstrc13-s11.xml",
    ]);
    let o = fedrp(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let j = json_out(&o);
    assert_eq!(j["valid"], true);
    assert_eq!(j["saml_version"], "1.1");
    assert_eq!(
        j["issuer"],
        "https://idp-a.example.test/adfs/services/trust"
    );
    assert_eq!(j["subject"], "bob@denallix.com");
    assert_eq!(j["fqn"], "K2:DENALLIX\\bob");
    assert!(j["not_before"].is_string() && j["not_on_or_after"].is_string());
    let claims = j["claims"].as_array().unwrap();
    assert!(claims.iter().any(|c| c["type"]
        == "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
        && c["value"] == "bob@denallix.com"));
}

#[test]
fn rejected_token_json_shape_and_exit_1() {
    let mut args = BASE.to_vec();
    args.extend([
        NOW,
        "--json",
        "fixtures/tokens/signature/S01-all-signatures-stripped-rstrc13-s11.xml",
    ]);
    let o = fedrp(&args);
    assert_eq!(o.status.code(), Some(1));
    let j = json_out(&o);
    assert_eq!(j["valid"], false);
    assert_eq!(j["error"]["code"], "sig.missing");
    assert!(j["error"]["message"].as_str().unwrap().len() > 5);
}

#[test]
fn human_output_explains_the_decision() {
    let mut args = BASE.to_vec();
    args.extend([NOW, "fixtures/tokens/baseline/rstr05-s20.xml"]);
    let o = fedrp(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with(
            "ACCEPTED SAML 2.0 token from https://idp-a.example.test/adfs/services/trust"
        ),
        "{out}"
    );
    let mut args = BASE.to_vec();
    args.extend([
        "2027-01-01T03:00:00Z",
        "fixtures/tokens/baseline/rstr05-s20.xml",
    ]);
    let o = fedrp(&args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.starts_with("REJECTED tok.expired: NotOnOrAfter"),
        "{out}"
    );
}

#[test]
fn base64_and_stdin_inputs() {
    let mut args = BASE.to_vec();
    args.extend([NOW, "--json", "-"]);
    let xml = std::fs::read(root().join("fixtures/tokens/baseline/samlp-a.xml")).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&xml);
    let mut args2 = args.clone();
    args2.splice(4..5, ["https://rp.example.test/"]);
    let o = fedrp_stdin(&args2, b64.as_bytes());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = fedrp_stdin(&args2, &xml);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec![
            "check-token",
            "--trust",
            "certs/idp-a.pem",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
        vec![
            "check-token",
            "--trust",
            "certs/nope.pem",
            "--audience",
            "x",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
        vec![
            "check-token",
            "--trust",
            "certs/idp-a.key",
            "--audience",
            "x",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
        vec![
            "check-token",
            "--trust",
            "certs/idp-a.pem",
            "--audience",
            "x",
            "--now",
            "yesterday",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
        vec![
            "check-token",
            "--audience",
            "x",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
        vec![
            "check-token",
            "--trust",
            "certs/idp-a.pem",
            "--audience",
            "x",
            "--engine",
            "magic",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
        vec![
            "check-token",
            "--trust",
            "certs/idp-a.pem",
            "--audience",
            "x",
            "no-such-file.xml",
        ],
        vec![
            "check-token",
            "--trust",
            "certs/idp-a.pem",
            "--audience",
            "x",
            "--label",
            "i",
            "fixtures/tokens/baseline/rstr05-s20.xml",
        ],
    ] {
        let o = fedrp(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(
            !o.stderr.is_empty(),
            "{args:?}: a usage error explains itself"
        );
    }
}

#[test]
fn engines_are_selectable() {
    for engine in ["xmlsec", "streaming"] {
        let mut args = BASE.to_vec();
        args.extend([
            NOW,
            "--json",
            "--engine",
            engine,
            "fixtures/tokens/baseline/rstrc13-s11.xml",
        ]);
        let j = json_out(&fedrp(&args));
        assert_eq!(j["signatures"][0]["engine"], engine);
    }
}

/// Hostile inputs are refused quickly with a reason code and bounded memory.
#[test]
fn hostile_inputs_are_refused_fast() {
    let big = {
        let mut v =
            b"<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">".to_vec();
        v.resize(10 * 1024 * 1024, b'a');
        v
    };
    let laughs = {
        let mut s = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            s.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&{prev};").repeat(10)
            ));
        }
        s.push_str("]><lolz>&lol9;</lolz>");
        s.into_bytes()
    };
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000)).into_bytes();
    let wide = format!("<a>{}</a>", "<b/>".repeat(55_000)).into_bytes();
    for (name, input, code) in [
        ("10 MB", big, "http.too_large"),
        ("billion laughs", laughs, "xml.doctype"),
        ("deep", deep, "xml.too_deep"),
        ("wide", wide, "xml.limits"),
    ] {
        let mut args = BASE.to_vec();
        args.extend([NOW, "--json", "-"]);
        let t = Instant::now();
        let o = fedrp_stdin(&args, &input);
        let elapsed = t.elapsed();
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert_eq!(json_out(&o)["error"]["code"], code, "{name}");
        // Generous bound: a regression to unbounded work would take far longer.
        assert!(elapsed < Duration::from_secs(20), "{name} took {elapsed:?}");
    }
}

#[test]
fn decode_claim_command() {
    let o = fedrp(&[
        "decode-claim",
        "--json",
        "--label",
        "K2",
        "i:0#.w|denallix\\bob",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let j = json_out(&o);
    assert_eq!(j["kind"], "identity");
    assert_eq!(j["issuer_type"], "windows");
    assert_eq!(j["value"], "denallix\\bob");
    assert_eq!(j["fqn"], "K2:denallix\\bob");
    let o = fedrp(&["decode-claim", "--json", "i:0#.w"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json_out(&o)["error"]["code"], "claims.encoding");
}

#[test]
fn config_supplies_trust_audiences_and_the_claim_mapping() {
    let dir = std::env::temp_dir().join(format!("fedrp-cli-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("fedrp.toml");
    let cert = root().join("certs/idp-a.pem");
    std::fs::write(
        &cfg,
        format!(
            r#"
[[issuers]]
name = "adfs"
entity_id = "https://idp-a.example.test/adfs/services/trust"
signin_url = "https://idp-a.example.test/adfs/ls/"
trust_files = [{cert:?}]

[issuers.claims]
label = "K2"
identity = {{ claim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname" }}
domain = "down-level"
case = "upper-domain"

[[realms]]
name = "app"
realm = "urn:fedrp:test"
"#
        ),
    )
    .unwrap();
    let cfg_s = cfg.to_string_lossy().into_owned();
    let o = fedrp(&[
        "check-token",
        "--config",
        &cfg_s,
        "--now",
        NOW,
        "--json",
        "fixtures/tokens/baseline/rstrc13-s11.xml",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let j = json_out(&o);
    assert_eq!(j["fqn"], "K2:DENALLIX\\bob");
    // --label overrides the configured label, keeping the rest of the mapping.
    let o = fedrp(&[
        "check-token",
        "--config",
        &cfg_s,
        "--label",
        "K2X",
        "--now",
        NOW,
        "--json",
        "fixtures/tokens/baseline/rstrc13-s11.xml",
    ]);
    assert_eq!(json_out(&o)["fqn"], "K2X:DENALLIX\\bob");
    // A token from an issuer the configuration does not trust.
    let o = fedrp(&[
        "check-token",
        "--config",
        &cfg_s,
        "--now",
        NOW,
        "--json",
        "fixtures/tokens/baseline/idp-b-rstr05-s20.xml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // A broken configuration is a usage error that names the key.
    std::fs::write(&cfg, "[[issuers]]\nnmae = 1\n").unwrap();
    let o = fedrp(&[
        "check-token",
        "--config",
        &cfg_s,
        "fixtures/tokens/baseline/rstrc13-s11.xml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("issuers[0]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
