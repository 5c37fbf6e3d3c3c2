//! Mints signed WS-Fed sign-in bodies for load tests of `fedrp serve`: one
//! `wa=wsignin1.0&wresult=<RSTR>` form body per line, each with a fresh assertion ID, signed
//! with a TEST ONLY key from `certs/` (default `idp-a`).
//!
//! ```sh
//! cargo run --release --example mint_tokens -- 20000 urn:bench:idp urn:fedrp:bench > /tmp/bodies.txt
//! ```

use chrono::{Duration, Utc};
use fedrp::config::{CLAIM_ROLE, CLAIM_WINDOWS_ACCOUNT_NAME};
use fedrp::devidp::token::{self, TokenSpec};
use openssl::pkey::PKey;
use openssl::x509::X509;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let issuer = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "urn:bench:idp".into());
    let audience = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "urn:fedrp:bench".into());
    let name = args.get(4).cloned().unwrap_or_else(|| "idp-a".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs");
    let key = std::fs::read(root.join(format!("{name}.key"))).map_err(|e| e.to_string())?;
    let cert = std::fs::read(root.join(format!("{name}.pem"))).map_err(|e| e.to_string())?;
    let key = PKey::private_key_from_pem(&key).map_err(|e| e.to_string())?;
    let cert = X509::from_pem(&cert).map_err(|e| e.to_string())?;
    let now = Utc::now();
    for i in 0..n {
        let spec = TokenSpec {
            issuer: issuer.clone(),
            audience: audience.clone(),
            name_id: "bob@denallix.com".into(),
            claims: vec![
                (CLAIM_WINDOWS_ACCOUNT_NAME.into(), "DENALLIX\\bob".into()),
                (CLAIM_ROLE.into(), "Sales".into()),
                (CLAIM_ROLE.into(), "Everyone".into()),
            ],
            issue_instant: now,
            not_before: now - Duration::minutes(5),
            not_on_or_after: now + Duration::hours(8),
            saml20: i % 2 == 1,
            assertion_id: token::new_id(),
            recipient: None,
            in_response_to: None,
        };
        let a = token::signed_assertion(&spec, &key, &cert)?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("wa", "wsignin1.0")
            .append_pair("wresult", &token::rstr(&a, &spec, None))
            .finish();
        println!("{body}");
    }
    Ok(())
}
