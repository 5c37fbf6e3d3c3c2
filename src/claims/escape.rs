//! SharePoint's "forms claims safety" escaping of claim values (README §3.6).
//!
//! Seven characters are escaped: `,` `:` `;` LF CR `|` `%`. Decoding is one left-to-right
//! pass: `%XY` becomes a character only when `XY` (hex digits in either case) is one of the
//! seven codes; any other `%` stays literal and is not an error. `a%253ab` therefore decodes
//! once, to `a%3ab`. The issuer id is never escaped or unescaped.

/// The seven escapes: character and the two hex digits (upper case) after `%`.
const ESCAPES: [(char, [u8; 2]); 7] = [
    (',', *b"2C"),
    (':', *b"3A"),
    (';', *b"3B"),
    ('\n', *b"0A"),
    ('\r', *b"0D"),
    ('|', *b"7C"),
    ('%', *b"25"),
];

/// The character an escape stands for, if `hi lo` (case-insensitive hex) is one of the seven.
fn escaped_char(hi: char, lo: char) -> Option<char> {
    let (hi, lo) = (hi.to_ascii_uppercase(), lo.to_ascii_uppercase());
    ESCAPES
        .iter()
        .find(|(_, code)| char::from(code[0]) == hi && char::from(code[1]) == lo)
        .map(|(c, _)| *c)
}

/// Unescapes a claim value in a single left-to-right pass.
pub fn unescape(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '%' {
            let decoded = match (chars.get(i + 1), chars.get(i + 2)) {
                (Some(&hi), Some(&lo)) => escaped_char(hi, lo),
                _ => None,
            };
            if let Some(decoded) = decoded {
                out.push(decoded);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Escapes a claim value: each of the seven characters becomes `%xy` with lower-case hex,
/// as SharePoint writes it (it lower-cases the whole encoded string).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match ESCAPES.iter().find(|(e, _)| *e == c) {
            Some((_, code)) => {
                out.push('%');
                out.push(char::from(code[0].to_ascii_lowercase()));
                out.push(char::from(code[1].to_ascii_lowercase()));
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_the_seven_codes_in_either_case() {
        assert_eq!(unescape("o%3aneill"), "o:neill");
        assert_eq!(unescape("O%3ANeill"), "O:Neill");
        assert_eq!(unescape("sales%2c emea%2C x"), "sales, emea, x");
        assert_eq!(unescape("a%3bb"), "a;b");
        assert_eq!(unescape("l1%0d%0Al2"), "l1\r\nl2");
        assert_eq!(unescape("a%7cb%7Cc"), "a|b|c");
        assert_eq!(unescape("100%25"), "100%");
    }

    #[test]
    fn other_percent_signs_stay_literal() {
        assert_eq!(unescape("50%off"), "50%off");
        assert_eq!(unescape("john%20smith"), "john%20smith");
        assert_eq!(unescape("trailing%"), "trailing%");
        assert_eq!(unescape("100%2"), "100%2");
        assert_eq!(unescape("%"), "%");
        assert_eq!(unescape("%%3a"), "%:");
        assert_eq!(unescape("%ǵa"), "%ǵa");
    }

    #[test]
    fn single_pass() {
        assert_eq!(unescape("a%253ab"), "a%3ab");
        assert_eq!(unescape("%2525"), "%25");
    }

    #[test]
    fn escape_round_trips() {
        let raw = "a,b:c;d\ne\rf|g%h%3a \\@#/_.ü";
        let escaped = escape(raw);
        assert_eq!(escaped, "a%2cb%3ac%3bd%0ae%0df%7cg%25h%253a \\@#/_.ü");
        assert_eq!(unescape(&escaped), raw);
    }
}
