//! The per-issuer claim mapping: which claims make the user's FQN and group FQNs, and how.
//!
//! Plain Rust types; the TOML form is [`crate::config::claims`]. Applying a mapping to the
//! claims of a validated token is [`ClaimMapping::map`] ([`crate::claims::principal`]).
//!
//! # Rules
//!
//! * **Label**: configuration ([`Label`]), never read from a claim.
//! * **Identity**: [`ClaimMapping::identity`] lists the sources to try, in order. The first is
//!   the configured identity claim; any further entry is an explicit fallback, used only when
//!   every source before it is **absent**. A source that is present but unusable (several
//!   values, bad characters, wrong issuer) is an error, never a reason to fall back. No source
//!   present: `claims.missing` (M04). Claim types match exactly, as ordinal strings (M05: a
//!   short-name `upn` attribute is not the UPN claim URI). An original issuer, when
//!   configured, matches ordinal case-insensitively (SharePoint lower-cases trusted issuer
//!   names).
//! * **Several values** of the identity claim, even identical ones, or several claims of its
//!   type: `claims.ambiguous` (M02). The token core flattens multi-valued and repeated
//!   attributes into one claim per value, so both arrive here as several claims.
//! * **SharePoint-encoded values** ([`ValueEncoding::SharePoint`], for `userid` or any claim
//!   carrying `i:0#.w|...`): decoded (`claims.encoding` when malformed); the decoded original
//!   issuer must be one of the listed ones (`claims.mapping` otherwise: a trusted-provider user
//!   must not become an AD user because both arrive through the SharePoint STS); a `c:` claim
//!   is never an identity, and an identity value never names "everyone" (`claims.mapping`).
//! * **Names**: the identity value, after decoding, must follow the FQN name rule
//!   ([`crate::claims::fqn`]): `claims.invalid_chars` for `:`, `|`, control, bidi and invisible
//!   characters, white space at either end, a second `\`. Then the [`DomainRule`] shapes it,
//!   the [`CaseRule`] applies, and the prefix is prepended.
//! * **Groups**: every value of every [`GroupSource`] becomes `label:` + group prefix + value
//!   (decoded first for SharePoint-encoded sources, `c:0-.t|adfs|sales` → `sales`), under the
//!   same name rule and case rule (no domain rule: group values are kept as sent). A group
//!   value that breaks the name rule rejects the sign-in (`claims.invalid_chars`); encoded
//!   "everyone" claims (`c:0(.s|true`) are skipped with a debug log line; duplicates
//!   (ordinal case-insensitive) are kept once.
//! * **Limits** ([`Limits`]): identity and group values over `max_value_len` characters are
//!   `claims.too_large`; more than `max_groups` distinct groups are `claims.too_large`, or, with
//!   [`GroupOverflow::Drop`], cut to the first `max_groups` with a warning log line (M08).

use std::collections::BTreeMap;

use crate::Reason;
use crate::claims::encoding::{ClaimTypeTable, OriginalIssuer};
use crate::claims::error::{ClaimsError, show_str};
use crate::claims::fqn::{Label, check_chars};
use crate::claims::text::{eq_ignore_case, lower};

/// Default [`Limits::max_value_len`].
pub const DEFAULT_MAX_VALUE_LEN: usize = 256;
/// Default [`Limits::max_groups`].
pub const DEFAULT_MAX_GROUPS: usize = 200;

/// How a token's claims become a [`Principal`](crate::claims::Principal) for one issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMapping {
    /// The security label of every FQN this mapping builds.
    pub label: Label,
    /// Identity sources, tried in order (the first is the identity claim; the rest are
    /// explicit fallbacks, used only when everything before is absent). Empty: every sign-in
    /// fails with `claims.missing`.
    pub identity: Vec<IdentitySource>,
    /// A claim the token must carry with a given value before the mapping applies (K2's
    /// identity-provider claim, `trusted:ADFS LDAP`).
    pub identity_provider: Option<RequiredClaim>,
    /// Where group and role values come from.
    pub groups: Vec<GroupSource>,
    /// How the domain part of a user name is formed.
    pub domain: DomainRule,
    /// Case handling of user and group names.
    pub case: CaseRule,
    /// Text put before every user name (after the label).
    pub user_prefix: NamePrefix,
    /// Text put before every group name (after the label).
    pub group_prefix: NamePrefix,
    /// Size and count limits.
    pub limits: Limits,
    /// The farm's custom claim type characters, for decoding encoded values.
    pub claim_type_table: ClaimTypeTable,
}

