//! K2-style fully qualified names: `Label:Name` (`K2:DENALLIX\bob`, `K2SQL:bob`,
//! `AAD:bob@denallix.onmicrosoft.com`).
//!
//! # The one rule for names (attack catalogue M01, M06, M07, C09)
//!
//! fedrp **rejects** (`claims.invalid_chars`) a name that holds a character that could change
//! what the FQN means; it never escapes, trims or splits one:
//!
//! * the label separator `:` anywhere in the name, so that an FQN splits at its first `:` into
//!   exactly the configured label and the name, and no value can carry a second label
//!   (`K2:AAD:admin`);
//! * SharePoint's field separator `|` (an encoded claim smuggled as a value: `i:0#.w|...`);
//! * every control character (NUL, CR, LF, TAB, DEL, C1), the bidirectional controls
//!   (U+202A–U+202E, U+2066–U+2069, marks) and other invisible formatting characters
//!   (zero-width, soft hyphen, BOM, line and paragraph separators): header and log injection,
//!   names that display as someone else's;
//! * leading or trailing white space (`" admin"` would otherwise collide with `admin` after
//!   any trim downstream);
//! * more than one `\` (a name carries at most the one domain separator).
//!
//! An empty name is `claims.missing`. Names are compared ordinal case-insensitively, without
//! normalisation ([`crate::claims::text`], M06); labels are compared exactly.
//!
//! # Labels
//!
//! A label is configuration, never read from a claim. It is 1 to 64 ASCII letters, digits,
//! `_`, `-` or `.`, starting with a letter, and is not `i` or `c` in either case (an FQN
//! `i:0#.w|...` would read as a SharePoint encoded claim). Invalid labels are
//! `claims.mapping` errors.
//!
//! # FQNs from encoded claims (the string path of `fedrp decode-claim --label`)
//!
//! [`fqn_from_encoded`] builds `label:value` from a decoded claim (K2 puts the decoded value
//! after the label as is: `i:0#.w|denallix\bob` gives `K2:denallix\bob`). The value follows
//! the name rule above. Claims that stand for "everyone" rather than for a user or group (claim
//! types `(` is-authenticated, `!` identity provider, `.` anonymous: `c:0(.s|true`,
//! `c:0!.s|windows`) have no FQN: `claims.mapping`.

use std::fmt;

use crate::Reason;
use crate::claims::encoding::{ClaimTypeRef, EncodedClaim};
use crate::claims::error::{ClaimsError, show_char, show_str};
use crate::claims::text::{edge_whitespace, eq_ignore_case, forbidden_in_name};

/// The longest label accepted.
pub const MAX_LABEL_LEN: usize = 64;

/// A K2 security label (`K2`, `K2SQL`, `AAD`, or a custom one). See the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(String);

impl Label {
    /// Checks and wraps a label; `claims.mapping` when it breaks the label rules.
    pub fn new(label: &str) -> Result<Label, ClaimsError> {
        let bad = |why: &str| {
            Err(ClaimsError::new(
                Reason::ClaimsMapping,
                format!("invalid security label {}: {why}", show_str(label, 70)),
            ))
        };
        let Some(first) = label.chars().next() else {
            return bad("it is empty");
        };
        if label.len() > MAX_LABEL_LEN {
            return bad("it is longer than 64 characters");
        }
        if !first.is_ascii_alphabetic() {
            return bad("it must start with an ASCII letter");
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return bad(&format!(
                "{} is not allowed (ASCII letters, digits, '_', '-' and '.' only)",
                show_char(c)
            ));
        }
        if label.eq_ignore_ascii_case("i") || label.eq_ignore_ascii_case("c") {
            return bad("'i' and 'c' would make FQNs read as SharePoint encoded claims");
        }
        Ok(Label(label.to_owned()))
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fully qualified name: a [`Label`] and a name that follows the name rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fqn {
    label: Label,
    name: String,
}

impl Fqn {
    /// Builds `label:name`, checking the name ([`check_name`]).
    pub fn new(label: Label, name: &str) -> Result<Fqn, ClaimsError> {
        check_name(name, "name")?;
        Ok(Fqn {
            label,
            name: name.to_owned(),
        })
    }

    /// Parses `Label:Name` (split at the first `:`); errors as [`Label::new`] and
    /// [`Fqn::new`].
    pub fn parse(fqn: &str) -> Result<Fqn, ClaimsError> {
        let Some((label, name)) = fqn.split_once(':') else {
            return Err(ClaimsError::new(
                Reason::ClaimsMapping,
                format!("{} is not an FQN: no ':' after a label", show_str(fqn, 80)),
            ));
        };
        Fqn::new(Label::new(label)?, name)
    }

    /// The label.
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// The name (the part after the label).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether two FQNs name the same principal: labels equal exactly, names equal ordinal
    /// case-insensitively (K2 shows `K2:DENALLIX\JOE` for SharePoint's `denallix\joe`).
    pub fn same_principal(&self, other: &Fqn) -> bool {
        self.label == other.label && eq_ignore_case(&self.name, &other.name)
    }

    /// Splits into label and name.
    pub fn into_parts(self) -> (Label, String) {
        (self.label, self.name)
    }
}

impl fmt::Display for Fqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.label, self.name)
    }
}

