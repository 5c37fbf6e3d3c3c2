//! The harness: `spawn_app` starts the real `Application` on port 0 with a `FixedClock` on
//! its own thread; a tiny HTTP/1.1 client (no redirects followed, no cookie magic) and a
//! browser-like cookie jar drive it; test tokens are signed through libxmlsec1.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use fedrp::config::{CLAIM_ROLE, CLAIM_WINDOWS_ACCOUNT_NAME, Config};
use fedrp::devidp::token::{self, TokenSpec};
use fedrp::http::{Application, FixedClock};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

/// The fixed start time of every test app.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

pub const IDP_A: &str = "https://idp-a.example.test/adfs/services/trust";
pub const IDP_B: &str = "https://idp-b.example.test/";
pub const IDP_SAML: &str = "https://saml-idp.example.test/";
pub const REALM: &str = "urn:fedrp:test";
pub const SP_REALM: &str = "urn:fedrp:sp";
pub const SHAREPOINT: &str = "https://contoso.sharepoint.com";

/// A test signing identity (key + self-signed certificate, PEM file on disk).
pub struct Idp {
    pub key: PKey<Private>,
    pub cert: X509,
    pub pem: PathBuf,
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("fedrp-http-tests-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn make_idp(name: &str) -> Idp {
    let (key, cert) =
        fedrp::config::ephemeral_cert(&format!("fedrp-http-test-{name}")).expect("key pair");
    let pem = dir().join(format!("{name}.pem"));
    std::fs::write(&pem, cert.to_pem().expect("pem")).expect("write pem");
    Idp { key, cert, pem }
}

/// A test identity from `certs/` (TEST ONLY keys, see certs/README.md).
fn cert_idp(name: &str) -> Idp {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs");
    let key = std::fs::read(root.join(format!("{name}.key"))).expect("key");
    let pem = root.join(format!("{name}.pem"));
    let cert = std::fs::read(&pem).expect("cert");
    Idp {
        key: PKey::private_key_from_pem(&key).expect("key pem"),
        cert: X509::from_pem(&cert).expect("cert pem"),
        pem,
    }
}

/// IdP A (`certs/idp-a`, trusted for both realms), IdP B (`certs/idp-b`, trusted for realm
/// "app" only, unsolicited allowed), the SAML-P IdP (a key pair made per run) and an untrusted
/// attacker (`certs/attacker`).
pub fn idps() -> &'static [Idp; 4] {
    static IDPS: OnceLock<[Idp; 4]> = OnceLock::new();
    IDPS.get_or_init(|| {
        [
            cert_idp("idp-a"),
            cert_idp("idp-b"),
            make_idp("idp-saml"),
            cert_idp("attacker"),
        ]
    })
}

pub fn key_b64(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// The standard test configuration (`extra` is appended; `session_keys` replaces the keys).
pub fn config_text(extra_session: &str, extra: &str) -> String {
    let [a, b, s, _] = idps();
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
expose_reason_header = true
workers = 1

[session]
keys = ["{k1}"]
{extra_session}

[limits]
max_body_bytes = 262144

[redirect]
allowed_origins = ["https://app.example.com"]

[dev_idp]
enabled = true

[[issuers]]
name = "idp-a"
entity_id = "{IDP_A}"
signin_url = "https://idp-a.example.test/adfs/ls/"
trust_files = [{a:?}]

[[issuers]]
name = "idp-b"
entity_id = "{IDP_B}"
signin_url = "https://idp-b.example.test/wsfed"
trust_files = [{b:?}]
allow_unsolicited = true

[issuers.claims]
label = "AAD"
identity = {{ claim = "{CLAIM_WINDOWS_ACCOUNT_NAME}" }}
domain = "down-level"

[[issuers]]
name = "idp-saml"
entity_id = "{IDP_SAML}"
protocol = "saml2"
signin_url = "https://saml-idp.example.test/sso"
trust_files = [{s:?}]

[[issuers]]
name = "dev"
use_dev_idp = true

[[realms]]
name = "app"
realm = "{REALM}"
issuers = ["idp-a", "idp-b", "idp-saml", "dev"]
default_issuer = "idp-a"
landing_path = "/app/"

[[realms]]
name = "sp"
realm = "{SP_REALM}"
path_prefixes = ["/sp/"]
issuers = ["idp-a"]
profile = "iframe"
frame_ancestors = ["{SHAREPOINT}"]
{extra}
"#,
        k1 = key_b64(1),
        a = a.pem.display().to_string(),
        b = b.pem.display().to_string(),
        s = s.pem.display().to_string(),
    )
}

/// A running app.
pub struct TestApp {
    pub port: u16,
    pub clock: Arc<FixedClock>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent on the call; the server thread then ends.
        drop(self.handle.stop(false));
    }
}

/// Starts the app with the standard test configuration.
pub fn spawn_app() -> TestApp {
    spawn_with(&config_text("", ""))
}

