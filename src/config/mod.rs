//! Configuration: one TOML file plus `FEDRP__`-prefixed environment overrides → a validated
//! [`Config`].
//!
//! Invariants: serde appears only in this module (`raw.rs` holds the only `Deserialize` types,
//! all `deny_unknown_fields`); every problem is reported with its key path and a hint, all at
//! once; secrets can come from files and are never printed ([`report`] redacts them); the
//! built-in development setup ([`DEV_CONFIG`]) is itself a TOML document going through the
//! same path. Relative file paths are resolved against the configuration file's directory (the
//! working directory for the built-in setup).

pub mod claims;
mod error;
mod raw;
pub mod report;
mod store;

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::Duration;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use url::Url;

pub use error::{ConfigError, ConfigErrors};
pub use raw::KEYS;
use raw::{RawConfig, RawDevIdp, RawIssuer, RawRealm};
pub use store::{RedisConfig, StoreConfig};

use crate::trust::{Engine, IssuerPolicy, Thumbprint, TrustedKey, load_trust_file};

/// The built-in development setup used by `fedrp serve` without `--config`.
pub const DEV_CONFIG: &str = include_str!("dev.toml");

/// Environment variable prefix for overrides: `FEDRP__SERVER__LISTEN=127.0.0.1:9000`,
/// `FEDRP__ISSUERS__0__ALLOW_UNSOLICITED=true`.
pub const ENV_PREFIX: &str = "FEDRP__";

/// Whether an origin is plain http on a loopback host (development host pages).
fn is_loopback_http(origin: &str) -> bool {
    let Some(host) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Claim type of the Windows account name (`DOMAIN\user`).
pub const CLAIM_WINDOWS_ACCOUNT_NAME: &str =
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname";
/// Claim type of roles / groups.
pub const CLAIM_ROLE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

/// A secret value: `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it came from; `None` for the built-in development setup.
    pub source: Option<PathBuf>,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[session]`.
    pub session: SessionConfig,
    /// `[limits]`.
    pub limits: Limits,
    /// `[redirect]`.
    pub redirect: RedirectConfig,
    /// `[dev_idp]`, when enabled.
    pub dev_idp: Option<DevIdpConfig>,
    /// `[[issuers]]`, in file order.
    pub issuers: Vec<IssuerConfig>,
    /// `[[realms]]`, in file order; the first is the default realm.
    pub realms: Vec<RealmConfig>,
    /// `store` and `[redis]`: where replay records, server sessions and revocations live.
    pub store: StoreConfig,
    /// `[sp_signing]`: the key SAML AuthnRequests are signed with, when configured.
    pub sp_signing: Option<SpSigning>,
    /// Things an operator should know (expiring certificates, SHA-1, ephemeral keys, ...).
    pub warnings: Vec<String>,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[sp_signing]`: fedrp's own signing key for SAML AuthnRequests (HTTP-Redirect binding
/// signatures), published in the RP metadata.
pub struct SpSigning {
    /// The private key (RSA ≥ 2048 bits or EC).
    pub key: Secret<PKey<Private>>,
    /// Its certificate.
    pub cert: X509,
}

impl std::fmt::Debug for SpSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpSigning({:?})", self.cert.subject_name())
    }
}

/// `[server]`.
#[derive(Debug)]
pub struct ServerConfig {
    /// Socket address to bind (`127.0.0.1:8080`; port 0 picks a free port).
    pub listen: String,
    /// The external base URL browsers use; `None`: derived from the bound address.
    pub public_url: Option<Url>,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// TLS certificate and key files (PEM), when fedrp terminates TLS itself.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Send `Strict-Transport-Security` (only ever on HTTPS).
    pub hsts: bool,
    /// Add `X-Fedrp-Reason` with the rejection code to error responses (tests, debugging).
    pub expose_reason_header: bool,
    /// Log format.
    pub log_format: LogFormat,
}

/// Where session data lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionMode {
    /// The whole session is sealed into the cookie (chunked).
    Cookie,
    /// The cookie holds only a sealed session id; the data is in the session store.
    Server,
}

/// `[session]`.
#[derive(Debug)]
pub struct SessionConfig {
    /// Cookie or server-side sessions.
    pub mode: SessionMode,
    /// AES-256-GCM keys; the first seals, every one opens (rotation).
    pub keys: Vec<Secret<[u8; 32]>>,
    /// Whether `keys` is a key generated at start-up (sessions do not survive a restart).
    pub ephemeral_key: bool,
    /// Base cookie name (`__Host-fedrp`); chunks append `.1`, `.2`, ...
    pub cookie_name: String,
    /// Sliding (idle) lifetime.
    pub idle_timeout: Duration,
    /// Absolute lifetime from sign-in.
    pub absolute_timeout: Duration,
    /// Most cookie chunks one session may use.
    pub max_chunks: usize,
    /// Most sessions the memory store holds (server mode, revocations, hand-offs).
    pub store_capacity: usize,
}

/// `[limits]`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sign-in POST body cap (bytes).
    pub max_body_bytes: usize,
    /// Token cap after base64 decoding (bytes).
    pub max_token_bytes: usize,
    /// Allowed clock skew.
    pub clock_skew: Duration,
    /// Maximum token age (IssueInstant); `None`: no limit.
    pub max_token_age: Option<Duration>,
    /// Lifetime of a sign-in state (`wctx` / RelayState) and its correlation cookie.
    pub state_ttl: Duration,
    /// Replay cache capacity (entries).
    pub replay_cache_capacity: usize,
    /// Most claims kept in a session.
    pub max_claims: usize,
    /// Token validations running at once (the rest wait); bounds the blocking pool.
    pub max_concurrent_validations: usize,
}

/// `[redirect]`.
#[derive(Debug, Clone)]
pub struct RedirectConfig {
    /// Exact origins (`https://app.example.com`) return URLs may point to, besides our own.
    pub allowed_origins: Vec<String>,
}

/// A test user of the development IdP.
#[derive(Debug, Clone)]
pub struct DevUser {
    /// `DOMAIN\user` (the windowsaccountname claim).
    pub login: String,
    /// UPN.
    pub upn: String,
    /// Display name.
    pub display_name: String,
    /// E-mail.
    pub email: String,
    /// Role / group claims.
    pub groups: Vec<String>,
}

/// `[dev_idp]` (only present when enabled).
#[derive(Debug)]
pub struct DevIdpConfig {
    /// Issuer entity ID.
    pub entity_id: String,
    /// Signing key.
    pub key: Secret<PKey<Private>>,
    /// Signing certificate.
    pub cert: X509,
    /// Whether the key was generated at start-up because `certs/dev-idp.key` is missing.
    pub ephemeral: bool,
    /// Path prefix the IdP pages are served under (`/_dev/idp`).
    pub path: String,
    /// Own listen address for `fedrp dev-idp`.
    pub listen: String,
    /// Default SAML version of issued tokens.
    pub saml20_default: bool,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
    /// Test users.
    pub users: Vec<DevUser>,
}

