//! Per-stage costs of token validation, for both engines, on the peer-benchmark token kinds
//! (`benches/corpus`: one token of each kind from the peer benchmark's generator, npm `saml`).
//! Run: `cargo bench --bench pipeline` (or `make bench`).

use std::hint::black_box;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fedrp::claims::{ClaimMapping, Label};
use fedrp::dsig::c14n::canonicalize;
use fedrp::token::envelope::locate;
use fedrp::token::profile::{IdMap, Signed, check, find_signature};
use fedrp::token::{Binding, Policy, Validator};
use fedrp::trust::{Engine, IssuerPolicy, TrustStore, TrustedIssuer, load_trust_file};
use fedrp::xml::{self, ParseOptions};

const KINDS: [&str; 5] = [
    "wsfed-saml11",
    "wsfed-saml20",
    "samlp-saml20",
    "wsfed-saml11-large",
    "wsfed-saml20-large",
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/corpus")
}

fn validator(engine: Engine) -> Validator {
    let (keys, _) = load_trust_file(&dir().join("idp.crt")).expect("idp.crt");
    let issuer = TrustedIssuer::new(
        Some("urn:bench:idp".into()),
        keys,
        Vec::new(),
        IssuerPolicy {
            engine,
            ..Default::default()
        },
    )
    .expect("issuer");
    let policy = Policy {
        audiences: vec!["urn:fedrp:bench".into()],
        recipient: Some("https://rp.bench.example/acs".into()),
        engine_override: Some(engine),
        max_token_age: None,
        ..Default::default()
    };
    Validator::new(TrustStore::new(vec![issuer]), policy).expect("validator")
}

fn stages(c: &mut Criterion) {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .expect("now")
        .with_timezone(&Utc);
    let streaming = validator(Engine::Streaming);
    let xmlsec = validator(Engine::Xmlsec);
    let mapping = ClaimMapping::for_label(Label::new("K2").expect("label"));
    let opts = ParseOptions::default();
    for kind in KINDS {
        let bytes = std::fs::read(dir().join(format!("{kind}.xml"))).expect("token");
        let mut g = c.benchmark_group(kind);
        g.throughput(Throughput::Bytes(bytes.len() as u64));

        g.bench_function("parse", |b| {
            b.iter(|| xml::parse(black_box(&bytes), &opts).expect("parse"))
        });

        let doc = xml::parse(&bytes, &opts).expect("parse");
        let env = locate(&doc, Binding::Any).expect("envelope");
        let kind_signed = Signed::assertion(env.version);
        g.bench_function("envelope+profile", |b| {
            b.iter(|| {
                let env = locate(&doc, Binding::Any).expect("envelope");
                let ids = IdMap::scan(&doc).expect("ids");
                let sig = find_signature(&doc, env.token, kind_signed)
                    .expect("find")
                    .expect("sig");
                check(&doc, &ids, env.token, kind_signed, sig).expect("profile")
            })
        });
        let ids = IdMap::scan(&doc).expect("ids");
        let sig = find_signature(&doc, env.token, kind_signed)
            .expect("find")
            .expect("sig");
        let prof = check(&doc, &ids, env.token, kind_signed, sig).expect("profile");
        g.bench_function("c14n+digest", |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(bytes.len());
                canonicalize(
                    &doc,
                    prof.element,
                    Some(prof.signature),
                    prof.ref_c14n,
                    &prof.ref_prefixes,
                    &mut out,
                );
                openssl::hash::hash(prof.digest_alg.md(), &out).expect("hash")
            })
        });
        let key = streaming.trust().issuers()[0].keys()[0].clone();
        g.bench_function("c14n+digest+signature", |b| {
            b.iter(
                || match fedrp::dsig::verify(&doc, &prof, &[&key]).expect("verify") {
                    fedrp::dsig::Outcome::Verified { .. } => {}
                    other => panic!("{other:?}"),
                },
            )
        });
        let path = doc.element_path(prof.element);
        let pkeys = [&key.public];
        let req = fedrp::xmlsec::VerifyRequest {
            xml: &bytes,
            target_path: &path,
            target_name: (doc.ns(prof.element), doc.local(prof.element)),
            id_attr: match prof.kind {
                Signed::Assertion11 => fedrp::xmlsec::IdAttr::AssertionId,
                _ => fedrp::xmlsec::IdAttr::Id,
            },
            id_value: &prof.id,
            element_count: doc.element_count(),
            keys: &pkeys,
            policy: fedrp::xmlsec::AlgorithmPolicy::default(),
        };
        g.bench_function("libxmlsec1-verify", |b| {
            b.iter(|| fedrp::xmlsec::verify(&req).expect("xmlsec"))
        });
        let validated = streaming
            .validate(&bytes, Binding::Any, now)
            .expect("valid");
        g.bench_function("assertion-model", |b| {
            b.iter(|| match validated.saml_version() {
                fedrp::token::SamlVersion::V1_1 => {
                    fedrp::token::saml11::parse_assertion(&doc, env.token).expect("model")
                }
                fedrp::token::SamlVersion::V2_0 => {
                    fedrp::token::saml20::parse_assertion(&doc, env.token).expect("model")
                }
            })
        });
        g.bench_function("claims-mapping", |b| {
            b.iter(|| mapping.map_token(black_box(&validated)).expect("map"))
        });
        g.bench_function("full/streaming", |b| {
            b.iter(|| {
                streaming
                    .validate(black_box(&bytes), Binding::Any, now)
                    .expect("valid")
            })
        });
        g.bench_function("full/xmlsec", |b| {
            b.iter(|| {
                xmlsec
                    .validate(black_box(&bytes), Binding::Any, now)
                    .expect("valid")
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = stages
}
criterion_main!(benches);
