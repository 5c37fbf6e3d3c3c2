//! The reference verification engine and the dev IdP's signer: libxml2 + libxmlsec1 over FFI.
//!
//! This is the only module with `unsafe` code. Every block carries a `// SAFETY:` comment.
//! Rules it implements (`DESIGN.md` §3):
//!
//! * libxmlsec1 is initialised once ([`std::sync::OnceLock`]); its and libxml2's error output is
//!   captured, never printed.
//! * Parsing uses `XML_PARSE_NONET` only: no entity substitution, no DTD loading or defaulting,
//!   no XInclude. A document with a DTD node, entity reference or processing instruction is
//!   refused, and any libxml2 error (including namespace errors) fails the parse.
//! * The caller names the signed element by its element path, which fedrp's own strict reader
//!   computed; this module checks that libxml2 sees the same tree (element count, the element's
//!   namespace, name and ID), so a parser differential cannot move the signature onto other
//!   content.
//! * ID attributes are registered by hand (`xmlAddID`) on the signed element only; every
//!   ID-typed value in the document must be unique.
//! * The verification key is set directly (`dsigCtx->signKey`); no keys manager exists, so
//!   KeyInfo can never supply or select a key. Reference URIs are limited to same-document, and
//!   transforms and algorithms to an explicit allow-list.
//! * Valid means return code 0 **and** status `Succeeded`; the pre-digest bytes of the single
//!   reference are returned so that claims are parsed only from what was digested.
#![allow(unsafe_code)]

mod ffi;
mod sign;

pub use sign::sign_enveloped;

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use openssl::pkey::{PKey, PKeyRef, Public};
use xmlsec::bindings as b;

/// Which attribute carries the signed element's ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdAttr {
    /// SAML 2.0 `ID`.
    Id,
    /// SAML 1.1 `AssertionID`.
    AssertionId,
}

impl IdAttr {
    fn name(self) -> &'static CStr {
        match self {
            IdAttr::Id => c"ID",
            IdAttr::AssertionId => c"AssertionID",
        }
    }
}

/// Algorithms the caller allows for this issuer.
#[derive(Clone, Copy, Debug, Default)]
pub struct AlgorithmPolicy {
    /// RSA-SHA1 / ECDSA-SHA1 signatures and SHA-1 digests.
    pub allow_sha1: bool,
    /// Inclusive C14N 1.0 (SignedInfo and reference).
    pub allow_inclusive_c14n: bool,
}

/// What to verify.
pub struct VerifyRequest<'a> {
    /// The whole document, exactly as the strict reader parsed it.
    pub xml: &'a [u8],
    /// Child-element indices from the document element down to the signed element.
    pub target_path: &'a [u32],
    /// Expected namespace URI and local name of the signed element.
    pub target_name: (&'a str, &'a str),
    /// The attribute holding the signed element's ID, and its expected value.
    pub id_attr: IdAttr,
    /// Expected ID value (the Reference URI without `#`); empty for `URI=""`.
    pub id_value: &'a str,
    /// The number of elements the strict reader counted.
    pub element_count: usize,
    /// Candidate verification keys, tried in order.
    pub keys: &'a [&'a PKey<Public>],
    /// Algorithm allow-list switches.
    pub policy: AlgorithmPolicy,
}

/// A successful verification.
#[derive(Debug)]
pub struct Verified {
    /// The canonical bytes the single reference digested.
    pub pre_digest: Vec<u8>,
    /// Index into [`VerifyRequest::keys`] of the key that verified.
    pub key_index: usize,
}

/// Why verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// libxml2 refused the document.
    #[error("libxml2: {0}")]
    Malformed(String),
    /// The document contains a DTD, entity reference or processing instruction.
    #[error("{0}")]
    Forbidden(String),
    /// libxml2's tree differs from the strict reader's (a parser differential).
    #[error("tree mismatch: {0}")]
    TreeMismatch(String),
    /// Duplicate ID values.
    #[error("duplicate ID {0:?}")]
    DuplicateId(String),
    /// The reference digest does not match.
    #[error("reference digest mismatch")]
    DigestMismatch,
    /// No candidate key verifies SignedInfo.
    #[error("signature value does not verify with any candidate key")]
    SignatureMismatch,
    /// libxmlsec1 refused the signature (algorithm, transform, structure): its message.
    #[error("xmlsec: {0}")]
    Refused(String),
}

