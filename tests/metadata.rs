//! Federation metadata (ADFS FederationMetadata.xml v2/v3/v4, SAML 2.0 IdP metadata): entity
//! IDs and every signing certificate are read exactly as the sidecars list them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use fedrp::trust::{Metadata, load_trust_file};

#[test]
fn every_metadata_file_yields_its_entities_and_signing_keys() {
    let mut checked = 0;
    for side_path in [
        "fixtures/attacks/pysaml2/idp.xml.metadata.json",
        "fixtures/attacks/samael/idp_2_metadata.xml.metadata.json",
        "fixtures/attacks/identitymodel/adfs-v2-metadata.xml.metadata.json",
        "fixtures/attacks/identitymodel/adfs-v3-metadata.xml.metadata.json",
        "fixtures/attacks/identitymodel/adfs-v4-metadata.xml.metadata.json",
    ] {
        let side = json(&root().join(side_path));
        let file = root().join(side_path.trim_end_matches(".metadata.json"));
        let md = Metadata::parse(&std::fs::read(&file).unwrap(), side_path).unwrap();
        let ids: BTreeSet<String> = md.entities.iter().map(|e| e.entity_id.clone()).collect();
        let want_ids: BTreeSet<String> = strings(&side["entity_ids"]).into_iter().collect();
        assert_eq!(ids, want_ids, "{side_path}: entity IDs");
        let got: BTreeSet<String> = md
            .entities
            .iter()
            .flat_map(|e| {
                e.signing_keys
                    .iter()
                    .map(|k| format!("sha256:{}", k.thumbprint_sha256()))
            })
            .collect();
        let want: BTreeSet<String> = side["signing_certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c["sha256"]
                    .as_str()
                    .unwrap()
                    .to_uppercase()
                    .replace("SHA256:", "sha256:")
            })
            .collect();
        assert_eq!(got, want, "{side_path}: signing keys");
        // The same file as --trust: every signing key, bound to the entity.
        let (keys, names) = load_trust_file(&file).unwrap();
        assert_eq!(keys.len(), want.len(), "{side_path}");
        assert_eq!(names.into_iter().collect::<BTreeSet<_>>(), want_ids);
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn malformed_metadata_is_refused_with_a_message() {
    for (bytes, needle) in [
        (&b"<x/>"[..], "not SAML metadata"),
        (&b"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>"[..], "without entityID"),
        (&b"<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>"[..], "no EntityDescriptor"),
        (&b"<!DOCTYPE x><x/>"[..], "DOCTYPE"),
        (&b"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"e\" validUntil=\"tomorrow\"/>"[..], "validUntil"),
    ] {
        let e = Metadata::parse(bytes, "test").unwrap_err();
        assert!(e.contains(needle), "{e}");
    }
}

#[test]
fn real_adfs_metadata_signatures_verify_with_the_token_signing_key_in_both_engines() {
    use fedrp::token::document::verify_metadata_signature;
    use fedrp::trust::{Engine, IssuerPolicy};
    for name in ["adfs-v2", "adfs-v3", "adfs-v4"] {
        let path = root().join(format!(
            "fixtures/attacks/identitymodel/{name}-metadata.xml"
        ));
        let bytes = std::fs::read(&path).unwrap();
        let (keys, _) = load_trust_file(&path).unwrap();
        for engine in [Engine::Xmlsec, Engine::Streaming] {
            let policy = IssuerPolicy {
                engine,
                ..Default::default()
            };
            let k = verify_metadata_signature(&bytes, &keys, &policy)
                .unwrap_or_else(|e| panic!("{name} {engine:?}: {e}"));
            assert!(
                keys.iter()
                    .any(|x| x.thumbprint_sha256() == k.thumbprint_sha256())
            );
            // An unrelated key does not verify it.
            let (other, _) = load_trust_file(&root().join("certs/idp-a.pem")).unwrap();
            let e = verify_metadata_signature(&bytes, &other, &policy).unwrap_err();
            assert_eq!(e.reason.code(), "sig.key_untrusted", "{name}: {e}");
            // A changed document does not verify.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let changed = text.replacen("/adfs/ls/", "/adfs/lz/", 1);
            assert_ne!(changed, text);
            let e = verify_metadata_signature(changed.as_bytes(), &keys, &policy).unwrap_err();
            assert_eq!(e.reason.code(), "sig.invalid", "{name}: {e}");
        }
    }
}
