//! The compact, read-only document tree the strict reader builds.
//!
//! Nodes, attributes and namespace declarations live in flat vectors; every string is a span of
//! one owned buffer. Text is stored already decoded (entity and character references resolved,
//! line ends normalised as the reader was told) and attribute values already normalised, so
//! canonicalization, the ID scan and the assertion model all read the same values.

use std::ops::Range;

/// Index of a node in its [`Document`].
pub type NodeId = u32;

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// An element.
    Element,
    /// Character data (text, references and CDATA sections merged).
    Text,
    /// A comment.
    Comment,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) parent: u32,
    pub(crate) first_child: u32,
    pub(crate) last_child: u32,
    pub(crate) next_sibling: u32,
    /// Element: prefix; text/comment: unused.
    pub(crate) prefix: Span,
    /// Element: local name; text/comment: the content.
    pub(crate) local: Span,
    /// Element: namespace URI (empty = no namespace).
    pub(crate) ns: Span,
    pub(crate) attrs: Range<u32>,
    pub(crate) ns_decls: Range<u32>,
    /// Byte offset of the node in the parsed input (for messages).
    pub(crate) offset: u32,
    pub(crate) depth: u16,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct AttrRec {
    pub(crate) prefix: Span,
    pub(crate) local: Span,
    pub(crate) ns: Span,
    pub(crate) value: Span,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct NsDeclRec {
    /// Empty = the default namespace.
    pub(crate) prefix: Span,
    /// Empty = `xmlns=""` (undeclaration of the default namespace).
    pub(crate) uri: Span,
}

/// An attribute of an element.
#[derive(Clone, Copy, Debug)]
pub struct Attr<'d> {
    /// Prefix as written (empty when unprefixed).
    pub prefix: &'d str,
    /// Local name.
    pub local: &'d str,
    /// Namespace URI (empty for unprefixed attributes).
    pub ns: &'d str,
    /// Normalised value.
    pub value: &'d str,
}

/// A namespace declaration on an element.
#[derive(Clone, Copy, Debug)]
pub struct NsDecl<'d> {
    /// Declared prefix; empty for the default namespace.
    pub prefix: &'d str,
    /// The URI; empty for `xmlns=""`.
    pub uri: &'d str,
}

/// A parsed document. Built only by [`crate::xml::parse`].
#[derive(Clone, Debug)]
pub struct Document {
    pub(crate) buf: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) attrs: Vec<AttrRec>,
    pub(crate) ns_decls: Vec<NsDeclRec>,
    pub(crate) root: u32,
    /// Byte offset just past the document element's end tag.
    pub(crate) root_end: usize,
}

impl Document {
    #[inline]
    fn s(&self, span: Span) -> &str {
        &self.buf[span.start as usize..(span.start + span.len) as usize]
    }

    #[inline]
    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// The document element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// Byte range of the document element in the input.
    pub fn root_range(&self) -> std::ops::Range<usize> {
        self.offset(self.root)..self.root_end
    }

    /// Number of nodes (elements, text, comments).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node's kind.
    pub fn kind(&self, id: NodeId) -> NodeKind {
        self.node(id).kind
    }

    /// Whether the node is an element.
    pub fn is_element(&self, id: NodeId) -> bool {
        self.node(id).kind == NodeKind::Element
    }

    /// Element namespace URI (empty when none).
    pub fn ns(&self, id: NodeId) -> &str {
        self.s(self.node(id).ns)
    }

    /// Element local name.
    pub fn local(&self, id: NodeId) -> &str {
        self.s(self.node(id).local)
    }

    /// Element prefix as written (empty when none).
    pub fn prefix(&self, id: NodeId) -> &str {
        self.s(self.node(id).prefix)
    }

    /// Whether the element has namespace `ns` and local name `local`.
    #[inline]
    pub fn is(&self, id: NodeId, ns: &str, local: &str) -> bool {
        let n = self.node(id);
        n.kind == NodeKind::Element && self.s(n.local) == local && self.s(n.ns) == ns
    }

    /// Text or comment content.
    pub fn text(&self, id: NodeId) -> &str {
        let n = self.node(id);
        match n.kind {
            NodeKind::Element => "",
            _ => self.s(n.local),
        }
    }

    /// Byte offset of the node in the input.
    pub fn offset(&self, id: NodeId) -> usize {
        self.node(id).offset as usize
    }

    /// Element depth (the document element is 1).
    pub fn depth(&self, id: NodeId) -> usize {
        self.node(id).depth as usize
    }

