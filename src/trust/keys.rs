//! Trusted keys: certificates and public keys loaded from configuration.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{Id, PKey, Public};
use openssl::x509::X509;

use crate::dsig::alg::KeyType;

/// A certificate thumbprint algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbprintAlg {
    /// SHA-1 (legacy; what ADFS and passport-wsfed-saml2 pin).
    Sha1,
    /// SHA-256.
    Sha256,
}

/// A pinned certificate thumbprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Thumbprint {
    /// Algorithm.
    pub alg: ThumbprintAlg,
    /// Digest of the DER certificate.
    pub bytes: Vec<u8>,
}

impl Thumbprint {
    /// Parses `sha256:HEX`, `sha1:HEX`, or bare hex (length decides; colons and spaces allowed).
    pub fn parse(s: &str) -> Result<Thumbprint, String> {
        let (alg, hex) = match s.split_once(':') {
            Some((a, h)) if a.eq_ignore_ascii_case("sha256") => (Some(ThumbprintAlg::Sha256), h),
            Some((a, h)) if a.eq_ignore_ascii_case("sha1") => (Some(ThumbprintAlg::Sha1), h),
            _ => (None, s),
        };
        let clean: String = hex
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        if !clean.len().is_multiple_of(2) || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("thumbprint {s:?} is not hex"));
        }
        let bytes: Vec<u8> = (0..clean.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).unwrap_or(0))
            .collect();
        let alg = match (alg, bytes.len()) {
            (Some(ThumbprintAlg::Sha256), 32) | (None, 32) => ThumbprintAlg::Sha256,
            (Some(ThumbprintAlg::Sha1), 20) | (None, 20) => ThumbprintAlg::Sha1,
            _ => return Err(format!("thumbprint {s:?} has the wrong length")),
        };
        Ok(Thumbprint { alg, bytes })
    }

    /// Whether `der` has this thumbprint.
    pub fn matches(&self, cert: &CertInfo) -> bool {
        match self.alg {
            ThumbprintAlg::Sha1 => cert.sha1 == self.bytes.as_slice(),
            ThumbprintAlg::Sha256 => cert.sha256 == self.bytes.as_slice(),
        }
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = match self.alg {
            ThumbprintAlg::Sha1 => "sha1",
            ThumbprintAlg::Sha256 => "sha256",
        };
        write!(f, "{alg}:{}", hex_upper(&self.bytes))
    }
}

/// Upper-case hex.
pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Facts about a certificate.
#[derive(Clone, Debug)]
pub struct CertInfo {
    /// DER bytes.
    pub der: Vec<u8>,
    /// Subject, one line.
    pub subject: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// SHA-1 thumbprint.
    pub sha1: [u8; 20],
    /// SHA-256 thumbprint.
    pub sha256: [u8; 32],
}

impl CertInfo {
    /// Reads a certificate.
    pub fn from_x509(cert: &X509) -> Result<CertInfo, String> {
        let der = cert.to_der().map_err(|e| e.to_string())?;
        let sha1 = hash(MessageDigest::sha1(), &der).map_err(|e| e.to_string())?;
        let sha256 = hash(MessageDigest::sha256(), &der).map_err(|e| e.to_string())?;
        let subject = cert
            .subject_name()
            .entries()
            .map(|e| {
                let k = e.object().nid().short_name().unwrap_or("?");
                let v = e.data().to_string().unwrap_or_default();
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        Ok(CertInfo {
            subject,
            not_before: asn1_time(cert.not_before())?,
            not_after: asn1_time(cert.not_after())?,
            sha1: sha1.as_ref().try_into().map_err(|_| "sha1 length")?,
            sha256: sha256.as_ref().try_into().map_err(|_| "sha256 length")?,
            der,
        })
    }

    /// Whether the certificate is valid at `t`.
    pub fn valid_at(&self, t: DateTime<Utc>) -> bool {
        self.not_before <= t && t <= self.not_after
    }
}

fn asn1_time(t: &openssl::asn1::Asn1TimeRef) -> Result<DateTime<Utc>, String> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|e| e.to_string())?;
    let d = epoch.diff(t).map_err(|e| e.to_string())?;
    let secs = i64::from(d.days) * 86_400 + i64::from(d.secs);
    DateTime::from_timestamp(secs, 0).ok_or_else(|| "certificate time out of range".into())
}

