//! Canonical XML over the strict reader's tree: Exclusive XML Canonicalization 1.0 (with
//! `InclusiveNamespaces PrefixList`) and Canonical XML 1.0, both without comments, for an
//! element subtree minus an optional excluded subtree (the enveloped signature).
//!
//! The tree already holds decoded text and normalised attribute values, so what is left is the
//! canonical rendering: namespace axis rules, attribute ordering, escaping, empty elements as
//! start/end pairs, and no comments.

use std::collections::HashMap;

use crate::dsig::alg::C14nAlg;
use crate::xml::{Document, NodeId, NodeKind, XML_NS};

/// Canonicalizes the subtree at `apex`, leaving out the subtree at `exclude`.
pub fn canonicalize(
    doc: &Document,
    apex: NodeId,
    exclude: Option<NodeId>,
    alg: C14nAlg,
    inclusive_prefixes: &[String],
    out: &mut Vec<u8>,
) {
    let inclusive: Vec<&str> = inclusive_prefixes
        .iter()
        .map(|p| if p == "#default" { "" } else { p.as_str() })
        .collect();
    let mut c = Canon {
        doc,
        exclude,
        alg,
        inclusive,
        out,
    };
    // What the (absent) output ancestors rendered: nothing, i.e. the empty default namespace.
    let rendered: HashMap<&str, &str> = HashMap::new();
    c.element(apex, &rendered, true);
}

struct Canon<'d, 'o> {
    doc: &'d Document,
    exclude: Option<NodeId>,
    alg: C14nAlg,
    inclusive: Vec<&'d str>,
    out: &'o mut Vec<u8>,
}

impl<'d> Canon<'d, '_> {
    /// In-scope namespaces of `e` (nearest declaration wins), default namespace as "".
    fn in_scope(&self, e: NodeId) -> Vec<(&'d str, &'d str)> {
        let doc = self.doc;
        let mut seen: Vec<(&'d str, &'d str)> = Vec::new();
        let mut cur = Some(e);
        while let Some(n) = cur {
            for d in doc.ns_decls(n) {
                if !seen.iter().any(|(p, _)| *p == d.prefix) {
                    seen.push((d.prefix, d.uri));
                }
            }
            cur = doc.parent(n);
        }
        seen
    }

    fn element(&mut self, e: NodeId, rendered: &HashMap<&'d str, &'d str>, apex: bool) {
        let doc = self.doc;
        let mut decls: Vec<(&'d str, &'d str)> = Vec::new();
        let rendered_default = rendered.get("").copied().unwrap_or("");
        let consider = |prefix: &'d str, uri: &'d str, decls: &mut Vec<(&'d str, &'d str)>| {
            if decls.iter().any(|(p, _)| *p == prefix) {
                return;
            }
            if prefix.is_empty() {
                if uri != rendered_default {
                    decls.push(("", uri));
                }
            } else if rendered.get(prefix) != Some(&uri) {
                decls.push((prefix, uri));
            }
        };
        match self.alg {
            C14nAlg::Exclusive => {
                // Visibly utilised: the element's own prefix and its prefixed attributes'.
                let own = doc.prefix(e);
                consider(own, doc.lookup_ns(e, own).unwrap_or(""), &mut decls);
                for a in doc.attrs(e) {
                    if !a.prefix.is_empty() && a.ns != XML_NS {
                        consider(a.prefix, a.ns, &mut decls);
                    }
                }
                for &p in &self.inclusive {
                    if let Some(uri) = doc.lookup_ns(e, p) {
                        // A prefix in the list is rendered as in inclusive c14n when in scope.
                        if !(p.is_empty() && uri.is_empty() && rendered_default.is_empty()) {
                            consider(p, uri, &mut decls);
                        }
                    }
                }
            }
            C14nAlg::Inclusive => {
                for (p, uri) in self.in_scope(e) {
                    consider(p, uri, &mut decls);
                }
            }
        }
        decls.sort_unstable_by(|a, b| a.0.cmp(b.0));

        let mut attrs: Vec<(&str, &str, &str, &str)> = doc
            .attrs(e)
            .map(|a| (a.ns, a.local, a.prefix, a.value))
            .collect();
        if apex && self.alg == C14nAlg::Inclusive {
            // Inclusive c14n of a subset: xml:* attributes are inherited from ancestors.
            let mut anc = doc.parent(e);
            while let Some(n) = anc {
                for a in doc.attrs(n) {
                    if a.ns == XML_NS && !attrs.iter().any(|x| x.0 == XML_NS && x.1 == a.local) {
                        attrs.push((a.ns, a.local, a.prefix, a.value));
                    }
                }
                anc = doc.parent(n);
            }
        }
        attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

        let prefix = doc.prefix(e);
        let local = doc.local(e);
        self.out.push(b'<');
        self.qname(prefix, local);
        for (p, uri) in &decls {
            if p.is_empty() {
                self.out.extend_from_slice(b" xmlns=\"");
            } else {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(p.as_bytes());
                self.out.extend_from_slice(b"=\"");
            }
            escape_attr(uri, self.out);
            self.out.push(b'"');
        }
        for (_, alocal, aprefix, value) in &attrs {
            self.out.push(b' ');
            self.qname(aprefix, alocal);
            self.out.extend_from_slice(b"=\"");
            escape_attr(value, self.out);
            self.out.push(b'"');
        }
        self.out.push(b'>');

        let mut child_rendered;
        let rendered_for_children = if decls.is_empty() {
            rendered
        } else {
            child_rendered = rendered.clone();
            for (p, uri) in &decls {
                child_rendered.insert(p, uri);
            }
            &child_rendered
        };
        for c in doc.children(e) {
            if Some(c) == self.exclude {
                continue;
            }
            match doc.kind(c) {
                NodeKind::Element => self.element(c, rendered_for_children, false),
                NodeKind::Text => escape_text(doc.text(c), self.out),
                NodeKind::Comment => {}
            }
        }
        self.out.extend_from_slice(b"</");
        self.qname(prefix, local);
        self.out.push(b'>');
    }

    fn qname(&mut self, prefix: &str, local: &str) {
        if !prefix.is_empty() {
            self.out.extend_from_slice(prefix.as_bytes());
            self.out.push(b':');
        }
        self.out.extend_from_slice(local.as_bytes());
    }
}

fn escape_attr(s: &str, out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

fn escape_text(s: &str, out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}