/// Checks a name (or name part) against the name rule of the module docs. `what` names it in
/// the message (`"identity value"`, `"group value"`, ...).
pub fn check_name(name: &str, what: &str) -> Result<(), ClaimsError> {
    check_chars(name, what)?;
    if let Some((i, _)) = name.match_indices('\\').nth(1) {
        let at = name.get(..i).map_or(0, |s| s.chars().count());
        return Err(ClaimsError::new(
            Reason::ClaimsInvalidChars,
            format!(
                "the {what} {} holds a second '\\' at character {at}; a name carries at most \
                 one domain separator",
                show_str(name, 80)
            ),
        ));
    }
    Ok(())
}

/// The character part of the name rule: non-empty, no forbidden character, no white space at
/// either end. Backslashes are not counted here.
pub(crate) fn check_chars(name: &str, what: &str) -> Result<(), ClaimsError> {
    if name.is_empty() {
        return Err(ClaimsError::new(
            Reason::ClaimsMissing,
            format!("the {what} is empty"),
        ));
    }
    if let Some((i, c, why)) = name
        .chars()
        .enumerate()
        .find_map(|(i, c)| forbidden_in_name(c).map(|why| (i, c, why)))
    {
        return Err(ClaimsError::new(
            Reason::ClaimsInvalidChars,
            format!(
                "the {what} {} holds {why} ({}) at character {i}; names with it are refused, \
                 never split or escaped",
                show_str(name, 80),
                show_char(c)
            ),
        ));
    }
    if let Some(i) = edge_whitespace(name) {
        let end = if i == 0 { "leading" } else { "trailing" };
        return Err(ClaimsError::new(
            Reason::ClaimsInvalidChars,
            format!(
                "the {what} {} has {end} white space (character {i}); it is refused, not \
                 trimmed",
                show_str(name, 80)
            ),
        ));
    }
    Ok(())
}

/// Whether a decoded claim stands for "everyone" rather than a user or group: claim types
/// `(` is-authenticated, `!` identity provider, `.` anonymous.
pub fn is_everyone_claim(claim: &EncodedClaim) -> bool {
    matches!(&claim.claim_type, ClaimTypeRef::Known(k) if matches!(k.code(), '(' | '!' | '.'))
}

/// The FQN of a decoded claim under `label`: `label:value` (module docs).
pub fn fqn_from_encoded(claim: &EncodedClaim, label: &Label) -> Result<Fqn, ClaimsError> {
    if is_everyone_claim(claim) {
        return Err(ClaimsError::new(
            Reason::ClaimsMapping,
            format!(
                "no FQN: a '{}' claim ({}) stands for a set of users, not a user or group",
                claim.claim_type.code(),
                claim.claim_type.uri().unwrap_or("")
            ),
        ));
    }
    Fqn::new(label.clone(), &claim.value)
}