static INIT: OnceLock<Result<(), String>> = OnceLock::new();

/// Initialises libxml2 and libxmlsec1 (once per process).
pub fn init() -> Result<(), String> {
    INIT.get_or_init(|| {
        // SAFETY: called once (OnceLock) before any other libxml2/libxmlsec1 use; these are the
        // documented initialisation entry points and take no pointers except the NULL config.
        unsafe {
            b::xmlInitParser();
            ffi::xmlSecErrorsDefaultCallbackEnableOutput(0);
            if b::xmlSecInit() < 0 {
                return Err("xmlSecInit failed".into());
            }
            if b::xmlSecOpenSSLAppInit(ptr::null()) < 0 {
                return Err("xmlSecOpenSSLAppInit failed".into());
            }
            if b::xmlSecOpenSSLInit() < 0 {
                return Err("xmlSecOpenSSLInit failed".into());
            }
        }
        Ok(())
    })
    .clone()
}

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

unsafe extern "C" fn capture_error(_user: *mut c_void, err: b::xmlErrorPtr) {
    if err.is_null() {
        return;
    }
    // SAFETY: libxml2 passes a valid xmlError for the duration of the callback.
    if unsafe { (*err).level } < b::xmlErrorLevel_XML_ERR_ERROR {
        return; // warnings (e.g. a malformed xml:lang) do not fail the parse
    }
    // SAFETY: as above; `message` is NULL or a NUL-terminated string owned by libxml2.
    let msg = unsafe {
        let m = (*err).message;
        if m.is_null() {
            String::from("unknown error")
        } else {
            CStr::from_ptr(m).to_string_lossy().trim().to_owned()
        }
    };
    LAST_ERROR.with(|l| {
        let mut l = l.borrow_mut();
        if l.is_none() {
            *l = Some(msg);
        }
    });
}

fn take_error() -> Option<String> {
    LAST_ERROR.with(|l| l.borrow_mut().take())
}

fn install_error_capture() {
    LAST_ERROR.with(|l| *l.borrow_mut() = None);
    // SAFETY: sets this thread's libxml2 structured error handler to a function with the
    // required signature that only records the message.
    unsafe { b::xmlSetStructuredErrorFunc(ptr::null_mut(), Some(capture_error)) };
}

/// An owned libxml2 document.
pub(crate) struct Doc(b::xmlDocPtr);

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from xmlCtxtReadMemory, is non-null and freed exactly once here.
        unsafe { b::xmlFreeDoc(self.0) }
    }
}

struct ParserCtxt(b::xmlParserCtxtPtr);

impl Drop for ParserCtxt {
    fn drop(&mut self) {
        // SAFETY: created by xmlNewParserCtxt, freed exactly once.
        unsafe { b::xmlFreeParserCtxt(self.0) }
    }
}

/// Parses with the hardened options and refuses anything that is not a plain element tree.
pub(crate) fn parse(xml: &[u8]) -> Result<Doc, VerifyError> {
    init().map_err(VerifyError::Refused)?;
    install_error_capture();
    let len = c_int::try_from(xml.len())
        .map_err(|_| VerifyError::Malformed("document too large".into()))?;
    // SAFETY: xmlNewParserCtxt has no preconditions; a NULL result is handled.
    let ctxt = unsafe { b::xmlNewParserCtxt() };
    if ctxt.is_null() {
        return Err(VerifyError::Malformed("cannot allocate a parser".into()));
    }
    let ctxt = ParserCtxt(ctxt);
    let options = b::xmlParserOption_XML_PARSE_NONET as c_int;
    // SAFETY: `xml` outlives the call and `len` is its exact length; the URL and encoding are
    // NULL (no base URI, detect/declared encoding: the strict reader already required UTF-8).
    let doc = unsafe {
        b::xmlCtxtReadMemory(
            ctxt.0,
            xml.as_ptr() as *const c_char,
            len,
            ptr::null(),
            ptr::null(),
            options,
        )
    };
    // SAFETY: ctxt.0 is a live parser context; reading two int fields.
    let (well_formed, ns_well_formed) = unsafe { ((*ctxt.0).wellFormed, (*ctxt.0).nsWellFormed) };
    let err = take_error();
    if doc.is_null() {
        return Err(VerifyError::Malformed(
            err.unwrap_or_else(|| "parse failed".into()),
        ));
    }
    let doc = Doc(doc);
    if well_formed == 0 || ns_well_formed == 0 || err.is_some() {
        return Err(VerifyError::Malformed(
            err.unwrap_or_else(|| "not well-formed".into()),
        ));
    }
    // SAFETY: doc.0 is a valid document; reading its DTD pointers.
    let has_dtd = unsafe { !(*doc.0).intSubset.is_null() || !(*doc.0).extSubset.is_null() };
    if has_dtd {
        return Err(VerifyError::Forbidden("DOCTYPE present".into()));
    }
    Ok(doc)
}