impl ClaimMapping {
    /// A mapping with one identity source and the defaults: no identity-provider check, no
    /// groups, [`DomainRule::None`], [`CaseRule::Preserve`], no prefixes, default limits.
    pub fn new(label: Label, identity: IdentitySource) -> Self {
        ClaimMapping {
            label,
            identity: vec![identity],
            identity_provider: None,
            groups: Vec::new(),
            domain: DomainRule::None,
            case: CaseRule::Preserve,
            user_prefix: NamePrefix::default(),
            group_prefix: NamePrefix::default(),
            limits: Limits::default(),
            claim_type_table: ClaimTypeTable::new(),
        }
    }

    /// The claim types this mapping reads an identity from. The token core refuses element
    /// content (complex values) in these with `claims.complex_value` (C08) before mapping.
    /// The mapping `fedrp check-token --label L` uses when no configuration names one: the
    /// identity claim conventional for the label — `K2` (Active Directory):
    /// windowsaccountname as `DOMAIN\\user`; `AAD`: the UPN; `K2SQL`/`SQLUM`: the name claim;
    /// any other label: the subject NameID — and groups from the role and group claims.
    pub fn for_label(label: Label) -> Self {
        const WS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";
        const MS: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/";
        let (identity, domain) = match label.as_str().to_ascii_uppercase().as_str() {
            "K2" => (
                IdentitySource::claim(&format!("{MS}windowsaccountname")),
                DomainRule::DownLevel,
            ),
            "AAD" | "K2AAD" => (IdentitySource::claim(&format!("{WS}upn")), DomainRule::None),
            "K2SQL" | "SQLUM" => (
                IdentitySource::claim(&format!("{WS}name")),
                DomainRule::None,
            ),
            _ => (IdentitySource::Subject, DomainRule::None),
        };
        let mut m = ClaimMapping::new(label, identity);
        m.domain = domain;
        m.groups = vec![
            GroupSource::claim(&format!("{MS}role")),
            GroupSource::claim("http://schemas.xmlsoap.org/claims/Group"),
        ];
        m.limits.group_overflow = GroupOverflow::Drop;
        m
    }

    /// The claim types of the identity sources.
    pub fn identity_claim_types(&self) -> impl Iterator<Item = &str> {
        self.identity.iter().filter_map(|s| match s {
            IdentitySource::Claim { selector, .. } => Some(selector.claim_type.as_str()),
            IdentitySource::Subject => None,
        })
    }
}

/// Where the user's identity comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// The single value of a claim (windowsaccountname, upn, name, emailaddress,
    /// nameidentifier, userlogonname, userid, or any other type).
    Claim {
        /// Which claim.
        selector: ClaimSelector,
        /// Whether its value is a SharePoint encoded claim.
        encoding: ValueEncoding,
    },
    /// The token's subject NameID / NameIdentifier.
    Subject,
}

impl IdentitySource {
    /// A plain claim of this type, from any original issuer.
    pub fn claim(claim_type: &str) -> Self {
        IdentitySource::Claim {
            selector: ClaimSelector::new(claim_type),
            encoding: ValueEncoding::Plain,
        }
    }

    /// What the source reads, for messages.
    pub fn describe(&self) -> String {
        match self {
            IdentitySource::Claim { selector, .. } => selector.describe(),
            IdentitySource::Subject => "the subject NameID".to_owned(),
        }
    }
}

/// Selects claims: an exact claim type, and optionally an original issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimSelector {
    /// The claim type, matched exactly (ordinal).
    pub claim_type: String,
    /// The original issuer the claim must carry (ordinal case-insensitive); `None` accepts any
    /// (including none).
    pub original_issuer: Option<String>,
}

impl ClaimSelector {
    /// Claims of this type from any original issuer.
    pub fn new(claim_type: &str) -> Self {
        ClaimSelector {
            claim_type: claim_type.to_owned(),
            original_issuer: None,
        }
    }

    /// Only claims whose original issuer is `original_issuer`.
    pub fn with_original_issuer(mut self, original_issuer: &str) -> Self {
        self.original_issuer = Some(original_issuer.to_owned());
        self
    }

