//! SharePoint encoded claims: decoder and encoder.
//!
//! ```text
//! encoded  = ("i" / "c") ":" suffix      ; i:0#.w|denallix\bob   c:0-.t|adfs|domain users
//!          / suffix                       ; 0#.w|contoso\administrator (the `userid` claim)
//! suffix   = "0" type-char vtype-char issuer-char "|" [ issuer-id "|" ] value
//! ```
//!
//! The grammar, tables and vectors are in `fixtures/claims/README.md` (summarised from the
//! research note). Positions in error messages are 0-based **character** positions in the
//! whole input (Unicode scalar values, never bytes: `ǵ` is two bytes in UTF-8). The 500 limit
//! counts UTF-16 code units, as SharePoint does.
//!
//! # Decisions on what the sources leave open (README §5)
//!
//! The decoder is strict: it accepts exactly what SharePoint's encoder can produce, plus upper
//! case in the issuer id and the value (hand-written documentation has it), and rejects
//! everything else with `claims.encoding`. An encoded claim is an identity on its way to an
//! FQN; a lenient reading of a malformed one is a second way to name a user.
//!
//! * **Upper-case prefix or type characters** (`I:0#.w|...`, `i:0#.W|...`): rejected.
//!   SharePoint writes the prefix in lower case and lower-cases the whole suffix, so upper case
//!   there never comes from SharePoint. (The port compares `i`/`c` case-insensitively; Wilén
//!   says "casing is important"; we side with the encoder's output.)
//! * **Reserved character other than `0`** (`i:1#.w|...`): rejected. The `0` is also what
//!   recognises the prefix-less form, so both forms follow one grammar.
//! * **`w`/`s` followed by a second pipe** (`i:0#.w|a|b`): rejected. The port would read `a` as
//!   an issuer id, but `w` and `s` have none, and SharePoint escapes a `|` inside a value as
//!   `%7c`; a raw `|` here can only come from a hand-made or hostile string.
//! * **A raw `|` in the value after the issuer id** (`i:05.t|adfs|a|b`): rejected for the same
//!   reason. A value is never split and never silently truncated.
//! * **Issuer characters `m`, `r`, `p`** (pre-release lists only): rejected; so is any
//!   character other than `w s t f c`.
//! * **Claim type characters**: the built-in table ([`KnownClaimType`], 43 characters,
//!   including `"` user identifier and `$` distribution list SID with the URIs of the published
//!   table); `i`, `o`, `t` as [`ClaimTypeRef::Unpublished`] (seen in SharePoint Online data, no
//!   URI); any character from U+01F5 up that SharePoint's generator could assign as
//!   [`ClaimTypeRef::Custom`] (kept, resolved only through a per-farm [`ClaimTypeTable`]). A
//!   generated character is in the Basic Multilingual Plane (it is one UTF-16 code unit, as
//!   SharePoint's `(char)index`), is not U+FFFD–U+FFFF, is not white space, a control or an
//!   invisible formatting character, and is unchanged by lower-casing (so `Ǵ` U+01F4 can never
//!   be one). Every other character is rejected: `z`, `A`, or `Ç` from a `ǵ` read in the
//!   wrong code page.
//! * **`"` and `>`**: decoded (with their table URIs); SharePoint's encoder refuses both, and
//!   so does [`encode`]. [`KnownClaimType::is_never_encoded`] lets callers flag them.
//! * **`kind` of a prefix-less suffix**: `None`. Identity-ness is not encoded in that form;
//!   the caller knows it from where the string came from (the `userid` claim is an identity).
//! * **Not an encoded claim at all** (`DENALLIX\bob`, `SHAREPOINT\system`, `K2:DENALLIX\bob`):
//!   rejected. The decoder decodes; it does not guess a label or a classic Windows name.
//! * **Length**: more than 500 UTF-16 code units is rejected, for both forms (so a prefix-less
//!   string of 499 or 500 units decodes, although SharePoint's longest is 498).
//! * **Raw control characters** anywhere in the input (including TAB, CR, LF, NUL): rejected.
//!   SharePoint escapes CR and LF (`%0d`, `%0a`) and its claim values refuse other controls.
//!   Decoded values may still hold CR or LF from escapes (`line1%0aline2`); the FQN builder
//!   rejects those ([`crate::claims::fqn`]).
//! * **Leading white space**: rejected (input is never trimmed). White space inside or at
//!   the end of the value is data, kept as is; the FQN builder decides whether a name may
//!   carry it.
//! * **The issuer id** is any non-empty text without `|`; it is not unescaped (`%3a` stays
//!   `%3a`), as in SharePoint.
//!
//! # Encoder
//!
//! [`encode`] produces what SharePoint's `EncodeClaim` would: the seven escapes of
//! [`escape`], then the whole suffix lower-cased character by
//! character (`ToLowerInvariant`), issuer id and value included. It refuses the `"` and `>`
//! claim types, empty or `|`-holding issuer ids, empty values, control characters other than
//! CR and LF (which have escapes), and values whose escaped form is longer than
//! `494 − n − len(issuer id)` UTF-16 code units (`n` = 1 for `w`/`s`, 2 otherwise), so a
//! decorated claim is never longer than 500 units. `decode(encode(c))` equals `c` with issuer
//! id and value lower-cased ([`EncodedClaim::to_sharepoint_case`]).

use std::collections::BTreeMap;

