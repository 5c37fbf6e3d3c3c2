//! The verified token core: bytes in, a [`ValidatedAssertion`] or a [`TokenError`] out.
//!
//! Pure: no I/O, no clock reads (time is a parameter), no async. The pipeline, as types:
//! input bytes → strict parse ([`crate::xml`]) → [`envelope::Envelope`] (the one token located)
//! → [`profile::SignatureProfile`] (structure checked, no crypto) → verified signature
//! (reference engine [`crate::xmlsec`] or streaming engine [`crate::dsig`], key chosen from
//! configuration only) → [`model::AssertionModel`] parsed **only** from the verified canonical
//! bytes → semantic checks ([`validate`]) → [`ValidatedAssertion`].
//!
//! [`ValidatedAssertion`] has private fields and no public constructor: the only way to get one
//! is [`Validator::validate`], and there is no configuration that skips verification.

pub mod document;
pub mod envelope;
mod error;
pub mod input;
pub mod model;
pub mod ns;
pub mod profile;
pub mod saml11;
pub mod saml20;
mod validate;
mod verify;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

pub use error::{KeyFacts, TokenError, UnknownKey};
pub use model::{AttrValue, Attribute, Claim};

use crate::Reason;
use crate::trust::{Engine, TrustStore, TrustedIssuer, TrustedKey};
use crate::xml::{self, Document, LineEnds, NodeId, ParseOptions};
use envelope::{Envelope, Form, RstrInfo};
use error::reject;
use model::{AssertionModel, ResponseModel};
use profile::{IdMap, Signed};
use verify::{SigFail, SigOk, Subject};

/// SAML version of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamlVersion {
    /// SAML 1.1.
    V1_1,
    /// SAML 2.0.
    V2_0,
}

impl SamlVersion {
    /// "1.1" / "2.0".
    pub fn name(self) -> &'static str {
        match self {
            SamlVersion::V1_1 => "1.1",
            SamlVersion::V2_0 => "2.0",
        }
    }
}

/// How the token was posted, which decides the envelopes allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Offline checks: every envelope form.
    Any,
    /// WS-Fed `wresult`: XML text holding a WS-Trust RSTR (Collection) only.
    WsFed,
    /// SAML-P `SAMLResponse`: base64 of a `samlp:Response` only.
    SamlP,
}

/// What the caller knows about a pending request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum InResponseTo {
    /// Do not check (offline checks).
    #[default]
    Ignore,
    /// A request with this ID is pending: the signed InResponseTo must equal it.
    Expect(String),
    /// No request is pending: a signed InResponseTo is refused.
    Unsolicited,
}

/// Validation policy that is not per issuer.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Our audiences (realms / SP entity IDs); every AudienceRestriction must name one.
    pub audiences: Vec<String>,
    /// Our assertion consumer URL, checked against Destination and Recipient when set.
    pub recipient: Option<String>,
    /// A signed Response must carry a Destination (when `recipient` is set).
    pub require_destination: bool,
    /// Allowed clock skew.
    pub skew: Duration,
    /// Maximum token size in bytes (after base64 decoding).
    pub max_token_bytes: usize,
    /// Maximum age of IssueInstant (also bounds the replay window).
    pub max_token_age: Option<Duration>,
    /// Maximum age of the authentication instant.
    pub max_authn_age: Option<Duration>,
    /// InResponseTo expectation.
    pub in_response_to: InResponseTo,
    /// Parser caps.
    pub limits: xml::Limits,
    /// Force an engine for every issuer (tests, benchmarks, `--engine`).
    pub engine_override: Option<Engine>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            audiences: Vec::new(),
            recipient: None,
            require_destination: true,
            skew: Duration::seconds(300),
            max_token_bytes: 256 * 1024,
            max_token_age: Some(Duration::hours(24)),
            max_authn_age: None,
            in_response_to: InResponseTo::Ignore,
            limits: xml::Limits {
                max_bytes: 256 * 1024,
                ..Default::default()
            },
            engine_override: None,
        }
    }
}

/// One verified signature, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureSummary {
    /// What it covers: "Assertion" or "Response".
    pub on: &'static str,
    /// Signature algorithm (`rsa-sha256`, ...).
    pub algorithm: String,
    /// Digest algorithm.
    pub digest: &'static str,
    /// Engine that verified it.
    pub engine: &'static str,
    /// SHA-256 thumbprint of the verifying key's certificate (or public key).
    pub key_thumbprint: String,
}

