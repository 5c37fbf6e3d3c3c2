//! `fedrp check-config`: the effective configuration with secrets redacted, each issuer's keys
//! (thumbprints, validity) and the warnings.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::{Config, Profile, SessionMode, StoreConfig};
use crate::trust::keys::hex_upper;

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The report as JSON.
pub fn to_json(c: &Config) -> Value {
    let issuers: Vec<Value> = c
        .issuers
        .iter()
        .map(|i| {
            let keys: Vec<Value> = i
                .keys
                .iter()
                .map(|k| {
                    let mut o = json!({"key": k.describe(), "source": k.source, "sha256": k.thumbprint_sha256()});
                    if let Some(cert) = &k.cert {
                        o["subject"] = json!(cert.subject);
                        o["sha1"] = json!(hex_upper(&cert.sha1));
                        o["not_before"] = json!(ts(cert.not_before));
                        o["not_after"] = json!(ts(cert.not_after));
                    }
                    o
                })
                .collect();
            json!({
                "name": i.name,
                "label": i.claims.label.as_str(),
                "display_name": i.display_name,
                "entity_id": i.entity_id,
                "protocol": i.protocol.name(),
                "signin_url": i.signin_url,
                "signout_url": i.signout_url,
                "trust_files": i.trust_sources,
                "thumbprints": i.thumbprints.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                "keys": keys,
                "allow_sha1": i.policy.allow_sha1,
                "min_rsa_bits": i.policy.min_rsa_bits,
                "check_cert_validity": i.policy.check_cert_validity,
                "engine": i.policy.engine.name(),
                "allow_unsolicited": i.allow_unsolicited,
                "require_signed_assertion": i.policy.require_signed_assertion,
                "require_authn_statement": i.policy.require_authn_statement,
                "require_subject_confirmation": i.policy.require_subject_confirmation,
                "metadata": i.metadata.as_ref().map(|m| json!({
                    "url": m.url.as_ref().map(|u| u.to_string()),
                    "file": m.file.as_ref().map(|f| f.display().to_string()),
                    "allow_http": m.allow_http,
                    "ca_file": m.ca_file.as_ref().map(|f| f.display().to_string()),
                    "signing_certs": m.signing_keys.iter().map(|k| k.thumbprint_sha256()).collect::<Vec<_>>(),
                    "refresh_secs": m.refresh.as_secs(),
                    "min_refresh_secs": m.min_refresh.as_secs(),
                    "timeout_secs": m.timeout.as_secs(),
                    "max_bytes": m.max_bytes,
                })),
                "key_expiry_warning_days": i.key_expiry_warning.num_days(),
                "claims": {
                    "label": i.claims.label.as_str(),
                    "identity": i.claims.identity.iter().map(|s| s.describe()).collect::<Vec<_>>(),
                    "groups": i.claims.groups.iter().map(|g| g.selector.describe()).collect::<Vec<_>>(),
                    "max_groups": i.claims.limits.max_groups,
                },
            })
        })
        .collect();
    let realms: Vec<Value> = c
        .realms
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "realm": r.realm,
                "audiences": r.audiences,
                "path_prefixes": r.path_prefixes,
                "issuers": r.issuers.iter().map(|&i| c.issuers[i].name.clone()).collect::<Vec<_>>(),
                "default_issuer": r.default_issuer.map(|i| c.issuers[i].name.clone()),
                "profile": match r.profile { Profile::TopLevel => "top_level", Profile::Iframe => "iframe" },
                "frame_ancestors": r.frame_ancestors,
                "landing_path": r.landing_path,
                "cookie_name": r.cookie_name,
            })
        })
        .collect();
    let dev = c.dev_idp.as_ref().map(|d| {
        json!({
            "enabled": true,
            "entity_id": d.entity_id,
            "key": if d.ephemeral { "[ephemeral]" } else { "[redacted]" },
            "path": d.path,
            "listen": d.listen,
            "saml_version": if d.saml20_default { "2.0" } else { "1.1" },
            "token_lifetime_secs": d.token_lifetime.num_seconds(),
            "users": d.users.iter().map(|u| json!({"login": u.login, "upn": u.upn, "groups": u.groups})).collect::<Vec<_>>(),
        })
    });
    let redis = match &c.store {
        StoreConfig::Memory => Value::Null,
        StoreConfig::Redis(r) => json!({
            "url": r.url.as_str(),
            "password": if r.password.is_some() { "[redacted]" } else { "(none)" },
            "tls_ca_file": r.tls_ca_file.as_ref().map(|p| p.display().to_string()),
            "pool_size": r.pool_size,
            "connect_timeout_ms": r.connect_timeout.as_millis() as u64,
            "command_timeout_ms": r.command_timeout.as_millis() as u64,
            "key_prefix": r.key_prefix,
            "revocation_grace_secs": r.revocation_grace.num_seconds(),
        }),
    };
    json!({
        "source": c.source.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in development setup".into()),
        "server": {
            "listen": c.server.listen,
            "public_url": c.server.public_url.as_ref().map(|u| u.as_str().trim_end_matches('/').to_owned()),
            "workers": c.server.workers,
            "tls": c.server.tls.as_ref().map(|(cert, key)| json!({"cert": cert.display().to_string(), "key": key.display().to_string()})),
            "hsts": c.server.hsts,
            "expose_reason_header": c.server.expose_reason_header,
        },
        "session": {
            "mode": match c.session.mode { SessionMode::Cookie => "cookie", SessionMode::Server => "server" },
            "keys": format!("{} key(s) [redacted]{}", c.session.keys.len(), if c.session.ephemeral_key { ", ephemeral" } else { "" }),
            "cookie_name": c.session.cookie_name,
            "idle_timeout_secs": c.session.idle_timeout.num_seconds(),
            "absolute_timeout_secs": c.session.absolute_timeout.num_seconds(),
            "max_chunks": c.session.max_chunks,
            "store_capacity": c.session.store_capacity,
        },
        "limits": {
            "max_body_bytes": c.limits.max_body_bytes,
            "max_token_bytes": c.limits.max_token_bytes,
            "clock_skew_secs": c.limits.clock_skew.num_seconds(),
            "max_token_age_secs": c.limits.max_token_age.map(|d| d.num_seconds()).unwrap_or(0),
            "state_ttl_secs": c.limits.state_ttl.num_seconds(),
            "replay_cache_capacity": c.limits.replay_cache_capacity,
            "max_claims": c.limits.max_claims,
            "max_concurrent_validations": c.limits.max_concurrent_validations,
        },
        "redirect": {"allowed_origins": c.redirect.allowed_origins},
        "store": c.store.name(),
        "redis": redis,
        "dev_idp": dev.unwrap_or(json!({"enabled": false})),
        "sp_signing": c.sp_signing.as_ref().map(|sp| json!({
            "key": "[redacted]",
            "cert_subject": format!("{:?}", sp.cert.subject_name()),
            "cert_sha256": sp.cert.digest(openssl::hash::MessageDigest::sha256()).map(|d| d.iter().map(|b| format!("{b:02x}")).collect::<String>()).unwrap_or_default(),
            "not_after": sp.cert.not_after().to_string(),
        })),
        "issuers": issuers,
        "realms": realms,
        "warnings": c.warnings,
    })
}

