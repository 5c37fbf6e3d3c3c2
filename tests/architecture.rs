//! Mechanical checks of the architecture invariants in `ARCHITECTURE.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Lines of code, without comments (so documentation may talk about these words).
fn code_lines(p: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("").to_owned()))
        .collect()
}

#[test]
fn unsafe_code_lives_only_in_the_ffi_module() {
    let ffi = src().join("xmlsec");
    for f in rust_files(&src()) {
        if f.starts_with(&ffi) {
            continue;
        }
        for (n, l) in code_lines(&f) {
            assert!(
                !l.contains("unsafe"),
                "{}:{n}: unsafe outside src/xmlsec",
                f.display()
            );
        }
    }
}

#[test]
fn every_unsafe_block_has_a_safety_comment() {
    for f in rust_files(&src().join("xmlsec")) {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let code = l.split("//").next().unwrap_or("");
            if code.contains("unsafe {") || code.contains("unsafe{") {
                let window = &lines[i.saturating_sub(8)..=i];
                assert!(
                    window.iter().any(|w| w.contains("SAFETY:")),
                    "{}:{}: unsafe block without a // SAFETY: comment",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn the_token_core_reads_no_clock_and_does_no_io() {
    let forbidden = [
        "Utc::now",
        "SystemTime",
        "Instant::now",
        "std::fs",
        "std::net",
        "tokio",
        "actix",
        "async fn",
        "std::env",
    ];
    for dir in ["token", "dsig", "xml"] {
        for f in rust_files(&src().join(dir)) {
            if f.ends_with("tests.rs") {
                continue;
            }
            for (n, l) in code_lines(&f) {
                for w in forbidden {
                    assert!(!l.contains(w), "{}:{n}: {w} in the pure core", f.display());
                }
            }
        }
    }
}

#[test]
fn serde_lives_only_in_config() {
    let config = src().join("config");
    for f in rust_files(&src()) {
        if f.starts_with(&config) {
            continue;
        }
        for (n, l) in code_lines(&f) {
            assert!(
                !l.contains("serde::Deserialize") && !l.contains("derive(Deserialize"),
                "{}:{n}: serde Deserialize outside config",
                f.display()
            );
        }
    }
}