/// A token that passed every check. Only [`Validator::validate`] makes one.
#[derive(Clone, Debug)]
pub struct ValidatedAssertion {
    assertion: AssertionModel,
    response: Option<ResponseModel>,
    form: Form,
    rstr: Option<RstrInfo>,
    issuer: Arc<TrustedIssuer>,
    issuer_index: usize,
    issuer_name: String,
    signatures: Vec<SignatureSummary>,
    signed_xml: Vec<u8>,
    cr_preserved: bool,
    skew: Duration,
    max_token_age: Option<Duration>,
}

impl ValidatedAssertion {
    /// SAML version.
    pub fn saml_version(&self) -> SamlVersion {
        self.assertion.version
    }
    /// Envelope form.
    pub fn form(&self) -> Form {
        self.form
    }
    /// The issuer's entity ID (as the token names it; bound to the verifying key).
    pub fn issuer(&self) -> &str {
        &self.issuer_name
    }
    /// The trusted issuer whose key verified (the snapshot the validation used).
    pub fn trusted_issuer(&self) -> &Arc<TrustedIssuer> {
        &self.issuer
    }
    /// The position of that issuer in the validator's [`TrustStore`] (stable across key
    /// refreshes, unlike the snapshot's identity).
    pub fn trust_index(&self) -> usize {
        self.issuer_index
    }
    /// Assertion ID.
    pub fn assertion_id(&self) -> &str {
        &self.assertion.id
    }
    /// NameID / NameIdentifier text.
    pub fn subject(&self) -> Option<&str> {
        self.assertion.name_id.as_ref().map(|n| n.value.as_str())
    }
    /// NameID format.
    pub fn subject_format(&self) -> Option<&str> {
        self.assertion
            .name_id
            .as_ref()
            .and_then(|n| n.format.as_deref())
    }
    /// IssueInstant.
    pub fn issue_instant(&self) -> DateTime<Utc> {
        self.assertion.issue_instant
    }
    /// Conditions NotBefore.
    pub fn not_before(&self) -> Option<DateTime<Utc>> {
        self.assertion
            .conditions
            .as_ref()
            .and_then(|c| c.not_before)
    }
    /// Conditions NotOnOrAfter (always present on a validated token).
    pub fn not_on_or_after(&self) -> DateTime<Utc> {
        self.assertion
            .conditions
            .as_ref()
            .and_then(|c| c.not_on_or_after)
            .unwrap_or(self.assertion.issue_instant)
    }
    /// Authentication instant (first statement).
    pub fn authn_instant(&self) -> Option<DateTime<Utc>> {
        self.assertion.authn.first().map(|a| a.instant)
    }
    /// Authentication method / context class.
    pub fn authn_method(&self) -> Option<&str> {
        self.assertion
            .authn
            .first()
            .and_then(|a| a.method.as_deref())
    }
    /// SessionIndex (SAML 2.0).
    pub fn session_index(&self) -> Option<&str> {
        self.assertion
            .authn
            .first()
            .and_then(|a| a.session_index.as_deref())
    }
    /// The latest instant a session based on this token may last: the assertion's
    /// NotOnOrAfter, SessionNotOnOrAfter, or the (unsigned) RSTR Lifetime if that is earlier —
    /// the wrapper may only shorten it.
    pub fn valid_until(&self) -> DateTime<Utc> {
        let mut t = self.not_on_or_after();
        for a in &self.assertion.authn {
            if let Some(s) = a.session_not_on_or_after {
                t = t.min(s);
            }
        }
        if let Some(exp) = self
            .rstr
            .as_ref()
            .and_then(|r| r.expires.as_deref())
            .and_then(xml::datetime::parse_utc)
        {
            t = t.min(exp);
        }
        t
    }
    /// Attributes with their raw values (text, complex, nil).
    pub fn attributes(&self) -> &[Attribute] {
        &self.assertion.attributes
    }
    /// Claims: one per attribute value (text, or the text of element content), in document
    /// order; nil values are left out.
    pub fn claims(&self) -> Vec<Claim> {
        let mut out = Vec::new();
        for a in &self.assertion.attributes {
            for v in &a.values {
                if let AttrValue::Text(t) | AttrValue::Complex(t) = v {
                    out.push(Claim {
                        claim_type: a.claim_type.clone(),
                        value: t.clone(),
                        original_issuer: a.original_issuer.clone(),
                    });
                }
            }
        }
        out
    }
    /// The RSTR `Context` (unsigned; WS-Fed echoes `wctx` in it).
    pub fn rstr_context(&self) -> Option<&str> {
        self.rstr.as_ref().and_then(|r| r.context.as_deref())
    }
    /// Signed InResponseTo (bearer confirmation or signed Response).
    pub fn in_response_to(&self) -> Option<&str> {
        self.assertion
            .confirmations
            .iter()
            .find_map(|c| c.in_response_to.as_deref())
            .or_else(|| {
                self.response
                    .as_ref()
                    .and_then(|r| r.in_response_to.as_deref())
            })
    }
    /// The signatures that verified.
    pub fn signatures(&self) -> &[SignatureSummary] {
        &self.signatures
    }
    /// The exact canonical bytes the assertion's covering signature digested.
    pub fn signed_xml(&self) -> &[u8] {
        &self.signed_xml
    }
    /// Whether verification needed the "literal CR is data" reading (see `ARCHITECTURE.md`).
    pub fn cr_preserved(&self) -> bool {
        self.cr_preserved
    }
    /// Replay-cache key: issuer and assertion ID.
    pub fn replay_key(&self) -> String {
        format!("{}\u{1f}{}", self.issuer_name, self.assertion.id)
    }
    /// Until when the replay entry must be kept: the end of the window in which this token
    /// could be accepted again (NotOnOrAfter, or IssueInstant + max age, plus skew).
    pub fn replay_until(&self) -> DateTime<Utc> {
        let mut t = self.not_on_or_after();
        if let Some(max) = self.max_token_age {
            t = t.min(self.assertion.issue_instant + max);
        }
        t + self.skew
    }
}

