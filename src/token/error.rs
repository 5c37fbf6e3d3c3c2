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
}

impl TokenError {
    /// A new error.
    pub fn new(reason: Reason, message: impl Into<String>) -> TokenError {
        TokenError {
            reason,
            message: message.into(),
        }
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
        TokenError {
            reason: e.reason,
            message: format!("{} (at byte {})", e.message, e.offset),
        }
    }
}

/// Shorthand for building a rejection.
pub(crate) fn reject<T>(reason: Reason, message: impl Into<String>) -> Result<T, TokenError> {
    Err(TokenError::new(reason, message))
}
