//! Character rules and case handling shared by the decoder and the FQN builder.
//!
//! Case rules (attack catalogue M06): names compare **ordinal case-insensitively**, the way
//! Windows compares account names: each character is mapped through its simple (one
//! character to one character) upper-case mapping, and nothing else. There is **no** Unicode
//! normalisation and no compatibility folding: full-width `ａｄｍｉｎ`, Cyrillic `а` and Latin
//! `a` stay distinct names.

/// Invisible formatting characters that can disguise a name or reorder how it is displayed:
/// bidirectional controls (overrides, embeddings, isolates, marks), zero-width characters,
/// the soft hyphen, the byte-order mark, interlinear annotation characters, and the line and
/// paragraph separators (which split log lines like LF does).
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Why a character may not appear in an FQN name, or `None` when it may.
///
/// Forbidden: the label separator `:`, SharePoint's field separator `|`, every control
/// character (C0 including NUL, CR, LF and TAB; DEL; C1), and the invisible formatting
/// characters of [`is_invisible_format`]. Leading and trailing white space is checked
/// separately ([`edge_whitespace`]).
pub fn forbidden_in_name(c: char) -> Option<&'static str> {
    if c == ':' {
        Some("the label separator ':'")
    } else if c == '|' {
        Some("the field separator '|'")
    } else if c == '\r' || c == '\n' {
        Some("a line break")
    } else if c == '\0' {
        Some("NUL")
    } else if c.is_control() {
        Some("a control character")
    } else if c.is_ascii() {
        // The rest are all outside ASCII: no table look-up for the common case.
        None
    } else if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
        Some("a bidirectional override")
    } else if is_invisible_format(c) {
        Some("an invisible formatting character")
    } else {
        None
    }
}

/// The position (in characters) of leading or trailing white space, if any: `Some(0)` for
/// leading white space, `Some(last index)` for trailing white space.
pub fn edge_whitespace(s: &str) -> Option<usize> {
    if s.chars().next().is_some_and(char::is_whitespace) {
        return Some(0);
    }
    if s.chars().next_back().is_some_and(char::is_whitespace) {
        return Some(s.chars().count().saturating_sub(1));
    }
    None
}

/// The simple upper-case mapping of one character (the character itself when its upper case
/// is not a single character, as `ß` → `SS`).
pub fn simple_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// The simple lower-case mapping of one character (the character itself when its lower case
/// is not a single character, as `İ` → `i̇`).
pub fn simple_lower(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Upper-cases a string character by character ([`simple_upper`]); the character count never
/// changes.
pub fn upper(s: &str) -> String {
    s.chars().map(simple_upper).collect()
}

/// Lower-cases a string character by character ([`simple_lower`]), the way SharePoint's
/// `ToLowerInvariant` does; the character count never changes.
pub fn lower(s: &str) -> String {
    s.chars().map(simple_lower).collect()
}

/// Ordinal case-insensitive equality: equal after [`simple_upper`] of every character. No
/// normalisation, no compatibility folding (M06).
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().count() == b.chars().count()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| x == y || simple_upper(x) == simple_upper(y))
}

/// The length in UTF-16 code units (what SharePoint's limits count).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters() {
        for c in [
            ':', '|', '\r', '\n', '\0', '\t', '\u{7F}', '\u{85}', '\u{202E}', '\u{2066}',
        ] {
            assert!(forbidden_in_name(c).is_some(), "{c:?}");
        }
        for c in ['\u{200B}', '\u{FEFF}', '\u{2028}', '\u{00AD}'] {
            assert!(forbidden_in_name(c).is_some(), "{c:?}");
        }
        for c in ['a', '\\', '@', ' ', '#', '.', 'ü', 'ǵ', '%', '\u{00A0}'] {
            assert!(forbidden_in_name(c).is_none(), "{c:?}");
        }
        assert_eq!(
            forbidden_in_name('\u{202E}'),
            Some("a bidirectional override")
        );
    }

    #[test]
    fn edges() {
        assert_eq!(edge_whitespace(" admin"), Some(0));
        assert_eq!(edge_whitespace("admin\u{3000}"), Some(5));
        assert_eq!(edge_whitespace("nt service\\x"), None);
        assert_eq!(edge_whitespace(""), None);
    }

    #[test]
    fn ordinal_case_insensitive_without_folding() {
        assert!(eq_ignore_case("ADMIN", "admin"));
        assert!(eq_ignore_case("DENALLIX\\Bob", "denallix\\bob"));
        assert!(eq_ignore_case("ÜBER", "über"));
        // Full-width and Cyrillic look-alikes stay distinct (M06).
        assert!(!eq_ignore_case("\u{FF41}dmin", "admin"));
        assert!(!eq_ignore_case("\u{0430}dmin", "admin"));
        assert!(!eq_ignore_case("admin", "admin "));
        // ß has no single-character upper case: it only equals itself.
        assert!(!eq_ignore_case("straße", "STRASSE"));
    }

    #[test]
    fn case_mapping_keeps_length() {
        assert_eq!(upper("straße"), "STRAßE");
        assert_eq!(lower("İSTANBUL").chars().count(), 8);
        assert_eq!(lower("DENALLIX\\Bob"), "denallix\\bob");
        assert_eq!(utf16_len("aǵü😀"), 5);
    }
}
