//! Building and signing SAML 1.1 / 2.0 tokens and their envelopes: the development IdP's
//! output, also used by the tests. Assertions are signed through libxmlsec1
//! ([`crate::xmlsec::sign_enveloped`]) with an enveloped RSA-SHA256 / SHA-256 / exc-c14n
//! signature carrying the certificate, and then validate through the normal core path.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use openssl::pkey::{PKeyRef, Private};
use openssl::x509::X509Ref;

use crate::http::pages::esc;
use crate::xmlsec::{IdAttr, sign_enveloped};

/// What to put in a token.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// Issuer entity ID.
    pub issuer: String,
    /// Audience (realm).
    pub audience: String,
    /// NameID / NameIdentifier.
    pub name_id: String,
    /// Claims (type, value); values of one type become one attribute.
    pub claims: Vec<(String, String)>,
    /// IssueInstant (also the authentication instant).
    pub issue_instant: DateTime<Utc>,
    /// Conditions NotBefore.
    pub not_before: DateTime<Utc>,
    /// Conditions NotOnOrAfter.
    pub not_on_or_after: DateTime<Utc>,
    /// SAML 2.0 (else 1.1).
    pub saml20: bool,
    /// Assertion ID (`_` + hex).
    pub assertion_id: String,
    /// SAML 2.0 SubjectConfirmationData Recipient.
    pub recipient: Option<String>,
    /// SAML 2.0 SubjectConfirmationData InResponseTo.
    pub in_response_to: Option<String>,
}

