use super::*;

pub(super) fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_toml(
        text,
        Path::new(env!("CARGO_MANIFEST_DIR")),
        Some("test.toml".into()),
        &env,
    )
}

pub(super) const MINIMAL: &str = r#"
[session]
ephemeral_key = true
[dev_idp]
enabled = true
[[issuers]]
name = "dev"
use_dev_idp = true
[[realms]]
name = "app"
realm = "urn:fedrp:app"
"#;

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"))
        .unwrap()
}

/// Key paths present in a TOML document (array-of-table entries without indices).
fn paths(v: &toml::Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match x {
                    // The claim-mapping table is config::claims's (docs/claims-mapping.md).
                    _ if p == "issuers.claims" => out.push(p),
                    toml::Value::Table(_) => paths(x, &p, out),
                    toml::Value::Array(a) if a.iter().all(|e| e.is_table()) && !a.is_empty() => {
                        for e in a {
                            paths(e, &p, out);
                        }
                    }
                    _ => out.push(p),
                }
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

#[test]
fn example_documents_every_key_and_only_real_keys() {
    let text = example();
    // Uncomment the commented-out `# key = value` lines so they count as documented.
    let uncommented: String = text
        .lines()
        .map(|l| {
            let t = l.strip_prefix("# ").unwrap_or(l);
            let is_key = t.split_once(" = ").is_some_and(|(k, _)| {
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            });
            if l.starts_with("# ") && is_key { t } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let v: toml::Value = uncommented
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .unwrap();
    let mut found = Vec::new();
    paths(&v, "", &mut found);
    found.sort();
    found.dedup();
    let mut known: Vec<String> = KEYS.iter().map(|s| s.to_string()).collect();
    known.sort();
    let missing: Vec<_> = known.iter().filter(|k| !found.contains(k)).collect();
    let unknown: Vec<_> = found.iter().filter(|k| !known.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "config.example.toml does not document {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "config.example.toml has keys the code does not know: {unknown:?}"
    );
    // And the structs accept it (deny_unknown_fields): the only errors are its placeholders.
    let errs = load(&uncommented, &[]).unwrap_err();
    for e in &errs.0 {
        assert!(
            [
                "session.keys[0]",
                "session.key_files",
                "session.key_files[0]",
                "issuers[0].trust_files[0]",
                "server.tls_cert_file",
                "server.tls_key_file",
                "issuers[0].metadata_ca_file",
                "sp_signing.key_file",
            ]
            .contains(&e.path.as_str())
                || e.path.starts_with("realms[0]")
                || e.path == "issuers[0].trust_files",
            "unexpected error {e}"
        );
    }
    assert!(
        errs.has_path("session.keys[0]"),
        "the sample key must be refused"
    );
}

#[test]
fn every_raw_key_is_a_real_field() {
    // Each KEYS entry, set alone, must deserialize (deny_unknown_fields would refuse a stale one).
    for key in KEYS {
        let mut parts: Vec<&str> = key.split('.').collect();
        let leaf = parts.pop().unwrap();
        let value = match leaf {
            "enabled"
            | "hsts"
            | "expose_reason_header"
            | "ephemeral_key"
            | "use_dev_idp"
            | "allow_sha1"
            | "check_cert_validity"
            | "allow_unsolicited"
            | "require_signed_assertion"
            | "require_authn_statement"
            | "metadata_allow_http"
            | "require_subject_confirmation"
            | "cross_site_signout"
            | "sign_authn_requests" => "true",
            "keys"
            | "key_files"
            | "allowed_origins"
            | "groups"
            | "trust_files"
            | "thumbprints"
            | "extra_audiences"
            | "path_prefixes"
            | "issuers"
            | "frame_ancestors"
            | "metadata_signing_certs"
                if parts.last() != Some(&"claims") =>
            {
                "[]"
            }
            l if l.ends_with("_secs")
                || l.ends_with("_bytes")
                || l.ends_with("_days")
                || l.starts_with("max_")
                || l == "workers"
                || l.ends_with("_ms")
                || l == "pool_size"
                || l == "min_rsa_bits"
                || l == "store_capacity"
                || l == "replay_cache_capacity" =>
            {
                "1"
            }
            _ => "\"x\"",
        };
        let mut doc = String::new();
        let header = parts.join(".");
        let arrays = ["issuers", "realms", "dev_idp.user"];
        if *key == "issuers.claims" {
            doc.push_str(
                "[[issuers]]\n[issuers.claims]\nlabel = \"K2\"\nidentity = { subject = true }\n",
            );
        } else if !header.is_empty() {
            if arrays.contains(&header.as_str()) {
                doc.push_str(&format!("[[{header}]]\n"));
            } else {
                doc.push_str(&format!("[{header}]\n"));
            }
        }
        if *key != "issuers.claims" {
            doc.push_str(&format!("{leaf} = {value}\n"));
        }
        let table: toml::Table = doc.parse().unwrap();
        let r: Result<raw::RawConfig, _> =
            serde_path_to_error::deserialize(toml::Value::Table(table));
        assert!(r.is_ok(), "{key}: {:?}", r.err().map(|e| e.to_string()));
    }
}

#[test]
fn builtin_dev_setup_loads() {
    let c = Config::load(None, &[]).unwrap();
    assert!(c.is_builtin_dev());
    assert!(c.dev_idp.is_some());
    assert_eq!(c.realms[0].realm, "urn:fedrp:dev");
    assert_eq!(c.realms[0].cookie_name, "__Host-fedrp");
    assert_eq!(c.issuers[0].claims.label.as_str(), "K2");
    assert!(c.session.ephemeral_key);
    assert!(c.warnings.iter().any(|w| w.contains("development IdP")));
}

#[test]
fn unknown_key_reports_its_path_and_a_suggestion() {
    let e = load(&format!("{MINIMAL}\n[limits]\nmax_body_byte = 5\n"), &[]).unwrap_err();
    assert_eq!(e.0[0].path, "limits.max_body_byte");
    assert!(e.0[0].message.contains("max_body_byte"), "{e}");
    assert_eq!(
        e.0[0].hint.as_deref(),
        Some("did you mean `max_body_bytes`?")
    );
    let e = load(
        &MINIMAL.replace("use_dev_idp = true", "use_dev_idp = true\nalow_sha1 = true"),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.0[0].path, "issuers[0].alow_sha1");
    assert!(e.0[0].hint.as_deref().unwrap().contains("allow_sha1"));
}

#[test]
fn wrong_type_reports_its_path() {
    let e = load(
        &MINIMAL.replace(
            "use_dev_idp = true",
            "use_dev_idp = true\nallow_sha1 = \"yes\"",
        ),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.0[0].path, "issuers[0].allow_sha1");
    assert!(e.0[0].message.contains("invalid type"), "{e}");
}

#[test]
fn semantic_errors_are_all_reported_with_paths() {
    let text = r#"
[server]
listen = "nope"
log_format = "xml"
[session]
keys = ["short"]
mode = "disk"
[redirect]
allowed_origins = ["https://ok.example.com/path"]
[[issuers]]
name = "a"
protocol = "oidc"
trust_files = ["does/not/exist.pem"]
[[realms]]
name = "r"
realm = "urn:r"
profile = "iframe"
frame_ancestors = ["*"]
"#;
    let e = load(text, &[]).unwrap_err();
    for p in [
        "server.listen",
        "server.log_format",
        "session.keys[0]",
        "session.mode",
        "redirect.allowed_origins[0]",
        "issuers[0].protocol",
        "issuers[0].trust_files[0]",
        "issuers[0].entity_id",
        "issuers[0].signin_url",
        "realms[0].frame_ancestors[0]",
        "realms[0].frame_ancestors",
    ] {
        assert!(e.has_path(p), "no error for {p}:\n{e}");
    }
    assert!(e.0.iter().all(|x| x.hint.is_some()));
}

#[test]
fn weak_rsa_keys_are_refused_unless_the_floor_is_lowered() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("fedrp-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rsa = openssl::rsa::Rsa::generate(1024).unwrap();
    let key = PKey::from_rsa(rsa).unwrap();
    let (_, _) = (base, &key);
    let mut b = X509::builder().unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "weak").unwrap();
    let name = name.build();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(10).unwrap())
        .unwrap();
    b.sign(&key, openssl::hash::MessageDigest::sha256())
        .unwrap();
    let pem = dir.join("weak.pem");
    std::fs::write(&pem, b.build().to_pem().unwrap()).unwrap();
    let text = format!(
        "[session]\nephemeral_key = true\n[[issuers]]\nname = \"w\"\nentity_id = \"urn:w\"\nsignin_url = \"https://idp.example/\"\ntrust_files = [{:?}]\n[[realms]]\nname = \"r\"\nrealm = \"urn:r\"\n",
        pem.display().to_string()
    );
    let e = load(&text, &[]).unwrap_err();
    assert!(e.has_path("issuers[0].trust_files"), "{e}");
    let c = load(
        &text.replace("name = \"w\"", "name = \"w\"\nmin_rsa_bits = 1024"),
        &[],
    )
    .unwrap();
    assert!(c.warnings.iter().any(|w| w.contains("weak RSA")));
    assert!(
        c.warnings.iter().any(|w| w.contains("expires on")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn env_overrides_apply_with_key_paths() {
    let c = load(
        MINIMAL,
        &[
            ("FEDRP__SERVER__LISTEN", "127.0.0.1:9999"),
            ("FEDRP__ISSUERS__0__ALLOW_UNSOLICITED", "true"),
            (
                "FEDRP__REALMS__0__FRAME_ANCESTORS",
                "[\"https://contoso.sharepoint.com\"]",
            ),
            ("FEDRP__LIMITS__MAX_BODY_BYTES", "4096"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:9999");
    assert!(c.issuers[0].allow_unsolicited);
    assert_eq!(
        c.realms[0].frame_ancestors,
        vec!["https://contoso.sharepoint.com".to_string()]
    );
    assert_eq!(c.limits.max_body_bytes, 4096);
    let e = load(MINIMAL, &[("FEDRP__ISSUERS__0__ALLOW_SHA1", "maybe")]).unwrap_err();
    assert_eq!(e.0[0].path, "issuers[0].allow_sha1");
    let e = load(MINIMAL, &[("FEDRP__ISSUERS__7__NAME", "x")]).unwrap_err();
    assert_eq!(e.0[0].path, "FEDRP__ISSUERS__7__NAME");
}

#[test]
fn secrets_are_redacted_in_the_report() {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let c = load(
        &MINIMAL.replace("ephemeral_key = true", &format!("keys = [\"{key}\"]")),
        &[],
    )
    .unwrap();
    let text = report::to_text(&c);
    assert!(!text.contains(&key));
    assert!(text.contains("[redacted]"));
    assert!(text.contains("sha256"));
    assert!(format!("{:?}", c.session).contains("[redacted]"));
}

#[test]
fn framing_origins_are_https_or_loopback_http() {
    assert!(super::is_loopback_http("http://localhost:8443"));
    assert!(super::is_loopback_http("http://127.0.0.1"));
    assert!(!super::is_loopback_http("http://contoso.sharepoint.com"));
    assert!(!super::is_loopback_http("http://localhost.evil.example"));
    assert!(!super::is_loopback_http("https://localhost"));
}

fn md_issuer(extra: &str) -> String {
    format!(
        r#"
[session]
ephemeral_key = true
[[issuers]]
name = "adfs"
signin_url = "https://adfs.example.test/adfs/ls/"
{extra}
[[realms]]
name = "app"
realm = "urn:fedrp:app"
"#
    )
}

#[test]
fn metadata_sources_are_checked_with_key_paths() {
    // https with an explicit entity ID: fine, with a warning that there is no backing file.
    let c = load(
        &md_issuer(
            "entity_id = \"http://adfs/trust\"\nmetadata_url = \"https://adfs.example.test/FederationMetadata/2007-06/FederationMetadata.xml\"",
        ),
        &[],
    )
    .unwrap();
    let md = c.issuers[0].metadata.as_ref().unwrap();
    assert_eq!(md.refresh.as_secs(), 43_200);
    assert_eq!(md.min_refresh.as_secs(), 300);
    assert_eq!(c.issuers[0].key_expiry_warning.num_days(), 30);
    assert!(c.warnings.iter().any(|w| w.contains("no last-known-good")));
    // Plain http only with the flag, and then with a warning.
    let http = "entity_id = \"e\"\nmetadata_url = \"http://adfs.example.test/md.xml\"";
    let e = load(&md_issuer(http), &[]).unwrap_err();
    assert!(e.has_path("issuers[0].metadata_url"), "{e}");
    let c = load(
        &md_issuer(&format!("{http}\nmetadata_allow_http = true")),
        &[],
    )
    .unwrap();
    assert!(c.warnings.iter().any(|w| w.contains("plain http")));
    // A URL needs the entity ID (no document names it yet); tuning needs a source.
    let e = load(
        &md_issuer("metadata_url = \"https://adfs.example.test/md.xml\""),
        &[],
    )
    .unwrap_err();
    assert!(e.has_path("issuers[0].entity_id"), "{e}");
    let e = load(
        &md_issuer("entity_id = \"e\"\nmetadata_refresh_secs = 60"),
        &[],
    )
    .unwrap_err();
    assert!(e.has_path("issuers[0].metadata_url"), "{e}");
    let e = load(
        &md_issuer(
            "entity_id = \"e\"\nmetadata_url = \"https://a.test/m\"\nmetadata_refresh_secs = 60\nmetadata_min_refresh_secs = 120\nmetadata_max_bytes = 10\nmetadata_ca_file = \"nope.pem\"",
        ),
        &[],
    )
    .unwrap_err();
    for p in [
        "issuers[0].metadata_min_refresh_secs",
        "issuers[0].metadata_max_bytes",
        "issuers[0].metadata_ca_file",
    ] {
        assert!(e.has_path(p), "{p}: {e}");
    }
    // A metadata file alone is the source: it must exist and parse, and names the entity.
    let e = load(&md_issuer("metadata_file = \"missing.xml\""), &[]).unwrap_err();
    assert!(e.has_path("issuers[0].metadata_file"), "{e}");
    let c = load(
        &md_issuer("metadata_file = \"fixtures/attacks/identitymodel/adfs-v4-metadata.xml\""),
        &[],
    )
    .unwrap();
    assert!(
        c.issuers[0].entity_id.starts_with("http"),
        "{}",
        c.issuers[0].entity_id
    );
}
