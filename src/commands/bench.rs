//! `fedrp bench`: one-core validation throughput over a directory of tokens.
//!
//! Loads every `*.xml` in the directory, validates each once as a correctness gate (any
//! rejection fails the run), then validates them round-robin on this one thread for the given
//! time with the full production checks: signature, issuer, audience, lifetime, recipient (when
//! known), claims extraction and a replay-cache insert in a fresh key space per pass. The last
//! line printed is `tokens_per_s N`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{UsageError, parse_now, trust_from_args};
use crate::cli::BenchArgs;
use crate::store::{MemoryReplayCache, ReplayCache};
use crate::token::{Binding, Policy, Validator};
use crate::trust::Engine;

/// Runs the command; returns the exit code.
pub fn run(args: &BenchArgs) -> u8 {
    match execute(args) {
        Ok(()) => 0,
        Err(UsageError(m)) => {
            eprintln!("fedrp bench: {m}");
            2
        }
    }
}

/// Corpus metadata written by the peer benchmark's generator (`<dir>/../meta.json`).
fn meta(dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("..").join("meta.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn execute(args: &BenchArgs) -> Result<(), UsageError> {
    let engine = args
        .engine
        .as_deref()
        .map(Engine::parse)
        .transpose()
        .map_err(UsageError)?;
    let meta = meta(&args.dir);
    let issuer = meta
        .as_ref()
        .and_then(|m| m["issuer"].as_str().map(str::to_owned));
    let recipient = args.recipient.clone().or_else(|| {
        meta.as_ref()
            .and_then(|m| m["acs_url"].as_str().map(str::to_owned))
    });
    let trust = trust_from_args(&args.trust, &[], issuer.as_deref(), args.allow_sha1, engine)?;
    let policy = Policy {
        audiences: args.audiences.clone(),
        recipient,
        engine_override: engine,
        max_token_age: None,
        ..Default::default()
    };
    let now = parse_now(args.now.as_deref())?;
    let validator = Validator::new(trust, policy).map_err(UsageError)?;

    let mut files: Vec<_> = std::fs::read_dir(&args.dir)
        .map_err(|e| UsageError(format!("{}: {e}", args.dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(UsageError(format!(
            "no *.xml tokens in {}",
            args.dir.display()
        )));
    }
    let tokens: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| UsageError(format!("{}: {e}", p.display()))))
        .collect::<Result<_, _>>()?;
    let bytes: usize = tokens.iter().map(Vec::len).sum();

    // Correctness gate: every token must validate.
    let mut claims = 0usize;
    for (p, t) in files.iter().zip(&tokens) {
        match validator.validate(t, Binding::Any, now) {
            Ok(v) => claims += v.claims().len(),
            Err(e) => return Err(UsageError(format!("{} was rejected: {e}", p.display()))),
        }
    }
    println!(
        "tokens {} (mean {} bytes, {} claims each), engine {}, gate passed",
        tokens.len(),
        bytes / tokens.len(),
        claims / tokens.len(),
        engine.unwrap_or_default().name()
    );

    let cache = MemoryReplayCache::new(4 * 1024 * 1024);
    let budget = Duration::from_secs_f64(args.seconds.max(0.1));
    let start = Instant::now();
    let mut done: u64 = 0;
    let mut pass: u64 = 0;
    let mut checksum = 0usize;
    'outer: loop {
        for t in &tokens {
            let v = validator
                .validate(t, Binding::Any, now)
                .map_err(|e| UsageError(format!("rejected during the timed run: {e}")))?;
            checksum = checksum.wrapping_add(v.claims().len());
            let key = format!("{}\u{1f}{pass}", v.replay_key());
            if !cache
                .insert_if_absent(&key, v.replay_until(), now)
                .unwrap_or(false)
            {
                return Err(UsageError("replay cache refused a fresh key".into()));
            }
            done += 1;
            if done.is_multiple_of(64) && start.elapsed() >= budget {
                break 'outer;
            }
        }
        pass += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "validated {done} tokens in {secs:.2} s ({:.1} us/token, checksum {checksum})",
        secs * 1e6 / done as f64
    );
    println!("tokens_per_s {:.0}", done as f64 / secs);
    Ok(())
}
