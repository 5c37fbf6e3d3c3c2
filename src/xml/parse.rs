//! The strict reader: quick-xml events -> [`Document`].
//!
//! Stricter than the XML it reads needs to be: UTF-8 only, XML 1.0 only, no DOCTYPE, no
//! processing instructions, no undeclared entities, full namespace well-formedness, and caps on
//! depth, node count and attributes. Everything it accepts, libxml2 accepts too (the differential
//! tests hold it to that); what it rejects gets the catalogue's reason code.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::names::{XML_NS, XMLNS_NS, is_absolute_uri, is_xml_char, split_qname};
use super::tree::{AttrRec, Document, NO_NODE, Node, NodeKind, NsDeclRec, Span};
use super::{LineEnds, ParseOptions, XmlError};
use crate::Reason;

/// Parses `input` into a [`Document`].
pub fn parse(input: &[u8], opts: &ParseOptions) -> Result<Document, XmlError> {
    if input.len() > opts.limits.max_bytes {
        return Err(XmlError::new(
            Reason::XmlLimits,
            0,
            format!(
                "document is {} bytes, over the {} byte cap",
                input.len(),
                opts.limits.max_bytes
            ),
        ));
    }
    let text = check_encoding(input)?;
    check_chars(text)?;
    let bom = input.len() - text.len();
    let mut b = Builder::new(text, opts, bom);
    b.run()?;
    b.finish()
}

/// Checks the byte-order mark and the declared encoding, and that the bytes are UTF-8.
/// Returns the text after a UTF-8 BOM.
fn check_encoding(input: &[u8]) -> Result<&str, XmlError> {
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    if body.starts_with(b"\xFF\xFE")
        || body.starts_with(b"\xFE\xFF")
        || body.starts_with(b"\x00<")
        || body.starts_with(b"<\x00")
    {
        return Err(XmlError::new(
            Reason::XmlEncoding,
            0,
            "UTF-16 input; only UTF-8 is accepted",
        ));
    }
    if let Some(enc) = declared_encoding(body)
        && !enc.eq_ignore_ascii_case(b"UTF-8")
    {
        return Err(XmlError::new(
            Reason::XmlEncoding,
            0,
            format!(
                "declared encoding {:?}; only UTF-8 is accepted",
                String::from_utf8_lossy(enc)
            ),
        ));
    }
    // SIMD validation; the standard library's only on failure, for the error offset.
    if let Ok(s) = simdutf8::basic::from_utf8(body) {
        return Ok(s);
    }
    std::str::from_utf8(body).map_err(|e| {
        XmlError::new(
            Reason::XmlMalformed,
            e.valid_up_to() + (input.len() - body.len()),
            "invalid UTF-8",
        )
    })
}