/// A fresh `_`-prefixed random ID.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    let _ = openssl::rand::rand_bytes(&mut b);
    format!(
        "_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// `xs:dateTime` in UTC.
pub fn xml_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn grouped(claims: &[(String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (t, v) in claims {
        match out.iter_mut().find(|(k, _)| k == t) {
            Some((_, vs)) => vs.push(v),
            None => out.push((t, vec![v])),
        }
    }
    out
}

pub(crate) fn signature_template(id: &str, cert: &X509Ref) -> Result<String, String> {
    let der = cert.to_der().map_err(|e| e.to_string())?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    Ok(format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\
<ds:Reference URI=\"#{id}\"><ds:Transforms>\
<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>\
<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue></ds:DigestValue></ds:Reference>\
</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate>\
</ds:X509Data></ds:KeyInfo></ds:Signature>"
    ))
}

/// The unsigned assertion with its signature template.
pub fn assertion_template(s: &TokenSpec, cert: &X509Ref) -> Result<String, String> {
    let sig = signature_template(&s.assertion_id, cert)?;
    let (ii, nb, na) = (
        xml_time(s.issue_instant),
        xml_time(s.not_before),
        xml_time(s.not_on_or_after),
    );
    let name = esc(&s.name_id);
    if s.saml20 {
        let mut attrs = String::new();
        for (t, vs) in grouped(&s.claims) {
            attrs.push_str(&format!("<saml:Attribute Name=\"{}\">", esc(t)));
            for v in vs {
                attrs.push_str(&format!(
                    "<saml:AttributeValue>{}</saml:AttributeValue>",
                    esc(v)
                ));
            }
            attrs.push_str("</saml:Attribute>");
        }
        let stmt = if attrs.is_empty() {
            String::new()
        } else {
            format!("<saml:AttributeStatement>{attrs}</saml:AttributeStatement>")
        };
        let mut scd = format!("NotOnOrAfter=\"{na}\"");
        if let Some(r) = &s.recipient {
            scd.push_str(&format!(" Recipient=\"{}\"", esc(r)));
        }
        if let Some(i) = &s.in_response_to {
            scd.push_str(&format!(" InResponseTo=\"{}\"", esc(i)));
        }
        Ok(format!(
            "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" IssueInstant=\"{ii}\" Version=\"2.0\">\
<saml:Issuer>{issuer}</saml:Issuer>{sig}\
<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\">{name}</saml:NameID>\
<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData {scd}/></saml:SubjectConfirmation></saml:Subject>\
<saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{na}\"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
{stmt}<saml:AuthnStatement AuthnInstant=\"{ii}\" SessionIndex=\"{id}\"><saml:AuthnContext>\
<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>\
</saml:AuthnContext></saml:AuthnStatement></saml:Assertion>",
            id = esc(&s.assertion_id),
            issuer = esc(&s.issuer),
            aud = esc(&s.audience),
        ))
    } else {
        let subject = format!(
            "<saml:Subject><saml:NameIdentifier>{name}</saml:NameIdentifier><saml:SubjectConfirmation>\
<saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject>"
        );
        let mut attrs = String::new();
        for (t, vs) in grouped(&s.claims) {
            let (ns, local) = match t.rfind('/') {
                Some(i) => (&t[..i], &t[i + 1..]),
                None => ("", t),
            };
            attrs.push_str(&format!(
                "<saml:Attribute AttributeName=\"{}\" AttributeNamespace=\"{}\">",
                esc(local),
                esc(ns)
            ));
            for v in vs {
                attrs.push_str(&format!(
                    "<saml:AttributeValue>{}</saml:AttributeValue>",
                    esc(v)
                ));
            }
            attrs.push_str("</saml:Attribute>");
        }
        let stmt = if attrs.is_empty() {
            String::new()
        } else {
            format!("<saml:AttributeStatement>{subject}{attrs}</saml:AttributeStatement>")
        };
        Ok(format!(
            "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\" MajorVersion=\"1\" MinorVersion=\"1\" \
AssertionID=\"{id}\" Issuer=\"{issuer}\" IssueInstant=\"{ii}\">\
<saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{na}\"><saml:AudienceRestrictionCondition><saml:Audience>{aud}</saml:Audience>\
</saml:AudienceRestrictionCondition></saml:Conditions>{stmt}\
<saml:AuthenticationStatement AuthenticationMethod=\"urn:oasis:names:tc:SAML:1.0:am:password\" AuthenticationInstant=\"{ii}\">{subject}\
</saml:AuthenticationStatement>{sig}</saml:Assertion>",
            id = esc(&s.assertion_id),
            issuer = esc(&s.issuer),
            aud = esc(&s.audience),
        ))
    }
}

/// Signs the assertion of `spec`; returns its XML (no declaration).
pub fn signed_assertion(
    spec: &TokenSpec,
    key: &PKeyRef<Private>,
    cert: &X509Ref,
) -> Result<String, String> {
    let xml = assertion_template(spec, cert)?;
    let id_attr = if spec.saml20 {
        IdAttr::Id
    } else {
        IdAttr::AssertionId
    };
    let signed = sign_enveloped(xml.as_bytes(), id_attr, &spec.assertion_id, key)?;
    let text = String::from_utf8(signed).map_err(|e| e.to_string())?;
    let body = match text.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map(|(_, b)| b).unwrap_or(rest),
        None => &text,
    };
    Ok(body.trim().to_owned())
}

/// A WS-Trust 2005/02 RequestSecurityTokenResponse around a signed assertion (the `wresult`).
pub fn rstr(assertion: &str, spec: &TokenSpec, context: Option<&str>) -> String {
    let ctx = context
        .map(|c| format!(" Context=\"{}\"", esc(c)))
        .unwrap_or_default();
    let token_type = if spec.saml20 {
        "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
    } else {
        "urn:oasis:names:tc:SAML:1.0:assertion"
    };
    format!(
        "<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\"{ctx}><t:Lifetime>\
<wsu:Created xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">{}</wsu:Created>\
<wsu:Expires xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">{}</wsu:Expires></t:Lifetime>\
<wsp:AppliesTo xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2004/09/policy\"><wsa:EndpointReference xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">\
<wsa:Address>{}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><t:RequestedSecurityToken>{assertion}</t:RequestedSecurityToken>\
<t:TokenType>{token_type}</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>\
<t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType></t:RequestSecurityTokenResponse>",
        xml_time(spec.issue_instant),
        xml_time(spec.not_on_or_after),
        esc(&spec.audience)
    )
}

/// An unsigned SAML-P Response (Status Success) around a signed SAML 2.0 assertion.
pub fn samlp_response(
    assertion: &str,
    spec: &TokenSpec,
    destination: &str,
    in_response_to: Option<&str>,
) -> String {
    let irt = in_response_to
        .map(|i| format!(" InResponseTo=\"{}\"", esc(i)))
        .unwrap_or_default();
    format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\"{irt}><saml:Issuer>{}</saml:Issuer>\
<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>{assertion}</samlp:Response>",
        new_id(),
        xml_time(spec.issue_instant),
        esc(destination),
        esc(&spec.issuer)
    )
}
