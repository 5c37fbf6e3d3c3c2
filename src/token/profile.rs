//! Signature-profile checks: pure structure, before any cryptography.
//!
//! One enveloped `ds:Signature` child of the signed element, in its schema position; exactly one
//! `Reference` whose URI is `#<ID of the Signature's parent>` (the empty URI only when that
//! parent is the document element); transforms exactly enveloped + exclusive c14n; no
//! `ds:Object`; algorithms from the allow-list; every ID-typed value in the document unique.

use std::collections::HashMap;

use base64::Engine as _;

use super::error::reject;
use super::ns::{DS, EC, SAML1, SAML2, SAMLP, WSU};
use super::{SamlVersion, TokenError};
use crate::Reason;
use crate::dsig::alg::{self, C14nAlg, DigestAlg, SignatureAlg};
use crate::trust::IssuerPolicy;
use crate::xml::{Document, NodeId, NodeKind, XML_NS, is_ncname};

/// Every ID-typed attribute value in the document, mapped to its element.
pub struct IdMap<'d> {
    map: HashMap<&'d str, NodeId>,
}

impl<'d> IdMap<'d> {
    /// Scans the whole document (`ID`, `AssertionID`, `Id`, `xml:id`, `wsu:Id`); a value seen
    /// twice is `sig.id_dup`.
    pub fn scan(doc: &'d Document) -> Result<IdMap<'d>, TokenError> {
        let mut map = HashMap::new();
        for n in doc.descendants(doc.root()) {
            if !doc.is_element(n) {
                continue;
            }
            for a in doc.attrs(n) {
                let is_id = match a.ns {
                    "" => matches!(a.local, "ID" | "AssertionID" | "Id"),
                    XML_NS => a.local == "id",
                    WSU => a.local == "Id",
                    _ => false,
                };
                if is_id && map.insert(a.value, n).is_some() {
                    return reject(
                        Reason::SigIdDup,
                        format!("ID {:?} appears more than once", a.value),
                    );
                }
            }
        }
        Ok(IdMap { map })
    }

    /// The element carrying ID `id`.
    pub fn get(&self, id: &str) -> Option<NodeId> {
        self.map.get(id).copied()
    }
}

/// What kind of element is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    /// A SAML 1.1 Assertion (`AssertionID`, Signature last).
    Assertion11,
    /// A SAML 2.0 Assertion (`ID`, Signature after Issuer).
    Assertion20,
    /// A SAML-P Response (`ID`, Signature after Issuer).
    Response,
    /// The document element of a SAML metadata document (`EntityDescriptor` /
    /// `EntitiesDescriptor`, `ID`, Signature first).
    Metadata,
}

impl Signed {
    /// For an assertion of `version`.
    pub fn assertion(version: SamlVersion) -> Signed {
        match version {
            SamlVersion::V1_1 => Signed::Assertion11,
            SamlVersion::V2_0 => Signed::Assertion20,
        }
    }

    /// The ID attribute name.
    pub fn id_attr(self) -> &'static str {
        match self {
            Signed::Assertion11 => "AssertionID",
            _ => "ID",
        }
    }
}

/// A signature that passed the profile checks.
#[derive(Clone, Debug)]
pub struct SignatureProfile {
    /// The signed element (the Signature's parent).
    pub element: NodeId,
    /// What it is.
    pub kind: Signed,
    /// The `ds:Signature` element.
    pub signature: NodeId,
    /// `ds:SignedInfo`.
    pub signed_info: NodeId,
    /// The referenced ID (empty for `URI=""`).
    pub id: String,
    /// SignedInfo canonicalization.
    pub c14n: C14nAlg,
    /// SignedInfo InclusiveNamespaces PrefixList.
    pub c14n_prefixes: Vec<String>,
    /// Signature algorithm.
    pub sig_alg: SignatureAlg,
    /// Digest algorithm.
    pub digest_alg: DigestAlg,
    /// The reference's canonicalization (after the enveloped transform).
    pub ref_c14n: C14nAlg,
    /// The reference's InclusiveNamespaces PrefixList.
    pub ref_prefixes: Vec<String>,
    /// Decoded DigestValue.
    pub digest_value: Vec<u8>,
    /// Decoded SignatureValue.
    pub signature_value: Vec<u8>,
    /// The KeyInfo element, if any (never a trust source by itself).
    pub key_info: Option<NodeId>,
}

