//! Signing through libxmlsec1, for the built-in development IdP and test tooling.
//!
//! The caller provides the document with a complete `ds:Signature` template (SignedInfo with
//! algorithms, `Reference URI="#id"`, transforms, empty DigestValue and SignatureValue, and
//! whatever KeyInfo it wants published) as the child of the element to sign.

use std::ffi::{CString, c_int};
use std::ptr;

use openssl::pkey::{PKeyRef, Private};
use xmlsec::bindings as b;

use super::{
    DsigCtx, IdAttr, cstr, element_children, ffi, free_xml, install_error_capture, parse, qname,
    take_error, xmlsec_key,
};

/// Signs the element whose `id_attr` equals `id_value` with `key`, filling its Signature
/// template; returns the serialised document.
pub fn sign_enveloped(
    xml: &[u8],
    id_attr: IdAttr,
    id_value: &str,
    key: &PKeyRef<Private>,
) -> Result<Vec<u8>, String> {
    let doc = parse(xml).map_err(|e| e.to_string())?;
    // SAFETY: doc.0 is a valid document.
    let root = unsafe { b::xmlDocGetRootElement(doc.0) };
    if root.is_null() {
        return Err("no document element".into());
    }
    let id_name = id_attr.name();
    let cid = CString::new(id_value).map_err(|_| "NUL in ID".to_string())?;
    // Find the element carrying the ID (depth-first).
    let mut stack = vec![root];
    let mut found = None;
    while let Some(n) = stack.pop() {
        // SAFETY: n is a valid element of `doc`; xmlHasNsProp and xmlNodeGetContent read it and
        // the returned string is freed.
        unsafe {
            let a = b::xmlHasNsProp(n, id_name.as_ptr() as *const u8, ptr::null());
            if !a.is_null() {
                let v = b::xmlNodeGetContent(a as b::xmlNodePtr);
                let hit = cstr(v) == id_value;
                free_xml(v);
                if hit {
                    found = Some((n, a));
                    break;
                }
            }
            stack.extend(element_children(n));
        }
    }
    let (target, attr) =
        found.ok_or_else(|| format!("no element with {id_attr:?}={id_value:?}"))?;
    // SAFETY: registers the ID attribute of a valid element of `doc`.
    if unsafe { b::xmlAddID(ptr::null_mut(), doc.0, cid.as_ptr() as *const u8, attr) }.is_null() {
        return Err("duplicate ID".into());
    }
    // SAFETY: target is a valid element.
    let tmpl = unsafe { element_children(target) }
        // SAFETY: children of a valid element are valid.
        .find(|&c| unsafe { qname(c) } == (ffi::DS_NS, "Signature"))
        .ok_or("no ds:Signature template under the element")?;
    install_error_capture();
    // SAFETY: a context without keys manager; NULL handled.
    let ctx = unsafe { b::xmlSecDSigCtxCreate(ptr::null_mut()) };
    if ctx.is_null() {
        return Err("cannot create a signature context".into());
    }
    let ctx = DsigCtx(ctx);
    let xkey = xmlsec_key(key).map_err(|e| e.to_string())?;
    // SAFETY: ctx is live and owns xkey from here on.
    unsafe {
        (*ctx.0).signKey = xkey;
        (*ctx.0).enabledReferenceUris = b::xmlSecTransformUriTypeSameDocument;
    }
    // SAFETY: tmpl is the valid Signature template node of `doc`.
    if unsafe { b::xmlSecDSigCtxSign(ctx.0, tmpl) } < 0 {
        return Err(take_error().unwrap_or_else(|| "signing failed".into()));
    }
    let mut out: *mut u8 = ptr::null_mut();
    let mut len: c_int = 0;
    // SAFETY: dumps the valid document into a libxml2-allocated buffer, copied then freed.
    unsafe {
        b::xmlDocDumpMemoryEnc(doc.0, &mut out, &mut len, c"UTF-8".as_ptr());
        if out.is_null() {
            return Err("serialisation failed".into());
        }
        let bytes = std::slice::from_raw_parts(out, len.max(0) as usize).to_vec();
        free_xml(out);
        Ok(bytes)
    }
}
