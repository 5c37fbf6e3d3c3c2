//! From a validated token to the session [`Principal`]: the issuer's claim mapping picks the
//! identity claim (exactly one value, no characters that would change the FQN's meaning or
//! break a header) and the group claim; the FQN is `label:identity`.
//!
//! This is the one place the claim mapping is applied, so that switching to the per-issuer
//! mapping of `src/claims/` touches only [`build`].

use super::error::Rejection;
use crate::Reason;
use crate::config::IssuerConfig;
use crate::session::Principal;
use crate::token::ValidatedAssertion;

/// Longest identity value accepted.
const MAX_IDENTITY: usize = 512;

fn bad_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Builds the principal. `max_claims` bounds what the session keeps.
pub fn build(
    v: &ValidatedAssertion,
    issuer: &IssuerConfig,
    max_claims: usize,
) -> Result<Principal, Rejection> {
    let map = &issuer.claims;
    let claims = v.claims();
    let mut ids: Vec<&str> = claims
        .iter()
        .filter(|c| c.claim_type == map.identity)
        .map(|c| c.value.as_str())
        .collect();
    ids.dedup();
    let name = match ids.as_slice() {
        [] => {
            return Err(Rejection::new(
                Reason::ClaimsMissing,
                format!("no {} claim", map.identity),
            ));
        }
        [one] => one.trim().to_owned(),
        _ => {
            return Err(Rejection::new(
                Reason::ClaimsAmbiguous,
                format!("{} values for {}", ids.len(), map.identity),
            ));
        }
    };
    if name.is_empty() {
        return Err(Rejection::new(
            Reason::ClaimsMissing,
            format!("empty {} claim", map.identity),
        ));
    }
    if name.len() > MAX_IDENTITY {
        return Err(Rejection::new(
            Reason::ClaimsTooLarge,
            format!("identity of {} bytes", name.len()),
        ));
    }
    if name.chars().any(bad_char) || name.contains('|') {
        return Err(Rejection::new(
            Reason::ClaimsInvalidChars,
            "control, bidi or separator characters in the identity",
        ));
    }
    let groups: Vec<String> = claims
        .iter()
        .filter(|c| c.claim_type == map.groups)
        .map(|c| c.value.clone())
        .collect();
    if groups.len() > map.max_groups {
        return Err(Rejection::new(
            Reason::ClaimsTooLarge,
            format!("{} groups, over {}", groups.len(), map.max_groups),
        ));
    }
    if groups.iter().any(|g| g.chars().any(bad_char)) {
        return Err(Rejection::new(
            Reason::ClaimsInvalidChars,
            "control or bidi characters in a group",
        ));
    }
    if claims.len() > max_claims {
        return Err(Rejection::new(
            Reason::ClaimsTooLarge,
            format!("{} claims, over {max_claims}", claims.len()),
        ));
    }
    Ok(Principal {
        fqn: format!("{}:{name}", issuer.label),
        name,
        issuer: v.issuer().to_owned(),
        issuer_name: issuer.name.clone(),
        groups,
        // Group values are kept once, in `groups` (large group sets dominate the cookie).
        claims: claims
            .into_iter()
            .filter(|c| c.claim_type != map.groups)
            .map(|c| (c.claim_type, c.value))
            .collect(),
        authn_instant: v.authn_instant(),
    })
}