    /// Whether a claim is selected.
    pub fn matches(&self, claim: &crate::claims::Claim) -> bool {
        claim.claim_type == self.claim_type
            && match (&self.original_issuer, &claim.original_issuer) {
                (None, _) => true,
                (Some(want), Some(got)) => eq_ignore_case(want, got),
                (Some(_), None) => false,
            }
    }

    /// The selector, for messages.
    pub fn describe(&self) -> String {
        match &self.original_issuer {
            Some(oi) => format!("claim {} (original issuer {})", self.claim_type, oi),
            None => format!("claim {}", self.claim_type),
        }
    }
}

/// How a claim's value is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueEncoding {
    /// The value is the name.
    Plain,
    /// The value is a SharePoint encoded claim (`0#.w|contoso\bob`, `c:0-.t|adfs|sales`); its
    /// decoded value is the name. Only claims whose decoded original issuer equals one of
    /// `accept` (same kind; names ordinal case-insensitive) are accepted. An empty list
    /// accepts none.
    SharePoint {
        /// Accepted original issuers (`Windows`, `Trusted("adfs")`, ...).
        accept: Vec<OriginalIssuer>,
    },
}

/// Parses an issuer as written in configuration: `windows`, `system`, `trusted:<name>`,
/// `forms:<name>`, `claimprovider:<name>` (the kind case-insensitive; the same form as the
/// identity-provider claim value). `None` for anything else.
pub fn parse_issuer(spec: &str) -> Option<OriginalIssuer> {
    let (kind, name) = match spec.split_once(':') {
        Some((k, n)) => (k, Some(n)),
        None => (spec, None),
    };
    let kind = kind.to_ascii_lowercase();
    match (kind.as_str(), name) {
        ("windows", None) => Some(OriginalIssuer::Windows),
        ("system", None) => Some(OriginalIssuer::System),
        (_, Some("")) => None,
        ("trusted", Some(n)) if !n.contains('|') => Some(OriginalIssuer::Trusted(n.to_owned())),
        ("forms", Some(n)) if !n.contains('|') => Some(OriginalIssuer::Forms(n.to_owned())),
        ("claimprovider", Some(n)) if !n.contains('|') => {
            Some(OriginalIssuer::ClaimProvider(n.to_owned()))
        }
        _ => None,
    }
}

/// Whether two original issuers are the same: same kind, names ordinal case-insensitive.
pub fn same_issuer(a: &OriginalIssuer, b: &OriginalIssuer) -> bool {
    a.code() == b.code()
        && match (a.name(), b.name()) {
            (Some(x), Some(y)) => eq_ignore_case(x, y),
            (None, None) => true,
            _ => false,
        }
}

/// A claim the token must hold, with one value (compared ordinal case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredClaim {
    /// Which claim.
    pub selector: ClaimSelector,
    /// The value it must have.
    pub value: String,
}

/// A source of group or role values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSource {
    /// Which claims (every value of every selected claim is a group).
    pub selector: ClaimSelector,
    /// Whether the values are SharePoint encoded claims.
    pub encoding: ValueEncoding,
}

impl GroupSource {
    /// Plain values of claims of this type.
    pub fn claim(claim_type: &str) -> Self {
        GroupSource {
            selector: ClaimSelector::new(claim_type),
            encoding: ValueEncoding::Plain,
        }
    }
}

/// How the domain part of a user name is formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainRule {
    /// The value is `DOMAIN\user` and is kept as is (Windows account names, userlogonname).
    /// A value without exactly one `\` and non-empty parts is `claims.mapping`.
    DownLevel,
    /// No domain: the value is the name (SQL users, UPNs under `AAD`, custom labels). A `\` in
    /// it is `claims.invalid_chars` (M01: `CORP\victim` where a UPN is expected).
    None,
    /// The value is `user@suffix`; the suffix is looked up in the table and the name becomes
    /// `DOMAIN\user`. A `\` is `claims.invalid_chars`; no `@`, several `@`, an empty part or a
    /// suffix not in the table is `claims.mapping`. The table is explicit configuration: a
    /// NetBIOS domain name is never derived from a DNS suffix.
    UpnSuffix(UpnSuffixTable),
}

