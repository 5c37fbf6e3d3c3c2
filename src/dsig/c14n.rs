//! Canonical XML over the strict reader's tree: Exclusive XML Canonicalization 1.0 (with
//! `InclusiveNamespaces PrefixList`) and Canonical XML 1.0, both without comments, for an
//! element subtree minus an optional excluded subtree (the enveloped signature).
//!
//! The tree already holds decoded text and normalised attribute values, so what is left is the
//! canonical rendering: namespace axis rules, attribute ordering, escaping, empty elements as
//! start/end pairs, and no comments. Two stacks replace per-element maps: the namespace
//! declarations in scope, and the namespace declarations rendered by output ancestors.

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
    // Namespace declarations in scope from the apex's ancestors, outermost first.
    let mut ancestors = Vec::new();
    let mut cur = doc.parent(apex);
    while let Some(n) = cur {
        ancestors.push(n);
        cur = doc.parent(n);
    }
    let mut scope = Vec::with_capacity(16);
    for &a in ancestors.iter().rev() {
        for d in doc.ns_decls(a) {
            scope.push((d.prefix, d.uri));
        }
    }
    let mut c = Canon {
        doc,
        exclude,
        alg,
        inclusive,
        out,
        scope,
        rendered: Vec::with_capacity(16),
    };
    c.element(apex, true);
}

struct Canon<'d, 'o> {
    doc: &'d Document,
    exclude: Option<NodeId>,
    alg: C14nAlg,
    inclusive: Vec<&'d str>,
    out: &'o mut Vec<u8>,
    /// (prefix, uri) declarations in scope, innermost last.
    scope: Vec<(&'d str, &'d str)>,
    /// (prefix, uri) declarations rendered by output ancestors, innermost last.
    rendered: Vec<(&'d str, &'d str)>,
}

impl<'d> Canon<'d, '_> {
    fn in_scope(&self, prefix: &str) -> Option<&'d str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        match self.scope.iter().rev().find(|(p, _)| *p == prefix) {
            Some((_, u)) => Some(u),
            None => prefix.is_empty().then_some(""),
        }
    }

    fn rendered(&self, prefix: &str) -> Option<&'d str> {
        match self.rendered.iter().rev().find(|(p, _)| *p == prefix) {
            Some((_, u)) => Some(u),
            // Nothing rendered means the empty default namespace.
            None => prefix.is_empty().then_some(""),
        }
    }

    /// Adds `(prefix, uri)` to `decls` unless already there or already rendered with that URI.
    fn consider(&self, prefix: &'d str, uri: &'d str, decls: &mut Vec<(&'d str, &'d str)>) {
        if decls.iter().any(|(p, _)| *p == prefix) {
            return;
        }
        if self.rendered(prefix) != Some(uri) {
            decls.push((prefix, uri));
        }
    }

    fn element(&mut self, e: NodeId, apex: bool) {
        let doc = self.doc;
        let scope_mark = self.scope.len();
        for d in doc.ns_decls(e) {
            self.scope.push((d.prefix, d.uri));
        }

        let mut decls: Vec<(&'d str, &'d str)> = Vec::new();
        match self.alg {
            C14nAlg::Exclusive | C14nAlg::ExclusiveWithComments => {
                // Visibly utilised: the element's own prefix and its prefixed attributes'.
                let own = doc.prefix(e);
                if let Some(uri) = self.in_scope(own) {
                    self.consider(own, uri, &mut decls);
                }
                for a in doc.attrs(e) {
                    if !a.prefix.is_empty() && a.ns != XML_NS {
                        self.consider(a.prefix, a.ns, &mut decls);
                    }
                }
                for i in 0..self.inclusive.len() {
                    let p = self.inclusive[i];
                    if let Some(uri) = self.in_scope(p) {
                        self.consider(p, uri, &mut decls);
                    }
                }
            }
            C14nAlg::Inclusive => {
                // Every namespace in scope (innermost declaration of each prefix).
                for i in (0..self.scope.len()).rev() {
                    let (p, _) = self.scope[i];
                    if decls.iter().any(|(q, _)| *q == p)
                        || self.scope[i + 1..].iter().any(|(q, _)| *q == p)
                    {
                        continue;
                    }
                    let uri = self.scope[i].1;
                    self.consider(p, uri, &mut decls);
                }
            }
        }
        if decls.len() > 1 {
            decls.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }

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
        let inherit_xml_attrs = apex && self.alg == C14nAlg::Inclusive && doc.parent(e).is_some();
        if doc.attrs(e).len() <= 1 && !inherit_xml_attrs {
            for a in doc.attrs(e) {
                self.attr(a.prefix, a.local, a.value);
            }
        } else {
            let mut attrs: Vec<(&str, &str, &str, &str)> = doc
                .attrs(e)
                .map(|a| (a.ns, a.local, a.prefix, a.value))
                .collect();
            if inherit_xml_attrs {
                // Inclusive c14n of a subset: xml:* attributes are inherited from ancestors.
                let mut anc = doc.parent(e);
                while let Some(n) = anc {
                    for a in doc.attrs(n) {
                        if a.ns == XML_NS && !attrs.iter().any(|x| x.0 == XML_NS && x.1 == a.local)
                        {
                            attrs.push((a.ns, a.local, a.prefix, a.value));
                        }
                    }
                    anc = doc.parent(n);
                }
            }
            attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            for (_, alocal, aprefix, value) in attrs {
                self.attr(aprefix, alocal, value);
            }
        }
        self.out.push(b'>');

        let rendered_mark = self.rendered.len();
        self.rendered.extend_from_slice(&decls);
        for c in doc.children(e) {
            if Some(c) == self.exclude {
                continue;
            }
            match doc.kind(c) {
                NodeKind::Element => self.element(c, false),
                NodeKind::Text => escape_text(doc.text(c), self.out),
                NodeKind::Comment if self.alg == C14nAlg::ExclusiveWithComments => {
                    self.out.extend_from_slice(b"<!--");
                    self.out.extend_from_slice(doc.text(c).as_bytes());
                    self.out.extend_from_slice(b"-->");
                }
                NodeKind::Comment => {}
            }
        }
        self.rendered.truncate(rendered_mark);
        self.scope.truncate(scope_mark);
        self.out.extend_from_slice(b"</");
        self.qname(prefix, local);
        self.out.push(b'>');
    }

    fn attr(&mut self, prefix: &str, local: &str, value: &str) {
        self.out.push(b' ');
        self.qname(prefix, local);
        self.out.extend_from_slice(b"=\"");
        escape_attr(value, self.out);
        self.out.push(b'"');
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
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}

fn escape_text(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}
