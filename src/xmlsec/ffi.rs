//! Declarations libxmlsec1 exports that the `xmlsec` crate's generated bindings leave out
//! (their headers are not in its `bindings.h`), and namespace constants.

use xmlsec::bindings as b;

/// XML-DSig namespace.
pub(crate) const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// WS-Security utility namespace (`wsu:Id`).
pub(crate) const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

unsafe extern "C" {
    /// `xmlsec/errors.h`: enables or disables the default error callback's output.
    pub(crate) fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: std::ffi::c_int);
    /// `xmlsec/openssl/evp.h`: wraps an `EVP_PKEY` (taking over the reference) as key data.
    pub(crate) fn xmlSecOpenSSLEvpKeyAdopt(pkey: *mut openssl_sys::EVP_PKEY)
    -> b::xmlSecKeyDataPtr;
}