/// UPN suffix → NetBIOS domain (`denallix.com` → `DENALLIX`). Suffixes match ordinal
/// case-insensitively and exactly (a sub-domain is a different suffix).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpnSuffixTable {
    entries: BTreeMap<String, String>,
}

impl UpnSuffixTable {
    /// An empty table.
    pub fn new() -> Self {
        UpnSuffixTable::default()
    }

    /// Adds `suffix → domain`. `claims.mapping` when the suffix is empty or holds `@`, or the
    /// domain is not a valid name part (name rule, no `\`), or the suffix is already mapped
    /// to another domain.
    pub fn insert(&mut self, suffix: &str, domain: &str) -> Result<(), ClaimsError> {
        let bad = |why: String| Err(ClaimsError::new(Reason::ClaimsMapping, why));
        if suffix.is_empty() || suffix.contains('@') {
            return bad(format!(
                "UPN suffix {} must be non-empty and hold no '@'",
                show_str(suffix, 80)
            ));
        }
        if let Err(e) = check_chars(suffix, "UPN suffix") {
            return bad(e.message);
        }
        if let Err(e) = check_chars(domain, "domain") {
            return bad(e.message);
        }
        if domain.contains('\\') {
            return bad(format!("domain {} must hold no '\\'", show_str(domain, 80)));
        }
        let key = lower(suffix);
        match self.entries.get(&key) {
            Some(existing) if existing != domain => bad(format!(
                "UPN suffix {} is already mapped to {}",
                show_str(suffix, 80),
                show_str(existing, 80)
            )),
            _ => {
                self.entries.insert(key, domain.to_owned());
                Ok(())
            }
        }
    }

    /// The domain for a suffix.
    pub fn lookup(&self, suffix: &str) -> Option<&str> {
        self.entries
            .get(&lower(suffix))
            .map(String::as_str)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|(k, _)| eq_ignore_case(k, suffix))
                    .map(|(_, v)| v.as_str())
            })
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Case handling of names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaseRule {
    /// Lower-case the whole name (what SharePoint stores).
    Lower,
    /// Keep the name as the claim carries it.
    #[default]
    Preserve,
    /// Upper-case the domain part of `DOMAIN\name` (`K2:DENALLIX\bob`); keep the rest.
    UpperDomain,
}

/// Text put between the label and a name (`K2:` + prefix + name). It follows the name
/// rule's character part, may be empty, and may end with `\` (a fixed domain for a store
/// whose values carry none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamePrefix(String);

impl NamePrefix {
    /// Checks and wraps a prefix: `claims.mapping` if it holds a forbidden character, starts
    /// with white space or holds more than one `\`.
    pub fn new(prefix: &str) -> Result<NamePrefix, ClaimsError> {
        if prefix.is_empty() {
            return Ok(NamePrefix::default());
        }
        // A prefix may end with white space only if a name follows; names never start with
        // it, so check it with a stand-in name.
        if let Err(e) = check_chars(&format!("{prefix}x"), "name prefix") {
            return Err(ClaimsError::new(Reason::ClaimsMapping, e.message));
        }
        if prefix.matches('\\').count() > 1 {
            return Err(ClaimsError::new(
                Reason::ClaimsMapping,
                format!(
                    "name prefix {} holds more than one '\\'",
                    show_str(prefix, 80)
                ),
            ));
        }
        Ok(NamePrefix(prefix.to_owned()))
    }

    /// The prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Size and count limits (M08).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest identity or group value accepted, in characters, before decoding.
    pub max_value_len: usize,
    /// The most distinct groups a principal carries.
    pub max_groups: usize,
    /// What happens beyond `max_groups`.
    pub group_overflow: GroupOverflow,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            max_groups: DEFAULT_MAX_GROUPS,
            group_overflow: GroupOverflow::Reject,
        }
    }
}

