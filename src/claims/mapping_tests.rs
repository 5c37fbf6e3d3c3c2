//! Unit tests of the mapping rules ([`super::mapping`], [`super::principal`]): one test per
//! rule, asserting the exact reason of every rejection.

use super::claim_types::{
    EMAIL, GROUP_SID, IDENTITY_PROVIDER, NAME, ROLE, UPN, USER_ID, USER_LOGON_NAME,
    WINDOWS_ACCOUNT_NAME,
};
use super::*;
use crate::Reason;

const ISSUER: &str = "http://adfs.denallix.com/adfs/services/trust";

fn label(s: &str) -> Label {
    Label::new(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn claim(t: &str, v: &str) -> Claim {
    Claim::new(t, v)
}

fn mapping(l: &str, identity: IdentitySource) -> ClaimMapping {
    ClaimMapping::new(label(l), identity)
}

fn sharepoint(claim_type: &str, accept: &[OriginalIssuer]) -> IdentitySource {
    IdentitySource::Claim {
        selector: ClaimSelector::new(claim_type),
        encoding: ValueEncoding::SharePoint {
            accept: accept.to_vec(),
        },
    }
}

#[track_caller]
fn fqn(m: &ClaimMapping, claims: Vec<Claim>) -> String {
    match m.map(ISSUER, None, claims) {
        Ok(p) => p.fqn,
        Err(e) => panic!("expected a principal: {e}"),
    }
}

#[track_caller]
fn reason(m: &ClaimMapping, subject: Option<&str>, claims: Vec<Claim>) -> Reason {
    match m.map(ISSUER, subject, claims) {
        Ok(p) => panic!("expected a rejection, got {}", p.fqn),
        Err(e) => {
            assert!(!e.message.is_empty());
            e.reason
        }
    }
}

#[test]
fn adfs_windows_account_to_k2_down_level() {
    let mut m = mapping("K2", IdentitySource::claim(WINDOWS_ACCOUNT_NAME));
    m.domain = DomainRule::DownLevel;
    m.case = CaseRule::UpperDomain;
    let p = m
        .map(
            ISSUER,
            Some("ignored-subject"),
            vec![
                claim(WINDOWS_ACCOUNT_NAME, "denallix\\Bob"),
                claim(EMAIL, "bob@denallix.com"),
            ],
        )
        .expect("maps");
    assert_eq!(p.fqn, "K2:DENALLIX\\Bob");
    assert_eq!(p.name, "DENALLIX\\Bob");
    assert_eq!(p.label, "K2");
    assert_eq!(p.issuer, ISSUER);
    assert_eq!(p.claims.len(), 2, "raw claims are kept");
    assert!(p.groups.is_empty());
}

#[test]
fn down_level_shape_is_required() {
    let mut m = mapping("K2", IdentitySource::claim(WINDOWS_ACCOUNT_NAME));
    m.domain = DomainRule::DownLevel;
    let r = |v: &str| reason(&m, None, vec![claim(WINDOWS_ACCOUNT_NAME, v)]);
    assert_eq!(r("bob"), Reason::ClaimsMapping);
    assert_eq!(r("\\bob"), Reason::ClaimsMapping);
    assert_eq!(r("DENALLIX\\"), Reason::ClaimsMapping);
    assert_eq!(r("A\\B\\c"), Reason::ClaimsInvalidChars);
    assert_eq!(r("DENALLIX \\bob"), Reason::ClaimsInvalidChars);
    assert_eq!(r("DENALLIX\\ bob"), Reason::ClaimsInvalidChars);
}

#[test]
fn entra_upn_to_aad_without_domain() {
    let m = mapping("AAD", IdentitySource::claim(UPN));
    assert_eq!(
        fqn(&m, vec![claim(UPN, "bob@denallix.onmicrosoft.com")]),
        "AAD:bob@denallix.onmicrosoft.com"
    );
    assert_eq!(
        fqn(
            &m,
            vec![claim(UPN, "bob_fabrikam.com#EXT#@denallix.onmicrosoft.com")]
        ),
        "AAD:bob_fabrikam.com#EXT#@denallix.onmicrosoft.com"
    );
    // M01: a down-level name where a UPN is expected.
    assert_eq!(
        reason(&m, None, vec![claim(UPN, "CORP\\victim")]),
        Reason::ClaimsInvalidChars
    );
}

#[test]
fn upn_suffix_table_forms_the_domain() {
    let mut table = UpnSuffixTable::new();
    table.insert("denallix.com", "DENALLIX").expect("entry");
    let mut m = mapping("K2", IdentitySource::claim(UPN));
    m.domain = DomainRule::UpnSuffix(table);
    assert_eq!(
        fqn(&m, vec![claim(UPN, "bob@Denallix.com")]),
        "K2:DENALLIX\\bob"
    );
    let r = |v: &str| reason(&m, None, vec![claim(UPN, v)]);
    assert_eq!(
        r("bob@contoso.com"),
        Reason::ClaimsMapping,
        "suffix not in table"
    );
    assert_eq!(
        r("bob@sub.denallix.com"),
        Reason::ClaimsMapping,
        "no sub-domains"
    );
    assert_eq!(r("bob"), Reason::ClaimsMapping, "no '@'");
    assert_eq!(r("a@b@denallix.com"), Reason::ClaimsMapping, "two '@'");
    assert_eq!(r("@denallix.com"), Reason::ClaimsMapping, "empty user");
    assert_eq!(r("CORP\\victim@denallix.com"), Reason::ClaimsInvalidChars);
    assert_eq!(r("bob @denallix.com"), Reason::ClaimsInvalidChars);
}

#[test]
fn sql_forms_provider_user_name_alone() {
    let m = mapping("K2SQL", IdentitySource::claim(NAME));
    assert_eq!(fqn(&m, vec![claim(NAME, "K2Admin")]), "K2SQL:K2Admin");
}

#[test]
fn sharepoint_userid_is_decoded() {
    let mut m = mapping("K2", sharepoint(USER_ID, &[OriginalIssuer::Windows]));
    m.domain = DomainRule::DownLevel;
    let claims = vec![claim(USER_ID, "0#.w|contoso\\administrator")];
    assert_eq!(fqn(&m, claims), "K2:contoso\\administrator");
    let decorated = vec![claim(USER_ID, "i:0#.w|contoso\\administrator")];
    assert_eq!(fqn(&m, decorated), "K2:contoso\\administrator");
}

#[test]
fn sharepoint_values_from_unaccepted_issuers_are_refused() {
    let m = mapping("K2", sharepoint(USER_ID, &[OriginalIssuer::Windows]));
    let r = |v: &str| reason(&m, None, vec![claim(USER_ID, v)]);
    // A trusted-provider user whose IdP sends a down-level-looking value must not become
    // the AD user of the same name.
    assert_eq!(r("05.t|adfs|contoso\\administrator"), Reason::ClaimsMapping);
    assert_eq!(
        r("c:0+.w|s-1-5-21-1-2-3-513"),
        Reason::ClaimsMapping,
        "c: claim"
    );
    assert_eq!(r("c:0(.s|true"), Reason::ClaimsMapping, "everyone");
    assert_eq!(
        r("0(.s|true"),
        Reason::ClaimsMapping,
        "everyone, prefix-less"
    );
    assert_eq!(r("0#.w|"), Reason::ClaimsEncoding);
    assert_eq!(
        r("contoso\\administrator"),
        Reason::ClaimsEncoding,
        "not encoded"
    );
    assert_eq!(r("0#.w|a%7cb"), Reason::ClaimsInvalidChars, "escaped pipe");
    assert_eq!(r("0#.w|a%0ab"), Reason::ClaimsInvalidChars, "escaped LF");

    let trusted = mapping(
        "K2ADFS",
        sharepoint(USER_ID, &[OriginalIssuer::Trusted("ADFS LDAP".into())]),
    );
    assert_eq!(
        fqn(&trusted, vec![claim(USER_ID, "0ǵ.t|adfs ldap|bob")]),
        "K2ADFS:bob"
    );
    assert_eq!(
        reason(&trusted, None, vec![claim(USER_ID, "0ǵ.t|other|bob")]),
        Reason::ClaimsMapping
    );
    let none = mapping("K2", sharepoint(USER_ID, &[]));
    assert_eq!(
        reason(&none, None, vec![claim(USER_ID, "0#.w|contoso\\bob")]),
        Reason::ClaimsMapping,
        "an empty accept list accepts nothing"
    );
}

#[test]
fn missing_identity_claim_has_no_silent_fallback() {
    let m = mapping("AAD", IdentitySource::claim(UPN));
    // M04: the subject and the email are there, but not configured.
    assert_eq!(
        reason(&m, Some("bob@x.com"), vec![claim(EMAIL, "bob@x.com")]),
        Reason::ClaimsMissing
    );
    // M05: a short-name attribute is not the URI.
    assert_eq!(
        reason(&m, None, vec![claim("upn", "bob@x.com")]),
        Reason::ClaimsMissing
    );
    let empty = ClaimMapping {
        identity: Vec::new(),
        ..m.clone()
    };
    assert_eq!(
        reason(&empty, Some("bob"), vec![claim(UPN, "bob@x.com")]),
        Reason::ClaimsMissing
    );
}

#[test]
fn configured_fallbacks_apply_only_when_absent() {
    let mut m = mapping("AAD", IdentitySource::claim(UPN));
    m.identity.push(IdentitySource::Subject);
    m.identity.push(IdentitySource::claim(EMAIL));
    assert_eq!(
        fqn(
            &m,
            vec![claim(UPN, "upn@x.com"), claim(EMAIL, "mail@x.com")]
        ),
        "AAD:upn@x.com"
    );
    let p = m
        .map(
            ISSUER,
            Some("subject@x.com"),
            vec![claim(EMAIL, "mail@x.com")],
        )
        .expect("subject fallback");
    assert_eq!(p.fqn, "AAD:subject@x.com");
    assert_eq!(fqn(&m, vec![claim(EMAIL, "mail@x.com")]), "AAD:mail@x.com");
    // Present but ambiguous or invalid: no fallback.
    assert_eq!(
        reason(
            &m,
            Some("subject@x.com"),
            vec![claim(UPN, "a@x.com"), claim(UPN, "b@x.com")]
        ),
        Reason::ClaimsAmbiguous
    );
    assert_eq!(
        reason(&m, Some("subject@x.com"), vec![claim(UPN, "a:b@x.com")]),
        Reason::ClaimsInvalidChars
    );
    assert_eq!(reason(&m, None, vec![]), Reason::ClaimsMissing);
}

#[test]
fn subject_as_identity() {
    let m = mapping("OKTA", IdentitySource::Subject);
    let p = m
        .map(ISSUER, Some("bob@denallix.com"), vec![])
        .expect("maps");
    assert_eq!(p.fqn, "OKTA:bob@denallix.com");
    assert_eq!(reason(&m, None, vec![]), Reason::ClaimsMissing);
    assert_eq!(reason(&m, Some(" bob"), vec![]), Reason::ClaimsInvalidChars);
}

#[test]
fn several_identity_values_are_ambiguous() {
    let m = mapping("AAD", IdentitySource::claim(UPN));
    // M02, with different and with identical values.
    assert_eq!(
        reason(&m, None, vec![claim(UPN, "a@x.com"), claim(UPN, "b@x.com")]),
        Reason::ClaimsAmbiguous
    );
    assert_eq!(
        reason(&m, None, vec![claim(UPN, "a@x.com"), claim(UPN, "a@x.com")]),
        Reason::ClaimsAmbiguous
    );
}

#[test]
fn original_issuer_selects_the_identity_claim() {
    // fq11: the SharePoint STS token carries userlogonname from Windows.
    let mut m = mapping(
        "K2",
        IdentitySource::Claim {
            selector: ClaimSelector::new(USER_LOGON_NAME).with_original_issuer("Windows"),
            encoding: ValueEncoding::Plain,
        },
    );
    m.domain = DomainRule::DownLevel;
    let claims = vec![
        claim(USER_LOGON_NAME, "EVIL\\Administrator").with_original_issuer("TrustedProvider:x"),
        claim(USER_LOGON_NAME, "CONTOSO\\Administrator").with_original_issuer("windows"),
        claim(USER_ID, "0#.w|contoso\\administrator").with_original_issuer("SecurityTokenService"),
    ];
    assert_eq!(fqn(&m, claims), "K2:CONTOSO\\Administrator");
    let unattributed = vec![claim(USER_LOGON_NAME, "CONTOSO\\Administrator")];
    assert_eq!(reason(&m, None, unattributed), Reason::ClaimsMissing);
}

#[test]
fn identity_provider_claim_gates_the_mapping() {
    // fq12.
    let mut m = mapping(
        "K2ADFS",
        IdentitySource::claim("http://schemas.k2.com/identity/claims/name"),
    );
    m.identity_provider = Some(RequiredClaim {
        selector: ClaimSelector::new(IDENTITY_PROVIDER)
            .with_original_issuer("SecurityTokenService"),
        value: "trusted:ADFS LDAP".into(),
    });
    let idp = |v: &str| claim(IDENTITY_PROVIDER, v).with_original_issuer("SecurityTokenService");
    let name = claim("http://schemas.k2.com/identity/claims/name", "bob");
    assert_eq!(
        fqn(
            &m,
            vec![
                idp("trusted:adfs ldap"),
                name.clone(),
                claim(EMAIL, "bob@x")
            ]
        ),
        "K2ADFS:bob"
    );
    assert_eq!(reason(&m, None, vec![name.clone()]), Reason::ClaimsMissing);
    assert_eq!(
        reason(&m, None, vec![idp("windows"), name.clone()]),
        Reason::ClaimsMapping
    );
    assert_eq!(
        reason(
            &m,
            None,
            vec![idp("trusted:adfs ldap"), idp("windows"), name.clone()]
        ),
        Reason::ClaimsAmbiguous
    );
    let unattributed = claim(IDENTITY_PROVIDER, "trusted:adfs ldap");
    assert_eq!(
        reason(&m, None, vec![unattributed, name]),
        Reason::ClaimsMissing
    );
}

#[test]
fn characters_that_change_the_fqn_are_refused() {
    let m = mapping("AAD", IdentitySource::claim(UPN));
    for bad in [
        "K2:admin",
        "admin|x",
        "i:0#.w|corp\\victim",
        "admin\r",
        "admin\nx",
        "ad\0min",
        "ad\u{1b}min",
        "ad\u{202E}nimda",
        "ad\u{2067}min",
        "ad\u{200D}min",
        " admin",
        "admin ",
        "admin\t",
        "a\\b\\c",
    ] {
        assert_eq!(
            reason(&m, None, vec![claim(UPN, bad)]),
            Reason::ClaimsInvalidChars,
            "{bad:?}"
        );
    }
    assert_eq!(
        reason(&m, None, vec![claim(UPN, "")]),
        Reason::ClaimsMissing
    );
}

#[test]
fn case_rules_and_no_folding() {
    let mut m = mapping("K2", IdentitySource::claim(WINDOWS_ACCOUNT_NAME));
    m.domain = DomainRule::DownLevel;
    let v = vec![claim(WINDOWS_ACCOUNT_NAME, "Denallix\\Bob")];
    assert_eq!(fqn(&m, v.clone()), "K2:Denallix\\Bob");
    m.case = CaseRule::Lower;
    assert_eq!(fqn(&m, v.clone()), "K2:denallix\\bob");
    m.case = CaseRule::UpperDomain;
    assert_eq!(fqn(&m, v), "K2:DENALLIX\\Bob");
    // M06: case-insensitive equality, but look-alikes stay distinct.
    let aad = mapping("AAD", IdentitySource::claim(UPN));
    let a = Fqn::parse(&fqn(&aad, vec![claim(UPN, "ADMIN@x.com")])).expect("fqn");
    let b = Fqn::parse(&fqn(&aad, vec![claim(UPN, "admin@x.com")])).expect("fqn");
    let c = Fqn::parse(&fqn(&aad, vec![claim(UPN, "\u{FF41}dmin@x.com")])).expect("fqn");
    let d = Fqn::parse(&fqn(&aad, vec![claim(UPN, "\u{0430}dmin@x.com")])).expect("fqn");
    assert!(a.same_principal(&b));
    assert!(!b.same_principal(&c));
    assert!(!b.same_principal(&d));
    assert_ne!(c.name(), "admin@x.com", "no NFKC folding");
}

#[test]
fn prefixes() {
    let mut m = mapping("K2", IdentitySource::claim(NAME));
    m.user_prefix = NamePrefix::new("DENALLIX\\").expect("prefix");
    m.group_prefix = NamePrefix::new("ADFS-").expect("prefix");
    m.groups.push(GroupSource::claim(ROLE));
    let p = m
        .map(ISSUER, None, vec![claim(NAME, "bob"), claim(ROLE, "Sales")])
        .expect("maps");
    assert_eq!(p.fqn, "K2:DENALLIX\\bob");
    assert_eq!(p.groups, ["K2:ADFS-Sales"]);
    // The user prefix brings the one '\'; a value with another one is refused.
    assert_eq!(
        reason(&m, None, vec![claim(NAME, "CORP\\bob")]),
        Reason::ClaimsInvalidChars
    );
}

#[test]
fn groups_from_plain_and_encoded_values() {
    let mut m = mapping("K2ADFS", IdentitySource::claim(NAME));
    m.groups.push(GroupSource::claim(ROLE));
    m.groups.push(GroupSource {
        selector: ClaimSelector::new(USER_ID),
        encoding: ValueEncoding::SharePoint {
            accept: vec![OriginalIssuer::Trusted("adfs".into())],
        },
    });
    m.case = CaseRule::Lower;
    let p = m
        .map(
            ISSUER,
            None,
            vec![
                claim(NAME, "Bob"),
                claim(ROLE, "Finance"),
                claim(ROLE, "FINANCE"),
                claim(USER_ID, "c:0-.t|adfs|sales"),
                claim(USER_ID, "c:0(.s|true"),
                claim(USER_ID, "0-.t|adfs|domain users"),
                claim(GROUP_SID, "s-1-5-21-1-2-3-513"),
            ],
        )
        .expect("maps");
    assert_eq!(p.fqn, "K2ADFS:bob");
    assert_eq!(
        p.groups,
        ["K2ADFS:finance", "K2ADFS:sales", "K2ADFS:domain users"]
    );
    let r = |v: &str| reason(&m, None, vec![claim(NAME, "bob"), claim(USER_ID, v)]);
    assert_eq!(r("c:0-.t|evil|sales"), Reason::ClaimsMapping, "issuer");
    assert_eq!(r("i:05.t|adfs|bob@x"), Reason::ClaimsMapping, "i: as group");
    assert_eq!(r("c:0-.t|adfs|"), Reason::ClaimsEncoding);
    assert_eq!(r("c:0-.t|adfs|a%3ab"), Reason::ClaimsInvalidChars);
    let bad_role = vec![claim(NAME, "bob"), claim(ROLE, "admins\nx")];
    assert_eq!(reason(&m, None, bad_role), Reason::ClaimsInvalidChars);
}

#[test]
fn limits_reject_or_drop() {
    let mut m = mapping("AAD", IdentitySource::claim(UPN));
    m.limits.max_value_len = 20;
    assert_eq!(
        fqn(&m, vec![claim(UPN, &"a".repeat(20))]),
        format!("AAD:{}", "a".repeat(20))
    );
    // M08: a huge UPN.
    assert_eq!(
        reason(&m, None, vec![claim(UPN, &"a".repeat(64 * 1024))]),
        Reason::ClaimsTooLarge
    );
    assert_eq!(
        reason(&m, None, vec![claim(UPN, &"ü".repeat(21))]),
        Reason::ClaimsTooLarge
    );
    m.groups.push(GroupSource::claim(ROLE));
    m.limits.max_groups = 2;
    let mut claims = vec![claim(UPN, "bob@x.com")];
    claims.extend(["g1", "G1", "g2"].map(|g| claim(ROLE, g)));
    assert_eq!(
        fqn(&m, claims.clone()),
        "AAD:bob@x.com",
        "duplicates count once"
    );
    claims.push(claim(ROLE, "g3"));
    assert_eq!(reason(&m, None, claims.clone()), Reason::ClaimsTooLarge);
    assert_eq!(
        reason(
            &m,
            None,
            vec![claim(UPN, "bob@x.com"), claim(ROLE, &"r".repeat(21))]
        ),
        Reason::ClaimsTooLarge,
        "group value too long"
    );
    m.limits.group_overflow = GroupOverflow::Drop;
    let p = m.map(ISSUER, None, claims).expect("drops");
    assert_eq!(p.groups, ["AAD:g1", "AAD:g2"]);
}

#[test]
fn every_reason_this_layer_produces() {
    // claims.duplicate and claims.complex_value are the token core's (it sees attributes and
    // element content; this layer sees flattened claims); see `identity_claim_types`.
    let mut m = mapping("K2", sharepoint(USER_ID, &[OriginalIssuer::Windows]));
    m.domain = DomainRule::DownLevel;
    let cases: &[(Vec<Claim>, Reason)] = &[
        (vec![], Reason::ClaimsMissing),
        (
            vec![claim(USER_ID, "0#.w|a\\b"), claim(USER_ID, "0#.w|a\\c")],
            Reason::ClaimsAmbiguous,
        ),
        (vec![claim(USER_ID, "0#.w|")], Reason::ClaimsEncoding),
        (
            vec![claim(USER_ID, "0#.w|a%3ab\\c")],
            Reason::ClaimsInvalidChars,
        ),
        (vec![claim(USER_ID, "0#.w|bob")], Reason::ClaimsMapping),
        (
            vec![claim(USER_ID, &format!("0#.w|a\\{}", "b".repeat(300)))],
            Reason::ClaimsTooLarge,
        ),
    ];
    for (claims, want) in cases {
        assert_eq!(reason(&m, None, claims.clone()), *want, "{claims:?}");
    }
}
