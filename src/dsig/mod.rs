//! XML-DSig: algorithm identifiers and the pure-Rust streaming verification engine.
//!
//! The engine works on the strict reader's tree of the posted bytes: it canonicalizes the
//! referenced element (minus the enveloped signature) and `SignedInfo` exactly as the XML
//! canonicalization specs define, digests, and verifies `SignatureValue` with OpenSSL using the
//! issuer's cached public key. The structure it may see has already passed
//! [`crate::token::profile`]; libxmlsec1 ([`crate::xmlsec`]) is the oracle it is tested against.

pub mod alg;
pub mod c14n;

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::hash;
use openssl::pkey::{Id, PKey, Public};
use openssl::sign::Verifier;

use crate::token::TokenError;
use crate::token::profile::SignatureProfile;
use crate::xml::Document;
use alg::KeyType;

/// What verification found.
#[derive(Debug)]
pub enum Outcome {
    /// The digest matched and key `key_index` verified SignedInfo.
    Verified {
        /// The canonical bytes of the referenced element (what was digested).
        canonical: Vec<u8>,
        /// Which key.
        key_index: usize,
    },
    /// The digest did not match.
    DigestMismatch,
    /// The digest matched, but no key verifies SignedInfo.
    NoKey,
}

/// Verifies one enveloped signature whose profile was checked, with each of `keys` in turn.
pub fn verify(
    doc: &Document,
    p: &SignatureProfile,
    keys: &[&PKey<Public>],
) -> Result<Outcome, TokenError> {
    let mut canonical = Vec::with_capacity(8 * 1024);
    c14n::canonicalize(
        doc,
        p.element,
        Some(p.signature),
        p.ref_c14n,
        &p.ref_prefixes,
        &mut canonical,
    );
    let digest = hash(p.digest_alg.md(), &canonical)
        .map_err(|e| TokenError::new(crate::Reason::SigInvalid, format!("digest: {e}")))?;
    if digest.len() != p.digest_value.len() || !openssl::memcmp::eq(&digest, &p.digest_value) {
        return Ok(Outcome::DigestMismatch);
    }
    let mut signed_info = Vec::with_capacity(1024);
    c14n::canonicalize(
        doc,
        p.signed_info,
        None,
        p.c14n,
        &p.c14n_prefixes,
        &mut signed_info,
    );
    for (key_index, key) in keys.iter().enumerate() {
        if verify_value(key, p, &signed_info) {
            return Ok(Outcome::Verified {
                canonical,
                key_index,
            });
        }
    }
    Ok(Outcome::NoKey)
}

fn verify_value(key: &PKey<Public>, p: &SignatureProfile, data: &[u8]) -> bool {
    let md = p.sig_alg.hash.md();
    match (p.sig_alg.key, key.id()) {
        (KeyType::Rsa, Id::RSA) => Verifier::new(md, key)
            .and_then(|mut v| {
                v.update(data)?;
                v.verify(&p.signature_value)
            })
            .unwrap_or(false),
        (KeyType::Ec, Id::EC) => {
            // XML-DSig ECDSA values are r || s, each the size of the curve order.
            let sig = &p.signature_value;
            if sig.is_empty() || sig.len() % 2 != 0 {
                return false;
            }
            let (r, s) = sig.split_at(sig.len() / 2);
            let der = BigNum::from_slice(r)
                .and_then(|r| BigNum::from_slice(s).map(|s| (r, s)))
                .and_then(|(r, s)| EcdsaSig::from_private_components(r, s))
                .and_then(|sig| sig.to_der());
            let Ok(der) = der else { return false };
            Verifier::new(md, key)
                .and_then(|mut v| {
                    v.update(data)?;
                    v.verify(&der)
                })
                .unwrap_or(false)
        }
        _ => false,
    }
}
