//! Structure-aware mutations of accepted baseline tokens: both engines must agree, and an
//! accepted mutant must carry exactly the baseline's signed content and claims.
#![no_main]

#[path = "common.rs"]
mod common;

use fedrp::fuzzing::{Rng, Verdict, differential, mutate};
use fedrp::token::Binding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = common::setup();
    if data.len() < 3 {
        return;
    }
    let (base, _) = &s.baselines[data[0] as usize % s.baselines.len()];
    let mut m = base.clone();
    for chunk in data[1..].chunks(8).take(4) {
        let mut seed = [0u8; 8];
        seed[..chunk.len()].copy_from_slice(chunk);
        let mut rng = Rng::new(u64::from_le_bytes(seed));
        m = mutate(&m, &mut rng);
    }
    let expected = Verdict::of(&s.streaming.validate(base, Binding::Any, s.now));
    match differential(&s.xmlsec, &s.streaming, &m, Binding::Any, s.now) {
        Err(e) => panic!("engines disagree:\n{e}\n--- mutant:\n{}", String::from_utf8_lossy(&m)),
        Ok(v @ Verdict::Accept { .. }) => {
            if let (Verdict::Accept { signed: a, claims: ca, .. }, Verdict::Accept { signed: b, claims: cb, .. }) = (&v, &expected) {
                assert!(a == b && ca == cb, "accepted changed content:\n{}", String::from_utf8_lossy(&m));
            }
        }
        Ok(Verdict::Reject(_)) => {}
    }
});
