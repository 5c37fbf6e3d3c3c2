//! fedrp itself (`fedrp serve`), with a configuration generated for the live IdPs.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::{self, Proc};
use crate::idps::{self, NodeIdp, REALMS, ROLE, Ssp, Tenant};

/// A running `fedrp serve`.
pub struct Fedrp {
    pub origin: String,
    pub port: u16,
    proc: Proc,
}

/// One trusted issuer of the generated configuration.
pub struct IssuerSpec {
    pub name: String,
    pub entity_id: String,
    /// `wsfed` or `saml2`.
    pub protocol: &'static str,
    pub signin_url: String,
    pub trust_file: String,
    pub tenant: Tenant,
    /// `require_subject_confirmation` (false only for SimpleSAMLphp's `adfs` module).
    pub require_subject_confirmation: bool,
}

impl IssuerSpec {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "display_name": self.name,
            "entity_id": self.entity_id,
            "protocol": self.protocol,
            "signin_url": self.signin_url,
            "trust_files": [self.trust_file],
            "allow_sha1": self.tenant.allow_sha1(),
            "require_subject_confirmation": self.require_subject_confirmation,
            "claims": claims(self.tenant),
        })
    }
}

/// The claim mapping of a tenant's issuers (docs/claims-mapping.md).
pub fn claims(t: Tenant) -> Value {
    let mut c = json!({
        "label": t.label(),
        "identity": { "claim": t.identity_claim() },
        "max_groups": 200,
        "groups": [ { "claim": ROLE } ],
    });
    if t == Tenant::K2 {
        c["domain"] = json!("down-level");
        c["case"] = json!("upper-domain");
    }
    c
}

/// The issuers of every live IdP: SimpleSAMLphp (adfs, SAML 2.0) and Node (wsfed, samlp), one
/// per tenant each.
pub fn live_issuers(ssp: Option<&Ssp>, node: Option<&NodeIdp>) -> Vec<IssuerSpec> {
    let mut v = Vec::new();
    for t in Tenant::ALL {
        if let Some(ssp) = ssp {
            v.push(IssuerSpec {
                name: format!("ssp-adfs-{}", t.name()),
                entity_id: idps::ssp_entity(t, "wsfed"),
                protocol: "wsfed",
                signin_url: ssp.wsfed_url(t),
                trust_file: idps::idp_cert("ssp", t).display().to_string(),
                tenant: t,
                // SimpleSAMLphp's adfs module writes SAML 1.1 assertions without any
                // SubjectConfirmation: the documented per-issuer waiver.
                require_subject_confirmation: false,
            });
            v.push(IssuerSpec {
                name: format!("ssp-saml2-{}", t.name()),
                entity_id: idps::ssp_entity(t, "saml2"),
                protocol: "saml2",
                signin_url: ssp.saml2_sso_url(t),
                trust_file: idps::idp_cert("ssp", t).display().to_string(),
                tenant: t,
                require_subject_confirmation: true,
            });
        }
        if let Some(node) = node {
            v.push(IssuerSpec {
                name: format!("node-samlp-{}", t.name()),
                entity_id: idps::node_entity(t, "samlp"),
                protocol: "saml2",
                signin_url: node.samlp_url(t),
                trust_file: idps::idp_cert("node", t).display().to_string(),
                tenant: t,
                require_subject_confirmation: true,
            });
            v.push(IssuerSpec {
                name: format!("node-wsfed-{}", t.name()),
                entity_id: idps::node_entity(t, "wsfed"),
                protocol: "wsfed",
                signin_url: node.wsfed_url(t),
                trust_file: idps::idp_cert("node", t).display().to_string(),
                tenant: t,
                require_subject_confirmation: true,
            });
        }
    }
    v
}

/// The development IdP's entity ID (fedrp's default).
pub const DEV_IDP_ENTITY: &str = "urn:fedrp:dev-idp";

