//! Namespace URIs the token core dispatches on (matched by URI, never by prefix).

/// SAML 1.x assertion.
pub const SAML1: &str = "urn:oasis:names:tc:SAML:1.0:assertion";
/// SAML 1.x protocol (SAML 1.1 Response: not a form fedrp accepts).
pub const SAML1P: &str = "urn:oasis:names:tc:SAML:1.0:protocol";
/// SAML 2.0 assertion.
pub const SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol.
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// XML-DSig.
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive c14n (InclusiveNamespaces).
pub const EC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// XML Encryption.
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// WS-Trust 1.3.
pub const WST13: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
/// WS-Trust 2005/02 (ADFS, Entra ID WS-Fed).
pub const WST2005: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
/// SOAP 1.1 envelope.
pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope.
pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Security utility.
pub const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
/// WS-Addressing 2005/08.
pub const WSA: &str = "http://www.w3.org/2005/08/addressing";
/// WS-Policy 2004/09.
pub const WSP: &str = "http://schemas.xmlsoap.org/ws/2004/09/policy";

/// SAML 2.0 bearer confirmation method.
pub const CM_BEARER2: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// SAML 1.x bearer confirmation method.
pub const CM_BEARER1: &str = "urn:oasis:names:tc:SAML:1.0:cm:bearer";
/// SAML 2.0 success status.
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
