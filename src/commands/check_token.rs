//! `fedrp check-token`: validate one token offline and explain the decision.

use std::io::Read;

use serde_json::{Value, json};

use super::{UsageError, parse_now, trust_from_args};
use crate::claims::{ClaimMapping, Label};
use crate::cli::CheckTokenArgs;
use crate::config::Config;
use crate::token::{Binding, Policy, TokenError, ValidatedAssertion, Validator};
use crate::trust::Engine;
use crate::trust::{TrustStore, TrustedIssuer};

/// Runs the command; returns the exit code (0 accepted, 1 rejected, 2 usage error).
pub fn run(args: &CheckTokenArgs) -> u8 {
    match execute(args) {
        Ok((Ok(v), extra)) => {
            if args.json {
                println!("{}", accepted_json(&v, extra));
            } else {
                print_accepted(&v);
                if let Some(fqn) = extra["fqn"].as_str() {
                    println!("  FQN {fqn}; groups: {}", extra["groups"]);
                }
            }
            0
        }
        Ok((Err(e), _)) => {
            if args.json {
                println!(
                    "{}",
                    json!({"valid": false, "error": {"code": e.reason.code(), "message": e.message}})
                );
            } else {
                println!("REJECTED {}: {}", e.reason.code(), e.message);
            }
            1
        }
        Err(UsageError(m)) => {
            eprintln!("fedrp check-token: {m}");
            2
        }
    }
}

type Outcome = (Result<ValidatedAssertion, TokenError>, Value);

fn execute(args: &CheckTokenArgs) -> Result<Outcome, UsageError> {
    let engine = args
        .engine
        .as_deref()
        .map(Engine::parse)
        .transpose()
        .map_err(UsageError)?;
    let label = match &args.label {
        Some(l) => Some(Label::new(l).map_err(|e| UsageError(format!("--label: {}", e.message)))?),
        None => None,
    };
    // Trust, audiences and claim mappings: from --config, or from the flags.
    let (trust, mut audiences, mappings) = match &args.config {
        Some(path) => {
            // Offline checks never seal a session: do not insist on a session key.
            let mut env = Config::env_overrides();
            env.push(("FEDRP__SESSION__EPHEMERAL_KEY".into(), "true".into()));
            let config = Config::load(Some(path), &env).map_err(|e| UsageError(e.to_string()))?;
            let mut issuers = Vec::new();
            let mut mappings = Vec::new();
            for i in &config.issuers {
                let mut policy = i.policy.clone();
                if args.allow_sha1 {
                    policy.allow_sha1 = true;
                }
                issuers.push(
                    TrustedIssuer::new(
                        Some(i.entity_id.clone()),
                        i.keys.clone(),
                        i.thumbprints.clone(),
                        policy,
                    )
                    .map_err(UsageError)?,
                );
                mappings.push((i.entity_id.clone(), i.claims.clone()));
            }
            let mut audiences: Vec<String> = Vec::new();
            for r in &config.realms {
                for a in &r.audiences {
                    if !audiences.contains(a) {
                        audiences.push(a.clone());
                    }
                }
            }
            (TrustStore::new(issuers), audiences, mappings)
        }
        None => (
            trust_from_args(
                &args.trust,
                &args.thumbprints,
                args.issuer.as_deref(),
                args.allow_sha1,
                engine,
            )?,
            Vec::new(),
            Vec::new(),
        ),
    };
    if !args.audiences.is_empty() {
        audiences = args.audiences.clone();
    }
    if audiences.is_empty() {
        return Err(UsageError(
            "--audience is required (the realm or SP entity ID the token is for)".into(),
        ));
    }
    let mut policy = Policy {
        audiences,
        recipient: args.recipient.clone(),
        ..Default::default()
    };
    if let Some(s) = args.skew {
        policy.skew = chrono::Duration::seconds(s as i64);
    }
    policy.engine_override = engine;
    let now = parse_now(args.now.as_deref())?;
    let input = read_input(&args.input)?;
    let validator = Validator::new(trust, policy).map_err(UsageError)?;
    let result = validator.validate(&input, Binding::Any, now);
    let result = match result {
        Ok(v) => {
            // The issuer's configured mapping (with --label overriding its label), or the
            // conventional mapping for --label.
            let configured = mappings
                .iter()
                .find(|(id, _)| id == v.issuer())
                .map(|(_, m)| m.clone());
            let mapping = match (configured, label) {
                (Some(mut m), Some(l)) => {
                    m.label = l;
                    Some(m)
                }
                (Some(m), None) => Some(m),
                (None, Some(l)) => Some(ClaimMapping::for_label(l)),
                (None, None) => None,
            };
            match mapping.map(|m| m.map_token(&v)) {
                Some(Ok(p)) => (Ok(v), json!({"fqn": p.fqn, "groups": p.groups})),
                Some(Err(e)) => (Err(TokenError::new(e.reason, e.message)), Value::Null),
                None => (Ok(v), Value::Null),
            }
        }
        Err(e) => (Err(e), Value::Null),
    };
    Ok(result)
}

fn read_input(arg: &str) -> Result<Vec<u8>, UsageError> {
    if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| UsageError(format!("stdin: {e}")))?;
        Ok(buf)
    } else {
        std::fs::read(arg).map_err(|e| UsageError(format!("{arg}: {e}")))
    }
}

/// The `--json` document for an accepted token.
pub fn accepted_json(v: &ValidatedAssertion, extra: Value) -> Value {
    let claims: Vec<Value> = v
        .claims()
        .into_iter()
        .map(|c| {
            let mut o = json!({"type": c.claim_type, "value": c.value});
            if let Some(oi) = c.original_issuer {
                o["original_issuer"] = json!(oi);
            }
            o
        })
        .collect();
    let mut out = json!({
        "valid": true,
        "saml_version": v.saml_version().name(),
        "issuer": v.issuer(),
        "subject": v.subject(),
        "assertion_id": v.assertion_id(),
        "issue_instant": v.issue_instant().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "not_before": v.not_before().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        "not_on_or_after": v.not_on_or_after().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "envelope": v.form().name(),
        "claims": claims,
        "signatures": v.signatures().iter().map(|s| json!({
            "on": s.on, "algorithm": s.algorithm, "digest": s.digest, "engine": s.engine, "key_sha256": s.key_thumbprint,
        })).collect::<Vec<_>>(),
    });
    if v.cr_preserved() {
        out["cr_preserved"] = json!(true);
    }
    if let (Value::Object(o), Value::Object(e)) = (&mut out, extra) {
        o.extend(e);
    }
    out
}

fn print_accepted(v: &ValidatedAssertion) {
    let sigs: Vec<String> = v
        .signatures()
        .iter()
        .map(|s| format!("{} {} ({})", s.on, s.algorithm, s.engine))
        .collect();
    println!(
        "ACCEPTED SAML {} token from {} for subject {} ({} claims; signed: {}; valid until {})",
        v.saml_version().name(),
        v.issuer(),
        v.subject().unwrap_or("(none)"),
        v.claims().len(),
        sigs.join(", "),
        v.valid_until().to_rfc3339()
    );
    for c in v.claims() {
        println!("  {} = {}", c.claim_type, c.value.escape_debug());
    }
}
