//! Implementations of the subcommands (`check-token`, `bench`, `serve`, `check-config`, `dev-idp`).

pub mod bench;
pub mod check_token;
pub mod serve;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::trust::{Engine, IssuerPolicy, Thumbprint, TrustStore, TrustedIssuer, load_trust_file};

/// A usage or configuration error (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

/// Parses `--now` (RFC 3339) or returns the current time.
pub fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, UsageError> {
    match now {
        None => Ok(Utc::now()),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                UsageError(format!(
                    "--now {s:?}: {e} (expected RFC 3339, e.g. 2027-01-01T00:00:00Z)"
                ))
            }),
    }
}

/// Builds a one-issuer trust store from `--trust` files and `--thumbprint` pins.
pub fn trust_from_args(
    files: &[PathBuf],
    thumbprints: &[String],
    issuer: Option<&str>,
    allow_sha1: bool,
    engine: Option<Engine>,
) -> Result<TrustStore, UsageError> {
    let mut keys = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for f in files {
        let (k, n) = load_trust_file(f).map_err(UsageError)?;
        keys.extend(k);
        names.extend(n);
    }
    let pins = thumbprints
        .iter()
        .map(|t| Thumbprint::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(UsageError)?;
    names.sort();
    names.dedup();
    let name = match (issuer, names.as_slice()) {
        (Some(i), _) => Some(i.to_owned()),
        (None, [one]) => Some(one.clone()),
        _ => None,
    };
    let policy = IssuerPolicy {
        allow_sha1,
        engine: engine.unwrap_or_default(),
        ..Default::default()
    };
    let issuer = TrustedIssuer::new(name, keys, pins, policy)
        .map_err(|e| UsageError(format!("{e}: give --trust PEM-or-METADATA or --thumbprint")))?;
    Ok(TrustStore::new(vec![issuer]))
}
