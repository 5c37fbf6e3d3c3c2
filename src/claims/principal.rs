//! Applying a [`ClaimMapping`] to the claims of a validated token: the [`Principal`].
//!
//! The rules are in [`crate::claims::mapping`]. Order of checks, each failing with its own
//! reason: identity-provider claim (missing / ambiguous / mapping), identity source
//! (missing / ambiguous), value size (too_large), SharePoint decoding (encoding, mapping),
//! name characters (invalid_chars, missing when empty), domain rule (invalid_chars,
//! mapping), then the groups in the same way, then the group count (too_large or drop).

use std::collections::HashSet;

use crate::Reason;
use crate::claims::Claim;
use crate::claims::encoding::{ClaimKind, EncodedClaim, decode_with};
use crate::claims::error::{ClaimsError, show_str};
use crate::claims::fqn::{check_chars, check_name, is_everyone_claim};
use crate::claims::mapping::{
    CaseRule, ClaimMapping, DomainRule, GroupOverflow, IdentitySource, RequiredClaim,
    ValueEncoding, same_issuer,
};
use crate::claims::text::{eq_ignore_case, lower, simple_upper, upper};

/// The signed-in user as the rest of fedrp sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// `label:name`.
    pub fqn: String,
    /// The part after the label.
    pub name: String,
    /// The security label.
    pub label: String,
    /// Group FQNs, `label:name`, distinct (ordinal case-insensitive), in token order.
    pub groups: Vec<String>,
    /// Every claim of the token, unchanged.
    pub claims: Vec<Claim>,
    /// The token issuer (entity id) the mapping was selected for.
    pub issuer: String,
}

impl ClaimMapping {
    /// Maps a validated token to a [`Principal`]: first the checks only the token's structure
    /// can answer — the identity claim type given by two Attribute elements
    /// (`claims.duplicate`, catalogue M03) or with element content (`claims.complex_value`,
    /// C08) — then [`ClaimMapping::map`] over its claims and subject.
    pub fn map_token(
        &self,
        token: &crate::token::ValidatedAssertion,
    ) -> Result<Principal, ClaimsError> {
        for ty in self.identity_claim_types() {
            let attrs: Vec<&crate::token::Attribute> = token
                .attributes()
                .iter()
                .filter(|a| a.claim_type == ty)
                .collect();
            if attrs.len() > 1 {
                return Err(ClaimsError::new(
                    Reason::ClaimsDuplicate,
                    format!(
                        "the identity claim {ty} is given by {} Attribute elements",
                        attrs.len()
                    ),
                ));
            }
            if attrs.iter().any(|a| {
                a.values
                    .iter()
                    .any(|v| matches!(v, crate::token::AttrValue::Complex(_)))
            }) {
                return Err(ClaimsError::new(
                    Reason::ClaimsComplexValue,
                    format!("the identity claim {ty} has element content, not text"),
                ));
            }
        }
        self.map(token.issuer(), token.subject(), token.claims())
    }

    /// Maps a validated token's claims (and its subject NameID, if any) to a [`Principal`].
    ///
    /// `issuer` is the token issuer the caller selected this mapping for; it is copied into
    /// the principal. Errors carry one of `claims.missing`, `claims.ambiguous`,
    /// `claims.encoding`, `claims.invalid_chars`, `claims.mapping`, `claims.too_large`.
    pub fn map(
        &self,
        issuer: &str,
        subject: Option<&str>,
        claims: Vec<Claim>,
    ) -> Result<Principal, ClaimsError> {
        if let Some(required) = &self.identity_provider {
            check_required(required, &claims)?;
        }
        let name = self.user_name(subject, &claims)?;
        let groups = self.group_names(&claims)?;
        let label = self.label.as_str().to_owned();
        Ok(Principal {
            fqn: format!("{label}:{name}"),
            name,
            groups: groups.into_iter().map(|g| format!("{label}:{g}")).collect(),
            label,
            claims,
            issuer: issuer.to_owned(),
        })
    }

    /// The user name (after the label).
    fn user_name(&self, subject: Option<&str>, claims: &[Claim]) -> Result<String, ClaimsError> {
        let (source, raw) = self.identity_value(subject, claims)?;
        let what = "identity value";
        self.check_len(raw, what)?;
        let value = match source {
            IdentitySource::Claim {
                encoding: ValueEncoding::SharePoint { accept },
                ..
            } => {
                let claim = decode_with(raw, &self.claim_type_table)?;
                if claim.kind == Some(ClaimKind::Claim) {
                    return Err(mapping_error(format!(
                        "the identity value {} is a 'c:' claim, which never names a user",
                        show_str(raw, 80)
                    )));
                }
                if is_everyone_claim(&claim) {
                    return Err(mapping_error(format!(
                        "the identity value {} stands for a set of users, not a user",
                        show_str(raw, 80)
                    )));
                }
                accepted_issuer(&claim, accept, raw)?;
                claim.value
            }
            _ => raw.to_owned(),
        };
        check_chars(&value, what)?;
        let shaped = self.apply_domain_rule(&value)?;
        let name = format!("{}{}", self.user_prefix.as_str(), self.case.apply(&shaped));
        check_name(&name, "user name")?;
        Ok(name)
    }