/// Iterates element children of `node`.
///
/// # Safety
/// `node` must be a valid node of a live document; the returned pointers are valid while the
/// document is.
unsafe fn element_children(node: b::xmlNodePtr) -> impl Iterator<Item = b::xmlNodePtr> {
    // SAFETY: per the function contract, `node` is valid.
    let mut cur = unsafe { (*node).children };
    std::iter::from_fn(move || {
        while !cur.is_null() {
            let n = cur;
            // SAFETY: `cur` is a valid sibling in the same live document.
            unsafe {
                cur = (*n).next;
                if (*n).type_ == b::xmlElementType_XML_ELEMENT_NODE {
                    return Some(n);
                }
            }
        }
        None
    })
}

/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the returned lifetime.
unsafe fn cstr<'a>(p: *const u8) -> &'a str {
    if p.is_null() {
        return "";
    }
    // SAFETY: per the contract; libxml2 strings are UTF-8.
    unsafe { CStr::from_ptr(p as *const c_char).to_str().unwrap_or("") }
}

/// Namespace URI and local name of an element.
///
/// # Safety
/// `n` is a valid element node.
unsafe fn qname<'a>(n: b::xmlNodePtr) -> (&'a str, &'a str) {
    // SAFETY: per the contract; `ns` is NULL or a valid namespace of the same document.
    unsafe {
        let ns = (*n).ns;
        let href = if ns.is_null() { "" } else { cstr((*ns).href) };
        (href, cstr((*n).name))
    }
}

/// Walks the whole tree: counts elements, refuses entity references, PIs and DTD nodes, and
/// collects every ID-typed attribute value.
///
/// # Safety
/// `root` is the valid document element of a live document.
unsafe fn scan(root: b::xmlNodePtr) -> Result<(usize, Vec<String>), VerifyError> {
    let mut elements = 0usize;
    let mut ids = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        // SAFETY: every pointer pushed is a valid node of the live document.
        unsafe {
            match (*n).type_ {
                b::xmlElementType_XML_ELEMENT_NODE => {
                    elements += 1;
                    let mut a = (*n).properties;
                    while !a.is_null() {
                        let name = cstr((*a).name);
                        let ns = if (*a).ns.is_null() {
                            ""
                        } else {
                            cstr((*(*a).ns).href)
                        };
                        let is_id = match ns {
                            "" => matches!(name, "ID" | "AssertionID" | "Id"),
                            crate::xml::XML_NS => name == "id",
                            ffi::WSU_NS => name == "Id",
                            _ => false,
                        };
                        if is_id {
                            let v = b::xmlNodeGetContent(a as b::xmlNodePtr);
                            ids.push(cstr(v).to_owned());
                            free_xml(v);
                        }
                        a = (*a).next;
                    }
                    let mut c = (*n).last;
                    while !c.is_null() {
                        stack.push(c);
                        c = (*c).prev;
                    }
                }
                b::xmlElementType_XML_TEXT_NODE
                | b::xmlElementType_XML_CDATA_SECTION_NODE
                | b::xmlElementType_XML_COMMENT_NODE => {}
                b::xmlElementType_XML_ENTITY_REF_NODE => {
                    return Err(VerifyError::Forbidden("entity reference".into()));
                }
                b::xmlElementType_XML_PI_NODE => {
                    return Err(VerifyError::Forbidden("processing instruction".into()));
                }
                other => {
                    return Err(VerifyError::Forbidden(format!(
                        "unexpected node type {other}"
                    )));
                }
            }
        }
    }
    Ok((elements, ids))
}

/// # Safety
/// `p` is NULL or was allocated by libxml2.
unsafe fn free_xml(p: *mut u8) {
    if !p.is_null() {
        // SAFETY: xmlFree is libxml2's deallocator, initialised by xmlInitParser.
        unsafe {
            if let Some(f) = b::xmlFree {
                f(p as *mut c_void);
            }
        }
    }
}

