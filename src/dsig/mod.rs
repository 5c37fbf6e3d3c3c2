//! XML-DSig: algorithm identifiers and the pure-Rust streaming verification engine.
//!
//! The engine works on the strict reader's tree of the posted bytes: it canonicalizes the
//! referenced element (minus the enveloped signature) and `SignedInfo` exactly as the XML
//! canonicalization specs define, digests, and verifies `SignatureValue` with OpenSSL using the
//! issuer's cached public key. The structure it may see has already passed
//! [`crate::token::profile`]; libxmlsec1 ([`crate::xmlsec`]) is the oracle it is tested against.

pub mod alg;
pub mod c14n;

use std::cell::RefCell;

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::hash;
use openssl::pkey::{Id, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

use crate::token::TokenError;
use crate::token::profile::SignatureProfile;
use crate::trust::TrustedKey;
use crate::xml::Document;
use alg::{DigestAlg, KeyType};

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
    keys: &[&TrustedKey],
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
    let si_digest = hash(p.sig_alg.hash.md(), &signed_info)
        .map_err(|e| TokenError::new(crate::Reason::SigInvalid, format!("digest: {e}")))?;
    for (key_index, key) in keys.iter().enumerate() {
        if verify_value(key, p, &si_digest) {
            return Ok(Outcome::Verified {
                canonical,
                key_index,
            });
        }
    }
    Ok(Outcome::NoKey)
}

thread_local! {
    /// Verification contexts per (key, hash), reused across tokens on this thread: creating an
    /// OpenSSL 3 context costs as much as the RSA operation itself.
    static CONTEXTS: RefCell<Vec<(u64, DigestAlg, PkeyCtx<Public>)>> = const { RefCell::new(Vec::new()) };
}

const MAX_CACHED_CONTEXTS: usize = 64;

fn new_ctx(key: &TrustedKey, hash: DigestAlg) -> Option<PkeyCtx<Public>> {
    let mut ctx = PkeyCtx::new(&key.public).ok()?;
    ctx.verify_init().ok()?;
    if key.public.id() == Id::RSA {
        ctx.set_rsa_padding(Padding::PKCS1).ok()?;
    }
    let md = match hash {
        DigestAlg::Sha1 => openssl::md::Md::sha1(),
        DigestAlg::Sha256 => openssl::md::Md::sha256(),
        DigestAlg::Sha384 => openssl::md::Md::sha384(),
        DigestAlg::Sha512 => openssl::md::Md::sha512(),
    };
    ctx.set_signature_md(md).ok()?;
    Some(ctx)
}

/// Verifies a prehashed SignedInfo digest with `key`.
fn verify_prehashed(key: &TrustedKey, hash: DigestAlg, digest: &[u8], sig: &[u8]) -> bool {
    CONTEXTS.with(|cell| {
        let mut cache = cell.borrow_mut();
        let pos = cache
            .iter()
            .position(|(id, h, _)| *id == key.id() && *h == hash);
        let idx = match pos {
            Some(i) => i,
            None => {
                let Some(ctx) = new_ctx(key, hash) else {
                    return false;
                };
                if cache.len() >= MAX_CACHED_CONTEXTS {
                    cache.clear();
                }
                cache.push((key.id(), hash, ctx));
                cache.len() - 1
            }
        };
        let ok = cache[idx].2.verify(digest, sig).unwrap_or(false);
        // A failed operation leaves OpenSSL's error queue set; drain it.
        let _ = openssl::error::ErrorStack::get();
        ok
    })
}

fn verify_value(key: &TrustedKey, p: &SignatureProfile, digest: &[u8]) -> bool {
    match (p.sig_alg.key, key.public.id()) {
        (KeyType::Rsa, Id::RSA) => {
            verify_prehashed(key, p.sig_alg.hash, digest, &p.signature_value)
        }
        (KeyType::Ec, Id::EC) => {
            // XML-DSig ECDSA values are r || s, each the size of the curve order.
            let sig = &p.signature_value;
            if sig.is_empty() || !sig.len().is_multiple_of(2) {
                return false;
            }
            let (r, s) = sig.split_at(sig.len() / 2);
            let der = BigNum::from_slice(r)
                .and_then(|r| BigNum::from_slice(s).map(|s| (r, s)))
                .and_then(|(r, s)| EcdsaSig::from_private_components(r, s))
                .and_then(|sig| sig.to_der());
            match der {
                Ok(der) => verify_prehashed(key, p.sig_alg.hash, digest, &der),
                Err(_) => false,
            }
        }
        _ => false,
    }
}
