//! Trusted issuers: which keys may sign tokens, bound to which issuer names, under which
//! per-issuer policy. Keys come only from configuration (PEM files, thumbprint pins, metadata).

pub mod keys;
pub mod metadata;

use std::path::Path;
use std::sync::Arc;

pub use keys::{CertInfo, Thumbprint, ThumbprintAlg, TrustedKey};
pub use metadata::{EntityMetadata, Metadata};

/// Which engine verifies XML signatures for an issuer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// libxmlsec1 (the reference engine, the oracle the streaming engine is tested against).
    Xmlsec,
    /// The pure-Rust streaming engine (the default: it matched libxmlsec1 on every fixture,
    /// public vector and mutation, and through an hour of differential fuzzing).
    #[default]
    Streaming,
}

impl Engine {
    /// Parses `xmlsec` / `streaming`.
    pub fn parse(s: &str) -> Result<Engine, String> {
        match s {
            "xmlsec" | "reference" | "libxmlsec1" => Ok(Engine::Xmlsec),
            "streaming" | "fast" | "rust" => Ok(Engine::Streaming),
            other => Err(format!(
                "unknown engine {other:?} (expected \"streaming\" or \"xmlsec\")"
            )),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Xmlsec => "xmlsec",
            Engine::Streaming => "streaming",
        }
    }
}

/// Per-issuer verification policy.
#[derive(Clone, Debug)]
pub struct IssuerPolicy {
    /// Accept RSA-SHA1 / SHA-1 digests (old ADFS, SharePoint).
    pub allow_sha1: bool,
    /// Accept inclusive C14N 1.0.
    pub allow_inclusive_c14n: bool,
    /// Minimum RSA key size.
    pub min_rsa_bits: u32,
    /// Refuse a signing certificate that is not valid at the token's IssueInstant.
    pub check_cert_validity: bool,
    /// Verification engine.
    pub engine: Engine,
    /// Require the Assertion itself to be signed even when the SAML-P Response is.
    pub require_signed_assertion: bool,
    /// Require an authentication statement (off only for STSes that issue attribute-only
    /// tokens, such as custom WIF or CXF STSes).
    pub require_authn_statement: bool,
    /// Require a bearer SubjectConfirmation. Off only for IdPs that issue WS-Fed SAML 1.1
    /// assertions with no SubjectConfirmation at all (SimpleSAMLphp's `adfs` module); a
    /// confirmation that is present must still be bearer.
    pub require_subject_confirmation: bool,
}

impl Default for IssuerPolicy {
    fn default() -> Self {
        IssuerPolicy {
            allow_sha1: false,
            allow_inclusive_c14n: false,
            min_rsa_bits: 2048,
            check_cert_validity: true,
            engine: Engine::default(),
            require_signed_assertion: false,
            require_authn_statement: true,
            require_subject_confirmation: true,
        }
    }
}

/// A trusted issuer. It always has at least one key or thumbprint pin, except a
/// [`TrustedIssuer::withdrawn`] one, which trusts nothing.
#[derive(Clone, Debug)]
pub struct TrustedIssuer {
    name: Option<String>,
    keys: Vec<TrustedKey>,
    thumbprints: Vec<Thumbprint>,
    /// Policy.
    pub policy: IssuerPolicy,
}

impl TrustedIssuer {
    /// Builds an issuer. `name` is its entity ID (the token's Issuer must equal it); `None`
    /// accepts whatever Issuer the token names (offline checks with bare `--trust`).
    pub fn new(
        name: Option<String>,
        keys: Vec<TrustedKey>,
        thumbprints: Vec<Thumbprint>,
        policy: IssuerPolicy,
    ) -> Result<TrustedIssuer, String> {
        if keys.is_empty() && thumbprints.is_empty() {
            return Err(format!(
                "issuer {} has no signing key or thumbprint",
                name.as_deref().unwrap_or("(unnamed)")
            ));
        }
        Ok(TrustedIssuer {
            name,
            keys,
            thumbprints,
            policy,
        })
    }

    /// The entity ID this issuer's keys are bound to.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Configured keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Thumbprint pins.
    pub fn thumbprints(&self) -> &[Thumbprint] {
        &self.thumbprints
    }

