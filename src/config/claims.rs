//! The `[issuers.claims]` table: an issuer's claim mapping, in TOML.
//!
//! ```toml
//! [issuers.claims]
//! label = "K2"                       # required: the security label of every FQN
//! identity = { claim = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn" }
//! #   identity = { subject = true }  # the SAML NameID / NameIdentifier
//! #   identity = { claim = "...", original_issuer = "Windows" }
//! #   identity = { claim = ".../claims/userid", encoding = "sharepoint", issuers = ["windows"] }
//! fallback = []                      # further identity sources, same shape, tried in order
//!                                    # only when everything before them is absent
//! domain = "upn-suffix"              # "none" (default) | "down-level" | "upn-suffix"
//! case = "upper-domain"              # "preserve" (default) | "lower" | "upper-domain"
//! user_prefix = ""                   # text between "LABEL:" and the user name
//! group_prefix = ""                  # text between "LABEL:" and each group name
//! max_value_length = 256             # longest identity or group value, in characters
//! max_groups = 200                   # most distinct groups
//! too_many_groups = "reject"         # "reject" (claims.too_large) | "drop" (log and cut)
//!
//! [issuers.claims.upn_suffixes]      # required with domain = "upn-suffix", refused otherwise
//! "denallix.com" = "DENALLIX"
//!
//! [issuers.claims.identity_provider] # optional: the token must carry this claim and value
//! claim = "http://schemas.microsoft.com/sharepoint/2009/08/claims/identityprovider"
//! original_issuer = "SecurityTokenService"
//! value = "windows"
//!
//! [[issuers.claims.groups]]          # zero or more group sources
//! claim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
//! # original_issuer = "...", encoding = "sharepoint", issuers = ["trusted:adfs"]
//!
//! [issuers.claims.claim_type_encodings]  # the farm's custom claim type characters
//! "ǵ" = "http://schemas.k2.com/identity/claims/name"
//! ```
//!
//! Every table refuses unknown keys. [`ClaimsToml::into_mapping`] checks what serde cannot
//! and returns a message naming the key path and a hint. Claim types are matched exactly: write
//! the full URI (or the exact SAML 2.0 attribute name the IdP sends).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::claims::mapping::parse_issuer;
use crate::claims::{
    CaseRule, ClaimMapping, ClaimSelector, ClaimTypeTable, DomainRule, GroupOverflow, GroupSource,
    IdentitySource, Label, Limits, NamePrefix, RequiredClaim, UpnSuffixTable, ValueEncoding,
};

/// An issuer's claim mapping table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClaimsToml {
    /// The security label.
    pub label: String,
    /// The identity source.
    pub identity: IdentityToml,
    /// Explicit fallback identity sources.
    #[serde(default)]
    pub fallback: Vec<IdentityToml>,
    /// Domain rule.
    #[serde(default)]
    pub domain: DomainToml,
    /// UPN suffix → NetBIOS domain, for `domain = "upn-suffix"`.
    #[serde(default)]
    pub upn_suffixes: Option<BTreeMap<String, String>>,
    /// Case rule.
    #[serde(default)]
    pub case: CaseToml,
    /// User name prefix.
    #[serde(default)]
    pub user_prefix: String,
    /// Group name prefix.
    #[serde(default)]
    pub group_prefix: String,
    /// Longest identity or group value, in characters.
    #[serde(default = "default_max_value_length")]
    pub max_value_length: usize,
    /// Most distinct groups.
    #[serde(default = "default_max_groups")]
    pub max_groups: usize,
    /// What happens beyond `max_groups`.
    #[serde(default)]
    pub too_many_groups: OverflowToml,
    /// The identity-provider claim the token must carry.
    #[serde(default)]
    pub identity_provider: Option<RequiredClaimToml>,
    /// Group sources.
    #[serde(default)]
    pub groups: Vec<GroupToml>,
    /// Custom claim type characters of the SharePoint farm.
    #[serde(default)]
    pub claim_type_encodings: BTreeMap<String, String>,
}

