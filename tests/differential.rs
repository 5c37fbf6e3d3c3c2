//! The streaming engine against the libxmlsec1 reference: same verdict, byte-identical signed
//! content and identical claims on every fixture and on structure-aware mutations of every
//! accepted one. Mutations must never be accepted with content other than what was signed.
//! `FEDRP_DIFF_SEEDS` sets the number of mutation seeds per baseline (default 60).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::*;
use fedrp::fuzzing::{Rng, Verdict, differential, mutate};
use fedrp::token::{InResponseTo, Validator};
use fedrp::trust::Engine;

struct Case {
    name: String,
    bytes: Vec<u8>,
    side: serde_json::Value,
    xmlsec: Validator,
    streaming: Validator,
}

fn with_irt(v: Validator, side: &serde_json::Value) -> Validator {
    match side["in_response_to"].as_str() {
        Some(id) => v.with_in_response_to(InResponseTo::Expect(id.to_owned())),
        None => v,
    }
}

fn load_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let tokens = root().join("fixtures/tokens");
    let mut sides: Vec<PathBuf> = Vec::new();
    for g in std::fs::read_dir(&tokens)
        .unwrap()
        .flatten()
        .filter(|g| g.path().is_dir())
    {
        for f in std::fs::read_dir(g.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "json") {
                sides.push(f.path());
            }
        }
    }
    sides.sort();
    for s in sides {
        let side = json(&s);
        let tok = ["xml", "b64"]
            .iter()
            .map(|e| s.with_extension(e))
            .find(|p| p.exists())
            .unwrap();
        let mut bytes = std::fs::read(&tok).unwrap();
        if side["binding"] == "samlp" && side["input"] != "base64" {
            use base64::Engine as _;
            bytes = base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into_bytes();
        }
        cases.push(Case {
            name: s.strip_prefix(&tokens).unwrap().display().to_string(),
            xmlsec: with_irt(validator(&side, &root(), Engine::Xmlsec, false), &side),
            streaming: with_irt(validator(&side, &root(), Engine::Streaming, false), &side),
            bytes,
            side,
        });
    }
    let mut attack_sides = Vec::new();
    collect_attack_sidecars(&root().join("fixtures/attacks"), &mut attack_sides);
    attack_sides.sort();
    for s in attack_sides {
        let side = json(&s);
        let token = PathBuf::from(s.to_string_lossy().trim_end_matches(".expect.json"));
        let Ok(bytes) = std::fs::read(&token) else {
            continue;
        };
        cases.push(Case {
            name: token
                .strip_prefix(root())
                .unwrap_or(&token)
                .display()
                .to_string(),
            xmlsec: with_irt(validator(&side, &root(), Engine::Xmlsec, false), &side),
            streaming: with_irt(validator(&side, &root(), Engine::Streaming, false), &side),
            bytes: posted(&side, bytes),
            side,
        });
    }
    let interop = root().join("fixtures/interop");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&interop)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expect.json").exists())
        .collect();
    dirs.sort();
    for d in dirs {
        let mut side = json(&d.join("expect.json"));
        side["trust"] = serde_json::json!(["cert.pem"]);
        let tok = ["token.xml", "token.b64"]
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.exists())
            .unwrap();
        cases.push(Case {
            name: d.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: std::fs::read(tok).unwrap(),
            xmlsec: validator(&side, &d, Engine::Xmlsec, false),
            streaming: validator(&side, &d, Engine::Streaming, false),
            side,
        });
    }
    cases
}

fn collect_attack_sidecars(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_attack_sidecars(&p, out);
        } else if p.to_string_lossy().ends_with(".expect.json") {
            out.push(p);
        }
    }
}

