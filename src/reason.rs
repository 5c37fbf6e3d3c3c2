//! Stable rejection reason codes (`family.reason`).
//!
//! Every rejection fedrp makes carries exactly one [`Reason`]. Its [`code`](Reason::code) is the
//! stable string used in logs, metric labels, the CLI's JSON and the tests. The vocabulary is the
//! one of `DESIGN.md` §5 and the attack catalogue; codes are never renamed, only added.

use std::fmt;

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// A stable rejection reason. See the module documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[$doc])* $variant, )*
        }

        impl Reason {
            /// Every reason, in declaration order (used for metrics and documentation).
            pub const ALL: &'static [Reason] = &[ $( Reason::$variant, )* ];

            /// The stable `family.reason` code.
            pub const fn code(self) -> &'static str {
                match self { $( Reason::$variant => $code, )* }
            }

            /// Looks a reason up by its code.
            pub fn from_code(code: &str) -> Option<Reason> {
                match code { $( $code => Some(Reason::$variant), )* _ => None }
            }
        }
    };
}

reasons! {
    /// Wrong HTTP method for the endpoint (tokens never travel in URLs).
    HttpMethod => "http.method",
    /// Wrong request content type.
    HttpContentType => "http.content_type",
    /// A form parameter was given twice.
    HttpDupParam => "http.dup_param",
    /// The request body or token is over the configured size cap.
    HttpTooLarge => "http.too_large",
    /// A base64 value does not decode.
    HttpBase64 => "http.base64",
    /// A required parameter is missing.
    HttpMissingParam => "http.missing_param",

    /// `wa` is missing or not the expected action.
    WsfWa => "wsf.wa",
    /// The WS-Trust envelope does not have the shape fedrp accepts.
    WsfRstrShape => "wsf.rstr_shape",
    /// `wctx` / RelayState is forged, unknown, expired or already used.
    WsfCtx => "wsf.ctx",
    /// `wctx` is not bound to this browser's correlation cookie.
    WsfCtxUnbound => "wsf.ctx_unbound",
    /// The STS answered with a SOAP fault.
    WsfFault => "wsf.fault",

    /// The XML is not well-formed (or breaks a namespace rule).
    XmlMalformed => "xml.malformed",
    /// A DOCTYPE (DTD, entities) is present.
    XmlDoctype => "xml.doctype",
    /// A processing instruction is present.
    XmlPi => "xml.pi",
    /// A comment inside the token.
    XmlCommentInToken => "xml.comment_in_token",
    /// Not UTF-8.
    XmlEncoding => "xml.encoding",
    /// XML version other than 1.0.
    XmlVersion => "xml.version",
    /// The document element is not one fedrp accepts, or there are several.
    XmlRoot => "xml.root",
    /// An element that is not allowed where it is.
    XmlUnexpectedElement => "xml.unexpected_element",
    /// Nesting deeper than the cap.
    XmlTooDeep => "xml.too_deep",
    /// Node, attribute or size limits exceeded.
    XmlLimits => "xml.limits",

    /// No signature covers the token.
    SigMissing => "sig.missing",
    /// More than one signature where one is allowed.
    SigCount => "sig.count",
    /// The signature is not where the profile puts it.
    SigPosition => "sig.position",
    /// The Signature element does not have the schema shape.
    SigMalformed => "sig.malformed",
    /// Not exactly one Reference.
    SigRefCount => "sig.ref_count",
    /// The Reference URI is not `#<id of the signed element>`.
    SigRefUri => "sig.ref_uri",
    /// The Reference does not resolve to the Signature's parent.
    SigRefTarget => "sig.ref_target",
    /// Duplicate ID values in the document.
    SigIdDup => "sig.id_dup",
    /// `ds:Object` / Manifest inside the signature.
    SigObject => "sig.object",
    /// A transform outside the allow-list.
    SigTransform => "sig.transform",
    /// A signature or digest algorithm outside the allow-list.
    SigAlg => "sig.alg",
    /// Canonicalization method not allowed, or canonicalization impossible.
    SigC14n => "sig.c14n",
    /// No configured key verifies the signature.
    SigKeyUntrusted => "sig.key_untrusted",
    /// The verifying key is weaker than the issuer's floor.
    SigKeyWeak => "sig.key_weak",
    /// The signing certificate is not valid at the token's IssueInstant.
    SigCertValidity => "sig.cert_validity",
    /// The signature or a digest does not verify.
    SigInvalid => "sig.invalid",

    /// Not exactly one token (assertion).
    TokCount => "tok.count",
    /// Wrong SAML version.
    TokVersion => "tok.version",
    /// SAML-P status is not Success.
    TokStatus => "tok.status",
    /// Issuer missing or not the one bound to the verifying key.
    TokIssuer => "tok.issuer",
    /// Audience restriction missing or not ours.
    TokAudience => "tok.audience",
    /// Not yet valid.
    TokNotYetValid => "tok.not_yet_valid",
    /// Expired.
    TokExpired => "tok.expired",
    /// A time value is not a valid UTC xs:dateTime.
    TokTimeFormat => "tok.time_format",
    /// Conditions missing or inconsistent.
    TokConditions => "tok.conditions",
    /// A condition fedrp does not understand.
    TokConditionUnsupported => "tok.condition_unsupported",
    /// Subject missing, empty or inconsistent.
    TokSubject => "tok.subject",
    /// No valid bearer subject confirmation.
    TokConfirmation => "tok.confirmation",
    /// SubjectConfirmationData Recipient is not our endpoint.
    TokRecipient => "tok.recipient",
    /// Response Destination is not our endpoint.
    TokDestination => "tok.destination",
    /// InResponseTo does not match a pending request.
    TokInResponseTo => "tok.in_response_to",
    /// Unsolicited response while the issuer does not allow it.
    TokUnsolicited => "tok.unsolicited",
    /// No authentication statement.
    TokAuthn => "tok.authn",
    /// Authentication instant in the future or too old.
    TokAuthnStale => "tok.authn_stale",
    /// The token was seen before.
    TokReplay => "tok.replay",

    /// Encrypted content fedrp is not configured to decrypt.
    EncUnsupported => "enc.unsupported",
    /// An encryption algorithm outside the allow-list.
    EncAlg => "enc.alg",
    /// Decryption failed (one code for every decryption failure).
    EncDecrypt => "enc.decrypt",

    /// A SharePoint encoded claim is malformed.
    ClaimsEncoding => "claims.encoding",
    /// The configured identity claim is absent.
    ClaimsMissing => "claims.missing",
    /// The identity claim has several values.
    ClaimsAmbiguous => "claims.ambiguous",
    /// Two attributes of the same type with different values.
    ClaimsDuplicate => "claims.duplicate",
    /// A claim value holds characters that would change the FQN's meaning.
    ClaimsInvalidChars => "claims.invalid_chars",
    /// An identity claim value has element content.
    ClaimsComplexValue => "claims.complex_value",
    /// The claim mapping cannot produce an FQN.
    ClaimsMapping => "claims.mapping",
    /// Claims over the configured size or count.
    ClaimsTooLarge => "claims.too_large",

    /// A return URL outside the allow-list (falls back to the landing page).
    RedirectNotAllowed => "redirect.not_allowed",

    /// The session cookie does not authenticate.
    SessionInvalid => "session.invalid",
    /// The session is past its idle or absolute lifetime.
    SessionExpired => "session.expired",
    /// The session belongs to another realm or host.
    SessionScope => "session.scope",

    /// The shared state store (Redis) is unreachable or too slow; fail closed.
    StoreUnavailable => "store.unavailable",
}

impl Reason {
    /// The family part of the code (`sig`, `tok`, ...).
    pub fn family(self) -> &'static str {
        let code = self.code();
        match code.find('.') {
            Some(i) => &code[..i],
            None => code,
        }
    }

    /// The HTTP status a browser sees for this rejection: 400 for malformed requests,
    /// 413 for oversized ones, 503 when shared state is unavailable, 403 otherwise.
    pub fn http_status(self) -> u16 {
        match self {
            Reason::HttpTooLarge => 413,
            Reason::HttpMethod => 405,
            Reason::StoreUnavailable => 503,
            r if matches!(r.family(), "http" | "wsf" | "xml") => 400,
            _ => 403,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
            assert_eq!(Reason::from_code(r.code()), Some(*r));
            assert!(r.code().contains('.'));
        }
    }
}