fn default_max_value_length() -> usize {
    crate::claims::mapping::DEFAULT_MAX_VALUE_LEN
}

fn default_max_groups() -> usize {
    crate::claims::mapping::DEFAULT_MAX_GROUPS
}

/// An identity source: `{ claim = "..." }` (with optional `original_issuer`, `encoding`,
/// `issuers`) or `{ subject = true }`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IdentityToml {
    /// The claim type.
    #[serde(default)]
    pub claim: Option<String>,
    /// `true`: the subject NameID.
    #[serde(default)]
    pub subject: Option<bool>,
    /// The original issuer the claim must carry.
    #[serde(default)]
    pub original_issuer: Option<String>,
    /// How the value is read.
    #[serde(default)]
    pub encoding: Option<EncodingToml>,
    /// For `encoding = "sharepoint"`: accepted issuers of the decoded claim.
    #[serde(default)]
    pub issuers: Option<Vec<String>>,
}

/// A group source.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GroupToml {
    /// The claim type.
    pub claim: String,
    /// The original issuer the claims must carry.
    #[serde(default)]
    pub original_issuer: Option<String>,
    /// How the values are read.
    #[serde(default)]
    pub encoding: Option<EncodingToml>,
    /// For `encoding = "sharepoint"`: accepted issuers of the decoded claims.
    #[serde(default)]
    pub issuers: Option<Vec<String>>,
}

/// The identity-provider claim requirement.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RequiredClaimToml {
    /// The claim type.
    pub claim: String,
    /// The original issuer it must carry.
    #[serde(default)]
    pub original_issuer: Option<String>,
    /// The value it must have (compared ordinal case-insensitively).
    pub value: String,
}

/// `domain`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DomainToml {
    /// `"down-level"`.
    DownLevel,
    /// `"none"`.
    #[default]
    None,
    /// `"upn-suffix"`.
    UpnSuffix,
}

/// `case`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CaseToml {
    /// `"lower"`.
    Lower,
    /// `"preserve"`.
    #[default]
    Preserve,
    /// `"upper-domain"`.
    UpperDomain,
}

/// `too_many_groups`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OverflowToml {
    /// `"drop"`.
    Drop,
    /// `"reject"`.
    #[default]
    Reject,
}

/// `encoding`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingToml {
    /// `"plain"`.
    Plain,
    /// `"sharepoint"`.
    Sharepoint,
}

const ISSUER_HINT: &str = "write \"windows\", \"system\", \"trusted:<trusted issuer name>\", \
                           \"forms:<provider>\" or \"claimprovider:<name>\"";

impl ClaimsToml {
    /// Checks the table and builds the mapping; errors name the key path from `claims`.
    pub fn into_mapping(self) -> Result<ClaimMapping, String> {
        self.into_mapping_at("claims")
    }

