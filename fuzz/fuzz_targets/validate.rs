//! Arbitrary bytes into the verify entry point, through both engines: never a panic, never a
//! disagreement (`fedrp::fuzzing::Harness::check_bytes`). Crashes worth keeping go to
//! `fuzz/regressions/validate/`, which `tests/differential.rs` replays.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = common::setup().check_bytes(data) {
        panic!("engines disagree:\n{e}");
    }
});