/// The report as text.
pub fn to_text(c: &Config) -> String {
    let j = to_json(c);
    let mut out = String::new();
    out.push_str(&format!(
        "fedrp configuration: {}\n",
        j["source"].as_str().unwrap_or_default()
    ));
    out.push_str(&format!("store = {}\n", j["store"]));
    for section in [
        "redis", "server", "session", "limits", "redirect", "dev_idp",
    ] {
        if j[section].is_null() {
            continue;
        }
        out.push_str(&format!("\n[{section}]\n"));
        if let Some(o) = j[section].as_object() {
            for (k, v) in o {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
    }
    for i in j["issuers"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n[[issuers]] {}\n",
            i["name"].as_str().unwrap_or_default()
        ));
        for (k, v) in i.as_object().into_iter().flatten() {
            if k == "keys" {
                continue;
            }
            out.push_str(&format!("{k} = {v}\n"));
        }
        for k in i["keys"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "key {} from {}\n  subject    {}\n  sha1       {}\n  sha256     {}\n  valid      {} .. {}\n",
                k["key"].as_str().unwrap_or_default(),
                k["source"].as_str().unwrap_or_default(),
                k["subject"].as_str().unwrap_or("(bare public key)"),
                k["sha1"].as_str().unwrap_or("-"),
                k["sha256"].as_str().unwrap_or_default(),
                k["not_before"].as_str().unwrap_or("-"),
                k["not_after"].as_str().unwrap_or("-"),
            ));
        }
    }
    for r in j["realms"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n[[realms]] {}\n",
            r["name"].as_str().unwrap_or_default()
        ));
        for (k, v) in r.as_object().into_iter().flatten() {
            out.push_str(&format!("{k} = {v}\n"));
        }
    }
    out.push_str("\nwarnings:\n");
    let w = j["warnings"].as_array().cloned().unwrap_or_default();
    if w.is_empty() {
        out.push_str("  (none)\n");
    }
    for x in w {
        out.push_str(&format!("  WARNING: {}\n", x.as_str().unwrap_or_default()));
    }
    out
}