/// Protocol an issuer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// WS-Federation passive (`wsignin1.0`).
    WsFed,
    /// SAML 2.0 Web SSO (AuthnRequest over HTTP-Redirect, Response over HTTP-POST).
    Saml2,
}

impl Protocol {
    /// Config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::WsFed => "wsfed",
            Protocol::Saml2 => "saml2",
        }
    }
}

/// `[[issuers]]`.
#[derive(Debug)]
pub struct IssuerConfig {
    /// Short name (`whr` value, picker, metrics).
    pub name: String,
    /// Shown in the issuer picker.
    pub display_name: String,
    /// Entity ID; the token's Issuer must equal it.
    pub entity_id: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Sign-in URL: absolute, or a path on this server (co-hosted development IdP).
    pub signin_url: String,
    /// Sign-out URL (defaults to the sign-in URL).
    pub signout_url: Option<String>,
    /// Verification keys, parsed once.
    pub keys: Vec<TrustedKey>,
    /// Thumbprint pins.
    pub thumbprints: Vec<Thumbprint>,
    /// Verification policy.
    pub policy: IssuerPolicy,
    /// Accept unsolicited (IdP-initiated) sign-ins.
    pub allow_unsolicited: bool,
    /// Claim mapping.
    pub claims: crate::claims::ClaimMapping,
    /// Where the keys came from.
    pub trust_sources: Vec<String>,
    /// Trusts the built-in development IdP.
    pub dev_idp: bool,
    /// Federation metadata the keys are taken from and refreshed from, if any.
    pub metadata: Option<MetadataConfig>,
    /// Warn this long before a trusted key's certificate expires.
    pub key_expiry_warning: Duration,
    /// Sign the SAML AuthnRequests sent to this issuer (with `[sp_signing]`).
    pub sign_authn_requests: bool,
}

/// An issuer's federation metadata: where it comes from and how it is refreshed
/// (`metadata_*` keys). With a URL, `file` is the last-known-good backing file (read when the
/// URL cannot be fetched, rewritten after every good fetch); without one, `file` is the source
/// itself, re-read at every refresh.
#[derive(Debug, Clone)]
pub struct MetadataConfig {
    /// `metadata_url`: https (http only with `allow_http`).
    pub url: Option<Url>,
    /// `metadata_file`.
    pub file: Option<PathBuf>,
    /// `metadata_allow_http`.
    pub allow_http: bool,
    /// `metadata_ca_file`: extra trusted CA certificates (PEM) for the HTTPS fetch.
    pub ca_file: Option<PathBuf>,
    /// `metadata_signing_certs`: when non-empty, the document must be signed by one of these.
    pub signing_keys: Vec<TrustedKey>,
    /// `metadata_refresh_secs`: the refresh interval without `cacheDuration`, and its ceiling.
    pub refresh: std::time::Duration,
    /// `metadata_min_refresh_secs`: the floor of the interval, the first retry delay after a
    /// failure, and the on-demand rate limit (one refresh per issuer per this period).
    pub min_refresh: std::time::Duration,
    /// `metadata_timeout_secs`: one fetch, connect to last byte.
    pub timeout: std::time::Duration,
    /// `metadata_max_bytes`: the largest document accepted.
    pub max_bytes: usize,
}

/// Cookie and framing profile of a realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A normal top-level site: `SameSite=Lax`, framing forbidden unless allow-listed.
    TopLevel,
    /// Pages shown in an iframe (SharePoint add-ins): `SameSite=None; Secure; Partitioned`.
    Iframe,
}

/// `[[realms]]`.
#[derive(Debug)]
pub struct RealmConfig {
    /// Short name.
    pub name: String,
    /// The realm URI (`wtrealm`, audience, RP entity ID).
    pub realm: String,
    /// Every accepted audience (the realm first).
    pub audiences: Vec<String>,
    /// Path prefixes whose protected pages belong to this realm (longest match wins).
    pub path_prefixes: Vec<String>,
    /// Indices into [`Config::issuers`] trusted for this realm.
    pub issuers: Vec<usize>,
    /// The issuer used without `whr` (otherwise a picker when there are several).
    pub default_issuer: Option<usize>,
    /// Cookie / framing profile.
    pub profile: Profile,
    /// Origins allowed to frame pages of this realm.
    pub frame_ancestors: Vec<String>,
    /// Where sign-in lands without an allowed return URL.
    pub landing_path: String,
    /// This realm's session cookie name.
    pub cookie_name: String,
    /// Whether a top-level realm also sets the sign-out handle cookie, so that an IdP on
    /// another site can end the session with `wsignoutcleanup1.0`.
    pub cross_site_signout: bool,
}

