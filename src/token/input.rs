//! Input decoding: raw XML or base64, with the size cap applied before anything else.

use std::borrow::Cow;
use std::ops::Range;

use base64::Engine as _;

use super::TokenError;
use super::error::reject;
use crate::Reason;

/// How a token arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// XML text (a WS-Fed `wresult`): decoded exactly never, so `&lt;...` stays malformed XML.
    Xml,
    /// Base64 (a SAML-P `SAMLResponse`).
    Base64,
    /// Either: XML when it starts (after whitespace and byte-order marks) with `<`.
    Detect,
}

/// Returns the XML bytes of `input`. Base64 is the standard alphabet with padding; whitespace
/// and line breaks are ignored. `max` caps both the input and the decoded size
/// (`http.too_large`).
pub fn decode(input: &[u8], encoding: Encoding, max: usize) -> Result<Cow<'_, [u8]>, TokenError> {
    if input.len() > max.saturating_mul(4) / 3 + 4 {
        return reject(
            Reason::HttpTooLarge,
            format!("token is {} bytes, over the {max} byte cap", input.len()),
        );
    }
    let looks_xml = match encoding {
        Encoding::Xml => true,
        Encoding::Base64 => false,
        Encoding::Detect => {
            let mut head = input;
            loop {
                let t = head.trim_ascii_start();
                match t.strip_prefix(b"\xEF\xBB\xBF") {
                    Some(rest) => head = rest,
                    None => {
                        head = t;
                        break;
                    }
                }
            }
            head.first() == Some(&b'<')
                || head.starts_with(b"\xFF\xFE")
                || head.starts_with(b"\xFE\xFF")
        }
    };
    let bytes = if looks_xml {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(decode_base64(input)?)
    };
    if bytes.len() > max {
        return reject(
            Reason::HttpTooLarge,
            format!("token is {} bytes, over the {max} byte cap", bytes.len()),
        );
    }
    Ok(bytes)
}

/// Strict base64 (standard alphabet, canonical padding), ignoring ASCII whitespace.
pub fn decode_base64(input: &[u8]) -> Result<Vec<u8>, TokenError> {
    let compact: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return reject(Reason::HttpBase64, "empty value");
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| TokenError::new(Reason::HttpBase64, format!("not base64: {e}")))
}

/// Rewrites every literal CR in character data inside `range` as `&#13;`, leaving markup,
/// comments, CDATA sections and processing instructions alone. Used to give libxml2 the same
/// "CR is data" reading as [`crate::xml::LineEnds::KeepCrInText`].
pub fn cr_as_char_refs(bytes: &[u8], range: Range<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    out.extend_from_slice(&bytes[..range.start]);
    let body = &bytes[range.clone()];
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == b'<' {
            let rest = &body[i..];
            let end = if rest.starts_with(b"<!--") {
                find(rest, b"-->").map(|e| e + 3)
            } else if rest.starts_with(b"<![CDATA[") {
                find(rest, b"]]>").map(|e| e + 3)
            } else if rest.starts_with(b"<?") {
                find(rest, b"?>").map(|e| e + 2)
            } else {
                tag_end(rest)
            }
            .unwrap_or(rest.len());
            out.extend_from_slice(&rest[..end]);
            i += end;
        } else if c == b'\r' {
            out.extend_from_slice(b"&#13;");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[range.end..]);
    out
}

/// The first position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The length of a tag up to and including its `>` (quotes respected), if it ends.
pub(crate) fn tag_end(tag: &[u8]) -> Option<usize> {
    let mut quote = 0u8;
    for (i, &c) in tag.iter().enumerate() {
        match c {
            b'"' | b'\'' if quote == 0 => quote = c,
            q if q == quote && quote != 0 => quote = 0,
            b'>' if quote == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_xml_and_base64() {
        let d = Encoding::Detect;
        assert_eq!(&*decode(b"  <a/>", d, 100).unwrap(), b"  <a/>");
        assert_eq!(
            &*decode(b"\xEF\xBB\xBF <a/>", d, 100).unwrap(),
            b"\xEF\xBB\xBF <a/>"
        );
        assert_eq!(&*decode(b"PGEvPg==", d, 100).unwrap(), b"<a/>");
        assert_eq!(
            &*decode(b"PGEv\r\nPg==\r\n", Encoding::Base64, 100).unwrap(),
            b"<a/>"
        );
        assert_eq!(
            &*decode(b"&lt;a/&gt;", Encoding::Xml, 100).unwrap(),
            b"&lt;a/&gt;"
        );
        assert_eq!(
            decode(b"PGEvPg", d, 100).unwrap_err().reason,
            Reason::HttpBase64
        );
        assert_eq!(
            decode(b"PGEv_g==", d, 100).unwrap_err().reason,
            Reason::HttpBase64
        );
        assert_eq!(
            decode(b"<a/>", Encoding::Base64, 100).unwrap_err().reason,
            Reason::HttpBase64
        );
        assert_eq!(
            decode(&[b'<'; 200], d, 100).unwrap_err().reason,
            Reason::HttpTooLarge
        );
    }

    #[test]
    fn rewrites_cr_in_text_only() {
        let src = b"<?xml version=\"1.0\"?>\r\n<r a=\"x\r\ny\">t\r\n<!-- c\r\n --><![CDATA[d\r\n]]><s\r\n/>\r</r>\r\n";
        let start = 23;
        let end = src.len() - 2;
        let out = cr_as_char_refs(src, start..end);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "<?xml version=\"1.0\"?>\r\n<r a=\"x\r\ny\">t&#13;\n<!-- c\r\n --><![CDATA[d\r\n]]><s\r\n/>&#13;</r>\r\n"
        );
    }
}