    /// The first present identity source and its one value.
    fn identity_value<'a>(
        &'a self,
        subject: Option<&'a str>,
        claims: &'a [Claim],
    ) -> Result<(&'a IdentitySource, &'a str), ClaimsError> {
        for source in &self.identity {
            match source {
                IdentitySource::Subject => {
                    if let Some(s) = subject {
                        return Ok((source, s));
                    }
                }
                IdentitySource::Claim { selector, .. } => {
                    let mut found = claims.iter().filter(|c| selector.matches(c));
                    match (found.next(), found.next()) {
                        (None, _) => {}
                        (Some(one), None) => return Ok((source, one.value.as_str())),
                        (Some(_), Some(_)) => {
                            let n = 2 + found.count();
                            return Err(ClaimsError::new(
                                Reason::ClaimsAmbiguous,
                                format!(
                                    "the identity {} has {n} values; exactly one is required",
                                    selector.describe()
                                ),
                            ));
                        }
                    }
                }
            }
        }
        let looked_for: Vec<String> = self.identity.iter().map(IdentitySource::describe).collect();
        Err(ClaimsError::new(
            Reason::ClaimsMissing,
            if looked_for.is_empty() {
                "the mapping names no identity claim".to_owned()
            } else {
                format!(
                    "no identity: the token has no {}",
                    looked_for.join(", nor ")
                )
            },
        ))
    }

    /// Shapes a checked identity value with the domain rule.
    fn apply_domain_rule(&self, value: &str) -> Result<String, ClaimsError> {
        match &self.domain {
            DomainRule::DownLevel => {
                let parts: Vec<&str> = value.split('\\').collect();
                match parts.as_slice() {
                    [domain, user] if !domain.is_empty() && !user.is_empty() => {
                        check_chars(domain, "domain part")?;
                        check_chars(user, "user part")?;
                        Ok(value.to_owned())
                    }
                    [_, _] | [_] => Err(mapping_error(format!(
                        "the identity value {} is not DOMAIN\\user",
                        show_str(value, 80)
                    ))),
                    _ => Err(backslash_error(value)),
                }
            }
            DomainRule::None => {
                if value.contains('\\') {
                    return Err(backslash_error(value));
                }
                Ok(value.to_owned())
            }
            DomainRule::UpnSuffix(table) => {
                if value.contains('\\') {
                    return Err(backslash_error(value));
                }
                let parts: Vec<&str> = value.split('@').collect();
                let [user, suffix] = parts.as_slice() else {
                    return Err(mapping_error(format!(
                        "the identity value {} is not user@suffix (exactly one '@')",
                        show_str(value, 80)
                    )));
                };
                if user.is_empty() || suffix.is_empty() {
                    return Err(mapping_error(format!(
                        "the identity value {} has an empty user or suffix",
                        show_str(value, 80)
                    )));
                }
                check_chars(user, "user part")?;
                let Some(domain) = table.lookup(suffix) else {
                    return Err(mapping_error(format!(
                        "UPN suffix {} has no domain in the mapping's suffix table",
                        show_str(suffix, 80)
                    )));
                };
                Ok(format!("{domain}\\{user}"))
            }
        }
    }

    /// Group names (after the label), distinct, limited.
    fn group_names(&self, claims: &[Claim]) -> Result<Vec<String>, ClaimsError> {
        let mut names: Vec<String> = Vec::new();
        // Case-insensitive duplicates (as `eq_ignore_case` compares): one set lookup per group
        // instead of a scan of every name kept so far (200 groups: 0.55 ms -> a few µs).
        let mut seen: HashSet<String> = HashSet::new();
        let mut over = 0usize;
        for source in &self.groups {
            for claim in claims.iter().filter(|c| source.selector.matches(c)) {
                let Some(name) = self.group_name(&source.encoding, &claim.value)? else {
                    continue;
                };
                let key = if name.is_ascii() {
                    name.to_ascii_uppercase()
                } else {
                    name.chars().map(simple_upper).collect()
                };
                if !seen.insert(key) {
                    continue;
                }
                if names.len() == self.limits.max_groups {
                    if self.limits.group_overflow == GroupOverflow::Reject {
                        return Err(ClaimsError::new(
                            Reason::ClaimsTooLarge,
                            format!(
                                "more than {} distinct groups (the configured maximum)",
                                self.limits.max_groups
                            ),
                        ));
                    }
                    over += 1;
                    continue;
                }
                names.push(name);
            }
        }
        if over > 0 {
            tracing::warn!(
                reason = Reason::ClaimsTooLarge.code(),
                label = self.label.as_str(),
                kept = names.len(),
                dropped = over,
                "more distinct groups than the configured maximum; extra groups dropped"
            );
        }
        Ok(names)
    }

    /// One group name, or `None` for an encoded "everyone" claim (skipped).
    fn group_name(
        &self,
        encoding: &ValueEncoding,
        raw: &str,
    ) -> Result<Option<String>, ClaimsError> {
        let what = "group value";
        self.check_len(raw, what)?;
        let value = match encoding {
            ValueEncoding::Plain => raw.to_owned(),
            ValueEncoding::SharePoint { accept } => {
                let claim = decode_with(raw, &self.claim_type_table)?;
                if claim.kind == Some(ClaimKind::Identity) {
                    return Err(mapping_error(format!(
                        "the group value {} is an 'i:' claim, which names a user",
                        show_str(raw, 80)
                    )));
                }
                if is_everyone_claim(&claim) {
                    tracing::debug!(
                        label = self.label.as_str(),
                        value = %show_str(raw, 80),
                        "skipping an encoded 'everyone' claim among the groups"
                    );
                    return Ok(None);
                }
                accepted_issuer(&claim, accept, raw)?;
                claim.value
            }
        };
        check_chars(&value, what)?;
        let name = format!("{}{}", self.group_prefix.as_str(), self.case.apply(&value));
        check_name(&name, "group name")?;
        Ok(Some(name))
    }

    fn check_len(&self, raw: &str, what: &str) -> Result<(), ClaimsError> {
        let max = self.limits.max_value_len;
        // Cheap bound first: a string of at most `max` bytes has at most `max` characters.
        if raw.len() > max && raw.chars().nth(max).is_some() {
            return Err(ClaimsError::new(
                Reason::ClaimsTooLarge,
                format!(
                    "the {what} is longer than {max} characters ({} bytes)",
                    raw.len()
                ),
            ));
        }
        Ok(())
    }
}

