//! Envelope extraction: from the posted document to the one token element.
//!
//! Accepted shapes (matched by namespace URI, never by prefix):
//!
//! * WS-Trust 1.3 `RequestSecurityTokenResponseCollection` holding exactly one RSTR;
//! * WS-Trust 1.3 or 2005/02 `RequestSecurityTokenResponse` with exactly one
//!   `RequestedSecurityToken` holding exactly one SAML 1.1 or SAML 2.0 `Assertion`;
//! * SAML 2.0 `samlp:Response` with exactly one `saml:Assertion`;
//! * a bare SAML 1.1 or SAML 2.0 `Assertion`.
//!
//! The RSTR wrapper is never signed, so nothing in it is trusted: its `Context`, `Lifetime` and
//! `TokenType` are reported for the caller's cross-checks only.

use super::error::reject;
use super::ns::*;
use super::{Binding, SamlVersion, TokenError};
use crate::Reason;
use crate::xml::{Document, NodeId, NodeKind};

/// Which shape the posted document had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// WS-Trust 1.3 RSTR Collection.
    Rstrc13,
    /// WS-Trust 1.3 RSTR.
    Rstr13,
    /// WS-Trust 2005/02 RSTR.
    Rstr2005,
    /// SAML-P Response.
    SamlpResponse,
    /// A bare Assertion.
    Assertion,
}

impl Form {
    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Form::Rstrc13 => "wstrust13-rstrc",
            Form::Rstr13 => "wstrust13-rstr",
            Form::Rstr2005 => "wstrust2005-rstr",
            Form::SamlpResponse => "samlp-response",
            Form::Assertion => "assertion",
        }
    }
}

/// Unsigned facts from the RSTR wrapper.
#[derive(Clone, Debug, Default)]
pub struct RstrInfo {
    /// `Context` attribute (WS-Fed echoes `wctx` here).
    pub context: Option<String>,
    /// `Lifetime/Expires` text.
    pub expires: Option<String>,
    /// `TokenType` text.
    pub token_type: Option<String>,
}

/// The located token.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// Shape.
    pub form: Form,
    /// The Assertion element.
    pub token: NodeId,
    /// SAML version of the token.
    pub version: SamlVersion,
    /// The enclosing `samlp:Response`, if any.
    pub response: Option<NodeId>,
    /// RSTR wrapper facts, if any.
    pub rstr: Option<RstrInfo>,
}

fn is_fault(doc: &Document, n: NodeId) -> bool {
    let soap = |x: NodeId, local: &str| doc.is(x, SOAP11, local) || doc.is(x, SOAP12, local);
    if soap(n, "Fault") {
        return true;
    }
    soap(n, "Envelope")
        && doc
            .elements(n)
            .filter(|&b| soap(b, "Body"))
            .any(|b| doc.elements(b).any(|f| soap(f, "Fault")))
}

fn unexpected(doc: &Document, n: NodeId, context: &str) -> TokenError {
    TokenError::new(
        Reason::XmlUnexpectedElement,
        format!(
            "unexpected element {{{}}}{} in {context} (at byte {})",
            doc.ns(n),
            doc.local(n),
            doc.offset(n)
        ),
    )
}

fn only_whitespace_text(doc: &Document, n: NodeId, context: &str) -> Result<(), TokenError> {
    for c in doc.children(n) {
        if doc.kind(c) == NodeKind::Text
            && !doc.text(c).trim_matches([' ', '\t', '\r', '\n']).is_empty()
        {
            return reject(
                Reason::XmlUnexpectedElement,
                format!("character data in {context}"),
            );
        }
    }
    Ok(())
}

fn assertion_version(doc: &Document, n: NodeId) -> Option<SamlVersion> {
    if doc.is(n, SAML2, "Assertion") {
        Some(SamlVersion::V2_0)
    } else if doc.is(n, SAML1, "Assertion") {
        Some(SamlVersion::V1_1)
    } else {
        None
    }
}

fn is_encrypted(doc: &Document, n: NodeId) -> bool {
    doc.is(n, SAML2, "EncryptedAssertion") || doc.is(n, XENC, "EncryptedData")
}