use crate::Reason;
use crate::claims::error::{ClaimsError, show_char, show_str};
use crate::claims::escape::{escape, unescape};
use crate::claims::tables::{
    FIRST_CUSTOM_CLAIM_TYPE_CHAR, KnownClaimType, UNPUBLISHED_CLAIM_TYPE_CHARS, ValueType,
};
use crate::claims::text::{is_invisible_format, lower, simple_lower, utf16_len};

/// SharePoint's `MaxEncodedClaimSize`, in UTF-16 code units.
pub const MAX_ENCODED_CLAIM_LEN: usize = 500;

/// The prefix of a decorated claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClaimKind {
    /// A claim about something else than the user: group, role, "everyone" (`c:`).
    Claim,
    /// The identity claim of a user (`i:`).
    Identity,
}

impl ClaimKind {
    /// The prefix character (`i` or `c`).
    pub const fn prefix(self) -> char {
        match self {
            ClaimKind::Identity => 'i',
            ClaimKind::Claim => 'c',
        }
    }

    /// `"identity"` or `"claim"` (the command line's `kind`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Identity => "identity",
            ClaimKind::Claim => "claim",
        }
    }
}

/// The claim type of an encoded claim (suffix index 1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClaimTypeRef {
    /// A farm-generated character (U+01F5 and up), kept as is; `uri` when a per-farm
    /// [`ClaimTypeTable`] resolves it.
    Custom {
        /// The encoding character.
        code: char,
        /// The claim type URI from the farm's table, if known.
        uri: Option<String>,
    },
    /// A character of SharePoint's built-in table.
    Known(KnownClaimType),
    /// `i`, `o` or `t`: seen in SharePoint Online data (add-in principals, Microsoft 365
    /// groups, Entra groups) but in no published table, so without a URI.
    Unpublished(char),
}

impl ClaimTypeRef {
    /// The encoding character.
    pub fn code(&self) -> char {
        match self {
            ClaimTypeRef::Custom { code, .. } => *code,
            ClaimTypeRef::Known(k) => k.code(),
            ClaimTypeRef::Unpublished(c) => *c,
        }
    }

    /// The claim type URI, when known.
    pub fn uri(&self) -> Option<&str> {
        match self {
            ClaimTypeRef::Custom { uri, .. } => uri.as_deref(),
            ClaimTypeRef::Known(k) => Some(k.uri()),
            ClaimTypeRef::Unpublished(_) => None,
        }
    }

    /// Classifies a claim type character without a farm table; `None` when the character
    /// cannot be a claim type character (see the module documentation).
    pub fn from_code(code: char) -> Option<Self> {
        if let Some(k) = KnownClaimType::from_code(code) {
            Some(ClaimTypeRef::Known(k))
        } else if UNPUBLISHED_CLAIM_TYPE_CHARS.contains(&code) {
            Some(ClaimTypeRef::Unpublished(code))
        } else if is_custom_claim_type_char(code) {
            Some(ClaimTypeRef::Custom { code, uri: None })
        } else {
            None
        }
    }
}

/// Whether SharePoint's generator could assign `c` to a custom claim type (module docs).
pub fn is_custom_claim_type_char(c: char) -> bool {
    c >= FIRST_CUSTOM_CLAIM_TYPE_CHAR
        && u32::from(c) < 0xFFFD
        && !c.is_whitespace()
        && !c.is_control()
        && !is_invisible_format(c)
        && simple_lower(c) == c
}

/// The original issuer of an encoded claim (suffix index 3, and the issuer id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OriginalIssuer {
    /// `c`: a claim provider, with its name.
    ClaimProvider(String),
    /// `f`: forms (membership or role provider), with the provider name.
    Forms(String),
    /// `s`: the local SharePoint security token service.
    System,
    /// `t`: a trusted identity provider (SAML / WS-Fed), with the trusted issuer name.
    Trusted(String),
    /// `w`: Windows.
    Windows,
}

impl OriginalIssuer {
    /// The issuer character.
    pub fn code(&self) -> char {
        match self {
            OriginalIssuer::ClaimProvider(_) => 'c',
            OriginalIssuer::Forms(_) => 'f',
            OriginalIssuer::System => 's',
            OriginalIssuer::Trusted(_) => 't',
            OriginalIssuer::Windows => 'w',
        }
    }