impl CaseRule {
    /// Applies the rule to a name.
    pub fn apply(self, name: &str) -> String {
        match self {
            CaseRule::Preserve => name.to_owned(),
            CaseRule::Lower => lower(name),
            CaseRule::UpperDomain => match name.split_once('\\') {
                Some((domain, rest)) => format!("{}\\{rest}", upper(domain)),
                None => name.to_owned(),
            },
        }
    }
}

/// The identity-provider claim check.
fn check_required(required: &RequiredClaim, claims: &[Claim]) -> Result<(), ClaimsError> {
    let mut found = claims.iter().filter(|c| required.selector.matches(c));
    match (found.next(), found.next()) {
        (None, _) => Err(ClaimsError::new(
            Reason::ClaimsMissing,
            format!(
                "the token has no {}, which this mapping requires",
                required.selector.describe()
            ),
        )),
        (Some(_), Some(_)) => Err(ClaimsError::new(
            Reason::ClaimsAmbiguous,
            format!(
                "the required {} appears more than once",
                required.selector.describe()
            ),
        )),
        (Some(one), None) if eq_ignore_case(&one.value, &required.value) => Ok(()),
        (Some(one), None) => Err(mapping_error(format!(
            "{} is {}, not {}: this mapping does not apply",
            required.selector.describe(),
            show_str(&one.value, 80),
            show_str(&required.value, 80)
        ))),
    }
}

/// The decoded claim's original issuer must be accepted.
fn accepted_issuer(
    claim: &EncodedClaim,
    accept: &[crate::claims::OriginalIssuer],
    raw: &str,
) -> Result<(), ClaimsError> {
    if accept.iter().any(|a| same_issuer(a, &claim.issuer)) {
        return Ok(());
    }
    let issuer = match claim.issuer.name() {
        Some(n) => format!("{}:{n}", claim.issuer.issuer_type()),
        None => claim.issuer.issuer_type().to_owned(),
    };
    Err(mapping_error(format!(
        "the encoded value {} comes from issuer {}, which this mapping does not accept",
        show_str(raw, 80),
        show_str(&issuer, 80)
    )))
}

fn mapping_error(message: String) -> ClaimsError {
    ClaimsError::new(Reason::ClaimsMapping, message)
}

fn backslash_error(value: &str) -> ClaimsError {
    ClaimsError::new(
        Reason::ClaimsInvalidChars,
        format!(
            "the identity value {} holds a '\\' where this mapping's domain rule allows none \
             (or more than one)",
            show_str(value, 80)
        ),
    )
}