    /// As [`into_mapping`](Self::into_mapping), with key paths under `path`
    /// (`issuers[2].claims`).
    pub fn into_mapping_at(self, path: &str) -> Result<ClaimMapping, String> {
        let label = Label::new(&self.label).map_err(|e| {
            format!(
                "{path}.label: {}; hint: a label such as \"K2\", \"K2SQL\" or \"AAD\"",
                e.message
            )
        })?;
        let mut identity = vec![identity_source(self.identity, &format!("{path}.identity"))?];
        for (i, f) in self.fallback.into_iter().enumerate() {
            identity.push(identity_source(f, &format!("{path}.fallback[{i}]"))?);
        }
        let domain = match (self.domain, self.upn_suffixes) {
            (DomainToml::UpnSuffix, Some(suffixes)) if !suffixes.is_empty() => {
                let mut table = UpnSuffixTable::new();
                for (suffix, domain) in &suffixes {
                    table
                        .insert(suffix, domain)
                        .map_err(|e| format!("{path}.upn_suffixes.\"{suffix}\": {}", e.message))?;
                }
                DomainRule::UpnSuffix(table)
            }
            (DomainToml::UpnSuffix, _) => {
                return Err(format!(
                    "{path}.upn_suffixes: required (and non-empty) with domain = \"upn-suffix\"; \
                     hint: add [{path}.upn_suffixes] with lines such as \"denallix.com\" = \
                     \"DENALLIX\""
                ));
            }
            (_, Some(_)) => {
                return Err(format!(
                    "{path}.upn_suffixes: only used with domain = \"upn-suffix\"; hint: remove \
                     it or set domain = \"upn-suffix\""
                ));
            }
            (DomainToml::DownLevel, None) => DomainRule::DownLevel,
            (DomainToml::None, None) => DomainRule::None,
        };
        let case = match self.case {
            CaseToml::Lower => CaseRule::Lower,
            CaseToml::Preserve => CaseRule::Preserve,
            CaseToml::UpperDomain => CaseRule::UpperDomain,
        };
        let user_prefix = NamePrefix::new(&self.user_prefix)
            .map_err(|e| format!("{path}.user_prefix: {}", e.message))?;
        let group_prefix = NamePrefix::new(&self.group_prefix)
            .map_err(|e| format!("{path}.group_prefix: {}", e.message))?;
        if self.max_value_length == 0 {
            return Err(format!(
                "{path}.max_value_length: must be at least 1; hint: the default is {}",
                default_max_value_length()
            ));
        }
        let identity_provider = match self.identity_provider {
            None => None,
            Some(r) => {
                let p = format!("{path}.identity_provider");
                Some(RequiredClaim {
                    selector: selector(&r.claim, r.original_issuer.as_deref(), &p)?,
                    value: non_empty(r.value, &format!("{p}.value"))?,
                })
            }
        };
        let mut groups = Vec::with_capacity(self.groups.len());
        for (i, g) in self.groups.into_iter().enumerate() {
            let p = format!("{path}.groups[{i}]");
            groups.push(GroupSource {
                selector: selector(&g.claim, g.original_issuer.as_deref(), &p)?,
                encoding: encoding(g.encoding, g.issuers, &p)?,
            });
        }
        let mut claim_type_table = ClaimTypeTable::new();
        for (key, uri) in self.claim_type_encodings {
            let p = format!("{path}.claim_type_encodings.\"{key}\"");
            let mut chars = key.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(format!(
                    "{p}: the key must be one character (as Get-SPClaimTypeEncoding lists it)"
                ));
            };
            claim_type_table
                .insert(c, uri)
                .map_err(|e| format!("{p}: {}", e.message))?;
        }
        Ok(ClaimMapping {
            label,
            identity,
            identity_provider,
            groups,
            domain,
            case,
            user_prefix,
            group_prefix,
            limits: Limits {
                max_value_len: self.max_value_length,
                max_groups: self.max_groups,
                group_overflow: match self.too_many_groups {
                    OverflowToml::Drop => GroupOverflow::Drop,
                    OverflowToml::Reject => GroupOverflow::Reject,
                },
            },
            claim_type_table,
        })
    }
}

fn identity_source(t: IdentityToml, path: &str) -> Result<IdentitySource, String> {
    match (t.claim, t.subject) {
        (Some(claim), None) => Ok(IdentitySource::Claim {
            selector: selector(&claim, t.original_issuer.as_deref(), path)?,
            encoding: encoding(t.encoding, t.issuers, path)?,
        }),
        (None, Some(true)) => {
            if t.original_issuer.is_some() || t.encoding.is_some() || t.issuers.is_some() {
                return Err(format!(
                    "{path}: subject = true takes no original_issuer, encoding or issuers; \
                     hint: use {{ claim = \"...\" }} to read a claim"
                ));
            }
            Ok(IdentitySource::Subject)
        }
        (None, Some(false)) => Err(format!(
            "{path}.subject: false names no identity; hint: set subject = true or use \
             claim = \"...\""
        )),
        (None, None) => Err(format!(
            "{path}: names no identity; hint: {{ claim = \"<claim type URI>\" }} or \
             {{ subject = true }}"
        )),
        (Some(_), Some(_)) => Err(format!("{path}: give either claim or subject, not both")),
    }
}