    /// An issuer that trusts no key at all: every signature it is asked about fails. Used only
    /// when an issuer's metadata-derived trust has lapsed (its `validUntil` passed without a
    /// newer document) and nothing else is pinned for it.
    pub fn withdrawn(name: Option<String>, policy: IssuerPolicy) -> TrustedIssuer {
        TrustedIssuer {
            name,
            keys: Vec::new(),
            thumbprints: Vec::new(),
            policy,
        }
    }
}

/// One trusted issuer whose keys can be replaced while fedrp runs (metadata refresh, key
/// rollover). Readers take a snapshot ([`IssuerSlot::load`]) without a lock; a writer replaces the
/// whole [`TrustedIssuer`] at once ([`IssuerSlot::store`]), so a validation sees either the old
/// or the new key set, never a mixture.
#[derive(Debug)]
pub struct IssuerSlot {
    current: arc_swap::ArcSwap<TrustedIssuer>,
}

impl IssuerSlot {
    /// A slot holding `issuer`.
    pub fn new(issuer: TrustedIssuer) -> Arc<IssuerSlot> {
        Arc::new(IssuerSlot {
            current: arc_swap::ArcSwap::from_pointee(issuer),
        })
    }

    /// The issuer as it is now (lock-free).
    pub fn load(&self) -> Arc<TrustedIssuer> {
        self.current.load_full()
    }

    /// Replaces the issuer atomically; validations already running keep the old snapshot.
    pub fn store(&self, issuer: TrustedIssuer) {
        self.current.store(Arc::new(issuer));
    }
}

/// The set of trusted issuers, shared by every validation. Each issuer lives in an
/// [`IssuerSlot`], so several stores (one per realm and binding) can share an issuer and all see
/// its refreshed keys at once.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    slots: Vec<Arc<IssuerSlot>>,
}

impl TrustStore {
    /// From issuers (each in a slot of its own).
    pub fn new(issuers: Vec<TrustedIssuer>) -> TrustStore {
        TrustStore {
            slots: issuers.into_iter().map(IssuerSlot::new).collect(),
        }
    }

    /// From shared slots.
    pub fn from_slots(slots: Vec<Arc<IssuerSlot>>) -> TrustStore {
        TrustStore { slots }
    }

    /// A snapshot of every issuer, in store order (what one validation uses throughout).
    pub fn issuers(&self) -> Vec<Arc<TrustedIssuer>> {
        self.slots.iter().map(|s| s.load()).collect()
    }

    /// The slots.
    pub fn slots(&self) -> &[Arc<IssuerSlot>] {
        &self.slots
    }

    /// Whether no issuer is configured.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Reads trust material from a file: PEM (certificates, public keys), a DER certificate, or a
/// SAML / WS-Fed metadata document. Returns the keys and, for metadata, the entity IDs.
pub fn load_trust_file(path: &Path) -> Result<(Vec<TrustedKey>, Vec<String>), String> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{source}: {e}"))?;
    load_trust_bytes(&bytes, &source)
}

/// As [`load_trust_file`], from bytes.
pub fn load_trust_bytes(
    bytes: &[u8],
    source: &str,
) -> Result<(Vec<TrustedKey>, Vec<String>), String> {
    let head = bytes.trim_ascii_start();
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.starts_with(b"-----BEGIN") {
        let keys = keys::keys_from_pem(bytes, source)?;
        if keys.is_empty() {
            return Err(format!(
                "{source}: no certificate or public key in the PEM file"
            ));
        }
        return Ok((keys, Vec::new()));
    }
    if head.starts_with(b"<") {
        let md = Metadata::parse(bytes, source)?;
        let mut keys = Vec::new();
        let mut names = Vec::new();
        for e in md.entities {
            names.push(e.entity_id.clone());
            keys.extend(e.signing_keys);
        }
        if keys.is_empty() {
            return Err(format!("{source}: metadata lists no signing certificate"));
        }
        return Ok((keys, names));
    }
    if let Some(cert) = keys::cert_from_der_or_base64(bytes) {
        return Ok((vec![TrustedKey::from_cert(&cert, source)?], Vec::new()));
    }
    Err(format!(
        "{source}: neither PEM, DER certificate nor metadata"
    ))
}
