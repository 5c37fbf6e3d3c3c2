//! SAML 2.0 assertion and SAML-P Response models, parsed from verified canonical bytes.

use super::error::reject;
use super::model::*;
use super::ns::SAML2;
use super::{SamlVersion, TokenError};
use crate::Reason;
use crate::xml::{Document, NodeId};

/// Parses a SAML 2.0 `Assertion` element.
pub fn parse_assertion(doc: &Document, a: NodeId) -> Result<AssertionModel, TokenError> {
    if doc.attr(a, "", "Version") != Some("2.0") {
        return reject(
            Reason::TokVersion,
            format!(
                "Assertion Version {:?}; expected \"2.0\"",
                doc.attr(a, "", "Version")
            ),
        );
    }
    let id = attr(doc, a, "ID")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TokenError::new(Reason::TokVersion, "Assertion has no ID"))?;
    let issue_instant = required_time(doc, a, "IssueInstant", Reason::XmlMalformed)?;
    let mut m = AssertionModel {
        version: SamlVersion::V2_0,
        id,
        issuer: None,
        issue_instant,
        has_subject: false,
        name_id: None,
        encrypted_id: false,
        subjects_consistent: true,
        confirmations: Vec::new(),
        conditions: None,
        authn: Vec::new(),
        attributes: Vec::new(),
        encrypted_attributes: 0,
    };
    for c in doc.elements(a) {
        if doc.ns(c) != SAML2 {
            continue; // ds:Signature (already verified) — nothing else reaches here
        }
        match doc.local(c) {
            "Issuer" => m.issuer = Some(text(doc, c, Reason::TokIssuer)?),
            "Subject" => subject(doc, c, &mut m)?,
            "Conditions" => {
                if m.conditions.is_some() {
                    return reject(Reason::TokConditions, "more than one Conditions element");
                }
                m.conditions = Some(conditions(doc, c)?);
            }
            "AuthnStatement" => m.authn.push(Authn {
                instant: required_time(doc, c, "AuthnInstant", Reason::TokAuthn)?,
                session_not_on_or_after: time_attr(doc, c, "SessionNotOnOrAfter")?,
                session_index: attr(doc, c, "SessionIndex"),
                method: doc
                    .descendants(c)
                    .find(|&d| doc.is(d, SAML2, "AuthnContextClassRef"))
                    .and_then(|d| doc.text_ignoring_comments(d))
                    .map(|t| t.trim().to_owned()),
            }),
            "AttributeStatement" => {
                for at in doc.elements(c) {
                    if doc.is(at, SAML2, "EncryptedAttribute") {
                        m.encrypted_attributes += 1;
                        continue;
                    }
                    if !doc.is(at, SAML2, "Attribute") {
                        continue;
                    }
                    let name =
                        attr(doc, at, "Name")
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| {
                                TokenError::new(
                                    Reason::XmlUnexpectedElement,
                                    "Attribute without a Name",
                                )
                            })?;
                    m.attributes.push(Attribute {
                        claim_type: name,
                        original_issuer: original_issuer(doc, at),
                        values: doc
                            .elements(at)
                            .filter(|&v| doc.is(v, SAML2, "AttributeValue"))
                            .map(|v| attr_value(doc, v))
                            .collect(),
                    });
                }
            }
            _ => {} // Advice, AuthzDecisionStatement, Statement: never consumed
        }
    }
    Ok(m)
}

fn subject(doc: &Document, s: NodeId, m: &mut AssertionModel) -> Result<(), TokenError> {
    m.has_subject = true;
    for c in doc.elements(s) {
        if doc.is(c, SAML2, "NameID") {
            if m.name_id.is_some() {
                return reject(Reason::TokSubject, "more than one NameID");
            }
            m.name_id = Some(NameId {
                value: text(doc, c, Reason::TokSubject)?,
                format: attr(doc, c, "Format"),
                name_qualifier: attr(doc, c, "NameQualifier"),
                sp_name_qualifier: attr(doc, c, "SPNameQualifier"),
            });
        } else if doc.is(c, SAML2, "EncryptedID") {
            m.encrypted_id = true;
        } else if doc.is(c, SAML2, "SubjectConfirmation") {
            let method = attr(doc, c, "Method").unwrap_or_default();
            let data = doc
                .elements(c)
                .find(|&d| doc.is(d, SAML2, "SubjectConfirmationData"));
            let conf = match data {
                Some(d) => Confirmation {
                    method,
                    not_before: time_attr(doc, d, "NotBefore")?,
                    not_on_or_after: time_attr(doc, d, "NotOnOrAfter")?,
                    recipient: attr(doc, d, "Recipient"),
                    in_response_to: attr(doc, d, "InResponseTo"),
                    has_data: true,
                },
                None => Confirmation {
                    method,
                    not_before: None,
                    not_on_or_after: None,
                    recipient: None,
                    in_response_to: None,
                    has_data: false,
                },
            };
            m.confirmations.push(conf);
        }
    }
    Ok(())
}

fn conditions(doc: &Document, c: NodeId) -> Result<Conditions, TokenError> {
    read_conditions(doc, c, SAML2, "AudienceRestriction")
}

/// Parses the facts of a `samlp:Response` element (its own attributes and Issuer/Status).
pub fn parse_response(doc: &Document, r: NodeId) -> Result<ResponseModel, TokenError> {
    let mut m = ResponseModel {
        id: attr(doc, r, "ID"),
        version: attr(doc, r, "Version"),
        destination: attr(doc, r, "Destination"),
        in_response_to: attr(doc, r, "InResponseTo"),
        issuer: None,
        status: super::envelope::status_code(doc, r),
    };
    for c in doc.elements(r) {
        if doc.is(c, SAML2, "Issuer") {
            m.issuer = Some(text(doc, c, Reason::TokIssuer)?);
        }
    }
    Ok(m)
}