/// The value of `encoding="..."` in a leading XML declaration, if any.
fn declared_encoding(body: &[u8]) -> Option<&[u8]> {
    let rest = body.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = &rest[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let mut r = &decl[at + 8..];
    r = r.trim_ascii_start().strip_prefix(b"=")?.trim_ascii_start();
    let q = *r.first()?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let r = &r[1..];
    let close = r.iter().position(|&c| c == q)?;
    Some(&r[..close])
}

/// XML 1.0 [23] `XMLDecl ::= '<?xml' VersionInfo EncodingDecl? SDDecl? S? '?>'`, checked on
/// the text starting at `<?xml`: white space before each pseudo-attribute, the three in that
/// order, `standalone` only `yes` or `no`. quick-xml reads the declaration loosely, so this is
/// the one reading of it: returns the version and the encoding, if declared.
fn check_xml_decl(at: &[u8]) -> Result<(&[u8], Option<&[u8]>), &'static str> {
    // XML white space only (`trim_ascii_start` would also skip form feed).
    let skip_s = |r: &[u8]| -> usize {
        r.iter()
            .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .count()
    };
    let mut r = at.strip_prefix(b"<?xml").ok_or("no '<?xml'")?;
    let mut seen = 0;
    let (mut version, mut encoding) = (None, None);
    loop {
        let space = skip_s(r);
        r = &r[space..];
        if r.starts_with(b"?>") {
            return version.map(|v| (v, encoding)).ok_or("no version");
        }
        if space == 0 {
            return Err("no white space before a pseudo-attribute");
        }
        let (name, order) = [
            (&b"version"[..], 1),
            (&b"encoding"[..], 2),
            (&b"standalone"[..], 3),
        ]
        .into_iter()
        .find(|(n, _)| r.starts_with(n))
        .ok_or("unknown pseudo-attribute")?;
        if order <= seen || (seen == 0 && order != 1) {
            return Err("pseudo-attributes out of order");
        }
        seen = order;
        r = &r[name.len()..];
        r = &r[skip_s(r)..];
        r = r.strip_prefix(b"=").ok_or("expected '='")?;
        r = &r[skip_s(r)..];
        let q = *r.first().ok_or("unterminated")?;
        if q != b'"' && q != b'\'' {
            return Err("unquoted value");
        }
        let close = r[1..]
            .iter()
            .position(|&c| c == q)
            .ok_or("unterminated value")?;
        let value = &r[1..1 + close];
        let valid = match order {
            1 => {
                value.len() >= 3
                    && value.starts_with(b"1.")
                    && value[2..].iter().all(u8::is_ascii_digit)
            }
            2 => {
                value.first().is_some_and(u8::is_ascii_alphabetic)
                    && value
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
            }
            _ => value == b"yes" || value == b"no",
        };
        if !valid {
            return Err("invalid pseudo-attribute value");
        }
        match order {
            1 => version = Some(value),
            2 => encoding = Some(value),
            _ => {}
        }
        r = &r[2 + close..];
    }
}

/// Rejects characters XML 1.0 does not allow anywhere (C0 controls, U+FFFE, U+FFFF).
fn check_chars(text: &str) -> Result<(), XmlError> {
    let bytes = text.as_bytes();
    // Fast path (vectorises): no C0 control other than TAB/LF/CR, and no 0xEF lead byte.
    let suspicious = bytes.iter().fold(false, |acc, &c| {
        acc | ((c < 0x20) & (c != 0x09) & (c != 0x0A) & (c != 0x0D)) | (c == 0xEF)
    });
    if !suspicious {
        return Ok(());
    }
    for (i, &c) in bytes.iter().enumerate() {
        let bad = match c {
            0x09 | 0x0A | 0x0D => false,
            0x00..=0x1F => true,
            0xEF => {
                bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
            }
            _ => false,
        };
        if bad {
            return Err(XmlError::new(
                Reason::XmlMalformed,
                i,
                "character not allowed in XML",
            ));
        }
    }
    Ok(())
}