/// Finds the direct `ds:Signature` child of `element` (`sig.count`, `sig.position`).
/// Stray signatures elsewhere in the element (outside Advice and, for a Response, outside the
/// assertion and Extensions) are `sig.position`. For metadata only the document element's own
/// signature counts (an aggregate may carry signed entities; the root signature covers them).
pub fn find_signature(
    doc: &Document,
    element: NodeId,
    kind: Signed,
) -> Result<Option<NodeId>, TokenError> {
    let children: Vec<NodeId> = doc.elements(element).collect();
    let sigs: Vec<usize> = (0..children.len())
        .filter(|&i| doc.is(children[i], DS, "Signature"))
        .collect();
    if sigs.len() > 1 {
        return reject(
            Reason::SigCount,
            format!("{} ds:Signature children", sigs.len()),
        );
    }
    // Stray signatures deeper down.
    let mut stack: Vec<NodeId> = if kind == Signed::Metadata {
        Vec::new()
    } else {
        children
            .iter()
            .copied()
            .filter(|&c| !doc.is(c, DS, "Signature"))
            .collect()
    };
    while let Some(n) = stack.pop() {
        let skip = doc.is(n, SAML2, "Advice")
            || doc.is(n, SAML1, "Advice")
            || (kind == Signed::Response
                && (doc.is(n, SAML2, "Assertion") || doc.is(n, SAMLP, "Extensions")));
        if skip {
            continue;
        }
        if doc.is(n, DS, "Signature") {
            return reject(
                Reason::SigPosition,
                format!(
                    "ds:Signature inside {} (at byte {})",
                    doc.local(doc.parent(n).unwrap_or(n)),
                    doc.offset(n)
                ),
            );
        }
        stack.extend(doc.elements(n));
    }
    let Some(&i) = sigs.first() else {
        return Ok(None);
    };
    let positioned = match kind {
        Signed::Assertion11 => i == children.len() - 1,
        Signed::Assertion20 | Signed::Response => {
            let issuer_first = children
                .first()
                .is_some_and(|&c| doc.is(c, SAML2, "Issuer"));
            let after_issuer = if issuer_first { i == 1 } else { i == 0 };
            // Auth0 and other samlp libraries append the Response signature last: harmless, the
            // reference must still name the Response itself.
            after_issuer || (kind == Signed::Response && i == children.len() - 1)
        }
        Signed::Metadata => i == 0,
    };
    if !positioned {
        return reject(
            Reason::SigPosition,
            format!(
                "ds:Signature is child {} of {}; the schema puts it {}",
                i + 1,
                doc.local(element),
                match kind {
                    Signed::Assertion11 => "last",
                    Signed::Metadata => "first",
                    _ => "right after Issuer",
                }
            ),
        );
    }
    Ok(Some(children[i]))
}

