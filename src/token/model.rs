//! The assertion model shared by SAML 1.1 and SAML 2.0, parsed only from verified canonical
//! bytes (see [`super::saml11`] and [`super::saml20`]).

use chrono::{DateTime, Utc};

use super::error::reject;
use super::{SamlVersion, TokenError};
use crate::Reason;
use crate::xml::{Document, NodeId, datetime};

/// One claim of a validated token: a type and one value. SAML 1.1 type =
/// `AttributeNamespace/AttributeName` (as WIF builds it); SAML 2.0 type = the Attribute `Name`.
/// A multi-valued attribute becomes several claims.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Claim {
    /// Claim type URI.
    pub claim_type: String,
    /// The value, exactly the signed text.
    pub value: String,
    /// ADFS `OriginalIssuer`, when the attribute carries one.
    pub original_issuer: Option<String>,
}

impl Claim {
    /// A claim without an original issuer.
    pub fn new(claim_type: &str, value: &str) -> Self {
        Claim {
            claim_type: claim_type.to_owned(),
            value: value.to_owned(),
            original_issuer: None,
        }
    }

    /// The same claim with an original issuer.
    pub fn with_original_issuer(mut self, original_issuer: &str) -> Self {
        self.original_issuer = Some(original_issuer.to_owned());
        self
    }
}

/// A subject name identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameId {
    /// The text.
    pub value: String,
    /// `Format`.
    pub format: Option<String>,
    /// `NameQualifier`.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier` (SAML 2.0).
    pub sp_name_qualifier: Option<String>,
}

/// A subject confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    /// Method URI.
    pub method: String,
    /// SubjectConfirmationData NotBefore.
    pub not_before: Option<DateTime<Utc>>,
    /// SubjectConfirmationData NotOnOrAfter.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// SubjectConfirmationData Recipient.
    pub recipient: Option<String>,
    /// SubjectConfirmationData InResponseTo.
    pub in_response_to: Option<String>,
    /// Whether SubjectConfirmationData is present.
    pub has_data: bool,
}

/// Conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// NotBefore.
    pub not_before: Option<DateTime<Utc>>,
    /// NotOnOrAfter.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// Each AudienceRestriction's audiences (AND across, OR within).
    pub audience_restrictions: Vec<Vec<String>>,
    /// Conditions fedrp does not implement (OneTimeUse, ProxyRestriction, custom).
    pub unsupported: Vec<String>,
}

/// An authentication statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authn {
    /// AuthnInstant / AuthenticationInstant.
    pub instant: DateTime<Utc>,
    /// Authentication method / context class.
    pub method: Option<String>,
    /// SessionNotOnOrAfter (SAML 2.0).
    pub session_not_on_or_after: Option<DateTime<Utc>>,
    /// SessionIndex (SAML 2.0).
    pub session_index: Option<String>,
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrValue {
    /// Text content.
    Text(String),
    /// Element content (refused for identity claims); its descendant text, concatenated.
    Complex(String),
    /// `xsi:nil="true"`.
    Nil,
}

/// An attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Claim type (see [`Claim`]).
    pub claim_type: String,
    /// ADFS `OriginalIssuer`.
    pub original_issuer: Option<String>,
    /// Values.
    pub values: Vec<AttrValue>,
}

/// A parsed assertion (either version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionModel {
    /// Version.
    pub version: SamlVersion,
    /// ID / AssertionID.
    pub id: String,
    /// Issuer text.
    pub issuer: Option<String>,
    /// IssueInstant.
    pub issue_instant: DateTime<Utc>,
    /// Whether a Subject is present (SAML 2.0), or every statement has one (SAML 1.1).
    pub has_subject: bool,
    /// The subject's name identifier.
    pub name_id: Option<NameId>,
    /// A subject `EncryptedID` (unsupported).
    pub encrypted_id: bool,
    /// SAML 1.1: every statement's Subject is the same.
    pub subjects_consistent: bool,
    /// Subject confirmations.
    pub confirmations: Vec<Confirmation>,
    /// Conditions, if present.
    pub conditions: Option<Conditions>,
    /// Authentication statements.
    pub authn: Vec<Authn>,
    /// Attributes in document order.
    pub attributes: Vec<Attribute>,
    /// EncryptedAttribute elements (unsupported).
    pub encrypted_attributes: usize,
}

