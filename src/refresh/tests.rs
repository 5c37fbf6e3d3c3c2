#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use chrono::TimeZone;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use super::*;
use crate::devidp::metadata::{MetadataSpec, metadata_document};
use crate::http::FixedClock;

const ENTITY: &str = "https://idp.example.test/adfs/services/trust";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().unwrap()
}

fn cert(name: &str) -> (PKey<Private>, X509) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs");
    let key = std::fs::read(root.join(format!("{name}.key"))).unwrap();
    let pem = std::fs::read(root.join(format!("{name}.pem"))).unwrap();
    (
        PKey::private_key_from_pem(&key).unwrap(),
        X509::from_pem(&pem).unwrap(),
    )
}

fn doc(certs: &[&X509], valid_until: Option<DateTime<Utc>>, signer: Option<&str>) -> Vec<u8> {
    let spec = MetadataSpec {
        entity_id: ENTITY.into(),
        signing_certs: certs.iter().map(|c| c.as_ref()).collect(),
        passive_endpoint: Some("https://idp.example.test/adfs/ls/".into()),
        valid_until,
        cache_duration: Some("PT1H".into()),
        ..Default::default()
    };
    let signer = signer.map(cert);
    metadata_document(
        &spec,
        signer.as_ref().map(|(k, c)| (k.as_ref(), c.as_ref())),
    )
    .unwrap()
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fedrp-refresh-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn md_config(signers: &[&str]) -> MetadataConfig {
    MetadataConfig {
        url: None,
        file: None,
        allow_http: false,
        ca_file: None,
        signing_keys: signers
            .iter()
            .map(|n| TrustedKey::from_cert(&cert(n).1, *n).unwrap())
            .collect(),
        refresh: StdDuration::from_secs(43_200),
        min_refresh: StdDuration::from_secs(300),
        timeout: StdDuration::from_secs(5),
        max_bytes: 1 << 20,
    }
}

fn accept(bytes: &[u8], md: &MetadataConfig) -> Result<AcceptedDocument, String> {
    accept_document(
        bytes,
        ENTITY,
        md,
        &IssuerPolicy::default(),
        t0(),
        Origin::Url,
        t0(),
        "test",
    )
}

#[test]
fn every_signing_key_of_the_entity_is_accepted() {
    let (a, b) = (cert("idp-a").1, cert("idp-b").1);
    let d = accept(&doc(&[&a, &b], None, None), &md_config(&[])).unwrap();
    let got: BTreeSet<String> = d.keys.iter().map(TrustedKey::thumbprint_sha256).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(d.cache_duration_secs, Some(3600));
    assert!(d.signed_by.is_none());
}

#[test]
fn bad_documents_are_refused_with_a_reason() {
    let a = cert("idp-a").1;
    let md = md_config(&[]);
    let e = accept(b"not xml at all", &md).unwrap_err();
    assert!(!e.is_empty());
    let expired = doc(&[&a], Some(t0() - Duration::seconds(1)), None);
    assert!(
        accept(&expired, &md).unwrap_err().contains("expired"),
        "expired"
    );
    let other = String::from_utf8(doc(&[&a], None, None))
        .unwrap()
        .replace(ENTITY, "https://other.example.test/");
    assert!(
        accept(other.as_bytes(), &md)
            .unwrap_err()
            .contains("no EntityDescriptor")
    );
    let mut small = md_config(&[]);
    small.max_bytes = 1024;
    assert!(
        accept(&doc(&[&a], None, None), &small)
            .unwrap_err()
            .contains("metadata_max_bytes")
    );
    let weak = cert("idp-weak").1;
    let e = accept(&doc(&[&weak], None, None), &md).unwrap_err();
    assert!(e.contains("no usable signing key"), "{e}");
    let d = accept(&doc(&[&weak, &a], None, None), &md).unwrap();
    assert_eq!((d.keys.len(), d.skipped.len()), (1, 1));
}

#[test]
fn a_required_signature_must_verify_with_a_pinned_key() {
    let a = cert("idp-a").1;
    let md = md_config(&["idp-b"]);
    // Signed by the pinned key: accepted, and the signer is recorded.
    let good = doc(&[&a], None, Some("idp-b"));
    let d = accept(&good, &md).unwrap();
    assert_eq!(
        d.signed_by.as_deref(),
        Some(md.signing_keys[0].thumbprint_sha256().as_str())
    );
    // Unsigned, signed by another key, or changed after signing: refused.
    let e = accept(&doc(&[&a], None, None), &md).unwrap_err();
    assert!(e.contains("sig.missing"), "{e}");
    let e = accept(&doc(&[&a], None, Some("attacker")), &md).unwrap_err();
    assert!(e.contains("sig.key_untrusted"), "{e}");
    let tampered = String::from_utf8(good)
        .unwrap()
        .replace("https://idp.example.test/adfs/ls/", "https://evil.example/");
    let e = accept(tampered.as_bytes(), &md).unwrap_err();
    assert!(e.contains("sig.invalid"), "{e}");
    // Both engines agree.
    let streaming = IssuerPolicy {
        engine: crate::trust::Engine::Streaming,
        ..Default::default()
    };
    let signed = doc(&[&a], None, Some("idp-b"));
    assert!(verify_metadata_signature(&signed, &md.signing_keys, &streaming).is_ok());
    assert!(verify_metadata_signature(tampered.as_bytes(), &md.signing_keys, &streaming).is_err());
}

/// A configuration with one issuer whose only source is `metadata_file` = `file`.
fn file_config(file: &std::path::Path, extra: &str) -> Config {
    let text = format!(
        r#"
[session]
keys = ["{key}"]
[[issuers]]
name = "idp"
entity_id = "{ENTITY}"
signin_url = "https://idp.example.test/adfs/ls/"
metadata_file = {file:?}
metadata_min_refresh_secs = 300
{extra}
[[realms]]
name = "app"
realm = "urn:fedrp:test"
"#,
        key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]),
        file = file.display().to_string(),
    );
    Config::from_toml(&text, std::path::Path::new("."), None, &[]).unwrap()
}

