//! Semantic checks on the verified assertion: key policy, issuer, conditions, audience,
//! lifetime with skew, subject, bearer confirmation, recipient / destination, authentication
//! statement and InResponseTo. (Repeated attributes are the claim mapping's business: only
//! the identity claim must be unambiguous.) Time is a parameter; nothing here reads
//! a clock.

use chrono::{DateTime, Duration, Utc};

use super::error::reject;
use super::model::{AssertionModel, Confirmation, ResponseModel};
use super::ns::{CM_BEARER1, CM_BEARER2, STATUS_SUCCESS};
use super::{InResponseTo, Policy, SamlVersion, TokenError};
use crate::Reason;
use crate::trust::{TrustedIssuer, TrustedKey};

/// The SAML-P Response around the assertion, and whether its own signature verified.
pub(crate) struct ResponseFacts<'a> {
    pub model: &'a ResponseModel,
    pub signed: bool,
}

/// Runs every semantic check in the documented order; the first failure is returned.
pub(crate) fn check(
    a: &AssertionModel,
    response: Option<ResponseFacts<'_>>,
    issuer: &TrustedIssuer,
    key: &TrustedKey,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let skew = policy.skew;

    // Key policy (signature step, after verification).
    if key.is_weak(issuer.policy.min_rsa_bits) {
        return reject(
            Reason::SigKeyWeak,
            format!(
                "signed with a {} key; this issuer requires RSA >= {} bits (min_rsa_bits)",
                key.describe(),
                issuer.policy.min_rsa_bits
            ),
        );
    }
    if issuer.policy.check_cert_validity
        && let Some(cert) = &key.cert
        && !cert.valid_at(a.issue_instant)
    {
        return reject(
            Reason::SigCertValidity,
            format!(
                "signing certificate {} is valid {} to {}, not at IssueInstant {}",
                cert.subject,
                cert.not_before.to_rfc3339(),
                cert.not_after.to_rfc3339(),
                a.issue_instant.to_rfc3339()
            ),
        );
    }

    // The Response around the assertion.
    if let Some(r) = &response {
        let m = r.model;
        if m.version.as_deref() != Some("2.0") {
            return reject(
                Reason::TokVersion,
                format!("Response Version {:?}; expected \"2.0\"", m.version),
            );
        }
        match (&m.issuer, &a.issuer) {
            (Some(ri), Some(ai)) if ri.trim() != ai.trim() => {
                return reject(
                    Reason::TokIssuer,
                    format!("Response Issuer {ri:?} differs from Assertion Issuer {ai:?}"),
                );
            }
            (None, _) => return reject(Reason::TokIssuer, "the Response has no Issuer"),
            _ => {}
        }
        match m.status.as_deref() {
            Some(STATUS_SUCCESS) => {}
            other => {
                return reject(
                    Reason::TokStatus,
                    format!("Response status {other:?}; expected Success"),
                );
            }
        }
        if let Some(acs) = &policy.recipient {
            match &m.destination {
                Some(d) if d != acs => {
                    return reject(
                        Reason::TokDestination,
                        format!("Destination {d:?}; expected {acs:?}"),
                    );
                }
                None if r.signed && policy.require_destination => {
                    return reject(
                        Reason::TokDestination,
                        format!("signed Response has no Destination; expected {acs:?}"),
                    );
                }
                _ => {}
            }
        }
    }

    // Issuer bound to the verifying key.
    let token_issuer = match &a.issuer {
        Some(i) if !i.trim().is_empty() => i.trim(),
        _ => return reject(Reason::TokIssuer, "the assertion names no Issuer"),
    };
    if let Some(bound) = issuer.name()
        && token_issuer != bound
    {
        return reject(
            Reason::TokIssuer,
            format!("Issuer {token_issuer:?}, but the verifying key belongs to {bound:?}"),
        );
    }

    // Conditions, audience, lifetime.
    let Some(c) = &a.conditions else {
        return reject(Reason::TokConditions, "the assertion has no Conditions");
    };
    if let (Some(nb), Some(noa)) = (c.not_before, c.not_on_or_after)
        && nb > noa
    {
        return reject(
            Reason::TokConditions,
            format!("NotBefore {nb} is after NotOnOrAfter {noa}"),
        );
    }
    if let Some(u) = c.unsupported.first() {
        return reject(
            Reason::TokConditionUnsupported,
            format!("condition {u} is not supported"),
        );
    }
    if c.audience_restrictions.is_empty() {
        return reject(
            Reason::TokAudience,
            "the assertion has no AudienceRestriction",
        );
    }
    for (i, restriction) in c.audience_restrictions.iter().enumerate() {
        if !restriction
            .iter()
            .any(|au| policy.audiences.iter().any(|ours| au.trim() == ours))
        {
            return reject(
                Reason::TokAudience,
                format!(
                    "AudienceRestriction #{} lists {restriction:?}; ours: {:?}",
                    i + 1,
                    policy.audiences
                ),
            );
        }
    }
    let Some(noa) = c.not_on_or_after else {
        return reject(Reason::TokConditions, "Conditions have no NotOnOrAfter");
    };
    if let Some(nb) = c.not_before
        && nb - skew > now
    {
        return reject(
            Reason::TokNotYetValid,
            format!("NotBefore {nb}, now {now} (skew {}s)", skew.num_seconds()),
        );
    }
    if now >= noa + skew {
        return reject(
            Reason::TokExpired,
            format!(
                "NotOnOrAfter {noa}, now {now} (skew {}s)",
                skew.num_seconds()
            ),
        );
    }
    if a.issue_instant - skew > now {
        return reject(
            Reason::TokNotYetValid,
            format!("IssueInstant {} is in the future", a.issue_instant),
        );
    }
    if let Some(max) = policy.max_token_age
        && now - a.issue_instant > max + skew
    {
        return reject(
            Reason::TokExpired,
            format!(
                "IssueInstant {} is older than the {}s maximum token age",
                a.issue_instant,
                max.num_seconds()
            ),
        );
    }

    // Subject.
    if a.encrypted_id {
        return reject(
            Reason::EncUnsupported,
            "EncryptedID subject, and no decryption key is configured",
        );
    }
    if !a.has_subject {
        return reject(Reason::TokSubject, "a statement has no Subject");
    }
    if !a.subjects_consistent {
        return reject(
            Reason::TokSubject,
            "the statements are about different subjects",
        );
    }
    match (&a.name_id, a.version) {
        (None, SamlVersion::V2_0) => {
            return reject(Reason::TokSubject, "the Subject has no NameID");
        }
        (Some(n), _) if n.value.trim().is_empty() => {
            return reject(Reason::TokSubject, "the NameID is empty");
        }
        (Some(n), _) => {
            if let Some(spq) = &n.sp_name_qualifier
                && !policy.audiences.iter().any(|a| a == spq)
            {
                return reject(
                    Reason::TokSubject,
                    format!("SPNameQualifier {spq:?} is not ours"),
                );
            }
        }
        (None, SamlVersion::V1_1) => {}
    }

    // Bearer confirmation.
    let bearer = match a.version {
        SamlVersion::V2_0 => CM_BEARER2,
        SamlVersion::V1_1 => CM_BEARER1,
    };
    let bearers: Vec<&Confirmation> = a
        .confirmations
        .iter()
        .filter(|c| c.method == bearer)
        .collect();
    // The per-issuer waiver covers only an assertion with no SubjectConfirmation at all, and
    // never a SAML-P Response (the Web SSO profile requires bearer confirmation data).
    let waived = a.confirmations.is_empty()
        && !issuer.policy.require_subject_confirmation
        && response.is_none();
    if bearers.is_empty() && !waived {
        return reject(
            Reason::TokConfirmation,
            format!("no {bearer} subject confirmation"),
        );
    }
    let mut first_err = None;
    let mut confirmed: Option<&Confirmation> = None;
    for b in &bearers {
        match confirmation(b, response.is_some(), policy, now, skew) {
            Ok(()) => {
                confirmed = Some(b);
                break;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if confirmed.is_none() && !waived {
        return Err(first_err.unwrap_or_else(|| {
            TokenError::new(Reason::TokConfirmation, "no valid bearer confirmation")
        }));
    }

    // Authentication statement.
    if a.authn.is_empty() && issuer.policy.require_authn_statement {
        return reject(
            Reason::TokAuthn,
            "the assertion has no authentication statement",
        );
    }
    for s in &a.authn {
        if s.instant - skew > now {
            return reject(
                Reason::TokAuthnStale,
                format!("AuthnInstant {} is in the future", s.instant),
            );
        }
        if let Some(max) = policy.max_authn_age
            && now - s.instant > max + skew
        {
            return reject(
                Reason::TokAuthnStale,
                format!(
                    "AuthnInstant {} is older than the {}s maximum",
                    s.instant,
                    max.num_seconds()
                ),
            );
        }
        if let Some(snoa) = s.session_not_on_or_after
            && now >= snoa + skew
        {
            return reject(
                Reason::TokExpired,
                format!("SessionNotOnOrAfter {snoa} has passed"),
            );
        }
    }

    // Correlation (only signed data counts).
    let signed_irt = confirmed
        .and_then(|c| c.in_response_to.clone())
        .or_else(|| {
            response
                .as_ref()
                .filter(|r| r.signed)
                .and_then(|r| r.model.in_response_to.clone())
        });
    match &policy.in_response_to {
        InResponseTo::Ignore => {}
        InResponseTo::Expect(id) => {
            if signed_irt.as_deref() != Some(id.as_str()) {
                return reject(
                    Reason::TokInResponseTo,
                    format!("signed InResponseTo {signed_irt:?}; the pending request is {id:?}"),
                );
            }
        }
        InResponseTo::Unsolicited => {
            if let Some(irt) = signed_irt {
                return reject(
                    Reason::TokInResponseTo,
                    format!("InResponseTo {irt:?}, but no request is pending"),
                );
            }
        }
    }

    if a.encrypted_attributes > 0 {
        return reject(
            Reason::EncUnsupported,
            "EncryptedAttribute, and no decryption key is configured",
        );
    }
    Ok(())
}

fn confirmation(
    c: &Confirmation,
    in_response: bool,
    policy: &Policy,
    now: DateTime<Utc>,
    skew: Duration,
) -> Result<(), TokenError> {
    if let Some(nb) = c.not_before
        && nb - skew > now
    {
        return reject(
            Reason::TokNotYetValid,
            format!("SubjectConfirmationData NotBefore {nb} is in the future"),
        );
    }
    if let Some(noa) = c.not_on_or_after
        && now >= noa + skew
    {
        return reject(
            Reason::TokExpired,
            format!("SubjectConfirmationData NotOnOrAfter {noa} has passed"),
        );
    }
    // SAML-P Web SSO: a bearer confirmation carries SubjectConfirmationData with NotOnOrAfter.
    if in_response && !c.has_data {
        return reject(
            Reason::TokConfirmation,
            "bearer confirmation without SubjectConfirmationData",
        );
    }
    if in_response && c.not_on_or_after.is_none() {
        return reject(
            Reason::TokConfirmation,
            "SubjectConfirmationData has no NotOnOrAfter",
        );
    }
    if let Some(acs) = &policy.recipient {
        match &c.recipient {
            Some(r) if r != acs => {
                return reject(
                    Reason::TokRecipient,
                    format!("Recipient {r:?}; expected {acs:?}"),
                );
            }
            None if in_response => {
                return reject(
                    Reason::TokRecipient,
                    format!("bearer confirmation has no Recipient; expected {acs:?}"),
                );
            }
            _ => {}
        }
    }
    Ok(())
}
