//! Structure-aware mutations of accepted baseline tokens: both engines must agree, and an
//! accepted mutant must carry exactly the baseline's signed content and claims
//! (`fedrp::fuzzing::Harness::check_mutant`). Crashes worth keeping go to
//! `fuzz/regressions/differential/`, which `tests/differential.rs` replays.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = common::setup().check_mutant(data) {
        panic!("{e}");
    }
});