/// What happens when a token carries more groups than [`Limits::max_groups`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupOverflow {
    /// Keep the first `max_groups` and log a warning naming how many were dropped.
    Drop,
    /// Refuse the sign-in with `claims.too_large`.
    #[default]
    Reject,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Claim;

    #[test]
    fn selector_matches_type_exactly_and_issuer_case_insensitively() {
        let sel = ClaimSelector::new(crate::claims::claim_types::UPN)
            .with_original_issuer("TrustedProvider:ADFS Prod");
        let claim = |t: &str, oi: Option<&str>| Claim {
            claim_type: t.to_owned(),
            value: "v".to_owned(),
            original_issuer: oi.map(str::to_owned),
        };
        assert!(sel.matches(&claim(
            crate::claims::claim_types::UPN,
            Some("trustedprovider:adfs prod")
        )));
        assert!(!sel.matches(&claim(crate::claims::claim_types::UPN, None)));
        assert!(!sel.matches(&claim("upn", Some("TrustedProvider:ADFS Prod"))));
        assert!(!sel.matches(&claim(
            "HTTP://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            Some("TrustedProvider:ADFS Prod")
        )));
        let any = ClaimSelector::new("upn");
        assert!(any.matches(&claim("upn", None)));
        assert!(any.matches(&claim("upn", Some("x"))));
    }

    #[test]
    fn issuer_specs() {
        assert_eq!(parse_issuer("windows"), Some(OriginalIssuer::Windows));
        assert_eq!(parse_issuer("Windows"), Some(OriginalIssuer::Windows));
        assert_eq!(parse_issuer("system"), Some(OriginalIssuer::System));
        assert_eq!(
            parse_issuer("trusted:ADFS LDAP"),
            Some(OriginalIssuer::Trusted("ADFS LDAP".into()))
        );
        assert_eq!(
            parse_issuer("forms:membership"),
            Some(OriginalIssuer::Forms("membership".into()))
        );
        assert_eq!(
            parse_issuer("claimprovider:tenant"),
            Some(OriginalIssuer::ClaimProvider("tenant".into()))
        );
        for bad in ["", "trusted", "trusted:", "windows:x", "k", "forms:a|b"] {
            assert_eq!(parse_issuer(bad), None, "{bad:?}");
        }
        assert!(same_issuer(
            &OriginalIssuer::Trusted("ADFS LDAP".into()),
            &OriginalIssuer::Trusted("adfs ldap".into())
        ));
        assert!(!same_issuer(
            &OriginalIssuer::Trusted("adfs".into()),
            &OriginalIssuer::Forms("adfs".into())
        ));
        assert!(same_issuer(
            &OriginalIssuer::Windows,
            &OriginalIssuer::Windows
        ));
    }

    #[test]
    fn upn_suffix_table() {
        let mut t = UpnSuffixTable::new();
        t.insert("denallix.com", "DENALLIX").expect("valid");
        t.insert("Denallix.COM", "DENALLIX").expect("same entry");
        assert_eq!(t.lookup("DENALLIX.com"), Some("DENALLIX"));
        assert_eq!(t.lookup("sub.denallix.com"), None);
        for (s, d) in [
            ("", "D"),
            ("a@b", "D"),
            ("x.com", ""),
            ("x.com", "A\\B"),
            ("x.com", "D:"),
            ("denallix.com", "OTHER"),
        ] {
            let e = t.insert(s, d).expect_err(s);
            assert_eq!(e.reason, Reason::ClaimsMapping, "{s:?} {d:?}");
        }
        assert!(!t.is_empty());
    }

    #[test]
    fn name_prefixes() {
        assert_eq!(NamePrefix::new("").expect("empty").as_str(), "");
        assert_eq!(
            NamePrefix::new("DENALLIX\\").expect("ok").as_str(),
            "DENALLIX\\"
        );
        assert_eq!(NamePrefix::new("ext-").expect("ok").as_str(), "ext-");
        for bad in ["a:b", " x", "a\\b\\", "x\n", "a|"] {
            let e = NamePrefix::new(bad).expect_err(bad);
            assert_eq!(e.reason, Reason::ClaimsMapping, "{bad:?}");
        }
    }

    #[test]
    fn identity_claim_types_for_the_complex_value_check() {
        let mut m = ClaimMapping::new(
            Label::new("K2").expect("label"),
            IdentitySource::claim(crate::claims::claim_types::WINDOWS_ACCOUNT_NAME),
        );
        m.identity.push(IdentitySource::Subject);
        m.identity
            .push(IdentitySource::claim(crate::claims::claim_types::UPN));
        let types: Vec<&str> = m.identity_claim_types().collect();
        assert_eq!(
            types,
            [
                crate::claims::claim_types::WINDOWS_ACCOUNT_NAME,
                crate::claims::claim_types::UPN
            ]
        );
        assert_eq!(IdentitySource::Subject.describe(), "the subject NameID");
    }
}
