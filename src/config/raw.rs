//! The serde mirror of the configuration file: the only `Deserialize` types in fedrp.
//!
//! Every struct denies unknown fields, so a typo fails at start-up with its key path. Every
//! field is optional here; defaults and checks live in [`super::Config::from_raw`]. The list of
//! keys is kept in step with `config.example.toml` by a test ([`KEYS`]).

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// `store = "memory" | "redis"`.
    pub store: Option<String>,
    /// `[redis]`.
    pub redis: Option<RawRedis>,
    /// `[server]`.
    #[serde(default)]
    pub server: RawServer,
    /// `[session]`.
    #[serde(default)]
    pub session: RawSession,
    /// `[limits]`.
    #[serde(default)]
    pub limits: RawLimits,
    /// `[redirect]`.
    #[serde(default)]
    pub redirect: RawRedirect,
    /// `[dev_idp]`.
    #[serde(default)]
    pub dev_idp: RawDevIdp,
    /// `[sp_signing]`.
    pub sp_signing: Option<RawSpSigning>,
    /// `[[issuers]]`.
    #[serde(default)]
    pub issuers: Vec<RawIssuer>,
    /// `[[realms]]`.
    #[serde(default)]
    pub realms: Vec<RawRealm>,
}

/// `[server]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub workers: Option<usize>,
    pub tls_cert_file: Option<String>,
    pub tls_key_file: Option<String>,
    pub hsts: Option<bool>,
    pub expose_reason_header: Option<bool>,
    pub log_format: Option<String>,
}

/// `[session]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSession {
    pub mode: Option<String>,
    pub keys: Option<Vec<String>>,
    pub key_files: Option<Vec<String>>,
    pub ephemeral_key: Option<bool>,
    pub cookie_name: Option<String>,
    pub idle_timeout_secs: Option<u64>,
    pub absolute_timeout_secs: Option<u64>,
    pub max_chunks: Option<usize>,
    pub store_capacity: Option<usize>,
}

/// `[redis]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRedis {
    pub url: Option<String>,
    pub password_file: Option<String>,
    pub tls_ca_file: Option<String>,
    pub pool_size: Option<usize>,
    pub connect_timeout_ms: Option<u64>,
    pub command_timeout_ms: Option<u64>,
    pub key_prefix: Option<String>,
    pub revocation_grace_secs: Option<u64>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub max_body_bytes: Option<usize>,
    pub max_token_bytes: Option<usize>,
    pub clock_skew_secs: Option<u64>,
    pub max_token_age_secs: Option<u64>,
    pub state_ttl_secs: Option<u64>,
    pub replay_cache_capacity: Option<usize>,
    pub max_claims: Option<usize>,
    pub max_concurrent_validations: Option<usize>,
}

/// `[redirect]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRedirect {
    pub allowed_origins: Option<Vec<String>>,
}

/// `[dev_idp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDevIdp {
    pub enabled: Option<bool>,
    pub entity_id: Option<String>,
    pub key_file: Option<String>,
    pub cert_file: Option<String>,
    pub path: Option<String>,
    pub listen: Option<String>,
    pub saml_version: Option<String>,
    pub token_lifetime_secs: Option<u64>,
    pub user: Option<Vec<RawDevUser>>,
}

/// `[[dev_idp.user]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDevUser {
    pub login: Option<String>,
    pub upn: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub groups: Option<Vec<String>>,
}

/// `[[issuers]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIssuer {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub entity_id: Option<String>,
    pub protocol: Option<String>,
    pub signin_url: Option<String>,
    pub signout_url: Option<String>,
    pub trust_files: Option<Vec<String>>,
    pub thumbprints: Option<Vec<String>>,
    pub use_dev_idp: Option<bool>,
    pub allow_sha1: Option<bool>,
    pub min_rsa_bits: Option<u32>,
    pub check_cert_validity: Option<bool>,
    pub engine: Option<String>,
    pub allow_unsolicited: Option<bool>,
    pub require_signed_assertion: Option<bool>,
    pub require_authn_statement: Option<bool>,
    pub require_subject_confirmation: Option<bool>,
    pub metadata_url: Option<String>,
    pub metadata_file: Option<String>,
    pub metadata_allow_http: Option<bool>,
    pub metadata_ca_file: Option<String>,
    pub metadata_signing_certs: Option<Vec<String>>,
    pub metadata_refresh_secs: Option<u64>,
    pub metadata_min_refresh_secs: Option<u64>,
    pub metadata_timeout_secs: Option<u64>,
    pub metadata_max_bytes: Option<usize>,
    pub key_expiry_warning_days: Option<u64>,
    pub sign_authn_requests: Option<bool>,
    pub claims: Option<super::claims::ClaimsToml>,
}

