//! SharePoint's fixed encoding tables: claim type characters (suffix index 1) and value type
//! characters (suffix index 2), plus the claim type URIs the mapping code names.
//!
//! Source: the public port of SharePoint's `SPClaimEncodingManager` ("current as of the June
//! 2012 CU for SP2010"), which matches the TechNet list except that TechNet omits `/` and `h`
//! (`fixtures/claims/README.md` §3.2 and §3.4).

/// Well-known claim type URIs, for configuration and tests.
pub mod claim_types {
    /// `http://schemas.microsoft.com/sharepoint/2009/08/claims/identityprovider`
    pub const IDENTITY_PROVIDER: &str =
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/identityprovider";
    /// `http://schemas.microsoft.com/sharepoint/2009/08/claims/userlogonname`
    pub const USER_LOGON_NAME: &str =
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/userlogonname";
    /// `http://schemas.microsoft.com/sharepoint/2009/08/claims/userid`: the SharePoint STS puts
    /// the prefix-less encoded identity (`0#.w|contoso\administrator`) in it.
    pub const USER_ID: &str = "http://schemas.microsoft.com/sharepoint/2009/08/claims/userid";
    /// `http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname`
    pub const WINDOWS_ACCOUNT_NAME: &str =
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname";
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn`
    pub const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name`
    pub const NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier`
    pub const NAME_IDENTIFIER: &str =
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress`
    pub const EMAIL: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
    /// `http://schemas.microsoft.com/ws/2008/06/identity/claims/role`
    pub const ROLE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
    /// `http://schemas.microsoft.com/ws/2008/06/identity/claims/groupsid`
    pub const GROUP_SID: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groupsid";
    /// `http://schemas.microsoft.com/ws/2008/06/identity/claims/groups` (Entra ID group object ids)
    pub const GROUPS: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";
}

/// The built-in claim type table: character → claim type URI. Sorted by character.
static CLAIM_TYPES: &[(char, &str)] = &[
    ('!', claim_types::IDENTITY_PROVIDER),
    // Published as `useridentifier`; tokens carry `.../claims/userid` (README §5: unsettled).
    (
        '"',
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/useridentifier",
    ),
    ('#', claim_types::USER_LOGON_NAME),
    // One documentation page only (README §5: unsettled).
    (
        '$',
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/distributionlistsid",
    ),
    (
        '%',
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/farmid",
    ),
    (
        '&',
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/processidentitysid",
    ),
    (
        '\'',
        "http://schemas.microsoft.com/sharepoint/2009/08/claims/processidentitylogonname",
    ),
    (
        '(',
        "http://sharepoint.microsoft.com/claims/2009/08/isauthenticated",
    ),
    (
        ')',
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid",
    ),
    (
        '*',
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid",
    ),
    ('+', claim_types::GROUP_SID),
    ('-', claim_types::ROLE),
    (
        '.',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/anonymous",
    ),
    (
        '/',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/authentication",
    ),
    (
        '0',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/authorizationdecision",
    ),
    (
        '1',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/country",
    ),
    (
        '2',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/dateofbirth",
    ),
    (
        '3',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/denyonlysid",
    ),
    (
        '4',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/dns",
    ),
    ('5', claim_types::EMAIL),
    (
        '6',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/gender",
    ),
    (
        '7',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ),
    (
        '8',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/hash",
    ),
    (
        '9',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/homephone",
    ),
    (
        '<',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/locality",
    ),
    (
        '=',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/mobilephone",
    ),
    ('>', claim_types::NAME),
    ('?', claim_types::NAME_IDENTIFIER),
    (
        '@',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/otherphone",
    ),
    (
        '[',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/postalcode",
    ),
    (
        '\\',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/privatepersonalidentifier",
    ),
    (
        ']',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/rsa",
    ),
    (
        '^',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/sid",
    ),
    (
        '_',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/spn",
    ),
    (
        '`',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/stateorprovince",
    ),
    (
        'a',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/streetaddress",
    ),
    (
        'b',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ),
    (
        'c',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/system",
    ),
    (
        'd',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/thumbprint",
    ),
    ('e', claim_types::UPN),
    (
        'f',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/uri",
    ),
    (
        'g',
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/webpage",
    ),
    (
        'h',
        "http://sharepoint.microsoft.com/claims/2009/08/provideruserkey",
    ),
];

