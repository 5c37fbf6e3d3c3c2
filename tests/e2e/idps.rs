//! The live IdPs of the end-to-end tests, started on 127.0.0.1 and stopped on drop:
//! SimpleSAMLphp (Debian) under php-fpm + nginx, and a Node server running auth0's `wsfed` and
//! `samlp` packages. Their configuration is generated into the test's run directory.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{self, Proc};

pub const PASSWORD: &str = "Passw0rd-e2e";

pub const WINDOWSACCOUNTNAME: &str =
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname";
pub const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
pub const NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
pub const ROLE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";

/// A user directory: one IdP entity per IdP software, one security label at fedrp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tenant {
    /// Active Directory style: `DENALLIX\bob` in windowsaccountname → `K2:DENALLIX\bob`. Its
    /// issuers opt in to SHA-1 at fedrp (an old ADFS).
    K2,
    /// Entra ID style: the UPN → `AAD:bob@denallix.onmicrosoft.com`.
    Aad,
    /// SQL user manager style: a bare name → `K2SQL:bob`.
    Sql,
}

impl Tenant {
    pub const ALL: [Tenant; 3] = [Tenant::K2, Tenant::Aad, Tenant::Sql];

    pub fn name(self) -> &'static str {
        match self {
            Tenant::K2 => "k2",
            Tenant::Aad => "aad",
            Tenant::Sql => "sql",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tenant::K2 => "K2",
            Tenant::Aad => "AAD",
            Tenant::Sql => "K2SQL",
        }
    }

    /// The claim that names the user (fedrp's mapping and the IdP's NameID source).
    pub fn identity_claim(self) -> &'static str {
        match self {
            Tenant::K2 => WINDOWSACCOUNTNAME,
            Tenant::Aad => UPN,
            Tenant::Sql => NAME,
        }
    }

    /// Whether fedrp trusts this tenant's RSA-SHA1 / SHA-1 signatures (per-issuer opt-in).
    pub fn allow_sha1(self) -> bool {
        self == Tenant::K2
    }

    pub fn users(self) -> Vec<User> {
        match self {
            Tenant::K2 => vec![
                User::new(self, "DENALLIX\\bob", &["Sales", "Everyone"]),
                User::new(
                    self,
                    "DENALLIX\\many",
                    &(1..=200)
                        .map(|i| format!("Group{i:03}"))
                        .collect::<Vec<_>>(),
                ),
            ],
            Tenant::Aad => vec![User::new(self, "bob@denallix.onmicrosoft.com", &["Sales"])],
            Tenant::Sql => vec![User::new(self, "bob", &["Sales"])],
        }
    }
}

/// A test user: the login name is the identity itself.
#[derive(Clone, Debug)]
pub struct User {
    pub tenant: Tenant,
    pub login: String,
    pub groups: Vec<String>,
}

impl User {
    fn new<S: AsRef<str>>(tenant: Tenant, login: &str, groups: &[S]) -> User {
        User {
            tenant,
            login: login.to_owned(),
            groups: groups.iter().map(|g| g.as_ref().to_owned()).collect(),
        }
    }

    /// The FQN fedrp must derive.
    pub fn fqn(&self) -> String {
        format!("{}:{}", self.tenant.label(), self.login)
    }

    /// Claim type → values, as both IdPs are told to issue them.
    pub fn claims(&self) -> Value {
        json!({ self.tenant.identity_claim(): [self.login], ROLE: self.groups })
    }
}

/// A relying-party trust at the IdPs: one per fedrp realm. As with an ADFS relying-party
/// trust, the realm decides the token type and the signature algorithm the IdP uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Realm {
    pub name: &'static str,
    /// `saml11` or `saml20` (WS-Fed tokens of the Node IdP; SimpleSAMLphp's adfs module only
    /// issues SAML 1.1).
    pub token: &'static str,
    /// `sha256` or `sha1`.
    pub alg: &'static str,
    /// SAML-P signing of the Node IdP: `assertion` (samlp's default) or `both`.
    pub samlp_sign: &'static str,
    /// Lifetime of the Node `wsfed` SAML 1.1 tokens; `None` = the package default (8 h).
    /// The `saml` 1.0.x library under wsfed stamps AuthenticationInstant = IssueInstant +
    /// lifetime, so only a lifetime within fedrp's clock skew (300 s) gives an acceptable token.
    pub wsfed_lifetime: Option<u32>,
}

