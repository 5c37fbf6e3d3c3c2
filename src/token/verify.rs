//! Signature verification: candidate issuers and keys, engine dispatch, and the diagnosis of
//! failures (`sig.invalid` versus `sig.key_untrusted`).

use std::sync::Arc;

use openssl::pkey::{PKey, Public};
use openssl::x509::X509;

use super::TokenError;
use super::error::{KeyFacts, UnknownKey, reject};
use super::profile::{SignatureProfile, check_policy};
use crate::Reason;
use crate::dsig;
use crate::trust::keys::hex_upper;
use crate::trust::{CertInfo, Engine, TrustedIssuer, TrustedKey};
use crate::xml::Document;
use crate::xmlsec;

/// The document as each engine needs it.
pub(crate) struct Subject<'a> {
    /// The strict reader's tree.
    pub doc: &'a Document,
    /// Bytes for libxml2 (CRs rewritten as references in [`LineEnds::KeepCrInText`] mode).
    pub xmlsec_bytes: &'a [u8],
}

/// A verified signature.
pub(crate) struct SigOk {
    /// The canonical bytes the reference digested.
    pub canonical: Vec<u8>,
    /// The issuer whose key verified.
    pub issuer: Arc<TrustedIssuer>,
    /// Its position in the trust store the validation used.
    pub issuer_index: usize,
    /// The key that verified.
    pub key: TrustedKey,
    /// The engine used.
    pub engine: Engine,
}

/// A failure, flagged when it was a digest mismatch (content changed after signing).
pub(crate) struct SigFail {
    pub error: TokenError,
    pub digest_mismatch: bool,
}

impl From<TokenError> for SigFail {
    fn from(error: TokenError) -> SigFail {
        SigFail {
            error,
            digest_mismatch: false,
        }
    }
}

enum Attempt {
    Verified {
        canonical: Vec<u8>,
        key_index: usize,
    },
    DigestMismatch,
    NoKey,
}

fn key_from_cert_der(der: &[u8]) -> Option<TrustedKey> {
    let cert = X509::from_der(der).ok()?;
    TrustedKey::from_cert(&cert, "KeyInfo").ok()
}

/// Keys an issuer offers for this signature: its configured keys, plus (in thumbprint mode)
/// KeyInfo certificates whose thumbprint is pinned.
fn issuer_keys(issuer: &TrustedIssuer, doc: &Document, p: &SignatureProfile) -> Vec<TrustedKey> {
    let mut keys: Vec<TrustedKey> = issuer.keys().to_vec();
    if !issuer.thumbprints().is_empty() {
        for der in &super::profile::keyinfo_certs(doc, p.key_info) {
            if let Some(k) = key_from_cert_der(der)
                && let Some(cert) = &k.cert
                && issuer.thumbprints().iter().any(|t| t.matches(cert))
            {
                keys.push(k);
            }
        }
    }
    keys
}