/// An xmlsec signature context, destroyed on drop (which also destroys its `signKey`).
struct DsigCtx(b::xmlSecDSigCtxPtr);

impl Drop for DsigCtx {
    fn drop(&mut self) {
        // SAFETY: created by xmlSecDSigCtxCreate; destroyed once. Finalisation destroys signKey.
        unsafe { b::xmlSecDSigCtxDestroy(self.0) }
    }
}

/// Adds transform klasses to an xmlsec id list.
///
/// # Safety
/// `list` is an initialised xmlSecTransformIdList.
unsafe fn allow(
    list: *mut b::xmlSecPtrList,
    ids: &[b::xmlSecTransformId],
) -> Result<(), VerifyError> {
    for &id in ids {
        // SAFETY: per the contract; transform klasses are static data.
        if unsafe { b::xmlSecPtrListAdd(list, id as b::xmlSecPtr) } < 0 {
            return Err(VerifyError::Refused(
                "cannot build transform allow-list".into(),
            ));
        }
    }
    Ok(())
}

fn digest_and_signature_klasses(
    policy: AlgorithmPolicy,
) -> (Vec<b::xmlSecTransformId>, Vec<b::xmlSecTransformId>) {
    // SAFETY: the klass getters return pointers to static klass descriptors.
    unsafe {
        let mut digests = vec![
            b::xmlSecOpenSSLTransformSha256GetKlass(),
            b::xmlSecOpenSSLTransformSha384GetKlass(),
            b::xmlSecOpenSSLTransformSha512GetKlass(),
        ];
        let mut sigs = vec![
            b::xmlSecOpenSSLTransformRsaSha256GetKlass(),
            b::xmlSecOpenSSLTransformRsaSha384GetKlass(),
            b::xmlSecOpenSSLTransformRsaSha512GetKlass(),
            b::xmlSecOpenSSLTransformEcdsaSha256GetKlass(),
            b::xmlSecOpenSSLTransformEcdsaSha384GetKlass(),
            b::xmlSecOpenSSLTransformEcdsaSha512GetKlass(),
        ];
        if policy.allow_sha1 {
            digests.push(b::xmlSecOpenSSLTransformSha1GetKlass());
            sigs.push(b::xmlSecOpenSSLTransformRsaSha1GetKlass());
            sigs.push(b::xmlSecOpenSSLTransformEcdsaSha1GetKlass());
        }
        (digests, sigs)
    }
}

fn c14n_klasses(policy: AlgorithmPolicy) -> Vec<b::xmlSecTransformId> {
    // SAFETY: static klass descriptors.
    unsafe {
        let mut v = vec![
            b::xmlSecTransformExclC14NGetKlass(),
            b::xmlSecTransformExclC14NWithCommentsGetKlass(),
        ];
        if policy.allow_inclusive_c14n {
            v.push(b::xmlSecTransformInclC14NGetKlass());
        }
        v
    }
}

/// Creates an xmlsec key holding (a reference to) `pkey`.
fn xmlsec_key<K>(pkey: &PKeyRef<K>) -> Result<b::xmlSecKeyPtr, VerifyError> {
    use foreign_types::ForeignTypeRef;
    let raw = pkey.as_ptr();
    // SAFETY: `raw` is a live EVP_PKEY; up_ref gives xmlsec its own reference, which
    // xmlSecOpenSSLEvpKeyAdopt takes over (and frees with the key data). On failure paths the
    // reference is released here.
    unsafe {
        if openssl_sys::EVP_PKEY_up_ref(raw) != 1 {
            return Err(VerifyError::Refused("EVP_PKEY_up_ref failed".into()));
        }
        let data = ffi::xmlSecOpenSSLEvpKeyAdopt(raw);
        if data.is_null() {
            openssl_sys::EVP_PKEY_free(raw);
            return Err(VerifyError::Refused("unsupported key type".into()));
        }
        let key = b::xmlSecKeyCreate();
        if key.is_null() {
            b::xmlSecKeyDataDestroy(data);
            return Err(VerifyError::Refused("xmlSecKeyCreate failed".into()));
        }
        if b::xmlSecKeySetValue(key, data) < 0 {
            b::xmlSecKeyDataDestroy(data);
            b::xmlSecKeyDestroy(key);
            return Err(VerifyError::Refused("xmlSecKeySetValue failed".into()));
        }
        Ok(key)
    }
}

