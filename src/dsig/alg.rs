//! XML-DSig algorithm identifiers fedrp knows, and the allow-list policy over them.

use openssl::hash::MessageDigest;

/// The exclusive canonicalization URI.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Exclusive canonicalization with comments (comments inside the token are refused anyway, so
/// this differs from [`EXC_C14N`] only for comments inside `SignedInfo`).
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
/// Inclusive C14N 1.0 (per-issuer opt-in for old SAML 1.1 issuers).
pub const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// A digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestAlg {
    /// SHA-1 (opt-in only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlg {
    /// Parses a DigestMethod URI.
    pub fn from_uri(uri: &str) -> Option<DigestAlg> {
        Some(match uri {
            "http://www.w3.org/2000/09/xmldsig#sha1" => DigestAlg::Sha1,
            "http://www.w3.org/2001/04/xmlenc#sha256" => DigestAlg::Sha256,
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => DigestAlg::Sha384,
            "http://www.w3.org/2001/04/xmlenc#sha512" => DigestAlg::Sha512,
            _ => return None,
        })
    }

    /// The OpenSSL digest.
    pub fn md(self) -> MessageDigest {
        match self {
            DigestAlg::Sha1 => MessageDigest::sha1(),
            DigestAlg::Sha256 => MessageDigest::sha256(),
            DigestAlg::Sha384 => MessageDigest::sha384(),
            DigestAlg::Sha512 => MessageDigest::sha512(),
        }
    }

    /// Short name for messages and reports.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha1 => "sha1",
            DigestAlg::Sha256 => "sha256",
            DigestAlg::Sha384 => "sha384",
            DigestAlg::Sha512 => "sha512",
        }
    }
}

/// The key type a signature algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// RSA PKCS#1 v1.5.
    Rsa,
    /// ECDSA.
    Ec,
}

/// A signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureAlg {
    /// Key type.
    pub key: KeyType,
    /// Hash.
    pub hash: DigestAlg,
}

impl SignatureAlg {
    /// Parses a SignatureMethod URI. HMAC, DSA, MD5 and unknown URIs are `None`.
    pub fn from_uri(uri: &str) -> Option<SignatureAlg> {
        let (key, hash) = match uri {
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => (KeyType::Rsa, DigestAlg::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
                (KeyType::Rsa, DigestAlg::Sha256)
            }
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
                (KeyType::Rsa, DigestAlg::Sha384)
            }
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
                (KeyType::Rsa, DigestAlg::Sha512)
            }
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1" => (KeyType::Ec, DigestAlg::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => {
                (KeyType::Ec, DigestAlg::Sha256)
            }
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => {
                (KeyType::Ec, DigestAlg::Sha384)
            }
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" => {
                (KeyType::Ec, DigestAlg::Sha512)
            }
            _ => return None,
        };
        Some(SignatureAlg { key, hash })
    }

    /// Short name (`rsa-sha256`, ...).
    pub fn name(self) -> String {
        let k = match self.key {
            KeyType::Rsa => "rsa",
            KeyType::Ec => "ecdsa",
        };
        format!("{k}-{}", self.hash.name())
    }
}

/// Canonicalization method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum C14nAlg {
    /// Exclusive XML canonicalization 1.0, without comments.
    Exclusive,
    /// Exclusive XML canonicalization 1.0, with comments.
    ExclusiveWithComments,
    /// Canonical XML 1.0 (inclusive), without comments.
    Inclusive,
}