fn ds_children(doc: &Document, n: NodeId, context: &str) -> Result<Vec<NodeId>, TokenError> {
    for c in doc.children(n) {
        match doc.kind(c) {
            NodeKind::Text if !doc.text(c).trim_matches([' ', '\t', '\r', '\n']).is_empty() => {
                return reject(Reason::SigMalformed, format!("character data in {context}"));
            }
            _ => {}
        }
    }
    Ok(doc.elements(n).collect())
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>, TokenError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return reject(Reason::SigMalformed, format!("{what} is empty"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| TokenError::new(Reason::SigMalformed, format!("{what} is not base64: {e}")))
}

fn prefix_list(doc: &Document, method: NodeId) -> Result<Vec<String>, TokenError> {
    let mut prefixes = Vec::new();
    for c in doc.elements(method) {
        if doc.is(c, EC, "InclusiveNamespaces") {
            let list = doc.attr(c, "", "PrefixList").unwrap_or("");
            prefixes.extend(list.split_ascii_whitespace().map(str::to_owned));
        } else {
            return reject(
                Reason::SigMalformed,
                format!(
                    "unexpected {{{}}}{} in a c14n method",
                    doc.ns(c),
                    doc.local(c)
                ),
            );
        }
    }
    Ok(prefixes)
}

/// Checks the signature's structure and reference (everything before cryptography), in this
/// order: `sig.object`, `sig.malformed` (Signature / SignedInfo children, SignatureValue),
/// `sig.ref_count`, `sig.ref_uri`, `sig.ref_target`, `sig.transform`, `sig.c14n`, `sig.alg`.
pub fn check(
    doc: &Document,
    ids: &IdMap<'_>,
    element: NodeId,
    kind: Signed,
    signature: NodeId,
) -> Result<SignatureProfile, TokenError> {
    let sig_children = ds_children(doc, signature, "ds:Signature")?;
    if sig_children.iter().any(|&c| doc.is(c, DS, "Object")) {
        return reject(Reason::SigObject, "ds:Object inside the signature");
    }
    // Signature shape: SignedInfo, SignatureValue, KeyInfo?
    let signed_info = match sig_children.first() {
        Some(&si) if doc.is(si, DS, "SignedInfo") => si,
        _ => {
            return reject(
                Reason::SigMalformed,
                "ds:Signature does not start with ds:SignedInfo",
            );
        }
    };
    let signature_value = match sig_children.get(1) {
        Some(&sv) if doc.is(sv, DS, "SignatureValue") => sv,
        _ => {
            return reject(
                Reason::SigMalformed,
                "ds:SignatureValue must follow ds:SignedInfo",
            );
        }
    };
    let key_info = match sig_children.get(2) {
        Some(&ki) if doc.is(ki, DS, "KeyInfo") => Some(ki),
        Some(&other) => {
            return reject(
                Reason::SigMalformed,
                format!(
                    "unexpected {{{}}}{} in ds:Signature",
                    doc.ns(other),
                    doc.local(other)
                ),
            );
        }
        None => None,
    };
    if sig_children.len() > 2 + usize::from(key_info.is_some()) {
        return reject(
            Reason::SigMalformed,
            "unexpected elements after KeyInfo in ds:Signature",
        );
    }
    // SignedInfo shape: CanonicalizationMethod, SignatureMethod, Reference+.
    let si_children = ds_children(doc, signed_info, "ds:SignedInfo")?;
    let (c14n_m, sig_m) = match si_children.as_slice() {
        [c, s, rest @ ..]
            if doc.is(*c, DS, "CanonicalizationMethod")
                && doc.is(*s, DS, "SignatureMethod")
                && rest.iter().all(|&r| doc.is(r, DS, "Reference")) =>
        {
            (*c, *s)
        }
        _ => {
            return reject(
                Reason::SigMalformed,
                "SignedInfo must hold CanonicalizationMethod, SignatureMethod, then Reference elements",
            );
        }
    };
    let refs = &si_children[2..];
    let [reference] = refs else {
        return reject(
            Reason::SigRefCount,
            format!(
                "{} references in SignedInfo; exactly one is allowed",
                refs.len()
            ),
        );
    };
    let reference = *reference;

    // The reference and what it points at.
    let own_id = doc.attr(element, "", kind.id_attr()).unwrap_or("");
    let uri = doc
        .attr(reference, "", "URI")
        .ok_or_else(|| TokenError::new(Reason::SigRefUri, "Reference has no URI"))?;
    let id = if uri.is_empty() {
        if element != doc.root() {
            return reject(
                Reason::SigRefUri,
                "Reference URI=\"\" but the signed element is not the document element",
            );
        }
        String::new()
    } else {
        let Some(frag) = uri.strip_prefix('#') else {
            return reject(
                Reason::SigRefUri,
                format!("Reference URI {uri:?} is not a same-document reference"),
            );
        };
        if !is_ncname(frag) {
            return reject(
                Reason::SigRefUri,
                format!("Reference URI {uri:?} is not '#' followed by an ID"),
            );
        }
        if own_id.is_empty() {
            return reject(
                Reason::SigRefUri,
                format!("the signed element has no {} attribute", kind.id_attr()),
            );
        }
        match ids.get(frag) {
            Some(t) if t == element => {}
            Some(t) => {
                return reject(
                    Reason::SigRefTarget,
                    format!(
                        "Reference {uri:?} resolves to {} at byte {}, not to the Signature's parent {} (ID {own_id:?})",
                        doc.local(t),
                        doc.offset(t),
                        doc.local(element)
                    ),
                );
            }
            None => {
                return reject(
                    Reason::SigRefTarget,
                    format!(
                        "Reference {uri:?} resolves to nothing (the Signature's parent has ID {own_id:?})"
                    ),
                );
            }
        }
        frag.to_owned()
    };

    // Reference: Transforms, DigestMethod, DigestValue.
    let ref_children = ds_children(doc, reference, "ds:Reference")?;
    let (transforms, rest) = match ref_children.split_first() {
        Some((&t, rest)) if doc.is(t, DS, "Transforms") => (Some(t), rest),
        _ => (None, ref_children.as_slice()),
    };
    let [dm, dv] = rest else {
        return reject(
            Reason::SigMalformed,
            "Reference must hold Transforms?, DigestMethod, DigestValue",
        );
    };
    if !doc.is(*dm, DS, "DigestMethod") || !doc.is(*dv, DS, "DigestValue") {
        return reject(
            Reason::SigMalformed,
            "Reference children are not in schema order",
        );
    }
    let (ref_c14n, ref_prefixes) = transforms_profile(doc, transforms)?;

    let c14n_uri = doc.attr(c14n_m, "", "Algorithm").unwrap_or("");
    let c14n = match c14n_uri {
        alg::EXC_C14N => C14nAlg::Exclusive,
        alg::EXC_C14N_WITH_COMMENTS => C14nAlg::ExclusiveWithComments,
        alg::C14N_10 => C14nAlg::Inclusive,
        other => {
            return reject(
                Reason::SigC14n,
                format!("CanonicalizationMethod {other:?} is not allowed"),
            );
        }
    };
    let c14n_prefixes = prefix_list(doc, c14n_m)?;
    let sig_uri = doc.attr(sig_m, "", "Algorithm").unwrap_or("");
    let sig_alg = SignatureAlg::from_uri(sig_uri).ok_or_else(|| {
        TokenError::new(
            Reason::SigAlg,
            format!("SignatureMethod {sig_uri:?} is not allowed"),
        )
    })?;
    if doc.elements(sig_m).next().is_some() {
        return reject(
            Reason::SigAlg,
            "SignatureMethod has parameters (HMACOutputLength?)",
        );
    }
    let dm_uri = doc.attr(*dm, "", "Algorithm").unwrap_or("");
    let digest_alg = DigestAlg::from_uri(dm_uri).ok_or_else(|| {
        TokenError::new(
            Reason::SigAlg,
            format!("DigestMethod {dm_uri:?} is not allowed"),
        )
    })?;
    let digest_value = b64(
        &doc.text_ignoring_comments(*dv).ok_or_else(|| {
            TokenError::new(Reason::SigMalformed, "DigestValue has element content")
        })?,
        "DigestValue",
    )?;
    let signature_value = b64(
        &doc.text_ignoring_comments(signature_value).ok_or_else(|| {
            TokenError::new(Reason::SigMalformed, "SignatureValue has element content")
        })?,
        "SignatureValue",
    )?;

    Ok(SignatureProfile {
        element,
        kind,
        signature,
        signed_info,
        id,
        c14n,
        c14n_prefixes,
        sig_alg,
        digest_alg,
        ref_c14n,
        ref_prefixes,
        digest_value,
        signature_value,
        key_info,
    })
}

/// DER certificates in a KeyInfo (never a trust source by themselves).
pub fn keyinfo_certs(doc: &Document, key_info: Option<NodeId>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(ki) = key_info else { return out };
    for xd in doc.elements(ki).filter(|&c| doc.is(c, DS, "X509Data")) {
        for xc in doc
            .elements(xd)
            .filter(|&c| doc.is(c, DS, "X509Certificate"))
        {
            let text = doc.text_ignoring_comments(xc).unwrap_or_default();
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(compact) {
                out.push(der);
            }
        }
    }
    out
}

/// RSA public keys given as `KeyValue/RSAKeyValue` in a KeyInfo (for diagnosis only).
pub fn keyinfo_rsa_values(doc: &Document, key_info: Option<NodeId>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let Some(ki) = key_info else { return out };
    let read = |n: NodeId| -> Option<Vec<u8>> {
        let t = doc.text_ignoring_comments(n)?;
        let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
    };
    for kv in doc.elements(ki).filter(|&c| doc.is(c, DS, "KeyValue")) {
        for rsa in doc.elements(kv).filter(|&c| doc.is(c, DS, "RSAKeyValue")) {
            let m = doc
                .elements(rsa)
                .find(|&c| doc.is(c, DS, "Modulus"))
                .and_then(read);
            let e = doc
                .elements(rsa)
                .find(|&c| doc.is(c, DS, "Exponent"))
                .and_then(read);
            if let (Some(m), Some(e)) = (m, e) {
                out.push((m, e));
            }
        }
    }
    out
}

fn transforms_profile(
    doc: &Document,
    transforms: Option<NodeId>,
) -> Result<(C14nAlg, Vec<String>), TokenError> {
    let Some(t) = transforms else {
        return reject(
            Reason::SigTransform,
            "no Transforms: the enveloped-signature transform is required",
        );
    };
    let list = ds_children(doc, t, "ds:Transforms")?;
    if list.iter().any(|&x| !doc.is(x, DS, "Transform")) {
        return reject(Reason::SigMalformed, "unexpected element in ds:Transforms");
    }
    if list.len() > 2 {
        return reject(
            Reason::SigTransform,
            format!("{} transforms; at most enveloped + c14n", list.len()),
        );
    }
    let algs: Vec<&str> = list
        .iter()
        .map(|&x| doc.attr(x, "", "Algorithm").unwrap_or(""))
        .collect();
    for a in &algs {
        if !matches!(
            *a,
            alg::ENVELOPED | alg::EXC_C14N | alg::EXC_C14N_WITH_COMMENTS | alg::C14N_10
        ) {
            return reject(
                Reason::SigTransform,
                format!("transform {a:?} is not allowed"),
            );
        }
    }
    match algs.as_slice() {
        [alg::ENVELOPED, alg::EXC_C14N] => Ok((C14nAlg::Exclusive, prefix_list(doc, list[1])?)),
        [alg::ENVELOPED, alg::EXC_C14N_WITH_COMMENTS] => {
            Ok((C14nAlg::ExclusiveWithComments, prefix_list(doc, list[1])?))
        }
        [alg::ENVELOPED, alg::C14N_10] => Ok((C14nAlg::Inclusive, Vec::new())),
        // Without an explicit c14n transform the node-set is canonicalized with C14N 1.0.
        [alg::ENVELOPED] => Ok((C14nAlg::Inclusive, Vec::new())),
        _ => reject(
            Reason::SigTransform,
            format!("transforms {algs:?}; expected enveloped-signature then exclusive c14n"),
        ),
    }
    .and_then(|(c, p)| {
        if doc.elements(list[0]).next().is_some() {
            return reject(
                Reason::SigTransform,
                "the enveloped-signature transform takes no parameters",
            );
        }
        Ok((c, p))
    })
}

/// Applies an issuer's algorithm policy to a checked profile (`sig.alg`, `sig.c14n`,
/// `sig.transform`).
pub fn check_policy(p: &SignatureProfile, policy: &IssuerPolicy) -> Result<(), TokenError> {
    // Same order as the structural checks: transform, c14n, algorithm.
    if !policy.allow_inclusive_c14n {
        if p.ref_c14n == C14nAlg::Inclusive {
            return reject(
                Reason::SigTransform,
                "inclusive C14N 1.0 reference transform needs allow_inclusive_c14n for this issuer",
            );
        }
        if p.c14n == C14nAlg::Inclusive {
            return reject(
                Reason::SigC14n,
                "inclusive C14N 1.0 needs allow_inclusive_c14n for this issuer",
            );
        }
    }
    if !policy.allow_sha1 {
        if p.sig_alg.hash == DigestAlg::Sha1 {
            return reject(
                Reason::SigAlg,
                format!(
                    "{} signature; SHA-1 needs allow_sha1 for this issuer",
                    p.sig_alg.name()
                ),
            );
        }
        if p.digest_alg == DigestAlg::Sha1 {
            return reject(
                Reason::SigAlg,
                "SHA-1 digest; SHA-1 needs allow_sha1 for this issuer",
            );
        }
    }
    Ok(())
}