fn selector(
    claim_type: &str,
    original_issuer: Option<&str>,
    path: &str,
) -> Result<ClaimSelector, String> {
    let claim_type = non_empty(claim_type.to_owned(), &format!("{path}.claim"))?;
    if claim_type.trim() != claim_type {
        return Err(format!(
            "{path}.claim: {claim_type:?} has white space at an end; claim types match exactly"
        ));
    }
    let mut s = ClaimSelector::new(&claim_type);
    if let Some(oi) = original_issuer {
        s = s.with_original_issuer(&non_empty(
            oi.to_owned(),
            &format!("{path}.original_issuer"),
        )?);
    }
    Ok(s)
}

fn encoding(
    encoding: Option<EncodingToml>,
    issuers: Option<Vec<String>>,
    path: &str,
) -> Result<ValueEncoding, String> {
    match (encoding, issuers) {
        (None | Some(EncodingToml::Plain), None) => Ok(ValueEncoding::Plain),
        (None | Some(EncodingToml::Plain), Some(_)) => Err(format!(
            "{path}.issuers: only used with encoding = \"sharepoint\""
        )),
        (Some(EncodingToml::Sharepoint), None) => Err(format!(
            "{path}.issuers: required with encoding = \"sharepoint\": the decoded claim's \
             issuer must be bound to this label; hint: issuers = [\"windows\"] (or \
             \"trusted:<name>\", \"forms:<provider>\")"
        )),
        (Some(EncodingToml::Sharepoint), Some(list)) => {
            if list.is_empty() {
                return Err(format!(
                    "{path}.issuers: empty; it must name at least one issuer; hint: \
                     {ISSUER_HINT}"
                ));
            }
            let mut accept = Vec::with_capacity(list.len());
            for (i, spec) in list.iter().enumerate() {
                let issuer = parse_issuer(spec).ok_or_else(|| {
                    format!("{path}.issuers[{i}]: {spec:?} is not an issuer; hint: {ISSUER_HINT}")
                })?;
                accept.push(issuer);
            }
            Ok(ValueEncoding::SharePoint { accept })
        }
    }
}