#[test]
fn engines_agree_on_every_fixture() {
    let mut failures = Vec::new();
    for c in load_cases() {
        if let Err(e) = differential(
            &c.xmlsec,
            &c.streaming,
            &c.bytes,
            binding(&c.side),
            now(&c.side),
        ) {
            failures.push(format!("{}:\n{e}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn engines_agree_on_mutations_and_never_accept_changed_content() {
    let seeds: u64 = std::env::var("FEDRP_DIFF_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut failures = Vec::new();
    let mut accepted_mutants = 0usize;
    let mut total = 0usize;
    for c in load_cases() {
        if c.side["expect"] != "ACCEPT" {
            continue;
        }
        let (b, t) = (binding(&c.side), now(&c.side));
        let Ok(Verdict::Accept {
            signed: base_signed,
            claims: base_claims,
            ..
        }) = differential(&c.xmlsec, &c.streaming, &c.bytes, b, t)
        else {
            continue;
        };
        // SAML-P fixtures are posted as base64: mutate the XML, then encode again.
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let is_b64 = c.side["binding"] == "samlp" || c.side["input"] == "base64";
        let xml = if is_b64 {
            b64.decode(
                c.bytes
                    .iter()
                    .copied()
                    .filter(|x| !x.is_ascii_whitespace())
                    .collect::<Vec<u8>>(),
            )
            .unwrap()
        } else {
            c.bytes.clone()
        };
        for seed in 0..seeds {
            let mut rng = Rng::new(seed ^ (c.name.len() as u64) << 32);
            let mut m = xml.clone();
            for _ in 0..1 + rng.below(3) {
                m = mutate(&m, &mut rng);
            }
            if m == xml {
                continue;
            }
            let posted = if is_b64 {
                b64.encode(&m).into_bytes()
            } else {
                m
            };
            total += 1;
            match differential(&c.xmlsec, &c.streaming, &posted, b, t) {
                Err(e) => {
                    let shown = if is_b64 {
                        b64.decode(&posted).unwrap_or_default()
                    } else {
                        posted.clone()
                    };
                    let detail = c
                        .xmlsec
                        .validate(&posted, b, t)
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    failures.push(format!(
                        "{} seed {seed}:\n{e}\nxmlsec detail: {detail}\n--- mutant:\n{}",
                        c.name,
                        String::from_utf8_lossy(&shown)
                    ))
                }
                Ok(Verdict::Accept { signed, claims, .. }) => {
                    accepted_mutants += 1;
                    if signed != base_signed || claims != base_claims {
                        failures.push(format!("{} seed {seed}: accepted changed content", c.name));
                    }
                }
                Ok(Verdict::Reject(_)) => {}
            }
            if failures.len() > 5 {
                break;
            }
        }
        if failures.len() > 5 {
            break;
        }
    }
    eprintln!("{total} mutants, {accepted_mutants} accepted");
    assert!(total > 1000, "only {total} mutants");
    assert!(
        failures.is_empty(),
        "{} failures ({total} mutants, {accepted_mutants} accepted):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every input the fuzz targets ever failed on stays fixed: `fuzz/regressions/validate/` holds
/// raw inputs for the `validate` target, `fuzz/regressions/differential/` mutation seeds for
/// the `differential` target. Both replay through the same `fedrp::fuzzing::Harness` the
/// targets use.
#[test]
fn fuzz_regressions_stay_fixed() {
    let harness = fedrp::fuzzing::Harness::load(&root());
    let mut failures = Vec::new();
    let mut seen = 0;
    for (target, check) in [
        (
            "validate",
            fedrp::fuzzing::Harness::check_bytes as fn(&_, &[u8]) -> Result<(), String>,
        ),
        ("differential", fedrp::fuzzing::Harness::check_mutant),
    ] {
        let dir = root().join("fuzz/regressions").join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        files.sort();
        for f in files {
            seen += 1;
            if let Err(e) = check(&harness, &std::fs::read(&f).unwrap()) {
                failures.push(format!("{}:\n{e}", f.display()));
            }
        }
    }
    assert!(seen > 0, "no regression inputs found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