/// The configured validator: trust plus policy. Cheap to share (`Arc`) across threads.
#[derive(Clone, Debug)]
pub struct Validator {
    trust: TrustStore,
    policy: Policy,
}

impl Validator {
    /// A validator. Fails when no audience or no issuer is configured.
    pub fn new(trust: TrustStore, policy: Policy) -> Result<Validator, String> {
        if policy.audiences.is_empty() {
            return Err("at least one audience (realm / SP entity ID) is required".into());
        }
        if trust.is_empty() {
            return Err("at least one trusted issuer is required".into());
        }
        Ok(Validator { trust, policy })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The trust store.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// A copy with another InResponseTo expectation (per request in the server).
    pub fn with_in_response_to(&self, irt: InResponseTo) -> Validator {
        let mut v = self.clone();
        v.policy.in_response_to = irt;
        v
    }

    /// Validates a posted token at time `now`. No replay check: record
    /// [`ValidatedAssertion::replay_key`] in a replay cache after this succeeds.
    pub fn validate(
        &self,
        input: &[u8],
        binding: Binding,
        now: DateTime<Utc>,
    ) -> Result<ValidatedAssertion, TokenError> {
        let encoding = match binding {
            Binding::WsFed => input::Encoding::Xml,
            Binding::SamlP => input::Encoding::Base64,
            Binding::Any => input::Encoding::Detect,
        };
        let bytes = input::decode(input, encoding, self.policy.max_token_bytes)?;
        // One snapshot of the trusted issuers for the whole validation: a concurrent metadata
        // refresh never mixes old and new keys within one token.
        let issuers = self.trust.issuers();
        match self.run(&issuers, &bytes, binding, now, LineEnds::Normalize) {
            Ok(v) => Ok(v),
            Err(f) if f.digest_mismatch && bytes.contains(&b'\r') => {
                match self.run(&issuers, &bytes, binding, now, LineEnds::KeepCrInText) {
                    Ok(v) => Ok(v),
                    Err(_) => Err(f.error),
                }
            }
            Err(f) => Err(f.error),
        }
    }

    /// [`Validator::validate`], then records the token in `replay` (`tok.replay` when it was
    /// seen before). The record is made only after every other check passed.
    pub fn validate_once(
        &self,
        input: &[u8],
        binding: Binding,
        now: DateTime<Utc>,
        replay: &dyn crate::store::ReplayCache,
    ) -> Result<ValidatedAssertion, TokenError> {
        let v = self.validate(input, binding, now)?;
        match replay.insert_if_absent(&v.replay_key(), v.replay_until(), now) {
            Ok(true) => Ok(v),
            Ok(false) => reject(
                Reason::TokReplay,
                format!(
                    "assertion {} from {} was already used",
                    v.assertion_id(),
                    v.issuer()
                ),
            ),
            Err(e) => reject(Reason::StoreUnavailable, e.to_string()),
        }
    }

    fn run(
        &self,
        issuers: &[Arc<TrustedIssuer>],
        bytes: &[u8],
        binding: Binding,
        now: DateTime<Utc>,
        line_ends: LineEnds,
    ) -> Result<ValidatedAssertion, SigFail> {
        let opts = ParseOptions {
            limits: self.policy.limits.clone(),
            line_ends,
        };
        let doc = xml::parse(bytes, &opts).map_err(TokenError::from)?;
        let env = envelope::locate(&doc, binding)?;
        envelope::check_assertion_children(&doc, env.token, env.version)?;
        envelope::check_no_comments(&doc, env.token)?;
        let ids = IdMap::scan(&doc)?;

        let a_kind = Signed::assertion(env.version);
        let a_sig = profile::find_signature(&doc, env.token, a_kind)?;
        let r_sig = match env.response {
            Some(r) => profile::find_signature(&doc, r, Signed::Response)?,
            None => None,
        };
        if a_sig.is_none() && r_sig.is_none() {
            return Err(
                TokenError::new(Reason::SigMissing, "no signature covers the assertion").into(),
            );
        }
        let r_prof = match (env.response, r_sig) {
            (Some(r), Some(s)) => Some(profile::check(&doc, &ids, r, Signed::Response, s)?),
            _ => None,
        };
        let a_prof = match a_sig {
            Some(s) => Some(profile::check(&doc, &ids, env.token, a_kind, s)?),
            None => None,
        };

        let rewritten;
        let xmlsec_bytes = if line_ends == LineEnds::KeepCrInText {
            rewritten = input::cr_as_char_refs(bytes, doc.root_range());
            &rewritten[..]
        } else {
            bytes
        };
        let subject = Subject {
            doc: &doc,
            xmlsec_bytes,
        };
        let hint = issuer_hint(&doc, &env);
        let override_ = self.policy.engine_override;
        let r_ok = match &r_prof {
            Some(p) => Some(verify::verify_signature(
                issuers,
                &subject,
                p,
                hint.as_deref(),
                override_,
            )?),
            None => None,
        };
        let a_ok = match &a_prof {
            Some(p) => Some(verify::verify_signature(
                issuers,
                &subject,
                p,
                hint.as_deref(),
                override_,
            )?),
            None => None,
        };
        self.finish(&doc, &env, r_ok, a_ok, now, line_ends)
            .map_err(SigFail::from)
    }

    fn finish(
        &self,
        doc: &Document,
        env: &Envelope,
        mut r_ok: Option<SigOk>,
        mut a_ok: Option<SigOk>,
        now: DateTime<Utc>,
        line_ends: LineEnds,
    ) -> Result<ValidatedAssertion, TokenError> {
        let canon_opts = ParseOptions {
            limits: self.policy.limits.clone(),
            line_ends: LineEnds::Normalize,
        };
        let token_id = doc
            .attr(env.token, "", Signed::assertion(env.version).id_attr())
            .unwrap_or("");
        let primary = a_ok
            .as_ref()
            .or(r_ok.as_ref())
            .ok_or_else(|| TokenError::new(Reason::SigMissing, "no signature"))?;
        if let (Some(a), Some(r)) = (&a_ok, &r_ok)
            && !Arc::ptr_eq(&a.issuer, &r.issuer)
        {
            return reject(
                Reason::TokIssuer,
                "the Response and the Assertion are signed by different issuers",
            );
        }
        if a_ok.is_none() && primary.issuer.policy.require_signed_assertion {
            return reject(
                Reason::SigMissing,
                "the issuer requires a signed Assertion; only the Response is signed",
            );
        }

        // The model, only from what was verified. The reference engine hands back libxmlsec1's
        // pre-digest bytes, which are parsed; the streaming engine canonicalized and digested
        // exactly the strict reader's subtree, so the model reads that subtree (the engine
        // differential holds both to identical claims).
        let assertion = match &a_ok {
            Some(a) if a.engine == Engine::Streaming => {
                parse_assertion(doc, env.token, env.version)?
            }
            Some(a) => {
                let cdoc = xml::parse(&a.canonical, &canon_opts)?;
                let root = cdoc.root();
                parse_assertion(&cdoc, root, env.version)?
            }
            None => {
                let r = r_ok
                    .as_ref()
                    .ok_or_else(|| TokenError::new(Reason::SigMissing, "no signature"))?;
                if r.engine == Engine::Streaming {
                    parse_assertion(doc, env.token, env.version)?
                } else {
                    let cdoc = xml::parse(&r.canonical, &canon_opts)?;
                    let token = cdoc
                        .elements(cdoc.root())
                        .find(|&c| cdoc.is(c, ns::SAML2, "Assertion"))
                        .ok_or_else(|| {
                            TokenError::new(Reason::TokCount, "no assertion in the signed Response")
                        })?;
                    parse_assertion(&cdoc, token, env.version)?
                }
            }
        };
        if assertion.id != token_id {
            return reject(
                Reason::SigRefTarget,
                "the verified assertion is not the located token",
            );
        }
        let response = match (&r_ok, env.response) {
            (Some(r), Some(rn)) if r.engine == Engine::Streaming => {
                Some((saml20::parse_response(doc, rn)?, true))
            }
            (Some(r), _) => {
                let cdoc = xml::parse(&r.canonical, &canon_opts)?;
                Some((saml20::parse_response(&cdoc, cdoc.root())?, true))
            }
            (None, Some(rn)) => Some((saml20::parse_response(doc, rn)?, false)),
            (None, None) => None,
        };
        validate::check(
            &assertion,
            response
                .as_ref()
                .map(|(m, signed)| validate::ResponseFacts {
                    model: m,
                    signed: *signed,
                }),
            &primary.issuer,
            &primary.key,
            &self.policy,
            now,
        )?;
        let mut signatures = Vec::new();
        for (on, ok) in [("Response", &r_ok), ("Assertion", &a_ok)] {
            if let Some(s) = ok {
                signatures.push(summary(on, s, doc, env));
            }
        }
        let issuer_arc = Arc::clone(&primary.issuer);
        let issuer_index = primary.issuer_index;
        let signed_xml = match (&mut a_ok, &mut r_ok) {
            (Some(a), _) => std::mem::take(&mut a.canonical),
            (None, Some(r)) => std::mem::take(&mut r.canonical),
            (None, None) => Vec::new(),
        };
        let issuer_name = assertion
            .issuer
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_owned();
        Ok(ValidatedAssertion {
            issuer: issuer_arc,
            issuer_index,
            issuer_name,
            assertion,
            response: response.map(|(m, _)| m),
            form: env.form,
            rstr: env.rstr.clone(),
            signatures,
            signed_xml,
            cr_preserved: line_ends == LineEnds::KeepCrInText,
            skew: self.policy.skew,
            max_token_age: self.policy.max_token_age,
        })
    }
}

fn summary(on: &'static str, s: &SigOk, doc: &Document, env: &Envelope) -> SignatureSummary {
    // Algorithms are read back from the (checked) SignedInfo of the element.
    let element: NodeId = if on == "Response" {
        env.response.unwrap_or(env.token)
    } else {
        env.token
    };
    let (algorithm, digest) = doc
        .elements(element)
        .find(|&c| doc.is(c, ns::DS, "Signature"))
        .and_then(|sig| doc.elements(sig).next())
        .map(|si| {
            let mut sig_alg = String::new();
            let mut digest = "";
            for d in doc.descendants(si) {
                if doc.is(d, ns::DS, "SignatureMethod") {
                    sig_alg = doc
                        .attr(d, "", "Algorithm")
                        .and_then(crate::dsig::alg::SignatureAlg::from_uri)
                        .map(|a| a.name())
                        .unwrap_or_default();
                }
                if doc.is(d, ns::DS, "DigestMethod") {
                    digest = doc
                        .attr(d, "", "Algorithm")
                        .and_then(crate::dsig::alg::DigestAlg::from_uri)
                        .map(|a| a.name())
                        .unwrap_or("");
                }
            }
            (sig_alg, digest)
        })
        .unwrap_or_default();
    SignatureSummary {
        on,
        algorithm,
        digest,
        engine: s.engine.name(),
        key_thumbprint: s.key.thumbprint_sha256(),
    }
}

fn parse_assertion(
    doc: &Document,
    n: NodeId,
    version: SamlVersion,
) -> Result<AssertionModel, TokenError> {
    match version {
        SamlVersion::V2_0 if doc.is(n, ns::SAML2, "Assertion") => saml20::parse_assertion(doc, n),
        SamlVersion::V1_1 if doc.is(n, ns::SAML1, "Assertion") => saml11::parse_assertion(doc, n),
        _ => reject(
            Reason::SigRefTarget,
            "the verified content is not the located assertion",
        ),
    }
}

/// The token's own (unverified) Issuer text: only a hint for choosing which keys to try first.
fn issuer_hint(doc: &Document, env: &Envelope) -> Option<String> {
    match env.version {
        SamlVersion::V1_1 => doc
            .attr(env.token, "", "Issuer")
            .map(|s| s.trim().to_owned()),
        SamlVersion::V2_0 => doc
            .elements(env.token)
            .find(|&c| doc.is(c, ns::SAML2, "Issuer"))
            .and_then(|i| doc.simple_text(i))
            .map(|t| t.trim().to_owned()),
    }
}

/// Key facts for reports: which key verified.
pub fn describe_key(k: &TrustedKey) -> String {
    format!("{} {}", k.describe(), k.thumbprint_sha256())
}