struct Builder<'a> {
    src: &'a str,
    /// Address of `src`, for turning borrowed slices into spans.
    src_addr: usize,
    opts: &'a ParseOptions,
    base: usize,
    doc: Document,
    xml_ns: Span,
    /// Open elements.
    stack: Vec<u32>,
    /// In-scope namespace declarations: (prefix, uri) spans into `doc.buf`.
    scope: Vec<(Span, Span)>,
    scope_marks: Vec<usize>,
    /// Character data being collected: its span, and whether it was copied to the tail of
    /// `doc.buf` (so more pieces can be appended).
    pending: Option<(Span, bool)>,
    pending_offset: usize,
    seen_root: bool,
    root_closed: bool,
    relative_ns: Option<(usize, String)>,
    /// Reused buffer for one start tag's raw attributes.
    attr_buf: Vec<(&'a str, std::borrow::Cow<'a, str>)>,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str, opts: &'a ParseOptions, base: usize) -> Self {
        // The buffer starts as a copy of the input, so names and values that need no decoding
        // are spans into it; decoded strings are appended after it.
        let mut buf = String::with_capacity(src.len() + src.len() / 4 + XML_NS.len());
        buf.push_str(src);
        let xml_ns = Span {
            start: buf.len() as u32,
            len: XML_NS.len() as u32,
        };
        buf.push_str(XML_NS);
        Builder {
            src,
            src_addr: src.as_ptr() as usize,
            opts,
            base,
            doc: Document {
                buf,
                nodes: Vec::with_capacity(src.len() / 40),
                attrs: Vec::with_capacity(src.len() / 80),
                ns_decls: Vec::with_capacity(16),
                root: NO_NODE,
                root_end: 0,
            },
            xml_ns,
            stack: Vec::with_capacity(32),
            scope: Vec::with_capacity(16),
            scope_marks: Vec::with_capacity(32),
            pending: None,
            pending_offset: 0,
            seen_root: false,
            root_closed: false,
            relative_ns: None,
            attr_buf: Vec::with_capacity(16),
        }
    }

    fn err(&self, reason: Reason, pos: usize, msg: impl Into<String>) -> XmlError {
        XmlError::new(reason, pos + self.base, msg)
    }

    /// A span for `s`: into the input copy when `s` borrows from the input, else appended.
    fn span_of(&mut self, s: &str) -> Span {
        let addr = s.as_ptr() as usize;
        if addr >= self.src_addr && addr + s.len() <= self.src_addr + self.src.len() {
            return Span {
                start: (addr - self.src_addr) as u32,
                len: s.len() as u32,
            };
        }
        self.push_str(s)
    }

    fn push_str(&mut self, s: &str) -> Span {
        let start = self.doc.buf.len() as u32;
        self.doc.buf.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    fn span_str(&self, s: Span) -> &str {
        &self.doc.buf[s.start as usize..(s.start + s.len) as usize]
    }

    fn run(&mut self) -> Result<(), XmlError> {
        let mut reader = Reader::from_str(self.src);
        {
            let c = reader.config_mut();
            c.check_end_names = true;
            c.check_comments = true;
            c.expand_empty_elements = false;
            c.trim_text(false);
            c.allow_dangling_amp = false;
            c.allow_unmatched_ends = false;
        }
        let mut first = true;
        loop {
            let pos = reader.buffer_position() as usize;
            let ev = match reader.read_event() {
                Ok(ev) => ev,
                Err(e) => {
                    let at = reader.error_position() as usize;
                    // A DOCTYPE quick-xml cannot even delimit is still a DOCTYPE.
                    // (Bytes: the error position may fall inside a multi-byte character.)
                    let head = &self.src.as_bytes()[..at.min(self.src.len())];
                    if memchr::memmem::find(head, b"<!DOCTYPE").is_some() {
                        return Err(self.err(Reason::XmlDoctype, at, "DOCTYPE is not allowed"));
                    }
                    return Err(self.err(
                        Reason::XmlMalformed,
                        at,
                        format!("not well-formed: {e}"),
                    ));
                }
            };
            let was_first = first;
            first = false;
            match ev {
                Event::Decl(_) => {
                    if !was_first || pos != 0 {
                        return Err(self.err(
                            Reason::XmlMalformed,
                            pos,
                            "XML declaration not at the start of the document",
                        ));
                    }
                    let (version, encoding) =
                        check_xml_decl(&self.src.as_bytes()[pos..]).map_err(|m| {
                            self.err(
                                Reason::XmlMalformed,
                                pos,
                                format!("bad XML declaration: {m}"),
                            )
                        })?;
                    if version != b"1.0" {
                        return Err(self.err(
                            Reason::XmlVersion,
                            pos,
                            format!(
                                "XML version {}; only 1.0 is accepted",
                                String::from_utf8_lossy(version)
                            ),
                        ));
                    }
                    if encoding.is_some_and(|e| !e.eq_ignore_ascii_case(b"UTF-8")) {
                        return Err(self.err(Reason::XmlEncoding, pos, "only UTF-8 is accepted"));
                    }
                }
                Event::DocType(_) => {
                    return Err(self.err(Reason::XmlDoctype, pos, "DOCTYPE is not allowed"));
                }
                Event::PI(pi) => {
                    let target = pi.target();
                    if target.eq_ignore_ascii_case("xml") {
                        return Err(self.err(
                            Reason::XmlMalformed,
                            pos,
                            "XML declaration not at the start of the document",
                        ));
                    }
                    return Err(self.err(
                        Reason::XmlPi,
                        pos,
                        format!("processing instruction <?{target}?> is not allowed"),
                    ));
                }
                Event::Start(e) => {
                    self.flush_text()?;
                    self.start(&e, pos, false)?;
                }
                Event::Empty(e) => {
                    self.flush_text()?;
                    self.start(&e, pos, true)?;
                }
                Event::End(_) => {
                    self.flush_text()?;
                    self.end();
                    if self.stack.is_empty() {
                        self.doc.root_end = reader.buffer_position() as usize + self.base;
                    }
                }
                Event::Text(t) => {
                    let raw: &'a str = match t.into_inner() {
                        std::borrow::Cow::Borrowed(b) => b,
                        std::borrow::Cow::Owned(_) => {
                            return Err(self.err(
                                Reason::XmlMalformed,
                                pos,
                                "unexpected text decoding",
                            ));
                        }
                    };
                    if self.stack.is_empty() {
                        if !raw
                            .bytes()
                            .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                        {
                            return Err(self.err(
                                Reason::XmlMalformed,
                                pos,
                                "text outside the document element",
                            ));
                        }
                        continue;
                    }
                    if let Some(i) = memchr::memmem::find(raw.as_bytes(), b"]]>") {
                        return Err(self.err(
                            Reason::XmlMalformed,
                            pos + i,
                            "']]>' in character data",
                        ));
                    }
                    if self.opts.line_ends == LineEnds::Normalize && raw.contains('\r') {
                        let mut s = String::with_capacity(raw.len());
                        push_normalized_eol(&mut s, raw);
                        self.add_text(&s, pos);
                    } else {
                        self.add_text(raw, pos);
                    }
                }
                Event::GeneralRef(r) => {
                    if self.stack.is_empty() {
                        return Err(self.err(
                            Reason::XmlMalformed,
                            pos,
                            "reference outside the document element",
                        ));
                    }
                    let name: &str = &r;
                    let c = resolve_ref(name).ok_or_else(|| {
                        self.err(
                            Reason::XmlMalformed,
                            pos,
                            format!("undefined or invalid reference &{name};"),
                        )
                    })?;
                    let mut tmp = [0u8; 4];
                    self.add_text(c.encode_utf8(&mut tmp), pos);
                }
                Event::CData(c) => {
                    if self.stack.is_empty() {
                        return Err(self.err(
                            Reason::XmlMalformed,
                            pos,
                            "CDATA outside the document element",
                        ));
                    }
                    let raw: &str = &c;
                    if raw.contains('\r') {
                        let mut s = String::with_capacity(raw.len());
                        push_normalized_eol(&mut s, raw);
                        self.add_text(&s, pos);
                    } else {
                        let owned = raw.to_owned();
                        self.add_text(&owned, pos);
                    }
                }
                Event::Comment(c) => {
                    self.flush_text()?;
                    let raw: &str = &c;
                    if raw.ends_with('-') {
                        return Err(self.err(Reason::XmlMalformed, pos, "comment ends with '-'"));
                    }
                    if !self.stack.is_empty() {
                        let mut s = String::with_capacity(raw.len());
                        push_normalized_eol(&mut s, raw);
                        let span = self.push_str(&s);
                        self.add_leaf(NodeKind::Comment, span, pos)?;
                    }
                }
                Event::Eof => break,
            }
        }
        if !self.stack.is_empty() {
            return Err(self.err(
                Reason::XmlMalformed,
                self.src.len(),
                "unexpected end of document",
            ));
        }
        if !self.seen_root {
            return Err(self.err(Reason::XmlMalformed, 0, "no document element"));
        }
        Ok(())
    }

    /// Adds a piece of character data to the pending text node.
    fn add_text(&mut self, piece: &str, pos: usize) {
        match self.pending {
            None => {
                self.pending_offset = pos;
                let span = self.span_of(piece);
                let in_tail = span.start as usize + span.len as usize == self.doc.buf.len()
                    && span.start as usize >= self.src.len();
                self.pending = Some((span, in_tail));
            }
            Some((span, in_tail)) => {
                let start = if in_tail {
                    span.start
                } else {
                    // Move the first piece to the tail so pieces are contiguous.
                    let first = self.span_str(span).to_owned();
                    self.push_str(&first).start
                };
                self.doc.buf.push_str(piece);
                let len = (self.doc.buf.len() - start as usize) as u32;
                self.pending = Some((Span { start, len }, true));
            }
        }
    }

    fn flush_text(&mut self) -> Result<(), XmlError> {
        if let Some((span, _)) = self.pending.take() {
            self.add_leaf(NodeKind::Text, span, self.pending_offset)?;
        }
        Ok(())
    }

    fn add_leaf(&mut self, kind: NodeKind, content: Span, pos: usize) -> Result<(), XmlError> {
        let parent = *self.stack.last().unwrap_or(&NO_NODE);
        let id = self.new_node(Node {
            kind,
            parent,
            first_child: NO_NODE,
            last_child: NO_NODE,
            next_sibling: NO_NODE,
            prefix: Span::default(),
            local: content,
            ns: Span::default(),
            attrs: 0..0,
            ns_decls: 0..0,
            offset: (pos + self.base) as u32,
            depth: self.stack.len() as u16 + 1,
        })?;
        self.link(parent, id);
        Ok(())
    }

    fn new_node(&mut self, n: Node) -> Result<u32, XmlError> {
        if self.doc.nodes.len() >= self.opts.limits.max_nodes {
            return Err(self.err(
                Reason::XmlLimits,
                n.offset as usize - self.base,
                format!("more than {} nodes", self.opts.limits.max_nodes),
            ));
        }
        self.doc.nodes.push(n);
        Ok((self.doc.nodes.len() - 1) as u32)
    }

    fn link(&mut self, parent: u32, id: u32) {
        if parent == NO_NODE {
            return;
        }
        let p = &mut self.doc.nodes[parent as usize];
        let last = p.last_child;
        p.last_child = id;
        if last == NO_NODE {
            p.first_child = id;
        } else {
            self.doc.nodes[last as usize].next_sibling = id;
        }
    }

    fn lookup(&self, prefix: &str) -> Option<Span> {
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| self.span_str(*p) == prefix)
            .map(|(_, u)| *u)
    }

    fn start(&mut self, e: &BytesStart<'a>, pos: usize, empty: bool) -> Result<(), XmlError> {
        if self.stack.is_empty() {
            if self.seen_root {
                return Err(self.err(Reason::XmlRoot, pos, "more than one document element"));
            }
            self.seen_root = true;
        }
        let depth = self.stack.len() + 1;
        if depth > self.opts.limits.max_depth {
            return Err(self.err(
                Reason::XmlTooDeep,
                pos,
                format!(
                    "nesting deeper than {} elements",
                    self.opts.limits.max_depth
                ),
            ));
        }
        let qname: &str = e.name().into_inner();
        let (prefix, local) = split_qname(qname).ok_or_else(|| {
            self.err(
                Reason::XmlMalformed,
                pos,
                format!("invalid element name {qname:?}"),
            )
        })?;
        if prefix == "xmlns" {
            return Err(self.err(
                Reason::XmlMalformed,
                pos,
                "element prefix 'xmlns' is reserved",
            ));
        }

        // One pass over the raw attributes; namespace declarations are applied first because
        // they scope this element and its own attributes.
        self.scope_marks.push(self.scope.len());
        let decl_start = self.doc.ns_decls.len() as u32;
        let mut attr_buf = std::mem::take(&mut self.attr_buf);
        attr_buf.clear();
        let collected = self.collect_attrs(e, pos, &mut attr_buf);
        let result = collected.and_then(|()| self.apply_attrs(&attr_buf, prefix, pos));
        self.attr_buf = attr_buf;
        let (ns, attr_start, decl_end) = result?;
        let attr_end = self.doc.attrs.len() as u32;

        let parent = *self.stack.last().unwrap_or(&NO_NODE);
        let prefix = self.span_of(prefix);
        let local = self.span_of(local);
        let id = self.new_node(Node {
            kind: NodeKind::Element,
            parent,
            first_child: NO_NODE,
            last_child: NO_NODE,
            next_sibling: NO_NODE,
            prefix,
            local,
            ns,
            attrs: attr_start..attr_end,
            ns_decls: decl_start..decl_end,
            offset: (pos + self.base) as u32,
            depth: depth as u16,
        })?;
        self.link(parent, id);
        if parent == NO_NODE {
            self.doc.root = id;
        }
        self.stack.push(id);
        if empty {
            self.end();
            if self.stack.is_empty() {
                self.doc.root_end = self.empty_end(pos);
            }
        }
        Ok(())
    }

    /// The same text as a slice of the input with the input's lifetime (quick-xml hands out
    /// slices of the input tied to the event borrow).
    fn reborrow(&self, s: &str) -> Option<&'a str> {
        let addr = s.as_ptr() as usize;
        let start = addr.checked_sub(self.src_addr)?;
        self.src.get(start..start + s.len())
    }

    /// Collects the raw `(name, value)` pairs of a start tag.
    fn collect_attrs(
        &self,
        e: &BytesStart<'a>,
        pos: usize,
        out: &mut Vec<(&'a str, std::borrow::Cow<'a, str>)>,
    ) -> Result<(), XmlError> {
        // Duplicates are checked on expanded names below (stricter than literal names).
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|err| {
                self.err(Reason::XmlMalformed, pos, format!("bad attribute: {err}"))
            })?;
            if out.len() >= self.opts.limits.max_attrs {
                return Err(self.err(
                    Reason::XmlLimits,
                    pos,
                    format!(
                        "more than {} attributes on one element",
                        self.opts.limits.max_attrs
                    ),
                ));
            }
            let key = self
                .reborrow(a.key.into_inner())
                .ok_or_else(|| self.err(Reason::XmlMalformed, pos, "attribute name"))?;
            // XML 1.0 [40]: attributes are separated by white space. quick-xml reads
            // `a="1"b="2"` as two attributes; libxml2 (and the spec) refuse it.
            let key_at = key.as_ptr() as usize - self.src_addr;
            if !matches!(
                self.src.as_bytes().get(key_at.wrapping_sub(1)),
                Some(b' ' | b'\t' | b'\r' | b'\n')
            ) {
                return Err(self.err(
                    Reason::XmlMalformed,
                    pos,
                    format!("no white space before attribute {key:?}"),
                ));
            }
            let value = match a.value {
                std::borrow::Cow::Borrowed(v) => match self.reborrow(v) {
                    Some(v) => std::borrow::Cow::Borrowed(v),
                    None => std::borrow::Cow::Owned(v.to_owned()),
                },
                std::borrow::Cow::Owned(v) => std::borrow::Cow::Owned(v),
            };
            out.push((key, value));
        }
        Ok(())
    }

    /// Declares the namespaces, resolves the element's namespace and records the attributes.
    /// Returns (element namespace, first attribute index, end of this element's declarations).
    fn apply_attrs(
        &mut self,
        attrs: &[(&'a str, std::borrow::Cow<'a, str>)],
        prefix: &str,
        pos: usize,
    ) -> Result<(Span, u32, u32), XmlError> {
        for (key, raw) in attrs {
            let is_default = *key == "xmlns";
            let Some(p) = key.strip_prefix("xmlns:").or(is_default.then_some("")) else {
                continue;
            };
            let value = normalize_attr(raw).map_err(|m| {
                self.err(Reason::XmlMalformed, pos, format!("attribute {key}: {m}"))
            })?;
            if self.scope[*self.scope_marks.last().unwrap_or(&0)..]
                .iter()
                .any(|(dp, _)| self.span_str(*dp) == p)
            {
                return Err(self.err(
                    Reason::XmlMalformed,
                    pos,
                    format!("namespace prefix {p:?} declared twice"),
                ));
            }
            if is_default {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(self.err(
                        Reason::XmlMalformed,
                        pos,
                        "reserved namespace bound as default",
                    ));
                }
                self.declare("", &value, pos)?;
                continue;
            }
            if !super::names::is_ncname(p) {
                return Err(self.err(Reason::XmlMalformed, pos, format!("invalid prefix {p:?}")));
            }
            if value.is_empty() {
                return Err(self.err(
                    Reason::XmlMalformed,
                    pos,
                    format!("empty namespace for prefix {p:?}"),
                ));
            }
            match p {
                "xmlns" => {
                    return Err(self.err(
                        Reason::XmlMalformed,
                        pos,
                        "prefix 'xmlns' cannot be declared",
                    ));
                }
                "xml" if value != XML_NS => {
                    return Err(self.err(
                        Reason::XmlMalformed,
                        pos,
                        "prefix 'xml' bound to another namespace",
                    ));
                }
                "xml" => continue,
                _ if value == XML_NS || value == XMLNS_NS => {
                    return Err(self.err(
                        Reason::XmlMalformed,
                        pos,
                        "reserved namespace bound to a prefix",
                    ));
                }
                _ => {}
            }
            self.declare(p, &value, pos)?;
        }
        let decl_end = self.doc.ns_decls.len() as u32;

        let ns = match prefix {
            "xml" => self.xml_ns,
            _ => match self.lookup(prefix) {
                Some(u) => u,
                None if prefix.is_empty() => Span::default(),
                None => {
                    return Err(self.err(
                        Reason::XmlMalformed,
                        pos,
                        format!("undeclared prefix {prefix:?}"),
                    ));
                }
            },
        };

        let attr_start = self.doc.attrs.len() as u32;
        for (key, raw) in attrs {
            if *key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let (ap, al) = split_qname(key).ok_or_else(|| {
                self.err(
                    Reason::XmlMalformed,
                    pos,
                    format!("invalid attribute name {key:?}"),
                )
            })?;
            if ap == "xml" {
                check_xml_attr(al, raw).map_err(|m| self.err(Reason::XmlMalformed, pos, m))?;
            }
            let ans = match ap {
                "" => Span::default(),
                "xml" => self.xml_ns,
                _ => self.lookup(ap).filter(|u| u.len > 0).ok_or_else(|| {
                    self.err(
                        Reason::XmlMalformed,
                        pos,
                        format!("undeclared prefix {ap:?}"),
                    )
                })?,
            };
            let ns_str = self.span_str(ans);
            let dup = self.doc.attrs[attr_start as usize..]
                .iter()
                .any(|x| self.span_str(x.local) == al && self.span_str(x.ns) == ns_str);
            if dup {
                return Err(self.err(
                    Reason::XmlMalformed,
                    pos,
                    format!("duplicate attribute {al:?}"),
                ));
            }
            let value_span = match raw {
                std::borrow::Cow::Borrowed(r) if !needs_normalizing(r) => self.span_of(r),
                raw => {
                    let v = normalize_attr(raw).map_err(|m| {
                        self.err(Reason::XmlMalformed, pos, format!("attribute {key}: {m}"))
                    })?;
                    self.push_str(&v)
                }
            };
            let prefix = self.span_of(ap);
            let local = self.span_of(al);
            self.doc.attrs.push(AttrRec {
                prefix,
                local,
                ns: ans,
                value: value_span,
            });
        }
        Ok((ns, attr_start, decl_end))
    }

    /// End offset of an empty-element tag starting at `pos`.
    fn empty_end(&self, pos: usize) -> usize {
        let rest = &self.src.as_bytes()[pos..];
        let mut quote = 0u8;
        for (i, &c) in rest.iter().enumerate() {
            match c {
                b'"' | b'\'' if quote == 0 => quote = c,
                q if q == quote => quote = 0,
                b'>' if quote == 0 => return pos + i + 1 + self.base,
                _ => {}
            }
        }
        self.src.len() + self.base
    }

    fn declare(&mut self, prefix: &str, uri: &str, pos: usize) -> Result<(), XmlError> {
        // An '&' can only come from `&amp;` or `&#38;`, and libxml2 (without entity
        // substitution, as fedrp runs it) keeps such an '&' in a namespace name as the five
        // characters `&#38;`: its name would differ from ours, and so would the canonical bytes.
        // No real namespace name has one (found by the validate fuzz target).
        if uri.contains('&') {
            return Err(self.err(
                Reason::XmlMalformed,
                pos,
                format!("namespace name {uri:?} holds '&', which libxml2 reads as \"&#38;\""),
            ));
        }
        if !super::names::is_uri_reference(uri) {
            return Err(self.err(
                Reason::XmlMalformed,
                pos,
                format!("namespace name {uri:?} is not a valid URI"),
            ));
        }
        if !uri.is_empty() && !is_absolute_uri(uri) && self.relative_ns.is_none() {
            self.relative_ns = Some((pos + self.base, uri.to_owned()));
        }
        let p = self.span_of(prefix);
        let u = self.span_of(uri);
        self.doc.ns_decls.push(NsDeclRec { prefix: p, uri: u });
        self.scope.push((p, u));
        Ok(())
    }

    fn end(&mut self) {
        self.stack.pop();
        if let Some(mark) = self.scope_marks.pop() {
            self.scope.truncate(mark);
        }
        if self.stack.is_empty() {
            self.root_closed = true;
        }
    }

    fn finish(self) -> Result<Document, XmlError> {
        if let Some((pos, uri)) = self.relative_ns {
            return Err(XmlError::new(
                Reason::SigC14n,
                pos,
                format!(
                    "relative namespace URI {uri:?}: exclusive canonicalization is undefined for it"
                ),
            ));
        }
        debug_assert!(self.root_closed);
        Ok(self.doc)
    }
}