    /// `windows`, `system`, `trusted`, `forms` or `claimprovider` (the command line's
    /// `issuer_type`).
    pub fn issuer_type(&self) -> &'static str {
        match self {
            OriginalIssuer::ClaimProvider(_) => "claimprovider",
            OriginalIssuer::Forms(_) => "forms",
            OriginalIssuer::System => "system",
            OriginalIssuer::Trusted(_) => "trusted",
            OriginalIssuer::Windows => "windows",
        }
    }

    /// The issuer id (trusted issuer, provider or claim provider name); `None` for `w`, `s`.
    pub fn name(&self) -> Option<&str> {
        match self {
            OriginalIssuer::ClaimProvider(n)
            | OriginalIssuer::Forms(n)
            | OriginalIssuer::Trusted(n) => Some(n),
            OriginalIssuer::System | OriginalIssuer::Windows => None,
        }
    }

    /// The `SPClaim.OriginalIssuer` string: `Windows`, `SecurityTokenService`,
    /// `TrustedProvider:<name>`, `Forms:<name>`, `ClaimProvider:<name>`.
    pub fn sharepoint_original_issuer(&self) -> String {
        match self {
            OriginalIssuer::ClaimProvider(n) => format!("ClaimProvider:{n}"),
            OriginalIssuer::Forms(n) => format!("Forms:{n}"),
            OriginalIssuer::System => "SecurityTokenService".to_owned(),
            OriginalIssuer::Trusted(n) => format!("TrustedProvider:{n}"),
            OriginalIssuer::Windows => "Windows".to_owned(),
        }
    }

    /// The identity-provider claim value this issuer stands for: `windows`, `forms:<name>`,
    /// `trusted:<name>`; `None` for `s` and `c`, which are not identity providers.
    pub fn identity_provider(&self) -> Option<String> {
        match self {
            OriginalIssuer::Windows => Some("windows".to_owned()),
            OriginalIssuer::Forms(n) => Some(format!("forms:{n}")),
            OriginalIssuer::Trusted(n) => Some(format!("trusted:{n}")),
            OriginalIssuer::System | OriginalIssuer::ClaimProvider(_) => None,
        }
    }
}

/// A decoded SharePoint claim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EncodedClaim {
    /// `i:` or `c:`; `None` for the prefix-less form (`0#.w|...`).
    pub kind: Option<ClaimKind>,
    /// The claim type.
    pub claim_type: ClaimTypeRef,
    /// The value type.
    pub value_type: ValueType,
    /// The original issuer.
    pub issuer: OriginalIssuer,
    /// The value, unescaped, in the case of the input.
    pub value: String,
}

impl EncodedClaim {
    /// Whether this is an `i:` claim.
    pub fn is_identity(&self) -> bool {
        self.kind == Some(ClaimKind::Identity)
    }

    /// The same claim with issuer id and value lower-cased, as SharePoint stores it (and as
    /// `decode(encode(self))` returns it).
    pub fn to_sharepoint_case(&self) -> EncodedClaim {
        let issuer = match &self.issuer {
            OriginalIssuer::ClaimProvider(n) => OriginalIssuer::ClaimProvider(lower(n)),
            OriginalIssuer::Forms(n) => OriginalIssuer::Forms(lower(n)),
            OriginalIssuer::Trusted(n) => OriginalIssuer::Trusted(lower(n)),
            other => other.clone(),
        };
        EncodedClaim {
            kind: self.kind,
            claim_type: self.claim_type.clone(),
            value_type: self.value_type,
            issuer,
            value: lower(&self.value),
        }
    }
}

/// A farm's custom claim type characters (`Get-SPClaimTypeEncoding`): character → claim type
/// URI, for the characters SharePoint generated (U+01F5 and up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimTypeTable {
    entries: BTreeMap<char, String>,
}

impl ClaimTypeTable {
    /// An empty table: custom characters decode without a URI.
    pub fn new() -> Self {
        ClaimTypeTable::default()
    }

    /// Adds `code → uri`. Fails (`claims.encoding`) when `code` is not a character SharePoint
    /// could generate, when `uri` is empty or in the built-in table, or when either side is
    /// already mapped to something else.
    pub fn insert(&mut self, code: char, uri: impl Into<String>) -> Result<(), ClaimsError> {
        let uri = uri.into();
        if !is_custom_claim_type_char(code) {
            return Err(ClaimsError::encoding(format!(
                "{} cannot be a farm-generated claim type character (U+01F5 and up, one UTF-16 \
                 unit, unchanged by lower-casing, not white space or a control)",
                show_char(code)
            )));
        }
        if uri.is_empty() {
            return Err(ClaimsError::encoding(format!(
                "empty claim type URI for {}",
                show_char(code)
            )));
        }
        if let Some(k) = KnownClaimType::from_uri(&uri) {
            return Err(ClaimsError::encoding(format!(
                "{uri} is a built-in claim type (encoded as {}); it cannot be custom",
                show_char(k.code())
            )));
        }
        if let Some(existing) = self.entries.get(&code) {
            if *existing == uri {
                return Ok(());
            }
            return Err(ClaimsError::encoding(format!(
                "{} is already mapped to {existing}",
                show_char(code)
            )));
        }
        if let Some(other) = self.code_for(&uri) {
            return Err(ClaimsError::encoding(format!(
                "{uri} is already encoded as {}",
                show_char(other)
            )));
        }
        self.entries.insert(code, uri);
        Ok(())
    }

    /// The URI of a custom character.
    pub fn resolve(&self, code: char) -> Option<&str> {
        self.entries.get(&code).map(String::as_str)
    }

    /// The custom character of a URI.
    pub fn code_for(&self, uri: &str) -> Option<char> {
        self.entries
            .iter()
            .find(|(_, u)| u.as_str() == uri)
            .map(|(c, _)| *c)
    }