fn attempt(
    engine: Engine,
    subject: &Subject<'_>,
    p: &SignatureProfile,
    keys: &[&TrustedKey],
    issuer: &TrustedIssuer,
) -> Result<Attempt, TokenError> {
    match engine {
        Engine::Xmlsec => {
            let (ns, local) = (subject.doc.ns(p.element), subject.doc.local(p.element));
            let path = subject.doc.element_path(p.element);
            let pkeys: Vec<&PKey<Public>> = keys.iter().map(|k| &k.public).collect();
            let req = xmlsec::VerifyRequest {
                xml: subject.xmlsec_bytes,
                target_path: &path,
                target_name: (ns, local),
                id_attr: match p.kind {
                    super::profile::Signed::Assertion11 => xmlsec::IdAttr::AssertionId,
                    _ => xmlsec::IdAttr::Id,
                },
                id_value: &p.id,
                element_count: subject.doc.element_count(),
                keys: &pkeys,
                policy: xmlsec::AlgorithmPolicy {
                    allow_sha1: issuer.policy.allow_sha1,
                    allow_inclusive_c14n: issuer.policy.allow_inclusive_c14n,
                },
            };
            match xmlsec::verify(&req) {
                Ok(v) => Ok(Attempt::Verified {
                    canonical: v.pre_digest,
                    key_index: v.key_index,
                }),
                Err(xmlsec::VerifyError::DigestMismatch) => Ok(Attempt::DigestMismatch),
                Err(xmlsec::VerifyError::SignatureMismatch)
                | Err(xmlsec::VerifyError::Refused(_)) => Ok(Attempt::NoKey),
                Err(xmlsec::VerifyError::DuplicateId(id)) => reject(
                    Reason::SigIdDup,
                    format!("ID {id:?} appears more than once (libxml2)"),
                ),
                Err(xmlsec::VerifyError::Forbidden(m)) => {
                    let reason = if m.contains("processing instruction") {
                        Reason::XmlPi
                    } else {
                        Reason::XmlDoctype
                    };
                    reject(reason, format!("libxml2: {m}"))
                }
                Err(xmlsec::VerifyError::Malformed(m)) => {
                    reject(Reason::XmlMalformed, format!("libxml2: {m}"))
                }
                Err(xmlsec::VerifyError::TreeMismatch(m)) => reject(
                    Reason::XmlMalformed,
                    format!("parser differential between readers: {m}"),
                ),
            }
        }
        Engine::Streaming => match dsig::verify(subject.doc, p, keys) {
            Ok(dsig::Outcome::Verified {
                canonical,
                key_index,
            }) => Ok(Attempt::Verified {
                canonical,
                key_index,
            }),
            Ok(dsig::Outcome::DigestMismatch) => Ok(Attempt::DigestMismatch),
            Ok(dsig::Outcome::NoKey) => Ok(Attempt::NoKey),
            Err(e) => Err(e),
        },
    }
}

