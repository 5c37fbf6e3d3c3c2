//! Property tests of the claims layer: encoding round trips, a decoder that never panics,
//! and FQNs that never carry a character that could change their meaning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fedrp::Reason;
use fedrp::claims::encoding::is_custom_claim_type_char;
use fedrp::claims::text::forbidden_in_name;
use fedrp::claims::{
    Claim, ClaimKind, ClaimMapping, ClaimTypeRef, DomainRule, EncodedClaim, Fqn, IdentitySource,
    KnownClaimType, Label, OriginalIssuer, ValueType, claim_types, decode, encode,
    fqn_from_encoded_str,
};
use proptest::prelude::*;

const INTERESTING: [char; 30] = [
    'a', 'B', 'z', 'Z', '0', '9', '\\', '@', '.', '_', '-', ' ', '#', '/', ',', ':', ';', '|', '%',
    '\r', '\n', 'ü', 'Ü', 'ǵ', 'İ', 'ß', '3', 'A', 'c', '2',
];

/// Characters an encoder accepts in values: anything but controls other than CR and LF.
fn value_char() -> impl Strategy<Value = char> {
    prop_oneof![
        // Mostly the characters that matter: separators, escapes, case, backslash.
        4 => prop::sample::select(INTERESTING.to_vec()),
        1 => any::<char>().prop_map(|c| {
            if c.is_control() && c != '\r' && c != '\n' { 'x' } else { c }
        }),
    ]
}

/// Characters an issuer id may hold: no `|`, no controls, no invisible formatting.
fn issuer_char() -> impl Strategy<Value = char> {
    value_char().prop_map(|c| {
        if c == '|' || c.is_control() || fedrp::claims::text::is_invisible_format(c) {
            'y'
        } else {
            c
        }
    })
}

fn string_of(ch: impl Strategy<Value = char>, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(ch, 1..=max).prop_map(|v| v.into_iter().collect())
}

fn claim_type() -> impl Strategy<Value = ClaimTypeRef> {
    let known: Vec<ClaimTypeRef> = KnownClaimType::all()
        .filter(|k| !k.is_never_encoded())
        .map(ClaimTypeRef::Known)
        .collect();
    let custom: Vec<char> = ('\u{01F5}'..='\u{0300}')
        .chain(['\u{4E2D}', '\u{AC00}', '\u{FFFC}'])
        .filter(|c| is_custom_claim_type_char(*c))
        .collect();
    prop_oneof![
        3 => prop::sample::select(known),
        1 => prop::sample::select(vec!['i', 'o', 't']).prop_map(ClaimTypeRef::Unpublished),
        1 => prop::sample::select(custom).prop_map(|code| ClaimTypeRef::Custom { code, uri: None }),
    ]
}

fn issuer() -> impl Strategy<Value = OriginalIssuer> {
    prop_oneof![
        Just(OriginalIssuer::Windows),
        Just(OriginalIssuer::System),
        string_of(issuer_char(), 20).prop_map(OriginalIssuer::Trusted),
        string_of(issuer_char(), 20).prop_map(OriginalIssuer::Forms),
        string_of(issuer_char(), 20).prop_map(OriginalIssuer::ClaimProvider),
    ]
}

fn encoded_claim() -> impl Strategy<Value = EncodedClaim> {
    (
        prop::option::of(prop::sample::select(vec![
            ClaimKind::Identity,
            ClaimKind::Claim,
        ])),
        claim_type(),
        prop::sample::select(ValueType::ALL.to_vec()),
        issuer(),
        string_of(value_char(), 60),
    )
        .prop_map(
            |(kind, claim_type, value_type, issuer, value)| EncodedClaim {
                kind,
                claim_type,
                value_type,
                issuer,
                value,
            },
        )
}

/// Strings near the grammar: a prefix, four type characters, maybe a pipe, then anything.
fn near_miss() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "i:", "c:", "I:", "x:", "0", " "]),
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec!['0', '#', '.', 'w', 't', '|', 'ǵ', '%', ':', '5']),
                any::<char>()
            ],
            0..8,
        ),
        ".*",
    )
        .prop_map(|(p, mid, tail)| format!("{p}{}{tail}", mid.into_iter().collect::<String>()))
}

/// Identity values rich in the characters the name rule is about.
fn hostile_value() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            6 => prop::sample::select(vec![
                ':', '|', '\r', '\n', '\0', '\t', '\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}',
                '\u{2028}', ' ', '\u{3000}', '\\', '@', 'a', 'B', '%', 'ｍ', 'а',
            ]),
            1 => any::<char>(),
        ],
        0..24,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn assert_clean_name(name: &str) {
    assert!(!name.is_empty());
    for c in name.chars() {
        assert!(forbidden_in_name(c).is_none(), "{c:?} in {name:?}");
    }
    assert!(!name.starts_with(char::is_whitespace), "{name:?}");
    assert!(!name.ends_with(char::is_whitespace), "{name:?}");
    assert!(name.matches('\\').count() <= 1, "{name:?}");
}

fn assert_clean_fqn(fqn: &str, label: &str, name: &str) {
    assert_eq!(fqn, format!("{label}:{name}"));
    // The FQN splits at its first ':' into exactly the label and the name.
    let (l, n) = fqn.split_once(':').expect("a label separator");
    assert_eq!((l, n), (label, name));
    assert!(!n.contains(':'));
    assert_clean_name(n);
    let parsed = Fqn::parse(fqn).expect("an FQN parses back");
    assert_eq!((parsed.label().as_str(), parsed.name()), (label, name));
}

