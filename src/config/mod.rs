//! Configuration file (TOML) sections. Serde lives here, never in the modules that use the
//! resulting plain types.

pub mod claims;
