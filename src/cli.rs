//! Command-line interface: argument definitions (clap) for every `fedrp` subcommand.
//!
//! The contract is `DESIGN.md` §6. Exit codes: 0 success/accepted, 1 rejected, 2 usage or
//! configuration error.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// fedrp: a WS-Federation / SAML relying party.
#[derive(Debug, Parser)]
#[command(name = "fedrp", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relying party (default configuration: the built-in development setup).
    Serve(ServeArgs),
    /// Print the effective configuration (secrets redacted), issuers, key thumbprints, expiry.
    CheckConfig(ConfigArgs),
    /// Validate one token offline and explain the result.
    CheckToken(CheckTokenArgs),
    /// Decode a SharePoint encoded claim (and map it to an FQN with --label).
    DecodeClaim(DecodeClaimArgs),
    /// Measure one-core token validation throughput over a directory of tokens.
    Bench(BenchArgs),
    /// Run only the built-in development IdP.
    DevIdp(DevIdpArgs),
}

/// `fedrp serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML). Without it fedrp starts the development setup.
    #[arg(long, env = "FEDRP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address (overrides `server.listen`), e.g. 127.0.0.1:9000.
    #[arg(long, env = "FEDRP_LISTEN", value_name = "HOST:PORT")]
    pub listen: Option<String>,
}

/// `fedrp check-config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Without it the development setup is shown.
    #[arg(long, env = "FEDRP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Do not fetch metadata URLs: show the trust the backing files and pinned keys give.
    #[arg(long)]
    pub offline: bool,
}

/// `fedrp check-token`.
#[derive(Debug, Args)]
pub struct CheckTokenArgs {
    /// Configuration file: trusted issuers, audiences and claim mapping come from it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Trusted signing certificate / public key (PEM) or federation metadata file. Repeatable.
    #[arg(long = "trust", value_name = "PEM-or-METADATA")]
    pub trust: Vec<PathBuf>,
    /// Trusted certificate thumbprint (`sha256:HEX` or `sha1:HEX`, legacy). Repeatable.
    #[arg(long = "thumbprint", value_name = "ALG:HEX")]
    pub thumbprints: Vec<String>,
    /// Accepted audience (realm / SP entity ID). Repeatable.
    #[arg(long = "audience", value_name = "URI")]
    pub audiences: Vec<String>,
    /// The expected issuer (entity ID) bound to the trusted keys.
    #[arg(long, value_name = "URI")]
    pub issuer: Option<String>,
    /// Our assertion consumer URL: checked against Destination and Recipient when given.
    #[arg(long, value_name = "URL")]
    pub recipient: Option<String>,
    /// Evaluation time (RFC 3339); defaults to the current time.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Allowed clock skew in seconds.
    #[arg(long, value_name = "SECS")]
    pub skew: Option<u64>,
    /// Accept RSA-SHA1 signatures and SHA-1 digests from the trusted issuer.
    #[arg(long)]
    pub allow_sha1: bool,
    /// Security label for the FQN (K2, K2SQL, AAD, ...).
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Verification engine: `streaming` (pure Rust) or `xmlsec` (libxmlsec1 reference).
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
    /// The token: WS-Fed wresult, SAML 1.1/2.0 Assertion or samlp:Response, XML or base64;
    /// `-` reads standard input.
    pub input: String,
}

/// `fedrp decode-claim`.
#[derive(Debug, Args)]
pub struct DecodeClaimArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Security label: also print the FQN `LABEL:name`.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// The encoded claim, e.g. `i:0#.w|denallix\bob`.
    #[arg(allow_hyphen_values = true)]
    pub encoded: String,
}

/// `fedrp bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Trusted signing certificate (PEM) or metadata. Repeatable.
    #[arg(long = "trust", required = true)]
    pub trust: Vec<PathBuf>,
    /// Accepted audience. Repeatable.
    #[arg(long = "audience", required = true)]
    pub audiences: Vec<String>,
    /// Expected recipient / destination URL (SAML-P tokens).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Evaluation time (RFC 3339); defaults to the current time.
    #[arg(long)]
    pub now: Option<String>,
    /// Seconds to run the timed loop.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Verification engine: `streaming` or `xmlsec`.
    #[arg(long)]
    pub engine: Option<String>,
    /// Accept SHA-1.
    #[arg(long)]
    pub allow_sha1: bool,
    /// Directory of `*.xml` tokens.
    pub dir: PathBuf,
}

/// `fedrp dev-idp`.
#[derive(Debug, Args)]
pub struct DevIdpArgs {
    /// Configuration file (the `[dev_idp]` section is used).
    #[arg(long, env = "FEDRP_CONFIG")]
    pub config: Option<PathBuf>,
}