/// Claim type characters seen in SharePoint Online data but in no published table: `i` (add-in
/// principals), `o` (Microsoft 365 groups), `t` (Entra groups).
pub(crate) const UNPUBLISHED_CLAIM_TYPE_CHARS: [char; 3] = ['i', 'o', 't'];

/// The first character SharePoint generates for a farm's custom claim types (`ǵ`).
pub const FIRST_CUSTOM_CLAIM_TYPE_CHAR: char = '\u{01F5}';

/// A claim type of SharePoint's built-in table: its character and its URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KnownClaimType {
    code: char,
    uri: &'static str,
}

impl KnownClaimType {
    /// The table entry for an encoding character.
    pub fn from_code(code: char) -> Option<Self> {
        CLAIM_TYPES
            .binary_search_by_key(&code, |(c, _)| *c)
            .ok()
            .and_then(|i| CLAIM_TYPES.get(i))
            .map(|&(code, uri)| KnownClaimType { code, uri })
    }

    /// The table entry for a claim type URI (exact match).
    pub fn from_uri(uri: &str) -> Option<Self> {
        CLAIM_TYPES
            .iter()
            .find(|(_, u)| *u == uri)
            .map(|&(code, uri)| KnownClaimType { code, uri })
    }

    /// Every entry of the table, in character order.
    pub fn all() -> impl Iterator<Item = KnownClaimType> {
        CLAIM_TYPES
            .iter()
            .map(|&(code, uri)| KnownClaimType { code, uri })
    }

    /// The encoding character.
    pub fn code(self) -> char {
        self.code
    }

    /// The claim type URI.
    pub fn uri(self) -> &'static str {
        self.uri
    }

    /// The short name: the text after the last `/`, `#` or `:` of the URI (`userlogonname`).
    pub fn short_name(self) -> &'static str {
        short_name(self.uri)
    }

    /// Whether SharePoint's encoder refuses this claim type (`"` user identifier and `>`
    /// name): a decoder accepts them, but SharePoint never produces them.
    pub fn is_never_encoded(self) -> bool {
        matches!(self.code, '"' | '>')
    }
}

/// The text after the last `/`, `#` or `:` of a URI.
pub fn short_name(uri: &str) -> &str {
    match uri.rfind(['/', '#', ':']) {
        Some(i) => uri.get(i + 1..).unwrap_or(uri),
        None => uri,
    }
}

/// The value type of an encoded claim (suffix index 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `!` `xs:base64Binary`
    Base64Binary,
    /// `"` `xs:boolean`
    Boolean,
    /// `#` `xs:date`
    Date,
    /// `$` `xs:dateTime`
    DateTime,
    /// `%` xquery `dayTimeDuration`
    DayTimeDuration,
    /// `&` `xs:double`
    Double,
    /// `'` `ds:DSAKeyValue`
    DsaKeyValue,
    /// `(` `xs:hexBinary`
    HexBinary,
    /// `)` `xs:integer`
    Integer,
    /// `*` `ds:KeyInfo`
    KeyInfo,
    /// `+` XACML `rfc822Name`
    Rfc822Name,
    /// `-` `ds:RSAKeyValue`
    RsaKeyValue,
    /// `.` `xs:string` (every published example)
    String,
    /// `/` `xs:time`
    Time,
    /// `0` XACML `x500Name`
    X500Name,
    /// `1` xquery `yearMonthDuration`
    YearMonthDuration,
}

impl ValueType {
    /// Every value type, in character order.
    pub const ALL: [ValueType; 16] = [
        ValueType::Base64Binary,
        ValueType::Boolean,
        ValueType::Date,
        ValueType::DateTime,
        ValueType::DayTimeDuration,
        ValueType::Double,
        ValueType::DsaKeyValue,
        ValueType::HexBinary,
        ValueType::Integer,
        ValueType::KeyInfo,
        ValueType::Rfc822Name,
        ValueType::RsaKeyValue,
        ValueType::String,
        ValueType::Time,
        ValueType::X500Name,
        ValueType::YearMonthDuration,
    ];