    /// The claim type reference for a URI: the built-in table first, then this table.
    pub fn claim_type_for_uri(&self, uri: &str) -> Option<ClaimTypeRef> {
        KnownClaimType::from_uri(uri)
            .map(ClaimTypeRef::Known)
            .or_else(|| {
                self.code_for(uri).map(|code| ClaimTypeRef::Custom {
                    code,
                    uri: Some(uri.to_owned()),
                })
            })
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Decodes an encoded claim (decorated or prefix-less) without a farm table.
pub fn decode(input: &str) -> Result<EncodedClaim, ClaimsError> {
    decode_with(input, &ClaimTypeTable::new())
}

/// Decodes an encoded claim, resolving custom claim type characters through `table`.
pub fn decode_with(input: &str, table: &ClaimTypeTable) -> Result<EncodedClaim, ClaimsError> {
    if input.is_empty() {
        return Err(ClaimsError::encoding(
            "empty input: an encoded claim looks like i:0#.w|domain\\user",
        ));
    }
    check_length(input)?;
    let chars: Vec<char> = input.chars().collect();
    if let Some((i, &c)) = chars.iter().enumerate().find(|(_, c)| c.is_control()) {
        return Err(ClaimsError::encoding_at(
            i,
            format!(
                "raw control character {} at position {i}: SharePoint escapes CR and LF \
                 (%0d, %0a) and never writes other control characters",
                show_char(c)
            ),
        ));
    }
    let (kind, start) = classify(&chars)?;
    let suffix = chars.get(start..).unwrap_or_default();
    decode_suffix(kind, suffix, start, table)
}

/// Rejects inputs over [`MAX_ENCODED_CLAIM_LEN`] UTF-16 code units.
fn check_length(input: &str) -> Result<(), ClaimsError> {
    let mut units = 0usize;
    for (i, c) in input.chars().enumerate() {
        units += c.len_utf16();
        if units > MAX_ENCODED_CLAIM_LEN {
            let total = utf16_len(input);
            return Err(ClaimsError::encoding_at(
                i,
                format!(
                    "too long: {total} UTF-16 code units (the limit, SharePoint's \
                     MaxEncodedClaimSize, is {MAX_ENCODED_CLAIM_LEN}; it is passed at position {i})"
                ),
            ));
        }
    }
    Ok(())
}

/// Finds the form: `(Some(kind), 2)` for `i:`/`c:`, `(None, 0)` for a prefix-less suffix.
fn classify(chars: &[char]) -> Result<(Option<ClaimKind>, usize), ClaimsError> {
    let first = chars.first().copied().unwrap_or_default();
    let second = chars.get(1).copied();
    if first.is_whitespace() {
        return Err(ClaimsError::encoding_at(
            0,
            format!(
                "leading white space ({}) at position 0: encoded claims are never trimmed",
                show_char(first)
            ),
        ));
    }
    if second == Some(':') {
        let kind = match first {
            'i' => ClaimKind::Identity,
            'c' => ClaimKind::Claim,
            'I' | 'C' => {
                return Err(ClaimsError::encoding_at(
                    0,
                    format!(
                        "upper-case prefix '{first}:' at position 0: SharePoint writes \
                         '{}:' in lower case",
                        first.to_ascii_lowercase()
                    ),
                ));
            }
            other => {
                return Err(ClaimsError::encoding_at(
                    0,
                    format!(
                        "unknown prefix {} at position 0: expected 'i:' (identity) or 'c:' \
                         (claim)",
                        show_char(other)
                    ),
                ));
            }
        };
        return Ok((Some(kind), 2));
    }
    if first == '0' {
        return Ok((None, 0));
    }
    if matches!(first, 'i' | 'c') && second == Some('0') {
        return Err(ClaimsError::encoding_at(
            1,
            format!("missing ':' after the prefix '{first}' at position 1"),
        ));
    }
    Err(ClaimsError::encoding_at(
        0,
        format!(
            "not an encoded claim: expected 'i:', 'c:' or a prefix-less suffix starting with \
             '0' at position 0, found {}",
            show_char(first)
        ),
    ))
}

/// Decodes the suffix `s`, which starts at character position `start` of the input.
fn decode_suffix(
    kind: Option<ClaimKind>,
    s: &[char],
    start: usize,
    table: &ClaimTypeTable,
) -> Result<EncodedClaim, ClaimsError> {
    let at = |k: usize| start + k;
    if s.is_empty() {
        return Err(ClaimsError::encoding_at(
            start,
            format!(
                "nothing after the prefix at position {start}: expected a suffix such as \
                 0#.w|domain\\user"
            ),
        ));
    }
    let &[
        reserved,
        type_char,
        vtype_char,
        issuer_char,
        '|',
        ref rest @ ..,
    ] = s
    else {
        let found = s.get(4);
        let hint = if s.iter().take(4).any(|c| !c.is_ascii()) {
            " (a non-ASCII character before it often means a custom claim type character \
             such as 'ǵ' was read in the wrong code page)"
        } else {
            ""
        };
        return Err(match found {
            Some(c) => ClaimsError::encoding_at(
                at(4),
                format!(
                    "expected '|' at position {} (after '0', the claim type, value type and \
                     issuer characters), found {}{hint}",
                    at(4),
                    show_char(*c)
                ),
            ),
            None => ClaimsError::encoding_at(
                at(s.len()),
                format!(
                    "the input ends at position {}: expected '0', the claim type, value type \
                     and issuer characters, then '|' at position {}{hint}",
                    at(s.len()),
                    at(4)
                ),
            ),
        });
    };
    if reserved != '0' {
        return Err(ClaimsError::encoding_at(
            at(0),
            format!(
                "the reserved character at position {} must be '0', found {}",
                at(0),
                show_char(reserved)
            ),
        ));
    }
    let claim_type = match ClaimTypeRef::from_code(type_char) {
        Some(ClaimTypeRef::Custom { code, .. }) => ClaimTypeRef::Custom {
            code,
            uri: table.resolve(code).map(str::to_owned),
        },
        Some(other) => other,
        None => {
            return Err(ClaimsError::encoding_at(
                at(1),
                format!(
                    "claim type character {} at position {} is neither in SharePoint's table \
                     nor a farm-generated character (U+01F5 and up, unchanged by lower-casing)",
                    show_char(type_char),
                    at(1)
                ),
            ));
        }
    };
    let value_type = ValueType::from_code(vtype_char).ok_or_else(|| {
        ClaimsError::encoding_at(
            at(2),
            format!(
                "unknown value type character {} at position {} (known: ! \" # $ % & ' ( ) * + \
                 - . / 0 1)",
                show_char(vtype_char),
                at(2)
            ),
        )
    })?;
    issuer_code_check(issuer_char, at(3))?;

    let rest_start = at(5);
    let (issuer, raw_value, value_start) = match issuer_char {
        'w' | 's' => {
            let issuer = if issuer_char == 'w' {
                OriginalIssuer::Windows
            } else {
                OriginalIssuer::System
            };
            (issuer, rest, rest_start)
        }
        _ => {
            let Some(pipe) = rest.iter().position(|&c| c == '|') else {
                return Err(ClaimsError::encoding_at(
                    rest_start,
                    format!(
                        "issuer type '{issuer_char}' ({}) needs an issuer id and '|' before the \
                         value, from position {rest_start}",
                        issuer_type_name(issuer_char)
                    ),
                ));
            };
            if pipe == 0 {
                return Err(ClaimsError::encoding_at(
                    rest_start,
                    format!("empty issuer id at position {rest_start}"),
                ));
            }
            let id: String = rest.iter().take(pipe).collect();
            let issuer = match issuer_char {
                't' => OriginalIssuer::Trusted(id),
                'f' => OriginalIssuer::Forms(id),
                _ => OriginalIssuer::ClaimProvider(id),
            };
            let value = rest.get(pipe + 1..).unwrap_or_default();
            (issuer, value, rest_start + pipe + 1)
        }
    };
    if raw_value.is_empty() {
        return Err(ClaimsError::encoding_at(
            value_start,
            format!("empty value at position {value_start}"),
        ));
    }
    if let Some(k) = raw_value.iter().position(|&c| c == '|') {
        let why = match issuer {
            OriginalIssuer::Windows | OriginalIssuer::System => format!(
                "issuer type '{issuer_char}' ({}) has no issuer id, and",
                issuer_type_name(issuer_char)
            ),
            _ => "the value follows the first '|' after the issuer id, and".to_owned(),
        };
        return Err(ClaimsError::encoding_at(
            value_start + k,
            format!(
                "raw '|' at position {}: {why} SharePoint escapes a '|' inside a value as %7c",
                value_start + k
            ),
        ));
    }
    let raw: String = raw_value.iter().collect();
    Ok(EncodedClaim {
        kind,
        claim_type,
        value_type,
        issuer,
        value: unescape(&raw),
    })
}

/// Accepts `w s t f c`; explains every other character.
fn issuer_code_check(c: char, position: usize) -> Result<(), ClaimsError> {
    let why = match c {
        'w' | 's' | 't' | 'f' | 'c' => return Ok(()),
        'W' | 'S' | 'T' | 'F' | 'C' => format!(
            "must be lower case ('{}'): SharePoint lower-cases the whole suffix",
            c.to_ascii_lowercase()
        ),
        'm' | 'r' | 'p' => {
            "appears only in pre-release lists; SharePoint writes w, s, t, f or c".to_owned()
        }
        _ => "is unknown: expected w (windows), s (system), t (trusted), f (forms) or c \
              (claim provider)"
            .to_owned(),
    };
    Err(ClaimsError::encoding_at(
        position,
        format!(
            "issuer type character {} at position {position} {why}",
            show_char(c)
        ),
    ))
}

fn issuer_type_name(c: char) -> &'static str {
    match c {
        'w' => "windows",
        's' => "system",
        't' => "trusted",
        'f' => "forms",
        _ => "claim provider",
    }
}

/// The longest escaped value (UTF-16 code units) SharePoint encodes for an issuer:
/// `494 − n − len(issuer id)`, `n` = 1 for `w`/`s` and 2 otherwise.
pub fn max_value_len(issuer: &OriginalIssuer) -> usize {
    match issuer.name() {
        None => 494 - 1,
        Some(id) => 494usize.saturating_sub(2 + utf16_len(id)),
    }
}

/// Encodes a claim as SharePoint would (module docs): escaped, lower-cased, decorated with
/// `i:`/`c:` unless `kind` is `None`.
///
/// Errors: `claims.encoding` for a claim SharePoint cannot encode; `claims.too_large` when
/// the escaped value is over [`max_value_len`].
pub fn encode(claim: &EncodedClaim) -> Result<String, ClaimsError> {
    let type_char = checked_type_char(&claim.claim_type)?;
    let issuer_id = match claim.issuer.name() {
        None => None,
        Some(id) => {
            if id.is_empty() {
                return Err(ClaimsError::encoding(format!(
                    "issuer type '{}' needs a non-empty issuer id",
                    claim.issuer.code()
                )));
            }
            if let Some(c) = id
                .chars()
                .find(|&c| c == '|' || c.is_control() || is_invisible_format(c))
            {
                return Err(ClaimsError::encoding(format!(
                    "the issuer id {} holds {}, which an encoded claim cannot carry",
                    show_str(id, 40),
                    show_char(c)
                )));
            }
            Some(lower(id))
        }
    };
    if claim.value.is_empty() {
        return Err(ClaimsError::encoding("empty value"));
    }
    if let Some((i, c)) = claim
        .value
        .chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() && c != '\r' && c != '\n')
    {
        return Err(ClaimsError::encoding(format!(
            "the value holds {} at character {i}; only CR and LF among control characters \
             have escapes",
            show_char(c)
        )));
    }
    let value = escape(&lower(&claim.value));
    let max = max_value_len(&claim.issuer);
    let len = utf16_len(&value);
    if len > max {
        return Err(ClaimsError::new(
            Reason::ClaimsTooLarge,
            format!(
                "the escaped value is {len} UTF-16 code units; SharePoint encodes at most {max} \
                 for this issuer (494 - n - issuer id length)"
            ),
        ));
    }
    let mut out = String::with_capacity(value.len() + 16);
    if let Some(kind) = claim.kind {
        out.push(kind.prefix());
        out.push(':');
    }
    out.push('0');
    out.push(type_char);
    out.push(claim.value_type.code());
    out.push(claim.issuer.code());
    out.push('|');
    if let Some(id) = issuer_id {
        out.push_str(&id);
        out.push('|');
    }
    out.push_str(&value);
    Ok(out)
}