/// Verifies one signature against the trusted issuers, trying first the issuers named like
/// `issuer_hint` (the token's own, still unverified, Issuer text), then unnamed ones, then the
/// rest. The issuer is the owner of the key that verifies, never the hint.
pub(crate) fn verify_signature(
    issuers: &[Arc<TrustedIssuer>],
    subject: &Subject<'_>,
    p: &SignatureProfile,
    issuer_hint: Option<&str>,
    engine_override: Option<Engine>,
) -> Result<SigOk, SigFail> {
    let mut order: Vec<(usize, &Arc<TrustedIssuer>)> = issuers.iter().enumerate().collect();
    order.sort_by_key(|(_, i)| match (i.name(), issuer_hint) {
        (Some(n), Some(h)) if n == h => 0,
        (None, _) => 1,
        _ => 2,
    });
    let mut first_policy_error: Option<TokenError> = None;
    let mut tried_any = false;
    let mut tried: Vec<String> = Vec::new();
    for (issuer_index, issuer) in order {
        // The issuer the token names decides the algorithm policy: its refusal is the answer
        // (never "try another issuer's keys" and report an untrusted key).
        let named = matches!((issuer.name(), issuer_hint), (Some(n), Some(h)) if n == h);
        if let Err(e) = check_policy(p, &issuer.policy) {
            if named {
                return Err(e.into());
            }
            first_policy_error.get_or_insert(e);
            continue;
        }
        let keys = issuer_keys(issuer, subject.doc, p);
        if keys.is_empty() {
            continue;
        }
        if !keys.iter().any(|k| k.key_type() == Some(p.sig_alg.key)) {
            let e = TokenError::new(
                Reason::SigAlg,
                format!(
                    "{} signature, but the issuer's keys are {}",
                    p.sig_alg.name(),
                    keys.iter()
                        .map(TrustedKey::describe)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            if named {
                return Err(e.into());
            }
            first_policy_error.get_or_insert(e);
            continue;
        }
        tried_any = true;
        tried.extend(keys.iter().map(|k| k.thumbprint_sha256()));
        let key_refs: Vec<&TrustedKey> = keys.iter().collect();
        let engine = engine_override.unwrap_or(issuer.policy.engine);
        match attempt(engine, subject, p, &key_refs, issuer)? {
            Attempt::Verified {
                canonical,
                key_index,
            } => {
                return Ok(SigOk {
                    canonical,
                    issuer: Arc::clone(issuer),
                    issuer_index,
                    key: keys[key_index].clone(),
                    engine,
                });
            }
            Attempt::DigestMismatch => {
                return Err(SigFail {
                    error: TokenError::new(
                        Reason::SigInvalid,
                        format!(
                            "the {} digest does not match: the signed content was changed",
                            p.digest_alg.name()
                        ),
                    ),
                    digest_mismatch: true,
                });
            }
            Attempt::NoKey => {}
        }
    }
    if !tried_any {
        if let Some(e) = first_policy_error {
            return Err(e.into());
        }
        return Err(TokenError::new(
            Reason::SigKeyUntrusted,
            "no trusted key: the thumbprint-pinned certificate is not in KeyInfo",
        )
        .into());
    }
    Err(diagnose(subject, p, &tried, issuer_hint).into())
}

/// No trusted key verified: say whether an untrusted KeyInfo key did (`sig.key_untrusted`) or
/// nothing does (`sig.invalid`). KeyInfo only feeds this diagnosis, never trust.
///
/// Either way the error is marked as an *unknown signing key* ([`TokenError::unknown_key`]) when
/// that is the only thing wrong: a KeyInfo key verifies the signature, or KeyInfo names no key at
/// all and the reference digest matches. A KeyInfo key that does not verify means a broken
/// signature, which no refresh can mend.
fn diagnose(
    subject: &Subject<'_>,
    p: &SignatureProfile,
    tried: &[String],
    issuer_hint: Option<&str>,
) -> TokenError {
    let unknown = |token_key: Option<KeyFacts>| {
        Some(Box::new(UnknownKey {
            issuer_hint: issuer_hint.map(str::to_owned),
            token_key,
            trusted: tried.to_vec(),
        }))
    };
    let mut candidates: Vec<TrustedKey> = super::profile::keyinfo_certs(subject.doc, p.key_info)
        .iter()
        .filter_map(|d| key_from_cert_der(d))
        .collect();
    for (m, e) in super::profile::keyinfo_rsa_values(subject.doc, p.key_info) {
        let key = openssl::bn::BigNum::from_slice(&m)
            .and_then(|m| openssl::bn::BigNum::from_slice(&e).map(|e| (m, e)))
            .and_then(|(m, e)| openssl::rsa::Rsa::from_public_components(m, e))
            .and_then(PKey::from_rsa);
        if let Ok(public) = key {
            candidates.push(TrustedKey::from_public(public, "KeyInfo KeyValue"));
        }
    }
    let keyinfo_names_a_key = !candidates.is_empty();
    for k in candidates {
        let probe = TrustedIssuer::new(
            None,
            vec![k.clone()],
            Vec::new(),
            crate::trust::IssuerPolicy {
                allow_sha1: true,
                allow_inclusive_c14n: true,
                ..Default::default()
            },
        );
        let Ok(probe) = probe else { continue };
        let pk = [&k];
        if let Ok(Attempt::Verified { .. }) = attempt(Engine::Streaming, subject, p, &pk, &probe) {
            let facts = KeyFacts {
                subject: k.cert.as_ref().map(|c: &CertInfo| c.subject.clone()),
                sha256: k.thumbprint_sha256(),
                sha1: k.cert.as_ref().map(|c| hex_upper(&c.sha1)),
            };
            let who = match (&facts.subject, &facts.sha1) {
                (Some(s), Some(sha1)) => format!(
                    "the token's KeyInfo certificate {s} (SHA-256 {}, SHA-1 {sha1})",
                    facts.sha256
                ),
                _ => format!(
                    "the token's KeyInfo key {} (SHA-256 {})",
                    k.describe(),
                    facts.sha256
                ),
            };
            return TokenError {
                reason: Reason::SigKeyUntrusted,
                message: format!(
                    "unknown signing key: {who} verifies the signature but is not trusted; trusted: {}",
                    tried.join(", ")
                ),
                unknown_key: unknown(Some(facts)),
            };
        }
    }
    if !keyinfo_names_a_key && matches!(dsig::verify(subject.doc, p, &[]), Ok(dsig::Outcome::NoKey))
    {
        return TokenError {
            reason: Reason::SigInvalid,
            message: format!(
                "unknown signing key: the digest matches but no trusted key verifies the signature, and KeyInfo names no key; trusted: {}",
                tried.join(", ")
            ),
            unknown_key: unknown(None),
        };
    }
    TokenError::new(
        Reason::SigInvalid,
        format!(
            "the signature value does not verify with any trusted key ({})",
            tried.join(", ")
        ),
    )
}