/// A verification key fedrp trusts.
#[derive(Clone)]
pub struct TrustedKey {
    /// The public key, parsed once.
    pub public: PKey<Public>,
    /// The certificate it came from, if any.
    pub cert: Option<CertInfo>,
    /// Where it came from (file name, metadata entity), for messages.
    pub source: String,
    /// Process-unique identity (verification contexts are cached per key).
    id: u64,
    /// SHA-256 thumbprint, computed once.
    thumbprint: String,
}

static NEXT_KEY_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedKey")
            .field("kind", &self.describe())
            .field("cert", &self.cert.as_ref().map(|c| &c.subject))
            .field("source", &self.source)
            .finish()
    }
}

impl TrustedKey {
    /// From a certificate.
    pub fn from_cert(cert: &X509, source: impl Into<String>) -> Result<TrustedKey, String> {
        let public = cert
            .public_key()
            .map_err(|e| format!("certificate public key: {e}"))?;
        Ok(TrustedKey::build(
            public,
            Some(CertInfo::from_x509(cert)?),
            source.into(),
        ))
    }

    /// From a bare public key.
    pub fn from_public(public: PKey<Public>, source: impl Into<String>) -> TrustedKey {
        TrustedKey::build(public, None, source.into())
    }

    fn build(public: PKey<Public>, cert: Option<CertInfo>, source: String) -> TrustedKey {
        let thumbprint = match &cert {
            Some(c) => hex_upper(&c.sha256),
            None => public
                .public_key_to_der()
                .ok()
                .and_then(|d| hash(MessageDigest::sha256(), &d).ok())
                .map(|h| hex_upper(&h))
                .unwrap_or_default(),
        };
        let id = NEXT_KEY_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TrustedKey {
            public,
            cert,
            source,
            id,
            thumbprint,
        }
    }

    /// Process-unique identity of this key.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The key type.
    pub fn key_type(&self) -> Option<KeyType> {
        match self.public.id() {
            Id::RSA => Some(KeyType::Rsa),
            Id::EC => Some(KeyType::Ec),
            _ => None,
        }
    }

    /// Key size in bits.
    pub fn bits(&self) -> u32 {
        self.public.bits()
    }

    /// "RSA-2048", "EC-256", ...
    pub fn describe(&self) -> String {
        let t = match self.public.id() {
            Id::RSA => "RSA",
            Id::EC => "EC",
            _ => "other",
        };
        format!("{t}-{}", self.bits())
    }

    /// SHA-256 thumbprint of the certificate, or of the SubjectPublicKeyInfo for bare keys.
    pub fn thumbprint_sha256(&self) -> String {
        self.thumbprint.clone()
    }

    /// Whether this key is weaker than the floors: RSA under `min_rsa_bits`, EC under 256 bits.
    pub fn is_weak(&self, min_rsa_bits: u32) -> bool {
        match self.public.id() {
            Id::RSA => self.bits() < min_rsa_bits,
            Id::EC => self.bits() < 256,
            _ => true,
        }
    }
}

/// Reads every key from PEM text: `CERTIFICATE` and `PUBLIC KEY` blocks (several allowed).
pub fn keys_from_pem(pem: &[u8], source: &str) -> Result<Vec<TrustedKey>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| format!("{source}: not PEM text"))?;
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| format!("{source}: broken PEM header"))?;
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = rest[start..]
            .find(&end_marker)
            .ok_or_else(|| format!("{source}: no {end_marker}"))?;
        let block = &rest[start..start + end + end_marker.len()];
        match label {
            "CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let cert = X509::from_pem(block.as_bytes())
                    .map_err(|e| format!("{source}: bad certificate: {e}"))?;
                keys.push(TrustedKey::from_cert(&cert, source)?);
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                let public = if label == "PUBLIC KEY" {
                    PKey::public_key_from_pem(block.as_bytes())
                } else {
                    openssl::rsa::Rsa::public_key_from_pem_pkcs1(block.as_bytes())
                        .and_then(PKey::from_rsa)
                }
                .map_err(|e| format!("{source}: bad public key: {e}"))?;
                keys.push(TrustedKey::from_public(public, source));
            }
            other if other.contains("PRIVATE KEY") => {
                return Err(format!(
                    "{source}: holds a private key; trust needs only the certificate"
                ));
            }
            _ => {}
        }
        rest = &rest[start + end + end_marker.len()..];
    }
    Ok(keys)
}

/// Reads a certificate from DER bytes or from base64 text (as in `ds:X509Certificate`).
pub fn cert_from_der_or_base64(data: &[u8]) -> Option<X509> {
    if let Ok(c) = X509::from_der(data) {
        return Some(c);
    }
    let compact: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    X509::from_der(&der).ok()
}
