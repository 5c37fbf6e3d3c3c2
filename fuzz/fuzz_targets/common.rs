//! Shared set-up: the test IdP's trust, the baseline fixtures, both engines.

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use fedrp::token::{Policy, Validator};
use fedrp::trust::{Engine, IssuerPolicy, TrustStore, TrustedIssuer, load_trust_file};

pub struct Setup {
    pub xmlsec: Validator,
    pub streaming: Validator,
    pub now: DateTime<Utc>,
    /// Accepted baselines: (posted bytes, is_base64).
    pub baselines: Vec<(Vec<u8>, bool)>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validator(engine: Engine) -> Validator {
    let (keys, _) = load_trust_file(&root().join("certs/idp-a.pem")).expect("certs/idp-a.pem");
    let issuer = TrustedIssuer::new(
        Some("https://idp-a.example.test/adfs/services/trust".into()),
        keys,
        Vec::new(),
        IssuerPolicy { allow_sha1: true, engine, ..Default::default() },
    )
    .expect("issuer");
    let policy = Policy {
        audiences: vec!["urn:fedrp:test".into(), "https://rp.example.test/".into()],
        recipient: Some("https://rp.example.test/signin-saml".into()),
        engine_override: Some(engine),
        ..Default::default()
    };
    Validator::new(TrustStore::new(vec![issuer]), policy).expect("validator")
}

pub fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let now = DateTime::parse_from_rfc3339("2027-01-01T00:05:00Z").unwrap().with_timezone(&Utc);
        let xmlsec = validator(Engine::Xmlsec);
        let streaming = validator(Engine::Streaming);
        let mut baselines = Vec::new();
        let dir = root().join("fixtures/tokens/baseline");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.iter().filter(|p| p.extension().is_some_and(|e| e == "xml")) {
            let bytes = std::fs::read(f).unwrap();
            if streaming.validate(&bytes, fedrp::token::Binding::Any, now).is_ok() {
                baselines.push((bytes, false));
            }
        }
        assert!(!baselines.is_empty());
        Setup { xmlsec, streaming, now, baselines }
    })
}
