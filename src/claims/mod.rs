//! SharePoint claim encoding, claim mapping and K2-style fully qualified names.
//!
//! * [`encoding`]: decode and encode SharePoint encoded claims (`i:0#.w|denallix\bob`,
//!   `c:0-.t|adfs|domain users`, `0#.w|contoso\administrator`); [`tables`] and [`escape`]
//!   hold its character tables and value escaping.
//!
//! Every failure is a [`ClaimsError`] with a `claims.*` [`Reason`](crate::Reason).

pub mod cli;
pub mod encoding;
pub mod error;
pub mod escape;
pub mod tables;
pub mod text;

pub use encoding::{
    ClaimKind, ClaimTypeRef, ClaimTypeTable, EncodedClaim, OriginalIssuer, decode, decode_with,
    encode,
};
pub use error::ClaimsError;
pub use tables::{KnownClaimType, ValueType, claim_types};