    /// The value type for an encoding character; `None` for any other character (an error:
    /// SharePoint's decoder throws).
    pub fn from_code(code: char) -> Option<Self> {
        ValueType::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The value type for a URI (exact match).
    pub fn from_uri(uri: &str) -> Option<Self> {
        ValueType::ALL.into_iter().find(|v| v.uri() == uri)
    }

    /// The encoding character.
    pub const fn code(self) -> char {
        match self {
            ValueType::Base64Binary => '!',
            ValueType::Boolean => '"',
            ValueType::Date => '#',
            ValueType::DateTime => '$',
            ValueType::DayTimeDuration => '%',
            ValueType::Double => '&',
            ValueType::DsaKeyValue => '\'',
            ValueType::HexBinary => '(',
            ValueType::Integer => ')',
            ValueType::KeyInfo => '*',
            ValueType::Rfc822Name => '+',
            ValueType::RsaKeyValue => '-',
            ValueType::String => '.',
            ValueType::Time => '/',
            ValueType::X500Name => '0',
            ValueType::YearMonthDuration => '1',
        }
    }

    /// The value type URI.
    pub const fn uri(self) -> &'static str {
        match self {
            ValueType::Base64Binary => "http://www.w3.org/2001/XMLSchema#base64Binary",
            ValueType::Boolean => "http://www.w3.org/2001/XMLSchema#boolean",
            ValueType::Date => "http://www.w3.org/2001/XMLSchema#date",
            ValueType::DateTime => "http://www.w3.org/2001/XMLSchema#dateTime",
            ValueType::DayTimeDuration => {
                "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration"
            }
            ValueType::Double => "http://www.w3.org/2001/XMLSchema#double",
            ValueType::DsaKeyValue => "http://www.w3.org/2000/09/xmldsig#DSAKeyValue",
            ValueType::HexBinary => "http://www.w3.org/2001/XMLSchema#hexBinary",
            ValueType::Integer => "http://www.w3.org/2001/XMLSchema#integer",
            ValueType::KeyInfo => "http://www.w3.org/2000/09/xmldsig#KeyInfo",
            ValueType::Rfc822Name => "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name",
            ValueType::RsaKeyValue => "http://www.w3.org/2000/09/xmldsig#RSAKeyValue",
            ValueType::String => "http://www.w3.org/2001/XMLSchema#string",
            ValueType::Time => "http://www.w3.org/2001/XMLSchema#time",
            ValueType::X500Name => "urn:oasis:names:tc:xacml:1.0:data-type:x500Name",
            ValueType::YearMonthDuration => {
                "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration"
            }
        }
    }

    /// The short name (`string`, `rfc822Name`, ...).
    pub fn short_name(self) -> &'static str {
        short_name(self.uri())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";
    const XS: &str = "http://www.w3.org/2001/XMLSchema#";

    #[test]
    fn claim_type_table_is_sorted_unique_and_complete() {
        assert_eq!(CLAIM_TYPES.len(), 43);
        for pair in CLAIM_TYPES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?} before {:?}", pair[0], pair[1]);
        }
        for (c, uri) in CLAIM_TYPES {
            assert_eq!(KnownClaimType::from_code(*c).map(|k| k.uri()), Some(*uri));
            assert_eq!(KnownClaimType::from_uri(uri).map(|k| k.code()), Some(*c));
            if uri.starts_with(WS) {
                assert!(!short_name(uri).is_empty());
            }
        }
        for c in UNPUBLISHED_CLAIM_TYPE_CHARS {
            assert!(KnownClaimType::from_code(c).is_none());
        }
        assert!(KnownClaimType::from_code('z').is_none());
        assert!(KnownClaimType::from_code('A').is_none());
    }

    #[test]
    fn claim_type_short_names() {
        let k = KnownClaimType::from_code('#').expect("table");
        assert_eq!(k.short_name(), "userlogonname");
        assert!(
            KnownClaimType::from_code('>')
                .expect("table")
                .is_never_encoded()
        );
        assert!(
            KnownClaimType::from_code('"')
                .expect("table")
                .is_never_encoded()
        );
        assert!(!k.is_never_encoded());
    }

    #[test]
    fn value_type_table_round_trips() {
        for v in ValueType::ALL {
            assert_eq!(ValueType::from_code(v.code()), Some(v));
            assert_eq!(ValueType::from_uri(v.uri()), Some(v));
        }
        assert_eq!(ValueType::String.short_name(), "string");
        assert_eq!(ValueType::Rfc822Name.short_name(), "rfc822Name");
        assert!(ValueType::String.uri().starts_with(XS));
        assert_eq!(ValueType::from_code('z'), None);
        assert_eq!(ValueType::from_code('2'), None);
    }
}