/// Starts the app from configuration text.
pub fn spawn_with(text: &str) -> TestApp {
    if std::env::var_os("FEDRP_TEST_LOG").is_some() {
        fedrp::telemetry::init(fedrp::config::LogFormat::Text);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = Config::from_toml(text, &root, Some("test.toml".into()), &[])
        .unwrap_or_else(|e| panic!("config:\n{e}"));
    let clock = Arc::new(FixedClock::new(t0()));
    let c2 = Arc::clone(&clock);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config, c2).expect("build");
            tx.send((app.port(), app.handle())).expect("send port");
            let _ = app.run_until_stopped().await;
        })
    });
    let (port, handle) = rx
        .recv_timeout(StdDuration::from_secs(30))
        .expect("app started");
    TestApp {
        port,
        clock,
        handle,
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn reason(&self) -> Option<&str> {
        self.header("x-fedrp-reason")
    }
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location in {} {:?}", self.status, self.headers))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn set_cookies(&self) -> Vec<&str> {
        self.all("set-cookie")
    }
    /// The Set-Cookie line for `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.split('=').next() == Some(name))
    }
    /// Asserts a rejection: status and reason code.
    #[track_caller]
    pub fn rejected(&self, status: u16, reason: &str) {
        assert_eq!(
            (self.status, self.reason()),
            (status, Some(reason)),
            "body: {}",
            self.text()
        );
    }
}

/// A browser-like cookie jar (name → value; Max-Age=0 deletes).
#[derive(Clone, Debug, Default)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    pub fn take(&mut self, r: &Response) {
        for c in r.set_cookies() {
            let first = c.split(';').next().unwrap_or("");
            let (k, v) = first.split_once('=').unwrap_or((first, ""));
            if c.contains("Max-Age=0") {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    pub fn session_chunks(&self, base: &str) -> Vec<String> {
        self.0
            .keys()
            .filter(|k| {
                *k == base
                    || k.strip_prefix(&format!("{base}."))
                        .is_some_and(|i| i.parse::<usize>().is_ok())
            })
            .cloned()
            .collect()
    }
}

impl TestApp {
    /// Sends a raw request.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(StdDuration::from_secs(30))).ok();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n",
            self.port
        );
        let mut has_len = false;
        for (k, v) in headers {
            has_len |= k.eq_ignore_ascii_case("content-length");
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !has_len && (method == "POST" || !body.is_empty()) {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let _ = s.write_all(req.as_bytes());
        // The server may answer (413) and close before the whole body is written.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        parse(&raw)
    }

    pub fn get(&self, path: &str, jar: &Jar) -> Response {
        self.get_with(path, jar, &[])
    }

    pub fn get_with(&self, path: &str, jar: &Jar, extra: &[(&str, &str)]) -> Response {
        let cookie = jar.header();
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        if !cookie.is_empty() {
            h.push(("Cookie", &cookie));
        }
        self.send("GET", path, &h, b"")
    }

    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)], jar: &Jar) -> Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let cookie = jar.header();
        let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if !cookie.is_empty() {
            h.push(("Cookie", &cookie));
        }
        self.send("POST", path, &h, body.as_bytes())
    }

    /// `GET /signin?ru=…` with the jar; returns the IdP redirect and the `wctx`.
    pub fn start_signin(&self, jar: &mut Jar, query: &str) -> (Response, String) {
        let r = self.get(&format!("/signin?{query}"), jar);
        assert_eq!(r.status, 302, "{}", r.text());
        jar.take(&r);
        let wctx = param(r.location(), "wctx")
            .or_else(|| param(r.location(), "RelayState"))
            .expect("state");
        (r, wctx)
    }

    /// A complete WS-Fed sign-in with IdP A; returns the ACS response (cookies in `jar`).
    pub fn sign_in(&self, jar: &mut Jar, spec: TokenSpec) -> Response {
        let (_, wctx) = self.start_signin(jar, "ru=%2Fapp%2Fpage");
        let wresult = wresult(&idps()[0], &spec, Some(&wctx));
        let r = self.post_form(
            "/signin-wsfed",
            &[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &wctx)],
            jar,
        );
        jar.take(&r);
        r
    }

    pub fn now(&self) -> DateTime<Utc> {
        use fedrp::http::Clock as _;
        self.clock.now()
    }
}

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let n =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..p]).trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + n]);
            rest = &rest[p + 2 + n + 2..];
        }
        body = out;
    }
    Response {
        status,
        headers,
        body,
    }
}

/// A query parameter of a URL (absolute or relative).
pub fn param(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A token spec for IdP A and realm "app", at the app's clock.
pub fn spec(now: DateTime<Utc>) -> TokenSpec {
    TokenSpec {
        issuer: IDP_A.into(),
        audience: REALM.into(),
        name_id: "bob@denallix.com".into(),
        claims: vec![
            (CLAIM_WINDOWS_ACCOUNT_NAME.into(), "DENALLIX\\bob".into()),
            (CLAIM_ROLE.into(), "Sales".into()),
            (CLAIM_ROLE.into(), "Everyone".into()),
        ],
        issue_instant: now,
        not_before: now - Duration::minutes(1),
        not_on_or_after: now + Duration::hours(1),
        saml20: false,
        assertion_id: token::new_id(),
        recipient: None,
        in_response_to: None,
    }
}

/// A signed `wresult` (RSTR) for `spec`.
pub fn wresult(idp: &Idp, spec: &TokenSpec, context: Option<&str>) -> String {
    let a = token::signed_assertion(spec, &idp.key, &idp.cert).expect("sign");
    token::rstr(&a, spec, context)
}

/// The session cookie names of the standard realms.
pub const COOKIE: &str = "__Host-fedrp";
pub const SP_COOKIE: &str = "__Host-fedrp-sp";
