//! The one error type of the claims layer.

use std::fmt;

use crate::Reason;

/// A claims failure: a stable [`Reason`] (always of the `claims.` family) and a message for
/// logs and the command line that says what is wrong and, for encoded claims, where.
///
/// The message may quote (escaped) parts of the input; it is meant for operators and logs,
/// never for the browser (`DESIGN.md` §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimsError {
    /// The reason code (`claims.encoding`, `claims.missing`, ...).
    pub reason: Reason,
    /// What is wrong, and where.
    pub message: String,
    /// For encoding errors: the 0-based character position in the encoded input the message
    /// refers to (characters are Unicode scalar values), when there is one.
    pub position: Option<usize>,
}

impl ClaimsError {
    /// A new error without a position.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        ClaimsError {
            reason,
            message: message.into(),
            position: None,
        }
    }

    /// A `claims.encoding` error at a character position of the encoded input.
    pub(crate) fn encoding_at(position: usize, message: impl Into<String>) -> Self {
        ClaimsError {
            reason: Reason::ClaimsEncoding,
            message: message.into(),
            position: Some(position),
        }
    }

    /// A `claims.encoding` error without a position.
    pub(crate) fn encoding(message: impl Into<String>) -> Self {
        ClaimsError::new(Reason::ClaimsEncoding, message)
    }

    /// The stable code, e.g. `claims.encoding`.
    pub fn code(&self) -> &'static str {
        self.reason.code()
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.message)
    }
}

impl std::error::Error for ClaimsError {}

/// Renders one character for a message: printable characters quoted, others as `U+XXXX`.
pub(crate) fn show_char(c: char) -> String {
    if c.is_control() || crate::claims::text::is_invisible_format(c) || c.is_whitespace() {
        format!("U+{:04X}", u32::from(c))
    } else if c.is_ascii() {
        format!("'{c}'")
    } else {
        format!("'{c}' (U+{:04X})", u32::from(c))
    }
}

/// Renders a string for a message: quoted, with control and invisible characters escaped,
/// cut to `max` characters.
pub(crate) fn show_str(s: &str, max: usize) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        if c.is_control() || crate::claims::text::is_invisible_format(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else if c == '"' || c == '\\' {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Renders a string for human output: unquoted, with control and invisible characters as
/// `\u{xxxx}` (so a value cannot rewrite a terminal or split a log line); nothing else escaped.
pub(crate) fn show_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || crate::claims::text::is_invisible_format(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_code_and_message() {
        let e = ClaimsError::encoding_at(6, "expected '|'");
        assert_eq!(e.to_string(), "claims.encoding: expected '|'");
        assert_eq!(e.position, Some(6));
        assert_eq!(e.code(), "claims.encoding");
    }

    #[test]
    fn shown_text_is_escaped() {
        assert_eq!(show_char('|'), "'|'");
        assert_eq!(show_char('\n'), "U+000A");
        assert_eq!(show_char('\u{202E}'), "U+202E");
        assert_eq!(show_char('ǵ'), "'ǵ' (U+01F5)");
        assert_eq!(show_str("a\nb\"c", 10), "\"a\\u{000a}b\\\"c\"");
        assert_eq!(show_str("abcdef", 3), "\"abc...\"");
        assert_eq!(show_plain("a\\b\n\u{202e}"), "a\\b\\u{000a}\\u{202e}");
    }
}
