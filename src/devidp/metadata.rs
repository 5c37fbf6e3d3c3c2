//! Federation metadata documents as ADFS and Entra ID publish them (`FederationMetadata.xml`: a
//! WS-Federation `fed:SecurityTokenServiceType` role and a SAML 2.0 `IDPSSODescriptor`, each
//! listing every signing certificate), optionally signed with an enveloped signature on the
//! `EntityDescriptor`. The tests use it for their metadata server; it validates through the
//! normal metadata path.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use openssl::pkey::{PKeyRef, Private};
use openssl::x509::X509Ref;

use super::token::{new_id, signature_template, xml_time};
use crate::http::pages::esc;
use crate::xmlsec::{IdAttr, sign_enveloped};

/// What to publish.
#[derive(Clone, Default)]
pub struct MetadataSpec<'a> {
    /// `entityID`.
    pub entity_id: String,
    /// Every signing certificate (primary first, then the secondary during a rollover).
    pub signing_certs: Vec<&'a X509Ref>,
    /// The WS-Fed passive requestor endpoint (the `wsignin1.0` URL).
    pub passive_endpoint: Option<String>,
    /// The SAML 2.0 HTTP-Redirect SingleSignOnService location.
    pub sso_url: Option<String>,
    /// `validUntil` on the EntityDescriptor.
    pub valid_until: Option<DateTime<Utc>>,
    /// `cacheDuration` on the EntityDescriptor (`PT12H`).
    pub cache_duration: Option<String>,
}

fn key_descriptors(certs: &[&X509Ref]) -> Result<String, String> {
    let mut out = String::new();
    for c in certs {
        let der = c.to_der().map_err(|e| e.to_string())?;
        out.push_str(&format!(
            "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>",
            base64::engine::general_purpose::STANDARD.encode(der)
        ));
    }
    Ok(out)
}

/// The metadata document for `spec`; signed with `signer` (key and the certificate published in
/// the signature's KeyInfo) when given.
pub fn metadata_document(
    spec: &MetadataSpec<'_>,
    signer: Option<(&PKeyRef<Private>, &X509Ref)>,
) -> Result<Vec<u8>, String> {
    let id = new_id();
    let keys = key_descriptors(&spec.signing_certs)?;
    let mut attrs = format!("ID=\"{id}\" entityID=\"{}\"", esc(&spec.entity_id));
    if let Some(v) = spec.valid_until {
        attrs.push_str(&format!(" validUntil=\"{}\"", xml_time(v)));
    }
    if let Some(c) = &spec.cache_duration {
        attrs.push_str(&format!(" cacheDuration=\"{}\"", esc(c)));
    }
    let sig = match signer {
        Some((_, cert)) => signature_template(&id, cert)?,
        None => String::new(),
    };
    let passive = spec
        .passive_endpoint
        .as_deref()
        .map(|u| {
            format!(
                "<fed:PassiveRequestorEndpoint><wsa:EndpointReference><wsa:Address>{}</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint>",
                esc(u)
            )
        })
        .unwrap_or_default();
    let sso = spec
        .sso_url
        .as_deref()
        .map(|u| {
            format!(
                "<SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{}\"/>",
                esc(u)
            )
        })
        .unwrap_or_default();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\" {attrs}>{sig}\
<RoleDescriptor xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:fed=\"http://docs.oasis-open.org/wsfed/federation/200706\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" xsi:type=\"fed:SecurityTokenServiceType\" protocolSupportEnumeration=\"http://docs.oasis-open.org/wsfed/federation/200706\">{keys}{passive}</RoleDescriptor>\
<IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{keys}{sso}</IDPSSODescriptor>\
</EntityDescriptor>"
    );
    match signer {
        Some((key, _)) => sign_enveloped(xml.as_bytes(), IdAttr::Id, &id, key),
        None => Ok(xml.into_bytes()),
    }
}
