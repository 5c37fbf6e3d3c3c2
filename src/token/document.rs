//! The enveloped signature of a federation metadata document, checked with the same profile
//! ([`super::profile`]) and the same two engines as a token's: the document element
//! (`EntityDescriptor` or `EntitiesDescriptor`) must carry exactly one `ds:Signature` as its
//! first child whose single reference is `#<its ID>` (or `""`), enveloped + exclusive c14n, an
//! allowed algorithm, and a value one of the given keys verifies.

use std::sync::Arc;

use super::TokenError;
use super::error::reject;
use super::profile::{self, IdMap, Signed};
use super::verify::{self, Subject};
use crate::Reason;
use crate::trust::{IssuerPolicy, TrustedIssuer, TrustedKey};
use crate::xml::{self, ParseOptions};

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// Parser caps for metadata documents (what [`crate::trust::Metadata::parse`] accepts).
pub fn metadata_parse_options() -> ParseOptions {
    ParseOptions {
        limits: xml::Limits {
            max_bytes: 16 << 20,
            max_nodes: 1_000_000,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Verifies the signature on the document element of the metadata `bytes` with `signers`,
/// under `policy` (algorithms, key floor, engine). Returns the key that verified.
pub fn verify_metadata_signature(
    bytes: &[u8],
    signers: &[TrustedKey],
    policy: &IssuerPolicy,
) -> Result<TrustedKey, TokenError> {
    let doc = xml::parse(bytes, &metadata_parse_options())?;
    let root = doc.root();
    if !(doc.is(root, MD, "EntityDescriptor") || doc.is(root, MD, "EntitiesDescriptor")) {
        return reject(
            Reason::XmlRoot,
            format!(
                "not SAML metadata (document element {{{}}}{})",
                doc.ns(root),
                doc.local(root)
            ),
        );
    }
    let ids = IdMap::scan(&doc)?;
    let Some(sig) = profile::find_signature(&doc, root, Signed::Metadata)? else {
        return reject(Reason::SigMissing, "the metadata document is not signed");
    };
    let prof = profile::check(&doc, &ids, root, Signed::Metadata, sig)?;
    let signer = TrustedIssuer::new(None, signers.to_vec(), Vec::new(), policy.clone())
        .map_err(|e| TokenError::new(Reason::SigKeyUntrusted, e))?;
    let subject = Subject {
        doc: &doc,
        xmlsec_bytes: bytes,
    };
    match verify::verify_signature(&[Arc::new(signer)], &subject, &prof, None, None) {
        Ok(ok) => Ok(ok.key),
        Err(f) => Err(f.error),
    }
}
