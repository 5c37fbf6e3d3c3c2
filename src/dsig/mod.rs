//! XML-DSig: algorithm identifiers and the pure-Rust streaming verification engine.

pub mod alg;
