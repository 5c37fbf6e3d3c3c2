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

pub use crate::token::Claim;