/// Decodes an encoded claim and builds its FQN: decoding errors (`claims.encoding`) win.
pub fn fqn_from_encoded_str(encoded: &str, label: &Label) -> Result<Fqn, ClaimsError> {
    let claim = crate::claims::encoding::decode(encoded)?;
    fqn_from_encoded(&claim, label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(s: &str) -> Label {
        Label::new(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn labels() {
        for ok in [
            "K2",
            "K2SQL",
            "AAD",
            "SQLUM",
            "K2ADFS",
            "okta-prod",
            "a.b_c",
        ] {
            assert_eq!(label(ok).as_str(), ok);
        }
        for bad in [
            "",
            "i",
            "C",
            "K2:",
            "2K",
            "K 2",
            "K2\n",
            "ÄAD",
            &"a".repeat(65),
        ] {
            let e = Label::new(bad).expect_err(bad);
            assert_eq!(e.reason, Reason::ClaimsMapping, "{bad:?}");
        }
    }

    #[test]
    fn fqn_display_parse_and_compare() {
        let f = Fqn::new(label("K2"), "DENALLIX\\JOE").expect("valid");
        assert_eq!(f.to_string(), "K2:DENALLIX\\JOE");
        let g = Fqn::parse("K2:denallix\\joe").expect("valid");
        assert!(f.same_principal(&g));
        assert!(!f.same_principal(&Fqn::parse("k2:denallix\\joe").expect("valid")));
        assert!(
            !Fqn::parse("AAD:admin")
                .expect("valid")
                .same_principal(&Fqn::parse("AAD:\u{FF41}dmin").expect("valid"))
        );
        assert_eq!(
            Fqn::parse("K2:AAD:admin").expect_err("two labels").reason,
            Reason::ClaimsInvalidChars
        );
        assert_eq!(
            Fqn::parse("nolabel").expect_err("no colon").reason,
            Reason::ClaimsMapping
        );
        let (l, n) = g.into_parts();
        assert_eq!((l.as_str(), n.as_str()), ("K2", "denallix\\joe"));
    }

    #[test]
    fn the_name_rule() {
        let cases: &[(&str, Reason)] = &[
            ("", Reason::ClaimsMissing),
            ("o:neill", Reason::ClaimsInvalidChars),
            ("victim|x", Reason::ClaimsInvalidChars),
            ("i:0#.w|corp\\victim", Reason::ClaimsInvalidChars),
            ("bob\r\nSet-Cookie: x", Reason::ClaimsInvalidChars),
            ("bob\0", Reason::ClaimsInvalidChars),
            ("bob\u{202E}nimda", Reason::ClaimsInvalidChars),
            ("ad\u{200B}min", Reason::ClaimsInvalidChars),
            (" admin", Reason::ClaimsInvalidChars),
            ("admin\n", Reason::ClaimsInvalidChars),
            ("admin ", Reason::ClaimsInvalidChars),
            ("a\\b\\c", Reason::ClaimsInvalidChars),
        ];
        for (name, reason) in cases {
            let e = check_name(name, "identity value").expect_err(name);
            assert_eq!(e.reason, *reason, "{name:?}: {}", e.message);
        }
        for name in [
            "denallix\\bob",
            "nt service\\spsearch",
            "bob@denallix.onmicrosoft.com",
            "bob_fabrikam.com#ext#@contoso.onmicrosoft.com",
            "domain users",
            "ü",
            "50%off",
        ] {
            check_name(name, "identity value").unwrap_or_else(|e| panic!("{name:?}: {e}"));
        }
    }

    #[test]
    fn messages_locate_the_character() {
        let e = check_name("bob\u{202E}x", "identity value").expect_err("bidi");
        assert!(e.message.contains("character 3"), "{}", e.message);
        assert!(e.message.contains("U+202E"), "{}", e.message);
        assert!(!e.message.contains('\u{202E}'), "raw bidi char echoed");
    }

    #[test]
    fn fqns_from_encoded_claims() {
        let k2 = label("K2");
        let f = fqn_from_encoded_str("i:0#.w|denallix\\bob", &k2).expect("valid");
        assert_eq!(f.to_string(), "K2:denallix\\bob");
        let f = fqn_from_encoded_str("0#.w|contoso\\administrator", &k2).expect("valid");
        assert_eq!(f.name(), "contoso\\administrator");
        let f = fqn_from_encoded_str("c:0-.t|adfs|finance", &label("K2ADFS")).expect("valid");
        assert_eq!(f.to_string(), "K2ADFS:finance");
        let e = fqn_from_encoded_str("i:0#.w|", &k2).expect_err("decode error");
        assert_eq!(e.reason, Reason::ClaimsEncoding);
        let e = fqn_from_encoded_str("i:0#.f|ldapmember|o%3aneill", &k2).expect_err(":");
        assert_eq!(e.reason, Reason::ClaimsInvalidChars);
        let e = fqn_from_encoded_str("i:0#.f|ldapmember|a%0ab", &k2).expect_err("LF");
        assert_eq!(e.reason, Reason::ClaimsInvalidChars);
        let e = fqn_from_encoded_str("i:0#.f|ldapmember|a%7cb", &k2).expect_err("|");
        assert_eq!(e.reason, Reason::ClaimsInvalidChars);
        let e = fqn_from_encoded_str("i:0#.w|bob ", &k2).expect_err("trailing space");
        assert_eq!(e.reason, Reason::ClaimsInvalidChars);
        for everyone in ["c:0(.s|true", "c:0!.s|windows", "c:0..s|true"] {
            let e = fqn_from_encoded_str(everyone, &k2).expect_err(everyone);
            assert_eq!(e.reason, Reason::ClaimsMapping, "{everyone}");
        }
    }
}
