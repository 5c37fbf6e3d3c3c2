//! SharePoint claim encoding, claim mapping and K2-style fully-qualified names.

pub mod cli;