impl Config {
    /// Loads `path` (or the built-in development setup), applies `env` overrides
    /// (`FEDRP__...`), and validates.
    pub fn load(path: Option<&Path>, env: &[(String, String)]) -> Result<Config, ConfigErrors> {
        let (text, base, source) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    ConfigErrors::one(
                        "",
                        format!("cannot read {}: {e}", p.display()),
                        "check the --config path",
                    )
                })?;
                let base = p.parent().map(Path::to_path_buf).unwrap_or_default();
                (text, base, Some(p.to_path_buf()))
            }
            None => (DEV_CONFIG.to_owned(), PathBuf::from("."), None),
        };
        Config::from_toml(&text, &base, source, env)
    }

    /// As [`Config::load`] from TOML text; `base` resolves relative paths.
    pub fn from_toml(
        text: &str,
        base: &Path,
        source: Option<PathBuf>,
        env: &[(String, String)],
    ) -> Result<Config, ConfigErrors> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            ConfigErrors::one("", e.message().to_owned(), line_hint(text, e.span()))
        })?;
        apply_env(&mut table, env)?;
        let raw: RawConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let path = e.path().to_string();
                let path = if path == "." { String::new() } else { path };
                let message = e.inner().message().to_owned();
                let hint = error::hint_for(&message);
                ConfigErrors(vec![ConfigError {
                    path,
                    message,
                    hint,
                }])
            })?;
        Config::from_raw(raw, base, source)
    }

    /// Environment overrides from the process environment.
    pub fn env_overrides() -> Vec<(String, String)> {
        std::env::vars()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect()
    }

    fn from_raw(
        raw: RawConfig,
        base: &Path,
        source: Option<PathBuf>,
    ) -> Result<Config, ConfigErrors> {
        let mut v = Validate {
            errors: Vec::new(),
            warnings: Vec::new(),
            base: base.to_path_buf(),
        };
        let server = v.server(&raw.server);
        let session = v.session(&raw.session);
        let limits = v.limits(&raw.limits);
        let redirect = v.redirect(&raw.redirect);
        let dev_idp = v.dev_idp(&raw.dev_idp);
        let store = v.store(raw.store.as_deref(), raw.redis.as_ref());
        let issuers: Vec<IssuerConfig> = raw
            .issuers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| v.issuer(i, r, dev_idp.as_ref()))
            .collect();
        if raw.issuers.is_empty() {
            v.err(
                "issuers",
                "no [[issuers]] is configured",
                "add at least one trusted issuer (see config.example.toml)",
            );
        }
        let sp_signing = raw.sp_signing.as_ref().and_then(|r| v.sp_signing(r));
        for (i, r) in raw.issuers.iter().enumerate() {
            if r.sign_authn_requests != Some(true) {
                continue;
            }
            if sp_signing.is_none() && raw.sp_signing.is_none() {
                v.err(
                    format!("issuers[{i}].sign_authn_requests"),
                    "no [sp_signing] key is configured",
                    "add [sp_signing] key_file and cert_file, or set sign_authn_requests = false",
                );
            }
            if r.protocol.as_deref().unwrap_or("wsfed") != "saml2" {
                v.err(
                    format!("issuers[{i}].sign_authn_requests"),
                    "only SAML 2.0 issuers (protocol = \"saml2\") get AuthnRequests",
                    "remove it from this WS-Fed issuer",
                );
            }
        }
        let mut names = std::collections::HashSet::new();
        for i in &issuers {
            if !names.insert(i.name.clone()) {
                v.err(
                    "issuers.name",
                    format!("issuer name {:?} is used twice", i.name),
                    "issuer names must be unique",
                );
            }
        }
        let realms: Vec<RealmConfig> = if raw.realms.is_empty() {
            v.err(
                "realms",
                "no [[realms]] is configured",
                "add at least one realm (see config.example.toml)",
            );
            Vec::new()
        } else {
            raw.realms
                .iter()
                .enumerate()
                .filter_map(|(i, r)| v.realm(i, r, &issuers, &session.cookie_name))
                .collect()
        };
        let mut rnames = std::collections::HashSet::new();
        for r in &realms {
            if !rnames.insert(r.name.clone()) {
                v.err(
                    "realms.name",
                    format!("realm name {:?} is used twice", r.name),
                    "realm names must be unique",
                );
            }
        }
        if let (Some(d), Some(p)) = (&dev_idp, &server.public_url)
            && p.scheme() == "https"
            && d.ephemeral
        {
            v.warnings
                .push("the development IdP uses an ephemeral key on an HTTPS deployment".into());
        }
        if session.ephemeral_key {
            v.warnings.push(
                "session.ephemeral_key: sessions are sealed with a key generated at start-up; they end on restart \
                 and cannot be shared between nodes"
                    .into(),
            );
        }
        if !v.errors.is_empty() {
            return Err(ConfigErrors(v.errors));
        }
        Ok(Config {
            source,
            server,
            session,
            limits,
            redirect,
            dev_idp,
            issuers,
            realms,
            store,
            sp_signing,
            warnings: v.warnings,
        })
    }

    /// Whether this is the built-in development setup.
    pub fn is_builtin_dev(&self) -> bool {
        self.source.is_none()
    }

    /// An issuer by short name.
    pub fn issuer_index(&self, name: &str) -> Option<usize> {
        self.issuers.iter().position(|i| i.name == name)
    }
}

fn line_hint(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(s) => {
            let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
            format!("TOML syntax error at line {line}")
        }
        None => "TOML syntax error".into(),
    }
}

/// Applies `FEDRP__A__B__C=value` overrides: the value is read as a TOML value when it parses
/// as one (numbers, booleans, arrays), else as a string. Numeric segments index arrays of
/// tables (`FEDRP__ISSUERS__0__NAME`).
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigErrors> {
    for (key, value) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let segments: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        if segments.iter().any(String::is_empty) {
            return Err(ConfigErrors::one(
                key,
                "empty key segment",
                "write overrides as FEDRP__SECTION__KEY (double underscores between segments)",
            ));
        }
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        let mut root = toml::Value::Table(std::mem::take(table));
        let ok = set_path(&mut root, &segments, parsed);
        if let toml::Value::Table(t) = root {
            *table = t;
        }
        if !ok {
            return Err(ConfigErrors::one(
                key,
                format!("cannot apply the override to {}", segments.join(".")),
                "array indices must exist or be the next free index, and only tables have keys",
            ));
        }
    }
    Ok(())
}

fn set_path(cur: &mut toml::Value, segments: &[String], value: toml::Value) -> bool {
    let Some((seg, rest)) = segments.split_first() else {
        *cur = value;
        return true;
    };
    match cur {
        toml::Value::Table(t) => {
            let want_array = rest.first().is_some_and(|s| s.parse::<usize>().is_ok());
            let entry = t.entry(seg.clone()).or_insert_with(|| {
                if want_array {
                    toml::Value::Array(Vec::new())
                } else {
                    toml::Value::Table(toml::Table::new())
                }
            });
            set_path(entry, rest, value)
        }
        toml::Value::Array(a) => match seg.parse::<usize>() {
            Ok(idx) if idx <= a.len() => {
                if idx == a.len() {
                    a.push(toml::Value::Table(toml::Table::new()));
                }
                set_path(&mut a[idx], rest, value)
            }
            _ => false,
        },
        _ => false,
    }
}

struct Validate {
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
    base: PathBuf,
}

fn parse_key_b64(s: &str) -> Option<[u8; 32]> {
    let t = s.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        })
        .ok()?;
    bytes.try_into().ok()
}

/// The sample key printed in `config.example.toml`; refused so that nobody deploys it.
const EXAMPLE_KEY: &str = "ZXhhbXBsZS1rZXktZG8tbm90LXVzZS1pbi1wcm9kdWN0aW9u";