proptest! {
    // Case count: proptest's default (256), or PROPTEST_CASES.

    /// encode then decode gives the claim back, in the case SharePoint stores it.
    #[test]
    fn decode_inverts_encode(c in encoded_claim()) {
        let s = encode(&c).expect("generated claims are encodable");
        let back = decode(&s).expect("encoder output decodes");
        prop_assert_eq!(&back, &c.to_sharepoint_case());
        // The encoder's output is a fixed point, and lower case throughout.
        prop_assert_eq!(encode(&back).expect("re-encodes"), s.clone());
        prop_assert!(s.encode_utf16().count() <= 500);
        if c == c.to_sharepoint_case() {
            prop_assert_eq!(back, c);
        }
    }

    /// The encoder refuses exactly the values over SharePoint's limit.
    #[test]
    fn encoder_limit_is_exact(
        issuer in issuer(),
        len in 480usize..500,
    ) {
        let c = EncodedClaim {
            kind: Some(ClaimKind::Identity),
            claim_type: ClaimTypeRef::Known(KnownClaimType::from_code('#').expect("table")),
            value_type: ValueType::String,
            issuer,
            value: "v".repeat(len),
        };
        let max = fedrp::claims::encoding::max_value_len(&c.issuer);
        match encode(&c) {
            Ok(s) => {
                prop_assert!(len <= max);
                prop_assert!(s.encode_utf16().count() <= 500);
            }
            Err(e) => {
                prop_assert!(len > max);
                prop_assert_eq!(e.reason, Reason::ClaimsTooLarge);
            }
        }
    }

    /// The decoder never panics; its errors are claims.encoding with a position inside the
    /// input; what it accepts has a value and re-encodes.
    #[test]
    fn decode_never_panics(s in prop_oneof![any::<String>(), near_miss()]) {
        match decode(&s) {
            Ok(c) => {
                prop_assert!(!c.value.is_empty());
                prop_assert!(s.encode_utf16().count() <= 500);
                if let Some(id) = c.issuer.name() {
                    prop_assert!(!id.is_empty() && !id.contains('|'));
                }
            }
            Err(e) => {
                prop_assert_eq!(e.reason, Reason::ClaimsEncoding);
                if let Some(p) = e.position {
                    prop_assert!(p <= s.chars().count(), "{} > {}", p, s.chars().count());
                }
            }
        }
    }

    /// The FQN of a user never holds a forbidden character or a second label, whatever the
    /// identity claim holds; when it is refused, the reason says why.
    #[test]
    fn user_fqns_are_clean(value in hostile_value()) {
        let label = Label::new("AAD").expect("label");
        let mappings = [
            (DomainRule::None, ClaimMapping::new(label.clone(), IdentitySource::claim(claim_types::UPN))),
            (DomainRule::DownLevel, ClaimMapping::new(label, IdentitySource::claim(claim_types::UPN))),
        ];
        for (domain, mut m) in mappings {
            m.domain = domain;
            match m.map("urn:x", None, vec![Claim::new(claim_types::UPN, &value)]) {
                Ok(p) => {
                    assert_clean_fqn(&p.fqn, "AAD", &p.name);
                    // Nothing was trimmed, split or escaped.
                    prop_assert_eq!(&p.name, &value);
                }
                Err(e) => prop_assert!(
                    matches!(
                        e.reason,
                        Reason::ClaimsInvalidChars | Reason::ClaimsMissing | Reason::ClaimsMapping
                    ),
                    "{}", e
                ),
            }
        }
    }

    /// The same for names built from encoded claims (`decode-claim --label`), including
    /// values with escaped separators and line breaks.
    #[test]
    fn encoded_fqns_are_clean(
        prefix in prop::sample::select(vec!["i:0#.w|", "0#.w|", "i:05.t|adfs|", "c:0-.f|role|"]),
        value in hostile_value(),
        escapes in prop::collection::vec(
            prop::sample::select(vec!["%3a", "%7C", "%0a", "%0D", "%2c", "%25", "%3b"]),
            0..3,
        ),
    ) {
        let input = format!("{prefix}{value}{}", escapes.concat());
        let label = Label::new("K2").expect("label");
        match fqn_from_encoded_str(&input, &label) {
            Ok(f) => assert_clean_fqn(&f.to_string(), "K2", f.name()),
            Err(e) => prop_assert!(
                matches!(
                    e.reason,
                    Reason::ClaimsEncoding
                        | Reason::ClaimsInvalidChars
                        | Reason::ClaimsMissing
                        | Reason::ClaimsMapping
                ),
                "{}", e
            ),
        }
    }

    /// Group FQNs follow the same rule.
    #[test]
    fn group_fqns_are_clean(values in prop::collection::vec(hostile_value(), 0..6)) {
        let mut m = ClaimMapping::new(
            Label::new("K2ADFS").expect("label"),
            IdentitySource::claim(claim_types::NAME),
        );
        m.groups.push(fedrp::claims::GroupSource::claim(claim_types::ROLE));
        let mut claims = vec![Claim::new(claim_types::NAME, "bob")];
        claims.extend(values.iter().map(|v| Claim::new(claim_types::ROLE, v)));
        if let Ok(p) = m.map("urn:x", None, claims) {
            for g in &p.groups {
                let (l, n) = g.split_once(':').expect("label");
                assert_clean_fqn(g, l, n);
                prop_assert_eq!(l, "K2ADFS");
            }
        }
    }
}