/// The claim type character, if SharePoint can encode this claim type.
fn checked_type_char(claim_type: &ClaimTypeRef) -> Result<char, ClaimsError> {
    let code = claim_type.code();
    let consistent = match claim_type {
        ClaimTypeRef::Known(k) => {
            if k.is_never_encoded() {
                return Err(ClaimsError::encoding(format!(
                    "SharePoint never encodes the {} claim type ({})",
                    k.short_name(),
                    show_char(code)
                )));
            }
            true
        }
        ClaimTypeRef::Unpublished(c) => UNPUBLISHED_CLAIM_TYPE_CHARS.contains(c),
        ClaimTypeRef::Custom { code, .. } => is_custom_claim_type_char(*code),
    };
    if consistent {
        Ok(code)
    } else {
        Err(ClaimsError::encoding(format!(
            "{} is not a valid character for this kind of claim type",
            show_char(code)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> EncodedClaim {
        decode(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> ClaimsError {
        let e = decode(s).expect_err(s);
        assert_eq!(e.reason, Reason::ClaimsEncoding, "{s:?}");
        e
    }

    #[test]
    fn windows_identity() {
        let c = ok("i:0#.w|denallix\\bob");
        assert_eq!(c.kind, Some(ClaimKind::Identity));
        assert_eq!(
            c.claim_type.uri(),
            Some("http://schemas.microsoft.com/sharepoint/2009/08/claims/userlogonname")
        );
        assert_eq!(c.value_type, ValueType::String);
        assert_eq!(c.issuer, OriginalIssuer::Windows);
        assert_eq!(c.value, "denallix\\bob");
        assert!(c.is_identity());
        assert_eq!(c.issuer.identity_provider().as_deref(), Some("windows"));
        assert_eq!(c.issuer.sharepoint_original_issuer(), "Windows");
    }

    #[test]
    fn issuer_forms_trusted_claimprovider() {
        let c = ok("c:0-.t|adfs|domain users");
        assert_eq!(c.issuer, OriginalIssuer::Trusted("adfs".into()));
        assert_eq!(
            c.issuer.sharepoint_original_issuer(),
            "TrustedProvider:adfs"
        );
        assert_eq!(
            c.issuer.identity_provider().as_deref(),
            Some("trusted:adfs")
        );
        assert_eq!(c.value, "domain users");
        let c = ok("i:0#.f|membership|bob");
        assert_eq!(c.issuer, OriginalIssuer::Forms("membership".into()));
        assert_eq!(c.issuer.issuer_type(), "forms");
        let c = ok("c:0o.c|federateddirectoryclaimprovider|x_o");
        assert_eq!(c.issuer.issuer_type(), "claimprovider");
        assert_eq!(c.claim_type, ClaimTypeRef::Unpublished('o'));
        assert_eq!(c.issuer.identity_provider(), None);
        let c = ok("c:0!.s|forms%3amembership");
        assert_eq!(c.issuer, OriginalIssuer::System);
        assert_eq!(c.value, "forms:membership");
        assert_eq!(
            c.issuer.sharepoint_original_issuer(),
            "SecurityTokenService"
        );
    }

    #[test]
    fn prefixless_form_has_no_kind() {
        let c = ok("0#.w|contoso\\administrator");
        assert_eq!(c.kind, None);
        assert_eq!(c.value, "contoso\\administrator");
        let c = ok("05.t|contoso.local|yvand@contoso.local");
        assert_eq!(c.kind, None);
        assert_eq!(c.issuer.name(), Some("contoso.local"));
    }

    #[test]
    fn custom_characters_are_kept_and_resolved_by_the_farm_table() {
        let c = ok("i:0ǵ.t|adfs ldap|bob");
        assert_eq!(
            c.claim_type,
            ClaimTypeRef::Custom {
                code: 'ǵ',
                uri: None
            }
        );
        let mut table = ClaimTypeTable::new();
        table
            .insert('ǵ', "http://schemas.k2.com/identity/claims/name")
            .expect("valid entry");
        let c = decode_with("i:0ǵ.t|adfs ldap|bob", &table).expect("decodes");
        assert_eq!(
            c.claim_type.uri(),
            Some("http://schemas.k2.com/identity/claims/name")
        );
        // ǹ is not in this farm's table: still decodes, without a URI.
        let c = decode_with("c:0ǹ.t|adfs|x", &table).expect("decodes");
        assert_eq!(c.claim_type.uri(), None);
        assert_eq!(c.claim_type.code(), 'ǹ');
    }

    #[test]
    fn farm_table_rejects_impossible_entries() {
        let mut t = ClaimTypeTable::new();
        assert!(t.insert('a', "urn:x").is_err(), "below U+01F5");
        assert!(t.insert('Ǵ', "urn:x").is_err(), "upper case");
        assert!(t.insert('\u{3000}', "urn:x").is_err(), "white space");
        assert!(t.insert('ǵ', "").is_err(), "empty URI");
        assert!(
            t.insert(
                'ǵ',
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
            )
            .is_err(),
            "built-in type"
        );
        t.insert('ǵ', "urn:a").expect("first");
        t.insert('ǵ', "urn:a").expect("same entry again");
        assert!(t.insert('ǵ', "urn:b").is_err(), "char reused");
        assert!(t.insert('ǹ', "urn:a").is_err(), "uri reused");
        assert_eq!(t.code_for("urn:a"), Some('ǵ'));
        assert_eq!(t.claim_type_for_uri("urn:a").map(|c| c.code()), Some('ǵ'));
        assert_eq!(
            t.claim_type_for_uri("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn")
                .map(|c| c.code()),
            Some('e')
        );
        assert!(!t.is_empty());
    }

    #[test]
    fn escapes_are_decoded_once_and_only_the_seven() {
        assert_eq!(ok("i:0#.f|ldapmember|o%3Aneill").value, "o:neill");
        assert_eq!(ok("c:0-.t|adfs|a%7cb").value, "a|b");
        assert_eq!(ok("i:0#.f|ldapmember|a%253ab").value, "a%3ab");
        assert_eq!(ok("i:0#.f|ldapmember|50%off").value, "50%off");
        assert_eq!(
            ok("i:0#.f|ldapmember|line1%0d%0aline2").value,
            "line1\r\nline2"
        );
        // The issuer id is not unescaped.
        assert_eq!(ok("i:0#.f|a%3ab|x").issuer.name(), Some("a%3ab"));
    }

    #[test]
    fn positions_are_characters_not_bytes() {
        let e = err("i:0ǵ.tx|adfs|bob");
        assert_eq!(e.position, Some(6));
        assert!(e.message.contains("position 6"), "{}", e.message);
        let e = err("i:0Çµ.t|adfs|bob");
        assert_eq!(e.position, Some(6));
        assert!(e.message.contains("code page"), "{}", e.message);
    }

    #[test]
    fn structural_errors_say_what_and_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("i:", 2, "nothing after the prefix"),
            ("i:0#.w", 6, "then '|' at position 6"),
            ("i:a", 3, "the input ends at position 3"),
            ("0#", 2, "the input ends at position 2"),
            ("i:0#.w|", 7, "empty value"),
            ("0#.w|", 5, "empty value"),
            ("i:0#.wdenallix\\bob", 6, "found 'd'"),
            ("i:05.t|bob@x.com", 7, "needs an issuer id"),
            ("i:05.t||bob", 7, "empty issuer id"),
            ("i:05.t|adfs|", 12, "empty value"),
            ("i:0#.k|denallix\\bob", 5, "is unknown"),
            ("i:0#zw|denallix\\bob", 4, "unknown value type"),
            ("i0#.w|denallix\\bob", 1, "missing ':'"),
            (" i:0#.w|denallix\\bob", 0, "leading white space"),
            ("i:1#.w|a", 2, "reserved character"),
            ("I:0#.w|a", 0, "upper-case prefix"),
            ("i:0#.W|a", 5, "lower case"),
            ("i:0#.m|p|u", 5, "pre-release"),
            ("i:0z.w|a", 3, "claim type character"),
            ("i:0A.w|a", 3, "claim type character"),
            ("i:0Ǵ.t|a|b", 3, "claim type character"),
            ("i:0#.w|a|b", 8, "has no issuer id"),
            ("i:05.t|adfs|a|b", 13, "raw '|'"),
            ("i:0#.w|a\nb", 8, "raw control character"),
            ("i:0#.w|a\tb", 8, "raw control character"),
            ("x:0#.w|a", 0, "unknown prefix"),
            ("DENALLIX\\bob", 0, "not an encoded claim"),
            ("K2:DENALLIX\\bob", 0, "not an encoded claim"),
        ];
        for (input, pos, needle) in cases {
            let e = err(input);
            assert_eq!(e.position, Some(*pos), "{input:?}: {}", e.message);
            assert!(e.message.contains(needle), "{input:?}: {}", e.message);
        }
        assert_eq!(err("").position, None);
    }

    #[test]
    fn length_limit_counts_utf16_units() {
        let ok500 = format!("i:0#.w|{}", "a".repeat(493));
        assert_eq!(ok(&ok500).value.len(), 493);
        let e = err(&format!("i:0#.w|{}", "a".repeat(494)));
        assert_eq!(e.position, Some(500));
        assert!(e.message.contains("501"), "{}", e.message);
        // 500 characters, 990 UTF-8 bytes.
        let wide = format!("i:0ǵ.t|adfs|{}", "ü".repeat(488));
        assert_eq!(wide.chars().count(), 500);
        assert!(decode(&wide).is_ok());
        // A non-BMP character counts two units.
        let astral = format!("i:0#.w|{}😀", "a".repeat(492));
        assert_eq!(astral.chars().count(), 500);
        assert!(decode(&astral).is_err());
        // Prefix-less strings follow the same limit.
        assert!(decode(&format!("0#.w|{}", "a".repeat(495))).is_ok());
        assert!(decode(&format!("0#.w|{}", "a".repeat(496))).is_err());
    }

    #[test]
    fn encode_matches_sharepoint_output() {
        let c = EncodedClaim {
            kind: Some(ClaimKind::Identity),
            claim_type: ClaimTypeRef::from_code('#').expect("table"),
            value_type: ValueType::String,
            issuer: OriginalIssuer::Windows,
            value: "CONTOSO\\Administrator".into(),
        };
        assert_eq!(
            encode(&c).expect("encodes"),
            "i:0#.w|contoso\\administrator"
        );
        let c = EncodedClaim {
            kind: None,
            claim_type: ClaimTypeRef::from_code('!').expect("table"),
            value_type: ValueType::String,
            issuer: OriginalIssuer::System,
            value: "trusted:ADFS LDAP".into(),
        };
        assert_eq!(encode(&c).expect("encodes"), "0!.s|trusted%3aadfs ldap");
        let c = EncodedClaim {
            kind: Some(ClaimKind::Claim),
            claim_type: ClaimTypeRef::Custom {
                code: 'ǹ',
                uri: None,
            },
            value_type: ValueType::X500Name,
            issuer: OriginalIssuer::Trusted("ADFS".into()),
            value: "CN=Bob,OU=Users|x%\r\n".into(),
        };
        let s = encode(&c).expect("encodes");
        assert_eq!(s, "c:0ǹ0t|adfs|cn=bob%2cou=users%7cx%25%0d%0a");
        assert_eq!(decode(&s).expect("decodes"), c.to_sharepoint_case());
    }

    #[test]
    fn encode_refuses_what_sharepoint_refuses() {
        let base = EncodedClaim {
            kind: Some(ClaimKind::Identity),
            claim_type: ClaimTypeRef::from_code('5').expect("table"),
            value_type: ValueType::String,
            issuer: OriginalIssuer::Trusted("adfs".into()),
            value: "bob@denallix.com".into(),
        };
        assert!(encode(&base).is_ok());
        let with = |f: &dyn Fn(&mut EncodedClaim)| {
            let mut c = base.clone();
            f(&mut c);
            encode(&c).expect_err("must be refused")
        };
        for code in ['"', '>'] {
            let e = with(&|c| c.claim_type = ClaimTypeRef::from_code(code).expect("table"));
            assert_eq!(e.reason, Reason::ClaimsEncoding);
            assert!(e.message.contains("never encodes"), "{}", e.message);
        }
        let e = with(&|c| c.issuer = OriginalIssuer::Trusted(String::new()));
        assert_eq!(e.reason, Reason::ClaimsEncoding);
        let e = with(&|c| c.issuer = OriginalIssuer::Forms("a|b".into()));
        assert_eq!(e.reason, Reason::ClaimsEncoding);
        let e = with(&|c| c.value = String::new());
        assert_eq!(e.reason, Reason::ClaimsEncoding);
        let e = with(&|c| c.value = "a\tb".into());
        assert_eq!(e.reason, Reason::ClaimsEncoding);
        let e = with(&|c| c.claim_type = ClaimTypeRef::Unpublished('z'));
        assert_eq!(e.reason, Reason::ClaimsEncoding);
        let e = with(&|c| {
            c.claim_type = ClaimTypeRef::Custom {
                code: 'A',
                uri: None,
            }
        });
        assert_eq!(e.reason, Reason::ClaimsEncoding);
    }

    #[test]
    fn encoder_value_limit() {
        let mut c = EncodedClaim {
            kind: Some(ClaimKind::Identity),
            claim_type: ClaimTypeRef::from_code('#').expect("table"),
            value_type: ValueType::String,
            issuer: OriginalIssuer::Windows,
            value: "a".repeat(493),
        };
        assert_eq!(max_value_len(&c.issuer), 493);
        let s = encode(&c).expect("fits");
        assert_eq!(s.chars().count(), 500);
        c.value.push('a');
        assert_eq!(
            encode(&c).expect_err("too long").reason,
            Reason::ClaimsTooLarge
        );
        // Escapes count after escaping: 165 commas become 495 units.
        c.value = ",".repeat(165);
        assert_eq!(
            encode(&c).expect_err("too long").reason,
            Reason::ClaimsTooLarge
        );
        c.issuer = OriginalIssuer::Trusted("adfs".into());
        assert_eq!(max_value_len(&c.issuer), 488);
        c.value = "b".repeat(488);
        assert_eq!(encode(&c).expect("fits").chars().count(), 500);
        c.value.push('b');
        assert_eq!(
            encode(&c).expect_err("too long").reason,
            Reason::ClaimsTooLarge
        );
    }
}