impl Validate {
    fn err(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.errors.push(ConfigError {
            path: path.into(),
            message: message.into(),
            hint: Some(hint.into()),
        });
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    fn secs(&mut self, key: &str, v: Option<u64>, default: u64, min: u64) -> Duration {
        let s = v.unwrap_or(default);
        if s < min || s > 10 * 365 * 86_400 {
            self.err(
                key,
                format!("{s} is out of range"),
                format!("use a value between {min} and 315360000 seconds"),
            );
        }
        Duration::seconds(s.min(10 * 365 * 86_400) as i64)
    }

    fn server(&mut self, r: &raw::RawServer) -> ServerConfig {
        let listen = r.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            self.err(
                "server.listen",
                format!("{listen:?} is not a socket address"),
                "write HOST:PORT, e.g. 127.0.0.1:8080",
            );
        }
        let public_url = r.public_url.as_deref().and_then(|u| match Url::parse(u) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/" =>
            {
                Some(url)
            }
            Ok(_) => {
                self.err(
                    "server.public_url",
                    format!("{u:?} must be an http(s) origin without a path"),
                    "e.g. https://rp.example.com",
                );
                None
            }
            Err(e) => {
                self.err(
                    "server.public_url",
                    format!("{u:?}: {e}"),
                    "e.g. https://rp.example.com",
                );
                None
            }
        });
        if public_url.is_none() && r.public_url.is_none() {
            let loopback = listen
                .parse::<std::net::SocketAddr>()
                .map(|a| a.ip().is_loopback())
                .unwrap_or(true);
            if !loopback {
                self.err(
                    "server.public_url",
                    "required when listening on a non-loopback address",
                    "set the URL browsers use to reach fedrp, e.g. https://rp.example.com",
                );
            }
        }
        let tls = match (&r.tls_cert_file, &r.tls_key_file) {
            (Some(c), Some(k)) => {
                let (c, k) = (self.path(c), self.path(k));
                for (key, p) in [("server.tls_cert_file", &c), ("server.tls_key_file", &k)] {
                    if !p.exists() {
                        self.err(
                            key,
                            format!("{} does not exist", p.display()),
                            "paths are relative to the config file",
                        );
                    }
                }
                Some((c, k))
            }
            (None, None) => None,
            _ => {
                self.err(
                    "server.tls_cert_file",
                    "set both tls_cert_file and tls_key_file",
                    "or neither",
                );
                None
            }
        };
        let log_format = match r.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                self.err(
                    "server.log_format",
                    format!("unknown format {other:?}"),
                    "use \"text\" or \"json\"",
                );
                LogFormat::Text
            }
        };
        if r.expose_reason_header == Some(true) {
            self.warnings
                .push("server.expose_reason_header: rejection codes are sent to browsers".into());
        }
        ServerConfig {
            listen,
            public_url,
            workers: r.workers.unwrap_or(0),
            tls,
            hsts: r.hsts.unwrap_or(true),
            expose_reason_header: r.expose_reason_header.unwrap_or(false),
            log_format,
        }
    }

    fn session(&mut self, r: &raw::RawSession) -> SessionConfig {
        let mode = match r.mode.as_deref().unwrap_or("cookie") {
            "cookie" => SessionMode::Cookie,
            "server" => SessionMode::Server,
            other => {
                self.err(
                    "session.mode",
                    format!("unknown mode {other:?}"),
                    "use \"cookie\" or \"server\"",
                );
                SessionMode::Cookie
            }
        };
        let mut keys = Vec::new();
        for (i, k) in r.keys.iter().flatten().enumerate() {
            let key = format!("session.keys[{i}]");
            if k.trim() == EXAMPLE_KEY {
                self.err(
                    key,
                    "this is the sample key from config.example.toml",
                    "generate one: openssl rand -base64 32",
                );
                continue;
            }
            match parse_key_b64(k) {
                Some(b) => keys.push(Secret(b)),
                None => self.err(
                    key,
                    "not a base64 32-byte key",
                    "generate one: openssl rand -base64 32",
                ),
            }
        }
        for (i, f) in r.key_files.iter().flatten().enumerate() {
            let key = format!("session.key_files[{i}]");
            let p = self.path(f);
            match std::fs::read(&p) {
                Ok(bytes) => {
                    let parsed = std::str::from_utf8(&bytes)
                        .ok()
                        .and_then(parse_key_b64)
                        .or_else(|| {
                            let raw: Result<[u8; 32], _> = bytes.as_slice().try_into();
                            raw.ok()
                        });
                    match parsed {
                        Some(b) => keys.push(Secret(b)),
                        None => self.err(
                            key,
                            format!("{}: not a 32-byte key (raw, or base64 text)", p.display()),
                            "generate one: openssl rand -base64 32 > session.key",
                        ),
                    }
                }
                Err(e) => self.err(
                    key,
                    format!("{}: {e}", p.display()),
                    "paths are relative to the config file",
                ),
            }
        }
        let ephemeral_allowed = r.ephemeral_key.unwrap_or(false);
        let mut ephemeral = false;
        if keys.is_empty() {
            if ephemeral_allowed {
                let mut b = [0u8; 32];
                if openssl::rand::rand_bytes(&mut b).is_err() {
                    self.err(
                        "session.ephemeral_key",
                        "the random generator failed",
                        "check OpenSSL",
                    );
                }
                keys.push(Secret(b));
                ephemeral = true;
            } else {
                self.err(
                    "session.key_files",
                    "no session key is configured",
                    "generate one with `openssl rand -base64 32 > session.key` and list it in session.key_files",
                );
            }
        }
        let cookie_name = r
            .cookie_name
            .clone()
            .unwrap_or_else(|| "__Host-fedrp".into());
        if cookie_name.is_empty()
            || !cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            self.err(
                "session.cookie_name",
                format!("{cookie_name:?} is not a valid cookie name"),
                "use letters, digits, - and _",
            );
        } else if !cookie_name.starts_with("__Host-") {
            self.warnings.push(format!(
                "session.cookie_name {cookie_name:?} has no __Host- prefix: a sibling subdomain can plant it"
            ));
        }
        let idle_timeout = self.secs("session.idle_timeout_secs", r.idle_timeout_secs, 3600, 60);
        let absolute_timeout = self.secs(
            "session.absolute_timeout_secs",
            r.absolute_timeout_secs,
            8 * 3600,
            60,
        );
        if idle_timeout > absolute_timeout {
            self.err(
                "session.idle_timeout_secs",
                "is longer than session.absolute_timeout_secs",
                "the idle lifetime must not exceed the absolute one",
            );
        }
        let max_chunks = r.max_chunks.unwrap_or(8);
        if !(1..=32).contains(&max_chunks) {
            self.err(
                "session.max_chunks",
                format!("{max_chunks} is out of range"),
                "use 1 to 32 (browsers keep ~50 cookies per host)",
            );
        }
        SessionConfig {
            mode,
            keys,
            ephemeral_key: ephemeral,
            cookie_name,
            idle_timeout,
            absolute_timeout,
            max_chunks: max_chunks.clamp(1, 32),
            store_capacity: r.store_capacity.unwrap_or(100_000).max(16),
        }
    }

    fn limits(&mut self, r: &raw::RawLimits) -> Limits {
        let max_body_bytes = r.max_body_bytes.unwrap_or(256 * 1024);
        if !(1024..=16 << 20).contains(&max_body_bytes) {
            self.err(
                "limits.max_body_bytes",
                format!("{max_body_bytes} is out of range"),
                "use 1024 to 16777216 (default 262144)",
            );
        }
        let max_token_bytes = r.max_token_bytes.unwrap_or(max_body_bytes);
        if !(1024..=16 << 20).contains(&max_token_bytes) {
            self.err(
                "limits.max_token_bytes",
                format!("{max_token_bytes} is out of range"),
                "use 1024 to 16777216",
            );
        }
        let clock_skew = self.secs("limits.clock_skew_secs", r.clock_skew_secs, 300, 0);
        let max_token_age = match r.max_token_age_secs {
            Some(0) => None,
            other => Some(self.secs("limits.max_token_age_secs", other, 86_400, 1)),
        };
        Limits {
            max_body_bytes,
            max_token_bytes,
            clock_skew,
            max_token_age,
            state_ttl: self.secs("limits.state_ttl_secs", r.state_ttl_secs, 900, 30),
            replay_cache_capacity: r.replay_cache_capacity.unwrap_or(1_000_000).max(1024),
            max_claims: r.max_claims.unwrap_or(500).max(1),
            max_concurrent_validations: r
                .max_concurrent_validations
                .unwrap_or_else(|| {
                    2 * std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(2)
                })
                .clamp(1, 1024),
        }
    }

    fn redirect(&mut self, r: &raw::RawRedirect) -> RedirectConfig {
        let mut allowed_origins = Vec::new();
        for (i, o) in r.allowed_origins.iter().flatten().enumerate() {
            match origin_of(o) {
                Ok(origin) => allowed_origins.push(origin),
                Err(m) => self.err(
                    format!("redirect.allowed_origins[{i}]"),
                    m,
                    "write an exact origin: https://app.example.com",
                ),
            }
        }
        RedirectConfig { allowed_origins }
    }

    fn sp_signing(&mut self, r: &raw::RawSpSigning) -> Option<SpSigning> {
        let (Some(k), Some(c)) = (&r.key_file, &r.cert_file) else {
            self.err(
                "sp_signing.key_file",
                "set both key_file and cert_file",
                "PEM files, relative to the config file",
            );
            return None;
        };
        let (kp, cp) = (self.path(k), self.path(c));
        let key = std::fs::read(&kp)
            .map_err(|e| format!("{}: {e}", kp.display()))
            .and_then(|b| {
                PKey::private_key_from_pem(&b).map_err(|e| format!("{}: {e}", kp.display()))
            });
        let cert = std::fs::read(&cp)
            .map_err(|e| format!("{}: {e}", cp.display()))
            .and_then(|b| X509::from_pem(&b).map_err(|e| format!("{}: {e}", cp.display())));
        let (key, cert) = match (key, cert) {
            (Ok(k), Ok(c)) => (k, c),
            (Err(e), _) => {
                self.err("sp_signing.key_file", e, "a PEM private key (RSA or EC)");
                return None;
            }
            (_, Err(e)) => {
                self.err("sp_signing.cert_file", e, "a PEM certificate");
                return None;
            }
        };
        let matches = cert.public_key().is_ok_and(|p| p.public_eq(&key));
        if !matches {
            self.err(
                "sp_signing.cert_file",
                "the certificate is not the key's",
                "use the certificate issued for sp_signing.key_file",
            );
            return None;
        }
        let usable = match key.id() {
            openssl::pkey::Id::RSA => key.bits() >= 2048,
            openssl::pkey::Id::EC => true,
            _ => false,
        };
        if !usable {
            self.err(
                "sp_signing.key_file",
                format!("a {:?} key of {} bits", key.id(), key.bits()),
                "use RSA of 2048 bits or more, or EC (P-256/P-384)",
            );
            return None;
        }
        Some(SpSigning {
            key: Secret(key),
            cert,
        })
    }

    fn dev_idp(&mut self, r: &RawDevIdp) -> Option<DevIdpConfig> {
        if !r.enabled.unwrap_or(false) {
            return None;
        }
        let explicit = r.key_file.is_some() || r.cert_file.is_some();
        let key_path = self.path(r.key_file.as_deref().unwrap_or("certs/dev-idp.key"));
        let cert_path = self.path(r.cert_file.as_deref().unwrap_or("certs/dev-idp.pem"));
        let loaded = std::fs::read(&key_path)
            .ok()
            .zip(std::fs::read(&cert_path).ok());
        let (key, cert, ephemeral) = match loaded {
            Some((k, c)) => match (PKey::private_key_from_pem(&k), X509::from_pem(&c)) {
                (Ok(k), Ok(c)) => (k, c, false),
                _ => {
                    self.err(
                        "dev_idp.key_file",
                        "cannot read the dev IdP key or certificate (PEM)",
                        "see certs/README.md",
                    );
                    return None;
                }
            },
            None if explicit => {
                self.err(
                    "dev_idp.key_file",
                    format!(
                        "{} or {} is missing",
                        key_path.display(),
                        cert_path.display()
                    ),
                    "paths are relative to the config file",
                );
                return None;
            }
            None => match ephemeral_cert("fedrp-dev-idp (ephemeral)") {
                Ok((k, c)) => {
                    self.warnings.push(format!(
                        "dev_idp: {} not found; using an ephemeral signing key",
                        key_path.display()
                    ));
                    (k, c, true)
                }
                Err(e) => {
                    self.err(
                        "dev_idp",
                        format!("cannot generate an ephemeral key: {e}"),
                        "check OpenSSL",
                    );
                    return None;
                }
            },
        };
        let path = r.path.clone().unwrap_or_else(|| "/_dev/idp".into());
        if !path.starts_with('/') || path.ends_with('/') || path.len() < 2 {
            self.err(
                "dev_idp.path",
                format!("{path:?} must start with / and not end with /"),
                "e.g. /_dev/idp",
            );
        }
        let listen = r.listen.clone().unwrap_or_else(|| "127.0.0.1:8081".into());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            self.err(
                "dev_idp.listen",
                format!("{listen:?} is not a socket address"),
                "write HOST:PORT",
            );
        }
        let saml20_default = match r.saml_version.as_deref().unwrap_or("1.1") {
            "1.1" => false,
            "2.0" => true,
            other => {
                self.err(
                    "dev_idp.saml_version",
                    format!("unknown version {other:?}"),
                    "use \"1.1\" or \"2.0\"",
                );
                false
            }
        };
        let mut users = Vec::new();
        for (i, u) in r.user.iter().flatten().enumerate() {
            let Some(login) = u.login.clone().filter(|l| !l.is_empty()) else {
                self.err(
                    format!("dev_idp.user[{i}].login"),
                    "missing",
                    "e.g. login = 'DENALLIX\\bob'",
                );
                continue;
            };
            let short = login
                .rsplit('\\')
                .next()
                .unwrap_or(&login)
                .to_ascii_lowercase();
            users.push(DevUser {
                upn: u
                    .upn
                    .clone()
                    .unwrap_or_else(|| format!("{short}@example.test")),
                display_name: u.display_name.clone().unwrap_or_else(|| short.clone()),
                email: u
                    .email
                    .clone()
                    .unwrap_or_else(|| format!("{short}@example.test")),
                groups: u.groups.clone().unwrap_or_default(),
                login,
            });
        }
        if users.is_empty() {
            users.push(DevUser {
                login: "DENALLIX\\bob".into(),
                upn: "bob@denallix.com".into(),
                display_name: "Bob Smith".into(),
                email: "bob@denallix.com".into(),
                groups: vec!["Sales".into(), "Everyone".into()],
            });
        }
        Some(DevIdpConfig {
            entity_id: r
                .entity_id
                .clone()
                .unwrap_or_else(|| "urn:fedrp:dev-idp".into()),
            key: Secret(key),
            cert,
            ephemeral,
            path,
            listen,
            saml20_default,
            token_lifetime: self.secs(
                "dev_idp.token_lifetime_secs",
                r.token_lifetime_secs,
                3600,
                60,
            ),
            users,
        })
    }

    fn issuer(
        &mut self,
        i: usize,
        r: &RawIssuer,
        dev: Option<&DevIdpConfig>,
    ) -> Option<IssuerConfig> {
        let at = |k: &str| format!("issuers[{i}].{k}");
        let Some(name) = r.name.clone().filter(|n| valid_name(n)) else {
            self.err(
                at("name"),
                "missing or invalid",
                "a short name of letters, digits, - and _ (used in whr and metrics)",
            );
            return None;
        };
        let use_dev = r.use_dev_idp.unwrap_or(false);
        let mut keys = Vec::new();
        let mut sources = Vec::new();
        let mut md_names: Vec<String> = Vec::new();
        if use_dev {
            match dev {
                Some(d) => match TrustedKey::from_cert(&d.cert, "dev_idp") {
                    Ok(k) => {
                        keys.push(k);
                        sources.push("dev_idp".to_owned());
                    }
                    Err(e) => self.err(at("use_dev_idp"), e, "see certs/README.md"),
                },
                None => {
                    self.err(
                        at("use_dev_idp"),
                        "the development IdP is not enabled",
                        "set [dev_idp] enabled = true",
                    );
                    return None;
                }
            }
        }
        for (j, f) in r.trust_files.iter().flatten().enumerate() {
            let p = self.path(f);
            match load_trust_file(&p) {
                Ok((k, n)) => {
                    keys.extend(k);
                    md_names.extend(n);
                    sources.push(p.display().to_string());
                }
                Err(e) => self.err(format!("issuers[{i}].trust_files[{j}]"), e, "a PEM certificate, DER certificate or metadata file; paths are relative to the config file"),
            }
        }
        let metadata = self.metadata(i, r, &name, &mut md_names);
        let mut thumbprints = Vec::new();
        for (j, t) in r.thumbprints.iter().flatten().enumerate() {
            match Thumbprint::parse(t) {
                Ok(tp) => thumbprints.push(tp),
                Err(e) => self.err(
                    format!("issuers[{i}].thumbprints[{j}]"),
                    e,
                    "write sha256:HEX (or sha1:HEX for legacy IdPs)",
                ),
            }
        }
        if keys.is_empty() && thumbprints.is_empty() && metadata.is_none() {
            self.err(
                at("trust_files"),
                "the issuer has no signing key",
                "give its metadata_url (or metadata_file), or list its certificate in trust_files",
            );
        }
        md_names.sort();
        md_names.dedup();
        let entity_id = match (&r.entity_id, use_dev, md_names.as_slice()) {
            (Some(e), _, _) => e.clone(),
            (None, true, _) => dev.map(|d| d.entity_id.clone()).unwrap_or_default(),
            (None, false, [one]) => one.clone(),
            _ => {
                self.err(
                    at("entity_id"),
                    "missing",
                    "the issuer's entity ID, exactly as its tokens' Issuer",
                );
                String::new()
            }
        };
        let protocol = match r.protocol.as_deref().unwrap_or("wsfed") {
            "wsfed" => Protocol::WsFed,
            "saml2" => Protocol::Saml2,
            other => {
                self.err(
                    at("protocol"),
                    format!("unknown protocol {other:?}"),
                    "use \"wsfed\" or \"saml2\"",
                );
                Protocol::WsFed
            }
        };
        let signin_url = match (&r.signin_url, use_dev) {
            (Some(u), _) => u.clone(),
            (None, true) => dev.map(|d| format!("{}/wsfed", d.path)).unwrap_or_default(),
            (None, false) => {
                self.err(
                    at("signin_url"),
                    "missing",
                    "the IdP's sign-in URL, e.g. https://adfs.example.com/adfs/ls/",
                );
                String::new()
            }
        };
        for (key, u) in [
            ("signin_url", Some(&signin_url)),
            ("signout_url", r.signout_url.as_ref()),
        ] {
            if let Some(u) = u
                && !u.is_empty()
                && !valid_target(u)
            {
                self.err(
                    at(key),
                    format!("{u:?} is not an http(s) URL or a /path"),
                    "e.g. https://adfs.example.com/adfs/ls/",
                );
            }
        }
        let min_rsa_bits = r.min_rsa_bits.unwrap_or(2048);
        if min_rsa_bits < 1024 {
            self.err(
                at("min_rsa_bits"),
                format!("{min_rsa_bits} is below 1024"),
                "1024 is the lowest floor fedrp accepts",
            );
        }
        let engine = match r.engine.as_deref().map(Engine::parse).transpose() {
            Ok(e) => e.unwrap_or_default(),
            Err(e) => {
                self.err(at("engine"), e, "use \"xmlsec\" or \"streaming\"");
                Engine::default()
            }
        };
        let policy = IssuerPolicy {
            allow_sha1: r.allow_sha1.unwrap_or(false),
            min_rsa_bits,
            check_cert_validity: r.check_cert_validity.unwrap_or(true),
            engine,
            require_signed_assertion: r.require_signed_assertion.unwrap_or(false),
            require_authn_statement: r.require_authn_statement.unwrap_or(true),
            require_subject_confirmation: r.require_subject_confirmation.unwrap_or(true),
            ..Default::default()
        };
        for k in &keys {
            if k.is_weak(policy.min_rsa_bits) {
                self.err(
                    at("trust_files"),
                    format!("{} key from {} is under the {}-bit floor", k.describe(), k.source, policy.min_rsa_bits),
                    "replace the IdP key; only for a legacy IdP you cannot fix, lower issuer.min_rsa_bits",
                );
            }
        }
        if policy.allow_sha1 {
            self.warnings.push(format!(
                "issuer {name}: allow_sha1 = true accepts SHA-1 signatures"
            ));
        }
        if policy.min_rsa_bits < 2048 {
            self.warnings.push(format!(
                "issuer {name}: min_rsa_bits = {} accepts weak RSA keys",
                policy.min_rsa_bits
            ));
        }
        let now = chrono::Utc::now();
        let warn_days = r.key_expiry_warning_days.unwrap_or(30);
        if warn_days > 3650 {
            self.err(
                at("key_expiry_warning_days"),
                format!("{warn_days} is out of range"),
                "use 0 to 3650 days (default 30)",
            );
        }
        let key_expiry_warning = Duration::days(warn_days.min(3650) as i64);
        for k in &keys {
            if let Some(c) = &k.cert {
                if c.not_after < now {
                    self.warnings.push(format!(
                        "issuer {name}: certificate {} expired on {}",
                        c.subject, c.not_after
                    ));
                } else if c.not_after < now + key_expiry_warning {
                    self.warnings.push(format!(
                        "issuer {name}: certificate {} expires on {}",
                        c.subject, c.not_after
                    ));
                }
            }
        }
        if use_dev {
            self.warnings.push(format!(
                "issuer {name} trusts the development IdP: never do this in production"
            ));
        }
        let table = match &r.claims {
            Some(c) => c.clone(),
            None => match default_claims_table() {
                Ok(t) => t,
                Err(e) => {
                    self.err(at("claims"), e, "report this as a bug");
                    return None;
                }
            },
        };
        let claims = match table.into_mapping_at(&at("claims")) {
            Ok(m) => m,
            Err(e) => {
                // "path: message; hint: ..." from config::claims.
                let (path, rest) = e.split_once(": ").unwrap_or(("", e.as_str()));
                let (message, hint) = rest
                    .split_once("; hint: ")
                    .unwrap_or((rest, "see docs/claims-mapping.md"));
                let path = if path.starts_with(&at("claims")) {
                    path.to_owned()
                } else {
                    at("claims")
                };
                self.err(path, message, hint);
                return None;
            }
        };
        Some(IssuerConfig {
            display_name: r.display_name.clone().unwrap_or_else(|| name.clone()),
            name,
            entity_id,
            protocol,
            signin_url,
            signout_url: r.signout_url.clone(),
            keys,
            thumbprints,
            policy,
            allow_unsolicited: r.allow_unsolicited.unwrap_or(false),
            claims,
            trust_sources: sources,
            dev_idp: use_dev,
            metadata,
            key_expiry_warning,
            sign_authn_requests: r.sign_authn_requests.unwrap_or(false),
        })
    }

    /// The `metadata_*` keys of issuer `i`. Entity IDs named by a readable `metadata_file` are
    /// added to `names` (they can supply `entity_id`). The document is only parsed here; whether
    /// it is acceptable (signature, `validUntil`, keys) is decided when trust is loaded.
    fn metadata(
        &mut self,
        i: usize,
        r: &RawIssuer,
        name: &str,
        names: &mut Vec<String>,
    ) -> Option<MetadataConfig> {
        let at = |k: &str| format!("issuers[{i}].{k}");
        let url = match r.metadata_url.as_deref() {
            None => None,
            Some(u) => match Url::parse(u) {
                Ok(url) if url.scheme() == "https" && url.host().is_some() => Some(url),
                Ok(url) if url.scheme() == "http" && url.host().is_some() => {
                    if r.metadata_allow_http == Some(true) {
                        self.warnings.push(format!(
                            "issuer {name}: metadata_url is plain http: anyone on the network path can replace this issuer's signing keys"
                        ));
                        Some(url)
                    } else {
                        self.err(
                            at("metadata_url"),
                            format!("{u:?} is plain http"),
                            "use https; only for a lab IdP set metadata_allow_http = true",
                        );
                        None
                    }
                }
                Ok(_) => {
                    self.err(
                        at("metadata_url"),
                        format!("{u:?} is not an https URL"),
                        "e.g. https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml",
                    );
                    None
                }
                Err(e) => {
                    self.err(
                        at("metadata_url"),
                        format!("{u:?}: {e}"),
                        "e.g. https://adfs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml",
                    );
                    None
                }
            },
        };
        let file = r.metadata_file.as_deref().map(|f| self.path(f));
        let tuned = r.metadata_allow_http.is_some()
            || r.metadata_ca_file.is_some()
            || r.metadata_signing_certs.is_some()
            || r.metadata_refresh_secs.is_some()
            || r.metadata_min_refresh_secs.is_some()
            || r.metadata_timeout_secs.is_some()
            || r.metadata_max_bytes.is_some();
        if r.metadata_url.is_none() && file.is_none() {
            if tuned {
                self.err(
                    at("metadata_url"),
                    "metadata_* settings without metadata_url or metadata_file",
                    "give the IdP's metadata URL (or a metadata file)",
                );
            }
            return None;
        }
        if let Some(f) = &file {
            match std::fs::read(f) {
                Ok(bytes) => match crate::trust::Metadata::parse(&bytes, &f.display().to_string()) {
                    Ok(md) => names.extend(md.entities.into_iter().map(|e| e.entity_id)),
                    Err(e) if r.metadata_url.is_none() => self.err(
                        at("metadata_file"),
                        e,
                        "a SAML 2.0 / WS-Federation metadata document",
                    ),
                    Err(e) => self.warnings.push(format!(
                        "issuer {name}: the last-known-good metadata_file is unusable ({e}); it is rewritten after the next good fetch"
                    )),
                },
                Err(e) if r.metadata_url.is_none() => self.err(
                    at("metadata_file"),
                    format!("{}: {e}", f.display()),
                    "paths are relative to the config file",
                ),
                Err(_) => {}
            }
        } else if url.is_some() {
            self.warnings.push(format!(
                "issuer {name}: metadata_url without metadata_file: no last-known-good copy is kept, so a restart while the metadata is unreachable fails"
            ));
        }
        let ca_file = r.metadata_ca_file.as_deref().map(|f| self.path(f));
        if let Some(c) = &ca_file
            && !c.exists()
        {
            self.err(
                at("metadata_ca_file"),
                format!("{} does not exist", c.display()),
                "a PEM file of CA certificates; paths are relative to the config file",
            );
        }
        let mut signing_keys = Vec::new();
        for (j, f) in r.metadata_signing_certs.iter().flatten().enumerate() {
            match crate::trust::load_trust_file(&self.path(f)) {
                Ok((k, _)) => signing_keys.extend(k),
                Err(e) => self.err(
                    format!("issuers[{i}].metadata_signing_certs[{j}]"),
                    e,
                    "the certificate (PEM or DER) the IdP signs its metadata with",
                ),
            }
        }
        let secs = |v: &mut Validate, key: &str, value: Option<u64>, default: u64, max: u64| {
            let s = value.unwrap_or(default);
            if !(1..=max).contains(&s) {
                v.err(
                    at(key),
                    format!("{s} is out of range"),
                    format!("use 1 to {max} seconds (default {default})"),
                );
            }
            std::time::Duration::from_secs(s.clamp(1, max))
        };
        let refresh = secs(
            self,
            "metadata_refresh_secs",
            r.metadata_refresh_secs,
            43_200,
            7 * 86_400,
        );
        let min_refresh = secs(
            self,
            "metadata_min_refresh_secs",
            r.metadata_min_refresh_secs,
            300.min(refresh.as_secs()),
            86_400,
        );
        if min_refresh > refresh {
            self.err(
                at("metadata_min_refresh_secs"),
                "is longer than metadata_refresh_secs",
                "the floor of the refresh interval must not exceed its ceiling",
            );
        }
        let timeout = secs(
            self,
            "metadata_timeout_secs",
            r.metadata_timeout_secs,
            10,
            300,
        );
        let max_bytes = r.metadata_max_bytes.unwrap_or(4 << 20);
        if !(1024..=16 << 20).contains(&max_bytes) {
            self.err(
                at("metadata_max_bytes"),
                format!("{max_bytes} is out of range"),
                "use 1024 to 16777216 (default 4194304)",
            );
        }
        if url.is_none() && r.metadata_url.is_some() {
            return None;
        }
        Some(MetadataConfig {
            url,
            file,
            allow_http: r.metadata_allow_http.unwrap_or(false),
            ca_file,
            signing_keys,
            refresh,
            min_refresh,
            timeout,
            max_bytes: max_bytes.clamp(1024, 16 << 20),
        })
    }

    fn realm(
        &mut self,
        i: usize,
        r: &RawRealm,
        issuers: &[IssuerConfig],
        base_cookie: &str,
    ) -> Option<RealmConfig> {
        let at = |k: &str| format!("realms[{i}].{k}");
        let Some(name) = r.name.clone().filter(|n| valid_name(n)) else {
            self.err(
                at("name"),
                "missing or invalid",
                "a short name of letters, digits, - and _",
            );
            return None;
        };
        let Some(realm) = r.realm.clone().filter(|s| !s.trim().is_empty()) else {
            self.err(
                at("realm"),
                "missing",
                "the realm URI the IdP knows this RP by, e.g. urn:fedrp:app",
            );
            return None;
        };
        let mut audiences = vec![realm.clone()];
        audiences.extend(r.extra_audiences.iter().flatten().cloned());
        let path_prefixes = r.path_prefixes.clone().unwrap_or_else(|| {
            if i == 0 {
                vec!["/".into()]
            } else {
                vec![format!("/{name}/")]
            }
        });
        for (j, p) in path_prefixes.iter().enumerate() {
            if !p.starts_with('/') {
                self.err(
                    format!("realms[{i}].path_prefixes[{j}]"),
                    format!("{p:?} must start with /"),
                    "e.g. /sp/",
                );
            }
        }
        let mut idx = Vec::new();
        match &r.issuers {
            Some(list) => {
                for (j, n) in list.iter().enumerate() {
                    match issuers.iter().position(|x| &x.name == n) {
                        Some(k) => idx.push(k),
                        None => self.err(
                            format!("realms[{i}].issuers[{j}]"),
                            format!("no issuer named {n:?}"),
                            "use an [[issuers]] name",
                        ),
                    }
                }
            }
            None => idx.extend(0..issuers.len()),
        }
        let default_issuer = match &r.default_issuer {
            Some(n) => match issuers.iter().position(|x| &x.name == n) {
                Some(k) if idx.contains(&k) => Some(k),
                _ => {
                    self.err(
                        at("default_issuer"),
                        format!("{n:?} is not an issuer of this realm"),
                        "use a name from realm.issuers",
                    );
                    None
                }
            },
            None if idx.len() == 1 => idx.first().copied(),
            None => None,
        };
        let profile = match r.profile.as_deref().unwrap_or("top_level") {
            "top_level" => Profile::TopLevel,
            "iframe" => Profile::Iframe,
            other => {
                self.err(
                    at("profile"),
                    format!("unknown profile {other:?}"),
                    "use \"top_level\" or \"iframe\"",
                );
                Profile::TopLevel
            }
        };
        let mut frame_ancestors = Vec::new();
        for (j, o) in r.frame_ancestors.iter().flatten().enumerate() {
            match origin_of(o) {
                Ok(origin) if origin.starts_with("https://") || is_loopback_http(&origin) => {
                    frame_ancestors.push(origin)
                }
                Ok(_) => self.err(
                    format!("realms[{i}].frame_ancestors[{j}]"),
                    format!("{o:?} is not https"),
                    "framing origins must be https:// (http:// only for localhost / 127.0.0.1)",
                ),
                Err(m) => self.err(
                    format!("realms[{i}].frame_ancestors[{j}]"),
                    m,
                    "an exact origin, e.g. https://contoso.sharepoint.com (never *)",
                ),
            }
        }
        if profile == Profile::Iframe && frame_ancestors.is_empty() {
            self.err(
                at("frame_ancestors"),
                "the iframe profile needs at least one origin",
                "list the SharePoint origins, e.g. https://contoso.sharepoint.com",
            );
        }
        let landing_path = r
            .landing_path
            .clone()
            .unwrap_or_else(|| path_prefixes.first().cloned().unwrap_or_else(|| "/".into()));
        if !landing_path.starts_with('/') || landing_path.starts_with("//") {
            self.err(
                at("landing_path"),
                format!("{landing_path:?} must be a local path"),
                "e.g. /app/",
            );
        }
        let cookie_name = if i == 0 {
            base_cookie.to_owned()
        } else {
            format!("{base_cookie}-{name}")
        };
        Some(RealmConfig {
            name,
            realm,
            audiences,
            path_prefixes,
            issuers: idx,
            default_issuer,
            profile,
            frame_ancestors,
            landing_path,
            cookie_name,
            cross_site_signout: r.cross_site_signout.unwrap_or(true)
                && profile == Profile::TopLevel,
        })
    }
}

