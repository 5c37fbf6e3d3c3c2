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

/// Whether `s` is a syntactically valid RFC 3986 URI reference (ASCII only; `%` followed by two
/// hex digits). libxml2 reports a namespace error for namespace names that are not.
pub fn is_uri_reference(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ok = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@'
            )
            || matches!(
                c,
                b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
            );
        if c == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
            continue;
        }
        if !ok {
            return false;
        }
        i += 1;
    }
    true
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
}
