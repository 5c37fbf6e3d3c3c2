//! [`TokenError`]: a rejection with its stable [`Reason`] and the detail for logs.

use std::fmt;

use crate::Reason;
use crate::xml::XmlError;

/// Why a token was rejected. `reason` is the stable code; `message` says what was expected and
/// what was found (for logs and the CLI, never for the browser).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    /// Stable code.
    pub reason: Reason,
    /// Detail.
    pub message: String,
    /// Set when the token failed **only** because its signing key is unknown: every structural
    /// and algorithm check passed, the reference digest matched, and no trusted key verifies
    /// SignedInfo (while the KeyInfo key, when there is one, does). A relying party may refresh
    /// the issuer's metadata once and validate the token again; nothing here is ever trusted.
    pub unknown_key: Option<Box<UnknownKey>>,
}

/// The facts of an "unknown signing key" failure (see [`TokenError::unknown_key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKey {
    /// The token's own Issuer text (unverified: it only says which issuer to refresh).
    pub issuer_hint: Option<String>,
    /// The KeyInfo key that verifies the signature, when KeyInfo carries one.
    pub token_key: Option<KeyFacts>,
    /// SHA-256 thumbprints of the trusted keys that were tried.
    pub trusted: Vec<String>,
}

/// Thumbprints and subject of a key named by a token's KeyInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    /// Certificate subject, when KeyInfo carries a certificate.
    pub subject: Option<String>,
    /// SHA-256 of the certificate (or of the SubjectPublicKeyInfo of a bare key), upper hex.
    pub sha256: String,
    /// SHA-1 of the certificate, upper hex (what ADFS shows), when there is one.
    pub sha1: Option<String>,
}

impl TokenError {
    /// A new error.
    pub fn new(reason: Reason, message: impl Into<String>) -> TokenError {
        TokenError {
            reason,
            message: message.into(),
            unknown_key: None,
        }
    }

    /// Whether the token failed only because its signing key is unknown.
    pub fn unknown_signing_key(&self) -> Option<&UnknownKey> {
        self.unknown_key.as_deref()
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.message)
    }
}

impl std::error::Error for TokenError {}

impl From<XmlError> for TokenError {
    fn from(e: XmlError) -> TokenError {
        TokenError::new(e.reason, format!("{} (at byte {})", e.message, e.offset))
    }
}

/// Shorthand for building a rejection.
pub(crate) fn reject<T>(reason: Reason, message: impl Into<String>) -> Result<T, TokenError> {
    Err(TokenError::new(reason, message))
}
