//! Public attack and real-IdP vectors (`fixtures/attacks`, copied from other projects' test
//! suites): each is replayed with its own upstream trust anchor, audience and clock, and must
//! get exactly its sidecar's decision, under both engines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use fedrp::token::InResponseTo;
use fedrp::trust::Engine;

fn sidecars(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sidecars(&p, out);
        } else if p.to_string_lossy().ends_with(".expect.json") {
            out.push(p);
        }
    }
}

fn check(side_path: &Path, engine: Engine) -> Option<String> {
    let side = json(side_path);
    let token = PathBuf::from(side_path.to_string_lossy().trim_end_matches(".expect.json"));
    let name = format!(
        "{} [{}]",
        token.strip_prefix(root()).unwrap_or(&token).display(),
        engine.name()
    );
    let bytes = posted(&side, std::fs::read(&token).ok()?);
    let v = validator(&side, &root(), engine, false);
    let v = match side["in_response_to"].as_str() {
        Some(id) => v.with_in_response_to(InResponseTo::Expect(id.to_owned())),
        None => v,
    };
    let result = v.validate(&bytes, binding(&side), now(&side));
    match (result, side["expect"].as_str()) {
        (Ok(a), Some("ACCEPT")) => {
            let mut problems = Vec::new();
            if side.get("subject").is_some() && a.subject() != side["subject"].as_str() {
                problems.push(format!(
                    "subject {:?}, expected {:?}",
                    a.subject(),
                    side["subject"]
                ));
            }
            if side.get("claims").is_some() && claim_map(&a) != expected_claims(&side) {
                problems.push(format!(
                    "claims differ\n    got  {:?}\n    want {:?}",
                    claim_map(&a),
                    expected_claims(&side)
                ));
            }
            (!problems.is_empty()).then(|| format!("{name}: {}", problems.join("; ")))
        }
        (Err(e), Some("REJECT")) => {
            let want = side["expect_code"].as_str().unwrap_or_default();
            (e.reason.code() != want).then(|| format!("{name}: got {e}; expected {want}"))
        }
        (Ok(_), _) => Some(format!(
            "{name}: ACCEPTED; expected {}",
            side["expect_code"]
        )),
        (Err(e), _) => Some(format!("{name}: got {e}; expected ACCEPT")),
    }
}

fn run(engine: Engine) {
    let mut all = Vec::new();
    sidecars(&root().join("fixtures/attacks"), &mut all);
    all.sort();
    assert!(all.len() > 200, "attack sidecars missing ({})", all.len());
    let failures: Vec<String> = all.iter().filter_map(|s| check(s, engine)).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_public_vector_gets_its_decision_with_libxmlsec1() {
    run(Engine::Xmlsec);
}

#[test]
fn every_public_vector_gets_its_decision_with_the_streaming_engine() {
    run(Engine::Streaming);
}