fn keyset(m: &TrustManager) -> BTreeSet<String> {
    m.slot(0)
        .unwrap()
        .load()
        .keys()
        .iter()
        .map(TrustedKey::thumbprint_sha256)
        .collect()
}

#[test]
fn on_demand_refresh_is_rate_limited_and_reports_changes() {
    let d = dir("ondemand");
    let file = d.join("md.xml");
    let (a, b) = (cert("idp-a").1, cert("idp-b").1);
    std::fs::write(&file, doc(&[&a], None, None)).unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let m = TrustManager::new(&file_config(&file, ""), clock.clone(), true);
    assert!(m.startup_errors().is_empty());
    assert_eq!(keyset(&m).len(), 1);
    let rt = actix_web::rt::System::new();
    // The key is published: the first on-demand refresh sees it.
    std::fs::write(&file, doc(&[&a, &b], None, None)).unwrap();
    let g = m.generations()[0];
    assert_eq!(rt.block_on(m.on_demand(0, g)), OnDemand::Retry);
    assert_eq!(keyset(&m).len(), 2);
    // A token validated before that change is simply retried, without a refresh.
    assert_eq!(rt.block_on(m.on_demand(0, g)), OnDemand::Retry);
    // Within the period: refused, whatever the file says now.
    std::fs::write(&file, doc(&[&b], None, None)).unwrap();
    let g = m.generations()[0];
    assert!(matches!(
        rt.block_on(m.on_demand(0, g)),
        OnDemand::RateLimited { .. }
    ));
    assert_eq!(keyset(&m).len(), 2);
    // After it: allowed again.
    clock.advance(Duration::seconds(301));
    assert_eq!(rt.block_on(m.on_demand(0, g)), OnDemand::Retry);
    assert_eq!(keyset(&m).len(), 1);
    // A garbage file fails the refresh and keeps the keys.
    clock.advance(Duration::seconds(301));
    std::fs::write(&file, b"<garbage").unwrap();
    let g = m.generations()[0];
    assert!(matches!(
        rt.block_on(m.on_demand(0, g)),
        OnDemand::Failed(_)
    ));
    assert_eq!(keyset(&m).len(), 1);
    let status = m.status_json();
    assert_eq!(status["issuers"][0]["state"], "stale");
    assert_eq!(status["issuers"][0]["refreshes"]["on_demand"], 3);
    assert_eq!(
        status["issuers"][0]["refreshes"]["on_demand_rate_limited"],
        1
    );
    let metrics = m.render_metrics();
    assert!(metrics.contains("fedrp_metadata_refresh_total{issuer=\"idp\",result=\"failure\"} 1"));
    assert!(metrics.contains("fedrp_trust_key_expiry_seconds{issuer=\"idp\",thumbprint=\""));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn lapsed_metadata_withdraws_its_keys_but_not_the_pinned_ones() {
    let d = dir("lapse");
    let file = d.join("md.xml");
    let a = cert("idp-a").1;
    std::fs::write(&file, doc(&[&a], Some(t0() + Duration::hours(1)), None)).unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let m = TrustManager::new(&file_config(&file, ""), clock.clone(), true);
    assert_eq!(keyset(&m).len(), 1);
    clock.advance(Duration::hours(2));
    m.watch();
    assert!(keyset(&m).is_empty());
    assert!(!m.all_trusted());
    assert_eq!(m.status_json()["issuers"][0]["state"], "no_trust");
    // With a pinned certificate, that one stays.
    let pinned = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs/idp-b.pem");
    let config = file_config(
        &file,
        &format!("trust_files = [{:?}]", pinned.display().to_string()),
    );
    let clock = Arc::new(FixedClock::new(t0()));
    let m = TrustManager::new(&config, clock.clone(), true);
    assert_eq!(keyset(&m).len(), 2);
    clock.advance(Duration::hours(2));
    m.watch();
    assert_eq!(keyset(&m).len(), 1);
    assert_eq!(m.status_json()["issuers"][0]["state"], "lapsed");
    // A start-up with only an expired document and nothing pinned is an error.
    let m = TrustManager::new(&file_config(&file, ""), clock, true);
    assert_eq!(m.startup_errors().len(), 1, "{:?}", m.startup_errors());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn refresh_interval_follows_cache_duration_within_bounds_and_backs_off() {
    let d = dir("interval");
    let file = d.join("md.xml");
    let a = cert("idp-a").1;
    // cacheDuration PT1H inside [300 s, 12 h]: about an hour, at most 10 % early.
    std::fs::write(&file, doc(&[&a], None, None)).unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let m = TrustManager::new(&file_config(&file, ""), clock, true);
    for _ in 0..20 {
        let dl = m.issuers[0].next_delay(t0());
        assert!(
            dl <= StdDuration::from_secs(3600) && dl >= StdDuration::from_secs(3240),
            "{dl:?}"
        );
    }
    // validUntil in 20 minutes: refreshed before it (3/4 of the time left, at least the floor).
    std::fs::write(&file, doc(&[&a], Some(t0() + Duration::minutes(20)), None)).unwrap();
    let m = TrustManager::new(
        &file_config(&file, ""),
        Arc::new(FixedClock::new(t0())),
        true,
    );
    let dl = m.issuers[0].next_delay(t0());
    assert!(
        dl <= StdDuration::from_secs(900) && dl >= StdDuration::from_secs(810),
        "{dl:?}"
    );
    // Failures: the floor, then doubling.
    m.issuers[0].state().failures = 3;
    let dl = m.issuers[0].next_delay(t0());
    assert!(
        dl <= StdDuration::from_secs(1200) && dl >= StdDuration::from_secs(1080),
        "{dl:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
