//! fedrp: a WS-Federation / SAML relying party.
//!
//! The crate is one library plus the thin `fedrp` binary. The map of the code and its
//! invariants is `ARCHITECTURE.md`; the contract it follows is `DESIGN.md`.
#![warn(missing_docs)]

pub mod claims;
pub mod cli;
pub mod commands;
pub mod config;
pub mod devidp;
pub mod dsig;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod reason;
pub mod refresh;
pub mod session;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod trust;
pub mod xml;
pub mod xmlsec;

pub use reason::Reason;
