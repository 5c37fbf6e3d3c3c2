//! XML 1.0 (fifth edition) name rules and well-known namespace URIs.

/// The `xml` prefix's namespace.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The `xmlns` prefix's namespace (never declarable).
pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether `s` is an NCName (an XML Name without a colon).
pub fn is_ncname(s: &str) -> bool {
    // ASCII fast path (almost every name in a token).
    let b = s.as_bytes();
    if b.is_ascii() {
        return matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start_char(c) => chars.all(is_name_char),
        _ => false,
    }
}

/// Splits a QName into `(prefix, local)`; `None` when it is not a valid QName.
pub fn split_qname(s: &str) -> Option<(&str, &str)> {
    match s.find(':') {
        None => is_ncname(s).then_some(("", s)),
        Some(i) => {
            let (p, l) = (&s[..i], &s[i + 1..]);
            (is_ncname(p) && is_ncname(l)).then_some((p, l))
        }
    }
}

/// Whether a namespace URI is absolute (has a scheme). Exclusive canonicalization is undefined
/// for relative namespace URIs ("void canonicalization", CVE-2025-66568 class).
pub fn is_absolute_uri(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Whether `s` is a URI reference as libxml2 (2.9, `xmlParseURI`) parses one: the RFC 3986
/// grammar with libxml2's own corners (brackets allowed in fragments, an IP-literal host is any
/// text up to `]`, every other host is read as a reg-name, a port above `i32::MAX` fails). libxml2 reports a namespace
/// warning for namespace names it cannot parse and the reference engine treats that as
/// malformed input, so the streaming reader must accept exactly the same set; the engine
/// differential fuzzer holds the two to it.
pub fn is_uri_reference(s: &str) -> bool {
    let mut absolute = UriCursor::new(s.as_bytes());
    if absolute.uri() {
        return true;
    }
    UriCursor::new(s.as_bytes()).relative_ref()
}

/// A cursor over URI bytes that reads NUL past the end, the way libxml2 walks a C string.
struct UriCursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> UriCursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        UriCursor { b, i: 0 }
    }

    fn at(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn alpha(c: u8) -> bool {
        c.is_ascii_alphabetic()
    }

    fn sub_delim(c: u8) -> bool {
        matches!(
            c,
            b'!' | b'$' | b'&' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b'\''
        )
    }

    fn unreserved(c: u8) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
    }

    fn pct_encoded(&self) -> bool {
        self.at(0) == b'%' && self.at(1).is_ascii_hexdigit() && self.at(2).is_ascii_hexdigit()
    }

    fn pchar(&self) -> bool {
        let c = self.at(0);
        Self::unreserved(c) || self.pct_encoded() || Self::sub_delim(c) || c == b':' || c == b'@'
    }

    /// libxml2's `NEXT`: a percent escape is one step of three bytes.
    fn next(&mut self) {
        self.i += if self.at(0) == b'%' { 3 } else { 1 };
    }

    fn at_end(&self) -> bool {
        self.at(0) == 0
    }

    /// `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`, whole input.
    fn uri(&mut self) -> bool {
        if !Self::alpha(self.at(0)) {
            return false;
        }
        self.i += 1;
        while matches!(self.at(0), c if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            self.i += 1;
        }
        if self.at(0) != b':' {
            return false;
        }
        self.i += 1;
        if self.at(0) == b'/' && self.at(1) == b'/' {
            self.i += 2;
            if !self.authority() {
                return false;
            }
            self.path_abempty();
        } else if self.at(0) == b'/' {
            self.path_absolute();
        } else if self.pchar() {
            self.segment(0);
            self.path_abempty();
        }
        self.query_fragment_end()
    }

    /// `relative-ref = relative-part [ "?" query ] [ "#" fragment ]`, whole input.
    fn relative_ref(&mut self) -> bool {
        if self.at(0) == b'/' && self.at(1) == b'/' {
            self.i += 2;
            if !self.authority() {
                return false;
            }
            self.path_abempty();
        } else if self.at(0) == b'/' {
            self.path_absolute();
        } else if self.pchar() {
            // path-noscheme: the first segment may not hold a colon.
            self.segment(b':');
            self.path_abempty();
        }
        self.query_fragment_end()
    }

    fn query_fragment_end(&mut self) -> bool {
        if self.at(0) == b'?' {
            self.i += 1;
            while self.pchar() || matches!(self.at(0), b'/' | b'?') {
                self.next();
            }
        }
        if self.at(0) == b'#' {
            self.i += 1;
            while self.pchar() || matches!(self.at(0), b'/' | b'?' | b'[' | b']') {
                self.next();
            }
        }
        self.at_end()
    }

    /// `authority = [ userinfo "@" ] host [ ":" port ]`; the port, when a colon is there,
    /// needs at least one digit.
    fn authority(&mut self) -> bool {
        let start = self.i;
        while {
            let c = self.at(0);
            Self::unreserved(c) || self.pct_encoded() || Self::sub_delim(c) || c == b':'
        } {
            self.next();
        }
        if self.at(0) == b'@' {
            self.i += 1;
        } else {
            self.i = start;
        }
        if !self.host() {
            return false;
        }
        if self.at(0) == b':' {
            self.i += 1;
            if !self.at(0).is_ascii_digit() {
                return false;
            }
            let mut port: u32 = 0;
            while self.at(0).is_ascii_digit() {
                port = port * 10 + u32::from(self.at(0) - b'0');
                if port > i32::MAX as u32 {
                    return false;
                }
                self.i += 1;
            }
        }
        true
    }

    fn host(&mut self) -> bool {
        if self.at(0) == b'[' {
            self.i += 1;
            while self.at(0) != b']' && self.at(0) != 0 {
                self.i += 1;
            }
            if self.at(0) != b']' {
                return false;
            }
            self.i += 1;
            return true;
        }
        while {
            let c = self.at(0);
            Self::unreserved(c) || self.pct_encoded() || Self::sub_delim(c)
        } {
            self.next();
        }
        true
    }

    /// `path-abempty = *( "/" segment )`
    fn path_abempty(&mut self) {
        while self.at(0) == b'/' {
            self.i += 1;
            self.segment(0);
        }
    }

    /// `path-absolute = "/" [ segment-nz *( "/" segment ) ]`
    fn path_absolute(&mut self) {
        self.i += 1;
        if self.pchar() {
            self.segment(0);
            self.path_abempty();
        }
    }

    /// `segment = *pchar`, stopping early at `forbid` when it is not NUL.
    fn segment(&mut self, forbid: u8) {
        while self.pchar() && (forbid == 0 || self.at(0) != forbid) {
            self.next();
        }
    }
}