/// Finds the one token in `doc` as `binding` allows.
pub fn locate(doc: &Document, binding: Binding) -> Result<Envelope, TokenError> {
    let root = doc.root();
    if is_fault(doc, root) {
        let text: String = doc
            .descendants(root)
            .filter(|&n| doc.kind(n) == NodeKind::Text)
            .map(|n| doc.text(n).trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        return reject(
            Reason::WsfFault,
            format!("the STS answered with a SOAP fault: {text}"),
        );
    }
    let rst_form = if doc.is(root, WST13, "RequestSecurityTokenResponseCollection") {
        Some(Form::Rstrc13)
    } else if doc.is(root, WST13, "RequestSecurityTokenResponse") {
        Some(Form::Rstr13)
    } else if doc.is(root, WST2005, "RequestSecurityTokenResponse") {
        Some(Form::Rstr2005)
    } else {
        None
    };
    let is_response = doc.is(root, SAMLP, "Response");
    let bare = assertion_version(doc, root);
    match binding {
        Binding::WsFed if rst_form.is_none() => {
            let wstrust = matches!(doc.ns(root), WST13 | WST2005);
            return if is_response || bare.is_some() || wstrust {
                reject(
                    Reason::WsfRstrShape,
                    format!(
                        "wresult holds a {} instead of a WS-Trust RequestSecurityTokenResponse",
                        doc.local(root)
                    ),
                )
            } else {
                reject(Reason::XmlRoot, root_message(doc, root))
            };
        }
        Binding::SamlP if !is_response => return reject(Reason::XmlRoot, root_message(doc, root)),
        _ => {}
    }
    if let Some(form) = rst_form {
        return rstr(doc, root, form);
    }
    if is_response {
        return response(doc, root);
    }
    if let Some(version) = bare {
        return Ok(Envelope {
            form: Form::Assertion,
            token: root,
            version,
            response: None,
            rstr: None,
        });
    }
    if doc.is(root, SAML2, "EncryptedAssertion") {
        return reject(
            Reason::EncUnsupported,
            "encrypted assertion, and no decryption key is configured",
        );
    }
    reject(Reason::XmlRoot, root_message(doc, root))
}

fn root_message(doc: &Document, root: NodeId) -> String {
    format!(
        "document element {{{}}}{} is not a WS-Trust RSTR, samlp:Response or SAML Assertion",
        doc.ns(root),
        doc.local(root)
    )
}

fn rstr(doc: &Document, root: NodeId, form: Form) -> Result<Envelope, TokenError> {
    let (ns, rstr) = if form == Form::Rstrc13 {
        let mut children = doc.elements(root);
        let first = children.next();
        let extra = children.next();
        match (first, extra) {
            (Some(r), None) if doc.is(r, WST13, "RequestSecurityTokenResponse") => (WST13, r),
            (None, _) => return reject(Reason::WsfRstrShape, "RSTR collection is empty"),
            _ => {
                return reject(
                    Reason::WsfRstrShape,
                    "RSTR collection must hold exactly one RequestSecurityTokenResponse",
                );
            }
        }
    } else {
        (doc.ns(root), root)
    };
    if is_fault(doc, rstr) || doc.elements(rstr).any(|c| is_fault(doc, c)) {
        return reject(Reason::WsfFault, "the RSTR carries a SOAP fault");
    }
    let rsts: Vec<NodeId> = doc
        .elements(rstr)
        .filter(|&c| doc.is(c, ns, "RequestedSecurityToken"))
        .collect();
    let rst = match rsts.as_slice() {
        [one] => *one,
        [] => {
            return reject(
                Reason::WsfRstrShape,
                "no RequestedSecurityToken in the RSTR",
            );
        }
        _ => {
            return reject(
                Reason::WsfRstrShape,
                format!("{} RequestedSecurityToken elements in the RSTR", rsts.len()),
            );
        }
    };
    only_whitespace_text(doc, rst, "RequestedSecurityToken")?;
    let children: Vec<NodeId> = doc.elements(rst).collect();
    for &c in &children {
        if assertion_version(doc, c).is_none() && !is_encrypted(doc, c) {
            return Err(unexpected(doc, c, "RequestedSecurityToken"));
        }
    }
    let token = match children.as_slice() {
        [one] => *one,
        [] => return reject(Reason::TokCount, "RequestedSecurityToken is empty"),
        _ => {
            return reject(
                Reason::TokCount,
                format!("{} tokens in RequestedSecurityToken", children.len()),
            );
        }
    };
    if is_encrypted(doc, token) {
        return reject(
            Reason::EncUnsupported,
            "encrypted token, and no decryption key is configured",
        );
    }
    let version = assertion_version(doc, token)
        .ok_or_else(|| unexpected(doc, token, "RequestedSecurityToken"))?;
    let text_of = |local: &str| -> Option<String> {
        doc.elements(rstr)
            .find(|&c| doc.is(c, ns, local))
            .and_then(|c| doc.simple_text(c))
            .map(|t| t.trim().to_owned())
    };
    let expires = doc
        .elements(rstr)
        .find(|&c| doc.is(c, ns, "Lifetime"))
        .and_then(|l| doc.elements(l).find(|&e| doc.is(e, WSU, "Expires")))
        .and_then(|e| doc.simple_text(e))
        .map(|t| t.trim().to_owned());
    let info = RstrInfo {
        context: doc.attr(rstr, "", "Context").map(str::to_owned),
        expires,
        token_type: text_of("TokenType"),
    };
    if let Some(tt) = &info.token_type {
        let says = token_type_version(tt);
        if says.is_some_and(|v| v != version) {
            return reject(
                Reason::WsfRstrShape,
                format!(
                    "TokenType {tt:?} does not match the {} token it carries",
                    version.name()
                ),
            );
        }
    }
    Ok(Envelope {
        form,
        token,
        version,
        response: None,
        rstr: Some(info),
    })
}

fn token_type_version(tt: &str) -> Option<SamlVersion> {
    match tt {
        "urn:oasis:names:tc:SAML:1.0:assertion"
        | "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1" => {
            Some(SamlVersion::V1_1)
        }
        "urn:oasis:names:tc:SAML:2.0:assertion"
        | "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0" => {
            Some(SamlVersion::V2_0)
        }
        _ => None,
    }
}

fn response(doc: &Document, root: NodeId) -> Result<Envelope, TokenError> {
    only_whitespace_text(doc, root, "Response")?;
    let mut assertions = Vec::new();
    let mut encrypted = 0usize;
    for c in doc.elements(root) {
        if doc.is(c, SAML2, "Issuer") {
            issuer_is_text(doc, c)?;
            continue;
        }
        if doc.is(c, DS, "Signature")
            || doc.is(c, SAMLP, "Extensions")
            || doc.is(c, SAMLP, "Status")
        {
            continue;
        }
        if doc.is(c, SAML2, "Assertion") {
            assertions.push(c);
        } else if doc.is(c, SAML2, "EncryptedAssertion") {
            encrypted += 1;
        } else {
            return Err(unexpected(doc, c, "Response"));
        }
    }
    let total = assertions.len() + encrypted;
    if total > 1 {
        return reject(
            Reason::TokCount,
            format!("{total} assertions in the Response"),
        );
    }
    if encrypted == 1 {
        return reject(
            Reason::EncUnsupported,
            "encrypted assertion, and no decryption key is configured",
        );
    }
    let Some(&token) = assertions.first() else {
        // A failed Response carries no assertion: report its status, which is more useful.
        if let Some(code) = status_code(doc, root).filter(|c| c != STATUS_SUCCESS) {
            return reject(
                Reason::TokStatus,
                format!("the IdP answered with status {code}"),
            );
        }
        return reject(Reason::TokCount, "no assertion in the Response");
    };
    Ok(Envelope {
        form: Form::SamlpResponse,
        token,
        version: SamlVersion::V2_0,
        response: Some(root),
        rstr: None,
    })
}

/// The top-level StatusCode value of a Response.
pub fn status_code(doc: &Document, response: NodeId) -> Option<String> {
    let status = doc
        .elements(response)
        .find(|&c| doc.is(c, SAMLP, "Status"))?;
    let code = doc
        .elements(status)
        .find(|&c| doc.is(c, SAMLP, "StatusCode"))?;
    doc.attr(code, "", "Value").map(str::to_owned)
}

/// An `Issuer` holds text only (samael's ancestor attack hides a Response inside it).
fn issuer_is_text(doc: &Document, issuer: NodeId) -> Result<(), TokenError> {
    match doc.elements(issuer).next() {
        Some(c) => Err(unexpected(doc, c, "Issuer")),
        None => Ok(()),
    }
}

/// Allowed children of a token element, per SAML version (by namespace URI and local name).
pub fn check_assertion_children(
    doc: &Document,
    token: NodeId,
    version: SamlVersion,
) -> Result<(), TokenError> {
    only_whitespace_text(doc, token, "Assertion")?;
    for c in doc.elements(token) {
        if doc.is(c, SAML2, "Issuer") {
            issuer_is_text(doc, c)?;
        }
        let ok = match version {
            SamlVersion::V2_0 => {
                doc.ns(c) == SAML2
                    && matches!(
                        doc.local(c),
                        "Issuer"
                            | "Subject"
                            | "Conditions"
                            | "Advice"
                            | "Statement"
                            | "AuthnStatement"
                            | "AuthzDecisionStatement"
                            | "AttributeStatement"
                    )
                    || doc.is(c, DS, "Signature")
            }
            SamlVersion::V1_1 => {
                doc.ns(c) == SAML1
                    && matches!(
                        doc.local(c),
                        "Conditions"
                            | "Advice"
                            | "Statement"
                            | "SubjectStatement"
                            | "AuthenticationStatement"
                            | "AuthorizationDecisionStatement"
                            | "AttributeStatement"
                    )
                    || doc.is(c, DS, "Signature")
            }
        };
        if !ok {
            return Err(unexpected(doc, c, "Assertion"));
        }
    }
    Ok(())
}

/// Refuses comments anywhere inside `n` (exclusive c14n drops them, so a comment can split a
/// signed value without breaking the signature).
pub fn check_no_comments(doc: &Document, n: NodeId) -> Result<(), TokenError> {
    if let Some(c) = doc
        .descendants(n)
        .find(|&d| doc.kind(d) == NodeKind::Comment)
    {
        return reject(
            Reason::XmlCommentInToken,
            format!("comment inside the token (at byte {})", doc.offset(c)),
        );
    }
    Ok(())
}