/// The development IdP's test users: the K2 tenant's (`DENALLIX\bob`, the 200-group user).
pub fn dev_idp_section() -> Value {
    let certs = harness::root().join("certs");
    json!({
        "enabled": true,
        "key_file": certs.join("dev-idp.key").display().to_string(),
        "cert_file": certs.join("dev-idp.pem").display().to_string(),
        "user": Tenant::K2.users().iter().map(|u| json!({
            "login": u.login,
            "upn": format!("{}@denallix.com", u.login.rsplit('\\').next().unwrap_or("")),
            "display_name": u.login,
            "email": format!("{}@denallix.com", u.login.rsplit('\\').next().unwrap_or("")),
            "groups": u.groups,
        })).collect::<Vec<_>>(),
    })
}

/// The position of a user on the development IdP's page.
pub fn dev_user_index(user: &idps::User) -> usize {
    Tenant::K2
        .users()
        .iter()
        .position(|u| u.login == user.login)
        .expect("a development IdP user")
}

/// The issuer block trusting the co-hosted development IdP (K2 mapping).
pub fn dev_issuer() -> Value {
    // The development IdP writes the Windows account name with ADFS's claim type, as the
    // K2 mapping expects.
    let claims = claims(Tenant::K2);
    json!({
        "name": "dev",
        "display_name": "fedrp development IdP",
        "use_dev_idp": true,
        "claims": claims,
    })
}

/// The realms of the matrix: one per relying-party trust at the IdPs, each trusting every
/// issuer (the sign-in names one with `whr`).
pub fn matrix_realms(issuers: &[String]) -> Vec<Value> {
    REALMS
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "realm": r.uri(),
                "path_prefixes": [format!("/{}/", r.name)],
                "issuers": issuers,
            })
        })
        .collect()
}

/// A fresh random session key file (base64 of 32 bytes).
fn session_key(dir: &Path) -> String {
    let mut b = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    let p = dir.join("session.key");
    fs::write(&p, base64::engine::general_purpose::STANDARD.encode(b)).expect("write key");
    p.display().to_string()
}

impl Fedrp {
    /// Picks the port fedrp will listen on (the IdPs' configuration needs the URL first).
    pub fn reserve(tls: bool) -> (u16, String) {
        let port = harness::free_port();
        let scheme = if tls { "https" } else { "http" };
        (port, format!("{scheme}://127.0.0.1:{port}"))
    }

    /// Starts `fedrp serve` on `port` with `[server]` filled in and the rest of `config`
    /// (issuers, realms, ...) as given.
    pub fn start(dir: &Path, name: &str, port: u16, tls: bool, mut config: Value) -> Fedrp {
        let d = dir.join(name);
        fs::create_dir_all(&d).expect("mkdir");
        let origin = format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" });
        let certs = harness::root().join("certs");
        let mut server = json!({
            "listen": format!("127.0.0.1:{port}"),
            "public_url": origin,
            "workers": 2,
            "hsts": false,
            "expose_reason_header": true,
        });
        if tls {
            server["tls_cert_file"] = json!(certs.join("rp-tls.pem").display().to_string());
            server["tls_key_file"] = json!(certs.join("rp-tls.key").display().to_string());
        }
        config["server"] = server;
        let session = config.get("session").cloned().unwrap_or_else(|| json!({}));
        let mut session = session;
        session["key_files"] = json!([session_key(&d)]);
        config["session"] = session;
        let toml_text = toml::to_string(&config).expect("config to TOML");
        let path = d.join("fedrp.toml");
        fs::write(&path, toml_text).expect("write fedrp.toml");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fedrp"));
        cmd.arg("serve").arg("--config").arg(&path);
        cmd.env("RUST_LOG", "info");
        let mut proc = Proc::spawn(name, cmd, &d);
        if tls {
            harness::wait_port(port, Duration::from_secs(30), &mut proc);
        } else {
            harness::wait_http(
                &format!("{origin}/healthz"),
                200,
                Duration::from_secs(30),
                &mut [&mut proc],
            );
        }
        Fedrp { origin, port, proc }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// fedrp's log (reason codes of rejected sign-ins).
    pub fn log(&self) -> String {
        format!(
            "{}\n{}",
            harness::tail(&self.proc.log_out, 60),
            self.proc.stderr_tail()
        )
    }
}
