//! Arbitrary bytes into the verify entry point, through both engines: never a panic, never a
//! disagreement.
#![no_main]

#[path = "common.rs"]
mod common;

use fedrp::fuzzing::differential;
use fedrp::token::Binding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = common::setup();
    if let Err(e) = differential(&s.xmlsec, &s.streaming, data, Binding::Any, s.now) {
        panic!("engines disagree:\n{e}");
    }
});