    /// Parent element, if any.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.node(id).parent;
        (p != NONE).then_some(p)
    }

    /// All child nodes in document order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            doc: self,
            next: self.node(id).first_child,
        }
    }

    /// Child elements in document order.
    pub fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(move |&c| self.is_element(c))
    }

    /// Attributes of an element, in document order (namespace declarations excluded).
    pub fn attrs(&self, id: NodeId) -> impl ExactSizeIterator<Item = Attr<'_>> + '_ {
        let r = self.node(id).attrs.clone();
        self.attrs[r.start as usize..r.end as usize]
            .iter()
            .map(move |a| Attr {
                prefix: self.s(a.prefix),
                local: self.s(a.local),
                ns: self.s(a.ns),
                value: self.s(a.value),
            })
    }

    /// The value of the attribute with namespace `ns` (empty for unprefixed) and name `local`.
    pub fn attr(&self, id: NodeId, ns: &str, local: &str) -> Option<&str> {
        self.attrs(id)
            .find(|a| a.local == local && a.ns == ns)
            .map(|a| a.value)
    }

    /// Namespace declarations made on this element.
    pub fn ns_decls(&self, id: NodeId) -> impl ExactSizeIterator<Item = NsDecl<'_>> + '_ {
        let r = self.node(id).ns_decls.clone();
        self.ns_decls[r.start as usize..r.end as usize]
            .iter()
            .map(move |d| NsDecl {
                prefix: self.s(d.prefix),
                uri: self.s(d.uri),
            })
    }

    /// Resolves `prefix` (empty = default namespace) in the scope of element `id`.
    /// Returns `Some("")` when the default namespace is undeclared, `None` when unbound.
    pub fn lookup_ns(&self, id: NodeId, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(super::names::XML_NS);
        }
        let mut cur = Some(id);
        while let Some(e) = cur {
            if let Some(d) = self.ns_decls(e).find(|d| d.prefix == prefix) {
                return Some(d.uri);
            }
            cur = self.parent(e);
        }
        prefix.is_empty().then_some("")
    }

    /// The concatenated text of an element's text children, or `None` when it has element
    /// children or comments (a "simple content" reader: the model never glues text across
    /// markup).
    pub fn simple_text(&self, id: NodeId) -> Option<std::borrow::Cow<'_, str>> {
        let mut out: Option<std::borrow::Cow<'_, str>> = None;
        for c in self.children(id) {
            match self.kind(c) {
                NodeKind::Text => {
                    let t = self.text(c);
                    out = Some(match out {
                        None => std::borrow::Cow::Borrowed(t),
                        Some(prev) => std::borrow::Cow::Owned(prev.into_owned() + t),
                    });
                }
                _ => return None,
            }
        }
        Some(out.unwrap_or(std::borrow::Cow::Borrowed("")))
    }

    /// Like [`Document::simple_text`], but comments are skipped (what canonicalization and
    /// libxmlsec1 read from `DigestValue` and friends).
    pub fn text_ignoring_comments(&self, id: NodeId) -> Option<String> {
        let mut out = String::new();
        for c in self.children(id) {
            match self.kind(c) {
                NodeKind::Text => out.push_str(self.text(c)),
                NodeKind::Comment => {}
                NodeKind::Element => return None,
            }
        }
        Some(out)
    }

    /// Iterates over the element and all its descendants in document order.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        Descendants {
            doc: self,
            root: id,
            next: Some(id),
        }
    }

    /// Element path from the root: child-element indices at each level.
    pub fn element_path(&self, id: NodeId) -> Vec<u32> {
        let mut path = Vec::new();
        let mut cur = id;
        while let Some(p) = self.parent(cur) {
            let idx = self.elements(p).position(|c| c == cur).unwrap_or(0);
            path.push(idx as u32);
            cur = p;
        }
        path.reverse();
        path
    }

    /// Number of elements in the document.
    pub fn element_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Element)
            .count()
    }
}

/// Iterator over child nodes.
pub struct Children<'d> {
    doc: &'d Document,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.node(id).next_sibling;
        Some(id)
    }
}

/// Pre-order iterator over a subtree (all node kinds).
pub struct Descendants<'d> {
    doc: &'d Document,
    root: NodeId,
    next: Option<NodeId>,
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let id = self.next?;
        let n = self.doc.node(id);
        self.next = if n.first_child != NONE {
            Some(n.first_child)
        } else {
            let mut cur = id;
            loop {
                if cur == self.root {
                    break None;
                }
                let c = self.doc.node(cur);
                if c.next_sibling != NONE {
                    break Some(c.next_sibling);
                }
                cur = c.parent;
                if cur == NONE {
                    break None;
                }
            }
        };
        Some(id)
    }
}

pub(crate) const NO_NODE: u32 = NONE;
