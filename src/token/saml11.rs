//! SAML 1.1 assertion model, parsed from verified canonical bytes.

use super::error::reject;
use super::model::*;
use super::ns::SAML1;
use super::{SamlVersion, TokenError};
use crate::Reason;
use crate::xml::{Document, NodeId};

/// A statement's Subject, for the "every statement is about the same subject" rule.
#[derive(PartialEq, Eq)]
struct Subject11 {
    name_id: Option<NameId>,
    methods: Vec<String>,
}

/// Parses a SAML 1.1 `Assertion` element.
pub fn parse_assertion(doc: &Document, a: NodeId) -> Result<AssertionModel, TokenError> {
    let (major, minor) = (
        doc.attr(a, "", "MajorVersion"),
        doc.attr(a, "", "MinorVersion"),
    );
    if major != Some("1") || minor != Some("1") {
        return reject(
            Reason::TokVersion,
            format!("SAML 1.x assertion version {major:?}.{minor:?}; expected 1.1"),
        );
    }
    let id = attr(doc, a, "AssertionID")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TokenError::new(Reason::TokVersion, "Assertion has no AssertionID"))?;
    let issue_instant = required_time(doc, a, "IssueInstant", Reason::XmlMalformed)?;
    let mut m = AssertionModel {
        version: SamlVersion::V1_1,
        id,
        issuer: attr(doc, a, "Issuer"),
        issue_instant,
        has_subject: true,
        name_id: None,
        encrypted_id: false,
        subjects_consistent: true,
        confirmations: Vec::new(),
        conditions: None,
        authn: Vec::new(),
        attributes: Vec::new(),
        encrypted_attributes: 0,
    };
    let mut first_subject: Option<Subject11> = None;
    let mut statements = 0usize;
    for c in doc.elements(a) {
        if doc.ns(c) != SAML1 {
            continue;
        }
        match doc.local(c) {
            "Conditions" => {
                if m.conditions.is_some() {
                    return reject(Reason::TokConditions, "more than one Conditions element");
                }
                m.conditions = Some(conditions(doc, c)?);
            }
            "AuthenticationStatement" | "AttributeStatement" => {
                statements += 1;
                let s = match doc.elements(c).find(|&s| doc.is(s, SAML1, "Subject")) {
                    Some(s) => subject(doc, s, &mut m)?,
                    None => {
                        m.has_subject = false;
                        continue;
                    }
                };
                match &first_subject {
                    None => first_subject = Some(s),
                    Some(f) if *f == s => {}
                    Some(_) => m.subjects_consistent = false,
                }
                if doc.local(c) == "AuthenticationStatement" {
                    m.authn.push(Authn {
                        instant: required_time(doc, c, "AuthenticationInstant", Reason::TokAuthn)?,
                        method: attr(doc, c, "AuthenticationMethod"),
                        session_not_on_or_after: None,
                        session_index: None,
                    });
                } else {
                    for at in doc.elements(c).filter(|&x| doc.is(x, SAML1, "Attribute")) {
                        let name = doc.attr(at, "", "AttributeName").unwrap_or("");
                        let ns = doc.attr(at, "", "AttributeNamespace").unwrap_or("");
                        if name.is_empty() {
                            return reject(
                                Reason::XmlUnexpectedElement,
                                "Attribute without an AttributeName",
                            );
                        }
                        let claim_type = if ns.is_empty() {
                            name.to_owned()
                        } else {
                            format!("{ns}/{name}")
                        };
                        m.attributes.push(Attribute {
                            claim_type,
                            original_issuer: original_issuer(doc, at),
                            values: doc
                                .elements(at)
                                .filter(|&v| doc.is(v, SAML1, "AttributeValue"))
                                .map(|v| attr_value(doc, v))
                                .collect(),
                        });
                    }
                }
            }
            "SubjectStatement" | "AuthorizationDecisionStatement" | "Statement" => statements += 1,
            _ => {}
        }
    }
    if statements == 0 {
        m.has_subject = false;
    }
    if let Some(s) = first_subject {
        m.name_id = s.name_id;
    }
    Ok(m)
}

fn subject(doc: &Document, s: NodeId, m: &mut AssertionModel) -> Result<Subject11, TokenError> {
    let mut out = Subject11 {
        name_id: None,
        methods: Vec::new(),
    };
    let mut confirmation_seen = false;
    for c in doc.elements(s) {
        if doc.is(c, SAML1, "NameIdentifier") {
            if out.name_id.is_some() {
                return reject(Reason::TokSubject, "more than one NameIdentifier");
            }
            out.name_id = Some(NameId {
                value: text(doc, c, Reason::TokSubject)?,
                format: attr(doc, c, "Format"),
                name_qualifier: attr(doc, c, "NameQualifier"),
                sp_name_qualifier: None,
            });
        } else if doc.is(c, SAML1, "SubjectConfirmation") {
            confirmation_seen = true;
            for cm in doc
                .elements(c)
                .filter(|&x| doc.is(x, SAML1, "ConfirmationMethod"))
            {
                out.methods
                    .push(text(doc, cm, Reason::TokConfirmation)?.trim().to_owned());
            }
        }
    }
    if confirmation_seen && m.confirmations.is_empty() {
        m.confirmations = out
            .methods
            .iter()
            .map(|method| Confirmation {
                method: method.clone(),
                not_before: None,
                not_on_or_after: None,
                recipient: None,
                in_response_to: None,
                has_data: false,
            })
            .collect();
    }
    Ok(out)
}

fn conditions(doc: &Document, c: NodeId) -> Result<Conditions, TokenError> {
    read_conditions(doc, c, SAML1, "AudienceRestrictionCondition")
}
