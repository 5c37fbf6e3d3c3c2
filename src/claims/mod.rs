//! SharePoint claim encoding, claim mapping and K2-style fully qualified names.
//!
//! * [`encoding`]: decode and encode SharePoint encoded claims (`i:0#.w|denallix\bob`,
//!   `c:0-.t|adfs|domain users`, `0#.w|contoso\administrator`); [`tables`] and [`escape`]
//!   hold its character tables and value escaping.
//! * [`fqn`]: labels, the name rule and `Label:Name` FQNs, also built from an encoded claim
//!   (`fedrp decode-claim --label`).
//! * [`mapping`]: the per-issuer [`ClaimMapping`] (plain types, no serde; its TOML form is
//!   [`crate::config::claims`]); [`principal`]: [`ClaimMapping::map`] turns a validated
//!   token's [`Claim`]s into a [`Principal`].
//! * [`cli`]: `fedrp decode-claim`.
//!
//! Every failure is a [`ClaimsError`] with a `claims.*` [`Reason`](crate::Reason).
//! The test vectors and the grammar summary are in `fixtures/claims/`.

pub mod cli;
pub mod encoding;
pub mod error;
pub mod escape;
pub mod fqn;
pub mod mapping;
pub mod principal;
pub mod tables;
pub mod text;

#[cfg(test)]
mod mapping_tests;

pub use encoding::{
    ClaimKind, ClaimTypeRef, ClaimTypeTable, EncodedClaim, OriginalIssuer, decode, decode_with,
    encode,
};
pub use error::ClaimsError;
pub use fqn::{Fqn, Label, fqn_from_encoded, fqn_from_encoded_str};
pub use mapping::{
    CaseRule, ClaimMapping, ClaimSelector, DomainRule, GroupOverflow, GroupSource, IdentitySource,
    Limits, NamePrefix, RequiredClaim, UpnSuffixTable, ValueEncoding,
};
pub use principal::Principal;
pub use tables::{KnownClaimType, ValueType, claim_types};

/// One claim of a validated token: a type and one value. SAML 1.1 type =
/// `AttributeNamespace/AttributeName` (as WIF builds it); SAML 2.0 type = the Attribute `Name`.
/// A multi-valued attribute becomes several claims.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Claim {
    /// Claim type URI.
    pub claim_type: String,
    /// The value, exactly the signed text.
    pub value: String,
    /// ADFS `OriginalIssuer`, when the attribute carries one.
    pub original_issuer: Option<String>,
}

impl Claim {
    /// A claim without an original issuer.
    pub fn new(claim_type: &str, value: &str) -> Self {
        Claim {
            claim_type: claim_type.to_owned(),
            value: value.to_owned(),
            original_issuer: None,
        }
    }

    /// The same claim with an original issuer.
    pub fn with_original_issuer(mut self, original_issuer: &str) -> Self {
        self.original_issuer = Some(original_issuer.to_owned());
        self
    }
}
