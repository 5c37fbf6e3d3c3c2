//! From a validated token to the session [`Principal`], through the issuer's claim mapping
//! ([`crate::claims::ClaimMapping::map_token`]: identity source, SharePoint decoding, domain
//! and case rules, group FQNs, limits — every failure a `claims.*` reason).
//!
//! The session keeps the principal's FQN, name, group FQNs and the token's other claims; the
//! values of the group-source claims are not kept twice (large group sets dominate the
//! cookie).

use super::error::Rejection;
use crate::Reason;
use crate::config::IssuerConfig;
use crate::session::Principal;
use crate::token::ValidatedAssertion;

/// Builds the principal. `max_claims` bounds what the session keeps (`claims.too_large`).
pub fn build(
    v: &ValidatedAssertion,
    issuer: &IssuerConfig,
    max_claims: usize,
) -> Result<Principal, Rejection> {
    let mapped = issuer
        .claims
        .map_token(v)
        .map_err(|e| Rejection::new(e.reason, e.message))?;
    let group_types: Vec<&str> = issuer
        .claims
        .groups
        .iter()
        .map(|g| g.selector.claim_type.as_str())
        .collect();
    let claims: Vec<(String, String)> = mapped
        .claims
        .into_iter()
        .filter(|c| !group_types.contains(&c.claim_type.as_str()))
        .map(|c| (c.claim_type, c.value))
        .collect();
    if claims.len() > max_claims {
        return Err(Rejection::new(
            Reason::ClaimsTooLarge,
            format!("{} claims, over {max_claims}", claims.len()),
        ));
    }
    Ok(Principal {
        fqn: mapped.fqn,
        name: mapped.name,
        issuer: v.issuer().to_owned(),
        issuer_name: issuer.name.clone(),
        groups: mapped.groups,
        claims,
        authn_instant: v.authn_instant(),
    })
}