/// Whether `c` is an XML 1.0 `Char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qnames() {
        assert_eq!(split_qname("saml:Assertion"), Some(("saml", "Assertion")));
        assert_eq!(split_qname("Assertion"), Some(("", "Assertion")));
        for bad in [
            ":Element", "Root:", "a::b", "::attr", ":", "", "1a", "a:b:c", "a b",
        ] {
            assert_eq!(split_qname(bad), None, "{bad}");
        }
    }

    #[test]
    fn uris() {
        assert!(is_absolute_uri("urn:oasis:names:tc:SAML:2.0:assertion"));
        assert!(is_absolute_uri("http://www.w3.org/2000/09/xmldsig#"));
        for rel in ["1", "", "foo/bar", ":x", "1http:x"] {
            assert!(!is_absolute_uri(rel), "{rel}");
        }
    }

    /// Verdicts taken from libxml2 2.9.14's `xmlParseURI`, which the reference engine applies
    /// to every namespace name; the engine-differential fuzzer found the bracket case.
    #[test]
    fn uri_references_as_libxml2_reads_them() {
        let cases = [
            ("http://docs.oasis-open.org/wss/2004/01/x.xsd", true),
            ("http://docs.oasis-open.org/wss/2004[01/x.xsd", false),
            ("a:b[", false),
            ("a:#[x]", true),
            ("http://[::1]/", true),
            ("http://[zz]/", true),
            ("http://[::1/", false),
            ("http://1.2.3.4x/", true),
            ("http://256.1.1.1/", true),
            ("http://host:/", false),
            ("http://x:2147483647/", true),
            ("http://x:2147483648/", false),
            ("http://a@b@c/", false),
            ("//@", true),
            ("urn:x%41", true),
            ("urn:x%zz", false),
            ("1a:b", false),
            ("a", true),
            ("", true),
            ("urn:a b", false),
            ("urn:caf\u{e9}", false),
        ];
        for (uri, valid) in cases {
            assert_eq!(is_uri_reference(uri), valid, "{uri:?}");
        }
    }
}