/// The mapping of an issuer without a `claims` table: label K2, the Windows account name
/// (`DOMAIN\user`, down-level) as the identity, roles as groups (what ADFS and the development
/// IdP send).
fn default_claims_table() -> Result<claims::ClaimsToml, String> {
    let text = format!(
        "label = \"K2\"\nidentity = {{ claim = \"{CLAIM_WINDOWS_ACCOUNT_NAME}\" }}\ndomain = \"down-level\"\nmax_groups = 1000\n[[groups]]\nclaim = \"{CLAIM_ROLE}\"\n"
    );
    toml::from_str(&text).map_err(|e| e.to_string())
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
}

fn valid_target(u: &str) -> bool {
    if u.starts_with('/') && !u.starts_with("//") {
        return true;
    }
    Url::parse(u)
        .map(|x| matches!(x.scheme(), "http" | "https") && x.host().is_some())
        .unwrap_or(false)
}

/// Parses an exact origin (`https://host[:port]`, no path, query or credentials).
pub fn origin_of(s: &str) -> Result<String, String> {
    let u = Url::parse(s).map_err(|e| format!("{s:?}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(format!("{s:?} is not an http(s) origin"));
    }
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() || !u.username().is_empty()
    {
        return Err(format!(
            "{s:?} has a path, query or credentials; only the origin is allowed"
        ));
    }
    Ok(u.origin().ascii_serialization())
}

/// A fresh RSA-2048 key and a self-signed certificate (the development IdP without
/// `certs/dev-idp.key`).
pub fn ephemeral_cert(cn: &str) -> Result<(PKey<Private>, X509), openssl::error::ErrorStack> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::hash::MessageDigest;
    use openssl::x509::X509NameBuilder;
    let rsa = openssl::rsa::Rsa::generate(2048)?;
    let key = PKey::from_rsa(rsa)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", cn)?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    let yesterday = chrono::Utc::now().timestamp() - 86_400;
    let not_before = Asn1Time::from_unix(yesterday)?;
    let not_after = Asn1Time::days_from_now(3650)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.sign(&key, MessageDigest::sha256())?;
    Ok((key, b.build()))
}

#[cfg(test)]
mod tests;