impl Realm {
    pub fn uri(&self) -> String {
        format!("urn:fedrp:e2e:{}", self.name)
    }
}

pub const APP: Realm = Realm {
    name: "app",
    token: "saml11",
    alg: "sha256",
    samlp_sign: "assertion",
    wsfed_lifetime: Some(240),
};
pub const APP20: Realm = Realm {
    name: "app20",
    token: "saml20",
    alg: "sha256",
    samlp_sign: "both",
    wsfed_lifetime: Some(240),
};
pub const LEGACY: Realm = Realm {
    name: "legacy",
    token: "saml11",
    alg: "sha1",
    samlp_sign: "assertion",
    wsfed_lifetime: Some(240),
};
pub const LEGACY20: Realm = Realm {
    name: "legacy20",
    token: "saml20",
    alg: "sha1",
    samlp_sign: "both",
    wsfed_lifetime: Some(240),
};
/// The Node `wsfed` package with its default token lifetime.
pub const WSFED_DEFAULT: Realm = Realm {
    name: "wsfed-default",
    token: "saml11",
    alg: "sha256",
    samlp_sign: "assertion",
    wsfed_lifetime: None,
};
pub const REALMS: [Realm; 5] = [APP, APP20, LEGACY, LEGACY20, WSFED_DEFAULT];

/// Where the relying party receives tokens (fedrp's endpoints).
#[derive(Clone, Debug)]
pub struct RpEndpoints {
    /// Scheme, host and port, e.g. `http://127.0.0.1:8443`.
    pub origin: String,
}