/// The `xml:` attributes libxml2 validates as errors: `xml:space` must be `default` or
/// `preserve`, `xml:id` must be an NCName.
fn check_xml_attr(local: &str, raw: &str) -> Result<(), String> {
    let v = normalize_attr(raw)?;
    match local {
        "space" if v != "default" && v != "preserve" => Err(format!(
            "xml:space {v:?} is not \"default\" or \"preserve\""
        )),
        "id" if !super::names::is_ncname(&v) => Err(format!("xml:id {v:?} is not an NCName")),
        _ => Ok(()),
    }
}

/// Whether a raw attribute value needs reference resolution or whitespace normalisation.
fn needs_normalizing(raw: &str) -> bool {
    raw.bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r'))
}

/// Appends `raw` with XML line-end normalisation (CR LF and lone CR become LF).
fn push_normalized_eol(out: &mut String, raw: &str) {
    if !raw.contains('\r') {
        out.push_str(raw);
        return;
    }
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
}

/// Resolves a general or character reference name (without `&` and `;`).
fn resolve_ref(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let v = if let Some(hex) = num.strip_prefix('x') {
                if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                u32::from_str_radix(hex, 16).ok()?
            } else {
                if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                num.parse::<u32>().ok()?
            };
            char::from_u32(v).filter(|&c| is_xml_char(c))
        }
    }
}

/// Attribute-value normalisation for CDATA attributes (there is no DTD): references resolved,
/// literal TAB/CR/LF become spaces (CR LF counts once), `<` refused.
fn normalize_attr(raw: &str) -> Result<std::borrow::Cow<'_, str>, String> {
    if !needs_normalizing(raw) {
        return Ok(std::borrow::Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let c = bytes[i];
        match c {
            b'<' => return Err("'<' in attribute value".into()),
            b'&' => {
                let end = raw[i..].find(';').ok_or("unterminated reference")? + i;
                let name = &raw[i + 1..end];
                let ch = resolve_ref(name)
                    .ok_or_else(|| format!("undefined or invalid reference &{name};"))?;
                out.push(ch);
                i = end + 1;
            }
            b'\r' => {
                out.push(' ');
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            b'\n' | b'\t' => {
                out.push(' ');
                i += 1;
            }
            _ => {
                // Copy one UTF-8 scalar.
                let len = utf8_len(c);
                out.push_str(&raw[i..i + len]);
                i += len;
            }
        }
    }
    Ok(std::borrow::Cow::Owned(out))
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}