/// Verifies the enveloped signature of the element named by `req` (see the module docs).
pub fn verify(req: &VerifyRequest<'_>) -> Result<Verified, VerifyError> {
    let doc = parse(req.xml)?;
    // SAFETY: doc.0 is a valid document.
    let root = unsafe { b::xmlDocGetRootElement(doc.0) };
    if root.is_null() {
        return Err(VerifyError::Malformed("no document element".into()));
    }
    // SAFETY: root is the valid document element of `doc`, alive for this scope.
    let (elements, ids) = unsafe { scan(root)? };
    if elements != req.element_count {
        return Err(VerifyError::TreeMismatch(format!(
            "libxml2 sees {elements} elements, the strict reader {}",
            req.element_count
        )));
    }
    let mut sorted = ids;
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(VerifyError::DuplicateId(w[0].clone()));
    }

    // Locate the signed element by path and check it is what the strict reader saw.
    let mut target = root;
    for &idx in req.target_path {
        // SAFETY: target is a valid element of `doc`.
        target = unsafe { element_children(target) }
            .nth(idx as usize)
            .ok_or_else(|| {
                VerifyError::TreeMismatch("signed element path does not resolve".into())
            })?;
    }
    // SAFETY: target is a valid element.
    let name = unsafe { qname(target) };
    if name != req.target_name {
        return Err(VerifyError::TreeMismatch(format!(
            "signed element is {{{}}}{} in libxml2",
            name.0, name.1
        )));
    }
    let id_name = req.id_attr.name();
    // SAFETY: target is valid; id_name is NUL-terminated; the attribute pointer stays valid
    // while the document lives.
    let attr = unsafe { b::xmlHasNsProp(target, id_name.as_ptr() as *const u8, ptr::null()) };
    if !req.id_value.is_empty() {
        if attr.is_null() {
            return Err(VerifyError::TreeMismatch(
                "signed element has no ID attribute".into(),
            ));
        }
        let cid = CString::new(req.id_value)
            .map_err(|_| VerifyError::TreeMismatch("NUL in ID".into()))?;
        // SAFETY: attr is an attribute node of `doc`; reading its content and freeing it.
        let value_ok = unsafe {
            let v = b::xmlNodeGetContent(attr as b::xmlNodePtr);
            let ok = cstr(v) == req.id_value;
            free_xml(v);
            ok
        };
        if !value_ok {
            return Err(VerifyError::TreeMismatch("ID value differs".into()));
        }
        // SAFETY: registers the attribute as an ID in doc's ID table (valid doc and attr; the
        // value is copied by libxml2).
        let registered =
            unsafe { b::xmlAddID(ptr::null_mut(), doc.0, cid.as_ptr() as *const u8, attr) };
        if registered.is_null() {
            // Already registered (e.g. an xml:id with the same value): a duplicate.
            return Err(VerifyError::DuplicateId(req.id_value.to_owned()));
        }
    }

    // The Signature: the one ds:Signature child of the signed element.
    // SAFETY: target is valid.
    let sigs: Vec<b::xmlNodePtr> = unsafe { element_children(target) }
        // SAFETY: children of a valid element are valid elements.
        .filter(|&c| unsafe { qname(c) } == (ffi::DS_NS, "Signature"))
        .collect();
    let [sig_node] = sigs.as_slice() else {
        return Err(VerifyError::TreeMismatch(format!(
            "{} Signature children in libxml2",
            sigs.len()
        )));
    };

    let (digests, sig_methods) = digest_and_signature_klasses(req.policy);
    let c14n = c14n_klasses(req.policy);
    let mut saw_digest_ok = false;
    for (key_index, key) in req.keys.iter().enumerate() {
        install_error_capture();
        // SAFETY: xmlSecDSigCtxCreate(NULL): a context with no keys manager; NULL is handled.
        let ctx = unsafe { b::xmlSecDSigCtxCreate(ptr::null_mut()) };
        if ctx.is_null() {
            return Err(VerifyError::Refused(
                "cannot create a signature context".into(),
            ));
        }
        let ctx = DsigCtx(ctx);
        let xkey = xmlsec_key(key)?;
        // SAFETY: ctx.0 is a live context we own. Its lists are initialised by Create; we
        // configure them before Verify. signKey takes ownership of `xkey` (destroyed with ctx).
        unsafe {
            let c = &mut *ctx.0;
            c.signKey = xkey;
            c.flags = b::XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES
                | b::XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
            c.enabledReferenceUris =
                b::xmlSecTransformUriTypeEmpty | b::xmlSecTransformUriTypeSameDocument;
            c.transformCtx.enabledUris =
                b::xmlSecTransformUriTypeEmpty | b::xmlSecTransformUriTypeSameDocument;
            c.keyInfoReadCtx.flags = 0;
            if b::xmlSecPtrListAdd(
                &mut c.keyInfoReadCtx.enabledKeyData,
                b::xmlSecOpenSSLKeyDataRsaGetKlass() as b::xmlSecPtr,
            ) < 0
            {
                return Err(VerifyError::Refused("cannot restrict key data".into()));
            }
            let mut ref_list = vec![b::xmlSecTransformEnvelopedGetKlass()];
            ref_list.extend_from_slice(&c14n);
            ref_list.extend_from_slice(&digests);
            if c.enabledReferenceTransforms.is_null() {
                c.enabledReferenceTransforms =
                    b::xmlSecPtrListCreate(b::xmlSecTransformIdListGetKlass());
                if c.enabledReferenceTransforms.is_null() {
                    return Err(VerifyError::Refused(
                        "cannot create the reference allow-list".into(),
                    ));
                }
            }
            allow(c.enabledReferenceTransforms, &ref_list)?;
            let mut si_list = c14n.clone();
            si_list.extend_from_slice(&sig_methods);
            allow(&mut c.transformCtx.enabledTransforms, &si_list)?;
        }
        // SAFETY: ctx is configured; sig_node is the valid Signature element of `doc`.
        let rc = unsafe { b::xmlSecDSigCtxVerify(ctx.0, *sig_node) };
        // SAFETY: reading the context's status and reference list after Verify returned.
        let (status, refs) = unsafe {
            let c = &mut *ctx.0;
            (
                c.status,
                &mut c.signedInfoReferences as *mut b::xmlSecPtrList,
            )
        };
        if rc < 0 {
            let msg = take_error().unwrap_or_else(|| "verification error".into());
            return Err(VerifyError::Refused(msg));
        }
        // SAFETY: refs is the context's live list.
        let count = unsafe { b::xmlSecPtrListGetSize(refs) };
        if count != 1 {
            return Err(VerifyError::Refused(format!(
                "{count} references processed"
            )));
        }
        // SAFETY: index 0 exists; items are xmlSecDSigReferenceCtx pointers owned by ctx.
        let rctx = unsafe { b::xmlSecPtrListGetItem(refs, 0) } as b::xmlSecDSigReferenceCtxPtr;
        if rctx.is_null() {
            return Err(VerifyError::Refused("no reference context".into()));
        }
        // SAFETY: rctx is valid while ctx lives.
        let ref_status = unsafe { (*rctx).status };
        if ref_status != b::xmlSecDSigStatus_xmlSecDSigStatusSucceeded {
            return Err(VerifyError::DigestMismatch);
        }
        saw_digest_ok = true;
        if status == b::xmlSecDSigStatus_xmlSecDSigStatusSucceeded && rc == 0 {
            // SAFETY: rctx is valid; the pre-digest buffer exists because the
            // STORE_SIGNEDINFO_REFERENCES flag was set; its data is copied out before ctx drops.
            let bytes = unsafe {
                let buf = b::xmlSecDSigReferenceCtxGetPreDigestBuffer(rctx);
                if buf.is_null() {
                    return Err(VerifyError::Refused("no pre-digest buffer".into()));
                }
                let data = b::xmlSecBufferGetData(buf);
                let size = b::xmlSecBufferGetSize(buf) as usize;
                if data.is_null() || size == 0 {
                    return Err(VerifyError::Refused("empty pre-digest buffer".into()));
                }
                std::slice::from_raw_parts(data, size).to_vec()
            };
            return Ok(Verified {
                pre_digest: bytes,
                key_index,
            });
        }
    }
    if saw_digest_ok || req.keys.is_empty() {
        Err(VerifyError::SignatureMismatch)
    } else {
        Err(VerifyError::DigestMismatch)
    }
}

#[cfg(test)]
mod tests;