impl RpEndpoints {
    pub fn wsfed(&self) -> String {
        format!("{}/signin-wsfed", self.origin)
    }
    pub fn saml(&self) -> String {
        format!("{}/signin-saml", self.origin)
    }
    pub fn host_port(&self) -> String {
        self.origin
            .split_once("://")
            .map(|(_, h)| h.to_owned())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// SimpleSAMLphp
// ---------------------------------------------------------------------------------------------

/// SimpleSAMLphp 1.19 from Debian: one php-fpm pool, one nginx, and per tenant its own
/// configuration directory and port (cookies ignore ports, so each tenant has its own cookie
/// names). Each tenant hosts the `adfs` WS-Fed IdP and the SAML 2.0 IdP.
pub struct Ssp {
    pub ports: Vec<(Tenant, u16)>,
    // Dropped in this order: nginx first, then php-fpm.
    nginx: Proc,
    php_fpm: Proc,
}

pub const SSP_ROOT: &str = "/usr/share/simplesamlphp";

impl Ssp {
    pub fn start(dir: &Path, rp: &RpEndpoints) -> Ssp {
        let php_fpm = harness::require(
            "php-fpm (Debian package php-fpm)",
            harness::which(&["php-fpm8.2", "php-fpm"]),
        );
        let nginx = harness::require(
            "nginx (Debian package nginx-light)",
            harness::which(&["nginx"]),
        );
        if !Path::new(SSP_ROOT).join("www/module.php").is_file() {
            harness::require("SimpleSAMLphp (Debian package simplesamlphp)", None);
        }
        let certs = harness::root().join("certs");
        let d = dir.join("ssp");
        fs::create_dir_all(d.join("sessions")).expect("mkdir");
        let sock = d.join("php-fpm.sock");
        let templates = harness::e2e_dir().join("ssp");

        let mut ports = Vec::new();
        let mut servers = String::new();
        for tenant in Tenant::ALL {
            let port = harness::free_port();
            ports.push((tenant, port));
            let t = d.join(tenant.name());
            for sub in ["metadata", "tmp", "data", "log"] {
                fs::create_dir_all(t.join(sub)).expect("mkdir");
            }
            for f in ["config.php", "authsources.php"] {
                fs::copy(templates.join(f), t.join(f)).expect("copy ssp template");
            }
            for f in [
                "adfs-idp-hosted.php",
                "adfs-sp-remote.php",
                "saml20-idp-hosted.php",
                "saml20-sp-remote.php",
            ] {
                fs::copy(
                    templates.join("metadata").join(f),
                    t.join("metadata").join(f),
                )
                .expect("copy ssp metadata template");
            }
            let users: serde_json::Map<String, Value> = tenant
                .users()
                .iter()
                .map(|u| (format!("{}:{PASSWORD}", u.login), u.claims()))
                .collect();
            let sps: Vec<Value> = REALMS
                .iter()
                .map(|r| {
                    json!({
                        "entity_id": r.uri(),
                        "prp": rp.wsfed(),
                        "acs": rp.saml(),
                        "signature_algorithm": if r.alg == "sha1" { RSA_SHA1 } else { RSA_SHA256 },
                    })
                })
                .collect();
            let cfg = json!({
                "base_url": format!("http://127.0.0.1:{port}/simplesaml/"),
                "cert_dir": certs.display().to_string(),
                "key_file": certs.join(format!("idp-ssp-{}.key", tenant.name())).display().to_string(),
                "cert_file": certs.join(format!("idp-ssp-{}.pem", tenant.name())).display().to_string(),
                "log_dir": t.join("log").display().to_string(),
                "data_dir": t.join("data").display().to_string(),
                "tmp_dir": t.join("tmp").display().to_string(),
                "secret_salt": format!("fedrp-e2e-test-only-salt-{}", tenant.name()),
                "trusted_domains": [rp.host_port()],
                "cookie_prefix": format!("SSP{}", tenant.name()),
                "cookie_secure": false,
                "cookie_samesite": Value::Null,
                "adfs_entity_id": ssp_entity(tenant, "wsfed"),
                "saml2_entity_id": ssp_entity(tenant, "saml2"),
                "nameid_attribute": tenant.identity_claim(),
                "users": users,
                "sps": sps,
            });
            harness::write_json(&t.join("e2e.json"), &cfg);
            servers.push_str(&format!(
                r#"
  server {{
    listen 127.0.0.1:{port};
    location = /healthz {{ return 200 "ok"; }}
    location ^~ /simplesaml/ {{
      alias {SSP_ROOT}/www/;
      location ~ ^/simplesaml(?<phpfile>/.+?\.php)(?<pathinfo>/.*)?$ {{
        include /etc/nginx/fastcgi_params;
        fastcgi_pass unix:{sock};
        fastcgi_param SCRIPT_FILENAME {SSP_ROOT}/www$phpfile;
        fastcgi_param SCRIPT_NAME /simplesaml$phpfile;
        fastcgi_param PATH_INFO $pathinfo if_not_empty;
        fastcgi_param SIMPLESAMLPHP_CONFIG_DIR {cfg};
      }}
    }}
  }}
"#,
                sock = sock.display(),
                cfg = t.display(),
            ));
        }

        let fpm_conf = d.join("php-fpm.conf");
        fs::write(
            &fpm_conf,
            format!(
                "[global]\nerror_log = {log}\ndaemonize = no\n\n[e2e]\nlisten = {sock}\n\
                 listen.mode = 0666\npm = static\npm.max_children = 4\ncatch_workers_output = yes\n\
                 clear_env = yes\nphp_admin_value[session.save_path] = {sessions}\n\
                 php_admin_value[error_log] = {phplog}\nphp_admin_flag[log_errors] = on\n",
                log = d.join("php-fpm.log").display(),
                sock = sock.display(),
                sessions = d.join("sessions").display(),
                phplog = d.join("php-errors.log").display(),
            ),
        )
        .expect("write php-fpm.conf");
        let mut cmd = Command::new(&php_fpm);
        cmd.args(["--nodaemonize", "--fpm-config"]).arg(&fpm_conf);
        if harness::is_root() {
            cmd.arg("--allow-to-run-as-root");
        }
        let php_fpm = Proc::spawn("php-fpm", cmd, &d);

        let nginx_conf = d.join("nginx.conf");
        let tmp = |n: &str| d.join(n).display().to_string();
        fs::write(
            &nginx_conf,
            format!(
                "{user}worker_processes 1;\nerror_log {err} info;\npid {pid};\n\
                 events {{ worker_connections 256; }}\nhttp {{\n  access_log {access};\n\
                 client_body_temp_path {b};\n  fastcgi_temp_path {f};\n  proxy_temp_path {p};\n\
                 uwsgi_temp_path {u};\n  scgi_temp_path {s};\n  include /etc/nginx/mime.types;\n\
                 {servers}}}\n",
                user = if harness::is_root() {
                    "user root;\n"
                } else {
                    ""
                },
                err = tmp("nginx-error.log"),
                pid = tmp("nginx.pid"),
                access = tmp("nginx-access.log"),
                b = tmp("nginx-body"),
                f = tmp("nginx-fastcgi"),
                p = tmp("nginx-proxy"),
                u = tmp("nginx-uwsgi"),
                s = tmp("nginx-scgi"),
            ),
        )
        .expect("write nginx.conf");
        let mut cmd = Command::new(&nginx);
        cmd.arg("-p")
            .arg(&d)
            .arg("-e")
            .arg(d.join("nginx-error.log"))
            .arg("-c")
            .arg(&nginx_conf)
            .args(["-g", "daemon off;"]);
        let nginx = Proc::spawn("nginx", cmd, &d);

        let mut ssp = Ssp {
            ports,
            nginx,
            php_fpm,
        };
        // Ready when each tenant's PHP answers (its metadata renders through php-fpm).
        for (tenant, _) in ssp.ports.clone() {
            let url = format!("{}/saml2/idp/metadata.php", ssp.base(tenant));
            let (a, b) = (&mut ssp.nginx, &mut ssp.php_fpm);
            harness::wait_http(&url, 200, Duration::from_secs(30), &mut [a, b]);
        }
        ssp
    }

    pub fn port(&self, tenant: Tenant) -> u16 {
        self.ports
            .iter()
            .find(|(t, _)| *t == tenant)
            .map(|(_, p)| *p)
            .expect("tenant port")
    }

    /// `http://127.0.0.1:<port>/simplesaml`
    pub fn base(&self, tenant: Tenant) -> String {
        format!("http://127.0.0.1:{}/simplesaml", self.port(tenant))
    }

    /// The adfs module's passive endpoint (sign-in, sign-out).
    pub fn wsfed_url(&self, tenant: Tenant) -> String {
        format!("{}/module.php/adfs/idp/prp.php", self.base(tenant))
    }

    /// The SAML 2.0 IdP's SSO endpoint (HTTP-Redirect).
    pub fn saml2_sso_url(&self, tenant: Tenant) -> String {
        format!("{}/saml2/idp/SSOService.php", self.base(tenant))
    }

    /// SimpleSAMLphp's version from its Debian package metadata (composer's record).
    pub fn version() -> String {
        let p = PathBuf::from(SSP_ROOT).join("vendor/composer/installed.json");
        let text = fs::read_to_string(&p).unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let pkgs = v
            .get("packages")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| v.as_array().cloned())
            .unwrap_or_default();
        pkgs.iter()
            .find(|p| p["name"] == "simplesamlphp/simplesamlphp")
            .and_then(|p| p["version"].as_str())
            .map(|s| s.trim_start_matches('v').to_owned())
            .unwrap_or_else(|| debian_version("simplesamlphp"))
    }
}

/// `dpkg-query`'s upstream version of a Debian package.
pub fn debian_version(pkg: &str) -> String {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", pkg])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .map(|v| v.split(['-', '+']).next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

pub fn ssp_entity(tenant: Tenant, protocol: &str) -> String {
    format!("urn:e2e:ssp:{}:{protocol}", tenant.name())
}

// ---------------------------------------------------------------------------------------------
// Node: auth0 wsfed + samlp
// ---------------------------------------------------------------------------------------------

/// The Node IdP (`tests/e2e/node-idp.js`): one process, a path per tenant.
pub struct NodeIdp {
    pub port: u16,
    /// The HTTPS port of the same routes (host pages), when started `framed`.
    pub tls_port: Option<u16>,
    _proc: Proc,
}

impl NodeIdp {
    pub fn start(dir: &Path, rp: &RpEndpoints) -> NodeIdp {
        NodeIdp::start_with(dir, rp, false)
    }

    /// `framed`: the IdP lets itself be framed and keeps its session in a
    /// `SameSite=None; Secure; Partitioned` cookie (see node-idp.js).
    pub fn start_with(dir: &Path, rp: &RpEndpoints, framed: bool) -> NodeIdp {
        let node = harness::require_node_modules();
        let certs = harness::root().join("certs");
        let d = dir.join("node-idp");
        fs::create_dir_all(&d).expect("mkdir");
        let tenants: Vec<Value> = Tenant::ALL
            .iter()
            .map(|t| {
                json!({
                    "name": t.name(),
                    "display_name": format!("Node IdP ({})", t.name()),
                    "entity_id": node_entity(*t, "wsfed"),
                    "key": certs.join(format!("idp-node-{}.key", t.name())).display().to_string(),
                    "cert": certs.join(format!("idp-node-{}.pem", t.name())).display().to_string(),
                    "samlp_entity_id": node_entity(*t, "samlp"),
                    "users": t.users().iter().map(|u| json!({
                        "login": u.login,
                        "password": PASSWORD,
                        "name_id": u.login,
                        "claims": u.claims(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let realms: serde_json::Map<String, Value> = REALMS
            .iter()
            .map(|r| {
                (
                    r.uri(),
                    json!({"token": r.token, "alg": r.alg, "samlp_sign": r.samlp_sign,
                        "wsfed_lifetime": r.wsfed_lifetime}),
                )
            })
            .collect();
        let cfg = json!({
            "port": 0,
            "framed": framed,
            "host_tls": if framed {
                json!({"cert": certs.join("rp-tls.pem"), "key": certs.join("rp-tls.key")})
            } else {
                Value::Null
            },
            "rp_origins": [rp.origin],
            "rp_cleanup_urls": [format!("{}?wa=wsignoutcleanup1.0", rp.wsfed())],
            "realms": realms,
            "tenants": tenants,
        });
        let cfg_path = d.join("config.json");
        harness::write_json(&cfg_path, &cfg);
        let mut cmd = Command::new(node);
        cmd.arg(harness::e2e_dir().join("node-idp.js"))
            .arg(&cfg_path);
        let (mut proc, port) =
            Proc::spawn_until_line("node-idp", cmd, &d, "LISTENING ", Duration::from_secs(30));
        let mut ports = port
            .split(' ')
            .map(|p| p.parse::<u16>().expect("node-idp port"));
        let port = ports.next().expect("node-idp port");
        let tls_port = ports.next();
        harness::wait_http(
            &format!("http://127.0.0.1:{port}/healthz"),
            200,
            Duration::from_secs(10),
            &mut [&mut proc],
        );
        NodeIdp {
            port,
            tls_port,
            _proc: proc,
        }
    }

    pub fn wsfed_url(&self, tenant: Tenant) -> String {
        format!("http://127.0.0.1:{}/{}/wsfed", self.port, tenant.name())
    }

    /// IdP-initiated sign-out (wsignoutcleanup1.0 to the relying party).
    pub fn logout_url(&self, tenant: Tenant) -> String {
        format!("http://127.0.0.1:{}/{}/logout", self.port, tenant.name())
    }

    pub fn samlp_url(&self, tenant: Tenant) -> String {
        format!("http://127.0.0.1:{}/{}/samlp", self.port, tenant.name())
    }

    /// The installed version of an npm package of tests/e2e (from its package.json).
    pub fn package_version(pkg: &str) -> String {
        let p = harness::e2e_dir()
            .join("node_modules")
            .join(pkg)
            .join("package.json");
        let v: Value =
            serde_json::from_str(&fs::read_to_string(p).unwrap_or_default()).unwrap_or(Value::Null);
        v["version"].as_str().unwrap_or("?").to_owned()
    }
}

/// The signing certificate of an IdP entity: `software` is `ssp` or `node`.
pub fn idp_cert(software: &str, tenant: Tenant) -> PathBuf {
    harness::root()
        .join("certs")
        .join(format!("idp-{software}-{}.pem", tenant.name()))
}

/// The Node IdP's entity ID for a tenant and protocol (`wsfed` or `samlp`).
pub fn node_entity(tenant: Tenant, protocol: &str) -> String {
    format!("urn:e2e:node:{}:{protocol}", tenant.name())
}