fn non_empty(s: String, path: &str) -> Result<String, String> {
    if s.is_empty() {
        Err(format!("{path}: must not be empty"))
    } else {
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reason;
    use crate::claims::{Claim, OriginalIssuer, claim_types};

    /// The documentation's wrapper: `[[issuers]]` with a `claims` table (other issuer keys are
    /// the issuer configuration's business).
    #[derive(Deserialize)]
    struct Doc {
        issuers: Vec<Issuer>,
    }

    #[derive(Deserialize)]
    struct Issuer {
        claims: ClaimsToml,
    }

    fn parse(toml_text: &str) -> Result<ClaimMapping, String> {
        let t: ClaimsToml = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        t.into_mapping()
    }

    fn mapping(toml_text: &str) -> ClaimMapping {
        parse(toml_text).unwrap_or_else(|e| panic!("{e}\n{toml_text}"))
    }

    fn err(toml_text: &str) -> String {
        match parse(toml_text) {
            Ok(m) => panic!("accepted: {m:?}"),
            Err(e) => e,
        }
    }

    /// The TOML blocks of `docs/claims-mapping.md`.
    fn doc_blocks() -> Vec<String> {
        let doc = include_str!("../../docs/claims-mapping.md");
        let mut blocks = Vec::new();
        let mut current: Option<String> = None;
        for line in doc.lines() {
            match (&mut current, line.trim_end()) {
                (None, "```toml") => current = Some(String::new()),
                (Some(b), "```") => {
                    blocks.push(std::mem::take(b));
                    current = None;
                }
                (Some(b), l) => {
                    b.push_str(l);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
        blocks
    }

    fn doc_mapping(index: usize) -> ClaimMapping {
        let blocks = doc_blocks();
        let block = blocks.get(index).unwrap_or_else(|| panic!("block {index}"));
        let doc: Doc = toml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let mut issuers = doc.issuers.into_iter();
        match (issuers.next(), issuers.next()) {
            (Some(i), None) => i
                .claims
                .into_mapping_at("issuers[0].claims")
                .unwrap_or_else(|e| panic!("{e}\n{block}")),
            _ => panic!("block {index}: one issuer expected"),
        }
    }

    #[test]
    fn every_documented_example_parses_and_maps() {
        let blocks = doc_blocks();
        assert_eq!(blocks.len(), 5, "the reference block and four examples");
        // The reference block (the same as this module's documentation).
        let reference = doc_mapping(0);
        let p = reference
            .map(
                "x",
                None,
                vec![
                    Claim::new(claim_types::IDENTITY_PROVIDER, "Windows")
                        .with_original_issuer("SecurityTokenService"),
                    Claim::new(claim_types::UPN, "bob@denallix.com"),
                ],
            )
            .expect("reference");
        assert_eq!(p.fqn, "K2:DENALLIX\\bob");

        let adfs = doc_mapping(1);
        let p = adfs
            .map(
                "http://adfs.denallix.com/adfs/services/trust",
                None,
                vec![
                    Claim::new(claim_types::WINDOWS_ACCOUNT_NAME, "denallix\\bob"),
                    Claim::new(claim_types::GROUP_SID, "S-1-5-21-1-2-3-513"),
                    Claim::new(claim_types::ROLE, "Finance"),
                ],
            )
            .expect("adfs");
        assert_eq!(p.fqn, "K2:DENALLIX\\bob");
        assert_eq!(p.groups, ["K2:Finance"]);

        let entra = doc_mapping(2);
        let p = entra
            .map(
                "https://sts.windows.net/tenant/",
                Some("pairwise-id"),
                vec![
                    Claim::new(claim_types::NAME, "bob@denallix.onmicrosoft.com"),
                    Claim::new(claim_types::GROUPS, "6510e196-d412-41de-a2e3-f99e8c0ffb4a"),
                ],
            )
            .expect("entra");
        assert_eq!(p.fqn, "AAD:bob@denallix.onmicrosoft.com");
        assert_eq!(p.groups, ["AAD:6510e196-d412-41de-a2e3-f99e8c0ffb4a"]);

        let sql = doc_mapping(3);
        let p = sql
            .map(
                "https://k2.denallix.com/Identity/sts/Forms",
                Some("K2Admin"),
                vec![Claim::new(claim_types::ROLE, "Approvers")],
            )
            .expect("sql");
        assert_eq!(p.fqn, "K2SQL:K2Admin");
        assert_eq!(p.groups, ["K2SQL:Approvers"]);

        let sharepoint = doc_mapping(4);
        let p = sharepoint
            .map(
                "SharePoint",
                None,
                vec![
                    Claim::new(claim_types::IDENTITY_PROVIDER, "windows")
                        .with_original_issuer("SecurityTokenService"),
                    Claim::new(claim_types::USER_ID, "0#.w|contoso\\administrator")
                        .with_original_issuer("SecurityTokenService"),
                    Claim::new(claim_types::USER_LOGON_NAME, "CONTOSO\\Administrator")
                        .with_original_issuer("Windows"),
                    Claim::new(claim_types::ROLE, "c:0+.w|s-1-5-21-1-2-3-513"),
                ],
            )
            .expect("sharepoint");
        assert_eq!(p.fqn, "K2:contoso\\administrator");
        assert_eq!(p.groups, ["K2:s-1-5-21-1-2-3-513"]);
        let trusted_user = sharepoint.map(
            "SharePoint",
            None,
            vec![
                Claim::new(claim_types::IDENTITY_PROVIDER, "windows")
                    .with_original_issuer("SecurityTokenService"),
                Claim::new(claim_types::USER_ID, "05.t|adfs|contoso\\administrator")
                    .with_original_issuer("SecurityTokenService"),
            ],
        );
        assert_eq!(
            trusted_user.expect_err("trusted user").reason,
            Reason::ClaimsMapping
        );
    }

    #[test]
    fn full_table() {
        let m = mapping(
            r#"
            label = "K2"
            identity = { claim = "urn:upn", original_issuer = "AD AUTHORITY" }
            fallback = [{ subject = true }, { claim = "urn:id", encoding = "sharepoint", issuers = ["windows", "trusted:ADFS"] }]
            domain = "upn-suffix"
            case = "upper-domain"
            user_prefix = ""
            group_prefix = "g-"
            max_value_length = 100
            max_groups = 5
            too_many_groups = "drop"
            [upn_suffixes]
            "denallix.com" = "DENALLIX"
            [identity_provider]
            claim = "urn:idp"
            value = "windows"
            [[groups]]
            claim = "urn:role"
            original_issuer = "AD AUTHORITY"
            [[groups]]
            claim = "urn:sp"
            encoding = "sharepoint"
            issuers = ["forms:ldaprole"]
            [claim_type_encodings]
            "ǵ" = "http://schemas.k2.com/identity/claims/name"
            "#,
        );
        assert_eq!(m.label.as_str(), "K2");
        assert_eq!(m.identity.len(), 3);
        assert_eq!(m.identity[1], IdentitySource::Subject);
        assert_eq!(
            m.identity[2],
            IdentitySource::Claim {
                selector: ClaimSelector::new("urn:id"),
                encoding: ValueEncoding::SharePoint {
                    accept: vec![
                        OriginalIssuer::Windows,
                        OriginalIssuer::Trusted("ADFS".into())
                    ]
                }
            }
        );
        assert!(
            matches!(m.domain, DomainRule::UpnSuffix(ref t) if t.lookup("DENALLIX.COM") == Some("DENALLIX"))
        );
        assert_eq!(m.case, CaseRule::UpperDomain);
        assert_eq!(m.group_prefix.as_str(), "g-");
        assert_eq!(
            m.limits,
            Limits {
                max_value_len: 100,
                max_groups: 5,
                group_overflow: GroupOverflow::Drop
            }
        );
        assert_eq!(m.groups.len(), 2);
        assert_eq!(
            m.claim_type_table.resolve('ǵ'),
            Some("http://schemas.k2.com/identity/claims/name")
        );
        let p = m
            .map(
                "x",
                None,
                vec![
                    Claim::new("urn:idp", "Windows"),
                    Claim::new("urn:upn", "bob@denallix.com").with_original_issuer("AD AUTHORITY"),
                    Claim::new("urn:role", "Sales").with_original_issuer("AD AUTHORITY"),
                    Claim::new("urn:sp", "c:0-.f|ldaprole|finance"),
                ],
            )
            .expect("maps");
        assert_eq!(p.fqn, "K2:DENALLIX\\bob");
        assert_eq!(p.groups, ["K2:g-Sales", "K2:g-finance"]);
    }

    #[test]
    fn defaults() {
        let m = mapping(
            r#"label = "AAD"
identity = { claim = "urn:upn" }"#,
        );
        assert_eq!(m.domain, DomainRule::None);
        assert_eq!(m.case, CaseRule::Preserve);
        assert_eq!(m.limits, Limits::default());
        assert!(m.groups.is_empty() && m.identity_provider.is_none());
        assert!(m.claim_type_table.is_empty());
    }

    #[test]
    fn errors_name_the_key_path_and_a_hint() {
        let cases: &[(&str, &str)] = &[
            (
                r#"label = "K2:"
                identity = { claim = "u" }"#,
                "claims.label: invalid security label",
            ),
            (
                r#"label = "K2"
                identity = { }"#,
                "claims.identity: names no identity; hint",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u", subject = true }"#,
                "claims.identity: give either claim or subject",
            ),
            (
                r#"label = "K2"
                identity = { subject = false }"#,
                "claims.identity.subject: false",
            ),
            (
                r#"label = "K2"
                identity = { subject = true, original_issuer = "x" }"#,
                "claims.identity: subject = true takes no",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u", encoding = "sharepoint" }"#,
                "claims.identity.issuers: required",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u", encoding = "sharepoint", issuers = [] }"#,
                "claims.identity.issuers: empty",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u", encoding = "sharepoint", issuers = ["adfs"] }"#,
                "claims.identity.issuers[0]: \"adfs\" is not an issuer; hint",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u", issuers = ["windows"] }"#,
                "claims.identity.issuers: only used with encoding",
            ),
            (
                r#"label = "K2"
                identity = { claim = " u" }"#,
                "claims.identity.claim: \" u\" has white space",
            ),
            (
                r#"label = "K2"
                identity = { claim = "" }"#,
                "claims.identity.claim: must not be empty",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                fallback = [{ claim = "v", original_issuer = "" }]"#,
                "claims.fallback[0].original_issuer: must not be empty",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                domain = "upn-suffix""#,
                "claims.upn_suffixes: required",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                [upn_suffixes]
                "a.com" = "A""#,
                "claims.upn_suffixes: only used with domain",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                domain = "upn-suffix"
                [upn_suffixes]
                "a.com" = "A\\B""#,
                "claims.upn_suffixes.\"a.com\": domain",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                user_prefix = "a:b""#,
                "claims.user_prefix:",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                group_prefix = " x""#,
                "claims.group_prefix:",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                max_value_length = 0"#,
                "claims.max_value_length: must be at least 1",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                [identity_provider]
                claim = "urn:idp"
                value = """#,
                "claims.identity_provider.value: must not be empty",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                [[groups]]
                claim = "r"
                encoding = "sharepoint"
                issuers = ["trusted:"]"#,
                "claims.groups[0].issuers[0]",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                [claim_type_encodings]
                "ab" = "urn:x""#,
                "must be one character",
            ),
            (
                r#"label = "K2"
                identity = { claim = "u" }
                [claim_type_encodings]
                "a" = "urn:x""#,
                "claims.claim_type_encodings.\"a\": 'a' cannot be a farm-generated",
            ),
        ];
        for (text, needle) in cases {
            let e = err(text);
            assert!(e.contains(needle), "{needle:?} not in {e:?}");
        }
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        for text in [
            "label = \"K2\"\nidentity = { claim = \"u\" }\nlabels = \"x\"",
            "label = \"K2\"\nidentity = { claim = \"u\", type = \"x\" }",
            "label = \"K2\"\nidentity = { claim = \"u\" }\ndomain = \"upn\"",
            "label = \"K2\"\nidentity = { claim = \"u\" }\ncase = \"upper\"",
            "label = \"K2\"\nidentity = { claim = \"u\", encoding = \"base64\" }",
            "label = \"K2\"\nidentity = { claim = \"u\" }\n[[groups]]\nclaim = \"r\"\nx = 1",
            "identity = { claim = \"u\" }",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn key_paths_under_an_issuer() {
        let t: ClaimsToml =
            toml::from_str("label = \"\"\nidentity = { claim = \"u\" }").expect("parses");
        let e = t
            .into_mapping_at("issuers[2].claims")
            .expect_err("empty label");
        assert!(e.starts_with("issuers[2].claims.label:"), "{e}");
    }
}