/// Parsed SAML-P Response facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseModel {
    /// ID.
    pub id: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Destination.
    pub destination: Option<String>,
    /// InResponseTo.
    pub in_response_to: Option<String>,
    /// Issuer text.
    pub issuer: Option<String>,
    /// Top-level StatusCode.
    pub status: Option<String>,
}

/// `Conditions` of either SAML version: its time attributes, the audience lists of each
/// `restriction` element (namespace `ns`), and the names of any other condition (refused later
/// as unsupported).
pub(crate) fn read_conditions(
    doc: &Document,
    c: NodeId,
    ns: &str,
    restriction: &str,
) -> Result<Conditions, TokenError> {
    let mut out = Conditions {
        not_before: time_attr(doc, c, "NotBefore")?,
        not_on_or_after: time_attr(doc, c, "NotOnOrAfter")?,
        ..Default::default()
    };
    for x in doc.elements(c) {
        if doc.is(x, ns, restriction) {
            let mut list = Vec::new();
            for au in doc.elements(x).filter(|&au| doc.is(au, ns, "Audience")) {
                list.push(text(doc, au, Reason::TokAudience)?);
            }
            out.audience_restrictions.push(list);
        } else {
            out.unsupported
                .push(format!("{{{}}}{}", doc.ns(x), doc.local(x)));
        }
    }
    Ok(out)
}

pub(crate) fn time_attr(
    doc: &Document,
    n: NodeId,
    name: &str,
) -> Result<Option<DateTime<Utc>>, TokenError> {
    match doc.attr(n, "", name) {
        None => Ok(None),
        Some(v) => datetime::parse_utc(v).map(Some).ok_or_else(|| {
            TokenError::new(
                Reason::TokTimeFormat,
                format!(
                    "{}@{name} = {v:?} is not a UTC xs:dateTime (YYYY-MM-DDThh:mm:ss[.f]Z)",
                    doc.local(n)
                ),
            )
        }),
    }
}

pub(crate) fn required_time(
    doc: &Document,
    n: NodeId,
    name: &str,
    missing: Reason,
) -> Result<DateTime<Utc>, TokenError> {
    match time_attr(doc, n, name)? {
        Some(t) => Ok(t),
        None => reject(missing, format!("{} has no {name}", doc.local(n))),
    }
}

pub(crate) fn attr(doc: &Document, n: NodeId, name: &str) -> Option<String> {
    doc.attr(n, "", name).map(str::to_owned)
}

/// The simple text of an element, or the given reason when it has element content.
pub(crate) fn text(doc: &Document, n: NodeId, reason: Reason) -> Result<String, TokenError> {
    // Comments are skipped, exactly as canonicalization drops them, so the model reads the
    // same text from the strict tree as from canonical bytes.
    match doc.text_ignoring_comments(n) {
        Some(t) => Ok(t),
        None => reject(reason, format!("{} has element content", doc.local(n))),
    }
}

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const ADFS_CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2009/09/identity/claims";

pub(crate) fn attr_value(doc: &Document, v: NodeId) -> AttrValue {
    if doc
        .attr(v, XSI, "nil")
        .is_some_and(|x| x == "true" || x == "1")
    {
        return AttrValue::Nil;
    }
    match doc.text_ignoring_comments(v) {
        Some(t) => AttrValue::Text(t),
        None => AttrValue::Complex(
            doc.descendants(v)
                .filter(|&d| doc.kind(d) == crate::xml::NodeKind::Text)
                .map(|d| doc.text(d))
                .collect(),
        ),
    }
}

pub(crate) fn original_issuer(doc: &Document, a: NodeId) -> Option<String> {
    doc.attr(a, ADFS_CLAIMS, "OriginalIssuer")
        .map(str::to_owned)
}
