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