/// `[sp_signing]`: the key fedrp signs its SAML AuthnRequests with.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpSigning {
    pub key_file: Option<String>,
    pub cert_file: Option<String>,
}

/// `[[realms]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRealm {
    pub name: Option<String>,
    pub realm: Option<String>,
    pub extra_audiences: Option<Vec<String>>,
    pub path_prefixes: Option<Vec<String>>,
    pub issuers: Option<Vec<String>>,
    pub default_issuer: Option<String>,
    pub profile: Option<String>,
    pub frame_ancestors: Option<Vec<String>>,
    pub landing_path: Option<String>,
    pub cross_site_signout: Option<bool>,
}

/// Every key path the file accepts (`[[table]]` arrays written without an index). A test
/// checks that `config.example.toml` documents each one and that each is a real field.
/// `issuers.claims` is the claim-mapping table of [`super::claims`], documented in
/// `docs/claims-mapping.md`.
pub const KEYS: &[&str] = &[
    "store",
    "redis.url",
    "redis.password_file",
    "redis.tls_ca_file",
    "redis.pool_size",
    "redis.connect_timeout_ms",
    "redis.command_timeout_ms",
    "redis.key_prefix",
    "redis.revocation_grace_secs",
    "server.listen",
    "server.public_url",
    "server.workers",
    "server.tls_cert_file",
    "server.tls_key_file",
    "server.hsts",
    "server.expose_reason_header",
    "server.log_format",
    "session.mode",
    "session.keys",
    "session.key_files",
    "session.ephemeral_key",
    "session.cookie_name",
    "session.idle_timeout_secs",
    "session.absolute_timeout_secs",
    "session.max_chunks",
    "session.store_capacity",
    "limits.max_body_bytes",
    "limits.max_token_bytes",
    "limits.clock_skew_secs",
    "limits.max_token_age_secs",
    "limits.state_ttl_secs",
    "limits.replay_cache_capacity",
    "limits.max_claims",
    "limits.max_concurrent_validations",
    "redirect.allowed_origins",
    "dev_idp.enabled",
    "dev_idp.entity_id",
    "dev_idp.key_file",
    "dev_idp.cert_file",
    "dev_idp.path",
    "dev_idp.listen",
    "dev_idp.saml_version",
    "dev_idp.token_lifetime_secs",
    "dev_idp.user.login",
    "dev_idp.user.upn",
    "dev_idp.user.display_name",
    "dev_idp.user.email",
    "dev_idp.user.groups",
    "sp_signing.key_file",
    "sp_signing.cert_file",
    "issuers.name",
    "issuers.display_name",
    "issuers.entity_id",
    "issuers.protocol",
    "issuers.signin_url",
    "issuers.signout_url",
    "issuers.trust_files",
    "issuers.thumbprints",
    "issuers.use_dev_idp",
    "issuers.allow_sha1",
    "issuers.min_rsa_bits",
    "issuers.check_cert_validity",
    "issuers.engine",
    "issuers.allow_unsolicited",
    "issuers.require_signed_assertion",
    "issuers.require_authn_statement",
    "issuers.require_subject_confirmation",
    "issuers.metadata_url",
    "issuers.metadata_file",
    "issuers.metadata_allow_http",
    "issuers.metadata_ca_file",
    "issuers.metadata_signing_certs",
    "issuers.metadata_refresh_secs",
    "issuers.metadata_min_refresh_secs",
    "issuers.metadata_timeout_secs",
    "issuers.metadata_max_bytes",
    "issuers.key_expiry_warning_days",
    "issuers.sign_authn_requests",
    "issuers.claims",
    "realms.name",
    "realms.realm",
    "realms.extra_audiences",
    "realms.path_prefixes",
    "realms.issuers",
    "realms.default_issuer",
    "realms.profile",
    "realms.frame_ancestors",
    "realms.landing_path",
    "realms.cross_site_signout",
];
