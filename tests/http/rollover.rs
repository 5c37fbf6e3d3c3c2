//! Signing-key rollover through federation metadata, end to end: a metadata server on
//! 127.0.0.1 (actix over TLS with `certs/rp-tls`, trusted through `metadata_ca_file`) that the
//! test switches between documents, and real WS-Fed sign-ins against the app.
//!
//! Keys: "old" = `certs/idp-a`, "new" = `certs/idp-b`, an unpublished key = `certs/attacker`,
//! the metadata signer (when a signature is required) = `certs/idp-ca-leaf`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse, HttpServer};
use chrono::{DateTime, Duration, Utc};
use fedrp::devidp::metadata::{MetadataSpec, metadata_document};
use openssl::pkey::PKey;
use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
use openssl::x509::X509;
use serde_json::Value;

use crate::helpers::*;

const IDP: &str = "https://adfs.example.test/adfs/services/trust";
const MD_PATH: &str = "/FederationMetadata/2007-06/FederationMetadata.xml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the metadata server answers.
#[derive(Clone)]
enum Serve {
    Doc(Vec<u8>),
    Status(u16),
}

/// A metadata server on 127.0.0.1 (HTTPS), switchable, counting requests.
struct MdServer {
    port: u16,
    serve: Arc<Mutex<Serve>>,
    hits: Arc<AtomicUsize>,
    handle: Option<actix_web::dev::ServerHandle>,
}

async fn answer(serve: Data<Arc<Mutex<Serve>>>, hits: Data<Arc<AtomicUsize>>) -> HttpResponse {
    hits.fetch_add(1, Ordering::SeqCst);
    let s = serve.lock().unwrap().clone();
    match s {
        Serve::Doc(d) => HttpResponse::Ok()
            .content_type("application/samlmetadata+xml")
            .body(d),
        Serve::Status(c) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(c).unwrap()).finish()
        }
    }
}

impl MdServer {
    fn start(first: Serve) -> MdServer {
        let serve = Arc::new(Mutex::new(first));
        let hits = Arc::new(AtomicUsize::new(0));
        let (s2, h2) = (Arc::clone(&serve), Arc::clone(&hits));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let port = listener.local_addr().unwrap().port();
                let mut tls = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
                tls.set_private_key_file(root().join("certs/rp-tls.key"), SslFiletype::PEM)
                    .unwrap();
                tls.set_certificate_chain_file(root().join("certs/rp-tls.pem"))
                    .unwrap();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(Data::new(Arc::clone(&s2)))
                        .app_data(Data::new(Arc::clone(&h2)))
                        .route(MD_PATH, web::get().to(answer))
                })
                .workers(1)
                .shutdown_timeout(1)
                .listen_openssl(listener, tls)
                .unwrap()
                .run();
                tx.send((port, server.handle())).unwrap();
                let _ = server.await;
            })
        });
        let (port, handle) = rx.recv_timeout(StdDuration::from_secs(30)).unwrap();
        MdServer {
            port,
            serve,
            hits,
            handle: Some(handle),
        }
    }

    fn set(&self, s: Serve) {
        *self.serve.lock().unwrap() = s;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}{MD_PATH}", self.port)
    }

    /// Stops listening (connections are refused from then on).
    fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            actix_web::rt::System::new().block_on(h.stop(true));
        }
    }
}

impl Drop for MdServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            drop(h.stop(false));
        }
    }
}

/// A key pair from `certs/`.
fn pair(name: &str) -> Idp {
    let key = std::fs::read(root().join(format!("certs/{name}.key"))).unwrap();
    let pem = root().join(format!("certs/{name}.pem"));
    Idp {
        key: PKey::private_key_from_pem(&key).unwrap(),
        cert: X509::from_pem(&std::fs::read(&pem).unwrap()).unwrap(),
        pem,
    }
}

struct Keys {
    old: Idp,
    new: Idp,
    unknown: Idp,
    md_signer: Idp,
}

fn keys() -> Keys {
    Keys {
        old: pair("idp-a"),
        new: pair("idp-b"),
        unknown: pair("attacker"),
        md_signer: pair("idp-ca-leaf"),
    }
}

/// ADFS-style metadata listing `certs`, signed by `signer` when given.
fn md(certs: &[&Idp], valid_until: Option<DateTime<Utc>>, signer: Option<&Idp>) -> Vec<u8> {
    let spec = MetadataSpec {
        entity_id: IDP.into(),
        signing_certs: certs.iter().map(|c| c.cert.as_ref()).collect(),
        passive_endpoint: Some("https://adfs.example.test/adfs/ls/".into()),
        valid_until,
        ..Default::default()
    };
    metadata_document(&spec, signer.map(|s| (s.key.as_ref(), s.cert.as_ref()))).unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "fedrp-rollover-{tag}-{}-{}",
        std::process::id(),
        fedrp::devidp::token::new_id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One issuer fed by the metadata server, one realm; `extra` goes into the issuer.
fn config(server: &MdServer, backing: &std::path::Path, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
expose_reason_header = true
workers = 1

[session]
keys = ["{key}"]

[[issuers]]
name = "adfs"
entity_id = "{IDP}"
signin_url = "https://adfs.example.test/adfs/ls/"
allow_unsolicited = true
metadata_url = "{url}"
metadata_file = {backing:?}
metadata_ca_file = {ca:?}
metadata_timeout_secs = 5
{extra}

[[realms]]
name = "app"
realm = "{REALM}"
landing_path = "/app/"
"#,
        key = key_b64(3),
        url = server.url(),
        backing = backing.display().to_string(),
        ca = root().join("certs/rp-tls.pem").display().to_string(),
    )
}

/// A complete solicited WS-Fed sign-in with a token signed by `idp`.
fn sign_in(app: &TestApp, idp: &Idp) -> Response {
    let mut jar = Jar::default();
    let (_, wctx) = app.start_signin(&mut jar, "ru=%2Fapp%2Fpage");
    let mut s = spec(app.now());
    s.issuer = IDP.into();
    let wresult = wresult(idp, &s, Some(&wctx));
    app.post_form(
        "/signin-wsfed",
        &[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &wctx)],
        &jar,
    )
}

/// An unsolicited post (no state), for floods.
fn post_unsolicited(port: u16, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(StdDuration::from_secs(60))).ok();
    let req = format!(
        "POST /signin-wsfed HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[track_caller]
fn signed_in(r: &Response) {
    assert_eq!(r.status, 303, "{:?} {}", r.reason(), r.text());
}

fn trust(app: &TestApp) -> Value {
    let r = app.get("/healthz/trust", &Jar::default());
    serde_json::from_slice(&r.body).unwrap()
}

fn trusted_keys(app: &TestApp) -> Vec<String> {
    let t = trust(app);
    let mut k: Vec<String> = t["issuers"][0]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["sha256"].as_str().unwrap().to_owned())
        .collect();
    k.sort();
    k
}

fn sha256(idp: &Idp) -> String {
    let der = idp.cert.to_der().unwrap();
    openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &der)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Bounded polling: `cond` within 30 s, checked every 50 ms.
#[track_caller]
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + StdDuration::from_secs(30);
    while Instant::now() < end {
        if cond() {
            return;
        }
        std::thread::sleep(StdDuration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn rollover_old_then_both_then_new_without_a_failed_sign_in() {
    let k = keys();
    let server = MdServer::start(Serve::Doc(md(&[&k.old], None, None)));
    let dir = temp_dir("rollover");
    // Background refresh every second (floor 1 s): the scheduled refresh does the work here.
    let app = spawn_with(&config(
        &server,
        &dir.join("md.xml"),
        "metadata_refresh_secs = 1\nmetadata_min_refresh_secs = 1",
    ));
    signed_in(&sign_in(&app, &k.old));
    assert_eq!(trusted_keys(&app), vec![sha256(&k.old)]);

    // The IdP publishes its next key (ADFS: the secondary certificate) ahead of time.
    server.set(Serve::Doc(md(&[&k.old, &k.new], None, None)));
    wait_for("both keys trusted", || trusted_keys(&app).len() == 2);
    signed_in(&sign_in(&app, &k.old));
    // The IdP switches to the new key: sign-ins go on.
    signed_in(&sign_in(&app, &k.new));

    // The old key is withdrawn from the metadata.
    server.set(Serve::Doc(md(&[&k.new], None, None)));
    wait_for("only the new key trusted", || {
        trusted_keys(&app) == vec![sha256(&k.new)]
    });
    signed_in(&sign_in(&app, &k.new));
    sign_in(&app, &k.old).rejected(403, "sig.key_untrusted");

    // The backing file holds the last good document.
    let backing = std::fs::read(dir.join("md.xml")).unwrap();
    assert!(backing.starts_with(b"<?xml"));
    let t = trust(&app);
    let i = &t["issuers"][0];
    assert_eq!(i["state"], "ok");
    assert!(i["refreshes"]["success"].as_u64().unwrap() >= 3, "{i}");
    assert!(
        i["next_refresh"].is_string() && i["last_success"].is_string(),
        "{i}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_key_triggers_one_refresh_and_the_token_then_succeeds() {
    let k = keys();
    let server = MdServer::start(Serve::Doc(md(&[&k.old], None, None)));
    let dir = temp_dir("ondemand");
    let app = spawn_with(&config(&server, &dir.join("md.xml"), ""));
    assert_eq!(server.hits(), 1, "the start-up fetch");
    signed_in(&sign_in(&app, &k.old));
    // The IdP rolled over to a key the 12-hour refresh has not seen yet.
    server.set(Serve::Doc(md(&[&k.old, &k.new], None, None)));
    signed_in(&sign_in(&app, &k.new));
    assert_eq!(server.hits(), 2, "exactly one on-demand refresh");
    // Known now: no further fetch.
    signed_in(&sign_in(&app, &k.new));
    assert_eq!(server.hits(), 2);
    let t = trust(&app);
    assert_eq!(t["issuers"][0]["refreshes"]["on_demand"], 1);
    let metrics = app.get("/metrics", &Jar::default()).text();
    assert!(
        metrics.contains(&format!(
            "fedrp_trust_key_expiry_seconds{{issuer=\"adfs\",thumbprint=\"{}\"}}",
            sha256(&k.new)
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("fedrp_metadata_refresh_total{issuer=\"adfs\",result=\"success\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("fedrp_metadata_on_demand_total{issuer=\"adfs\",result=\"refreshed\"} 1")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_flood_of_unknown_key_tokens_causes_at_most_the_allowed_refreshes() {
    let k = keys();
    let server = MdServer::start(Serve::Doc(md(&[&k.old], None, None)));
    let dir = temp_dir("flood");
    let app = spawn_with(&config(&server, &dir.join("md.xml"), ""));
    assert_eq!(server.hits(), 1);
    // 24 concurrent unsolicited posts signed by a key the IdP never publishes.
    let mut s = spec(app.now());
    s.issuer = IDP.into();
    let bodies: Vec<String> = (0..24)
        .map(|_| {
            s.assertion_id = fedrp::devidp::token::new_id();
            let w = wresult(&k.unknown, &s, None);
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("wa", "wsignin1.0"), ("wresult", w.as_str())])
                .finish()
        })
        .collect();
    let port = app.port;
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let handles: Vec<_> = bodies
            .iter()
            .map(|b| sc.spawn(move || post_unsolicited(port, b)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|&c| c == 403), "{statuses:?}");
    assert_eq!(
        server.hits(),
        2,
        "one on-demand refresh for the whole flood"
    );
    // Still within the 5 minutes: no fetch.
    assert_eq!(post_unsolicited(port, &bodies[0]), 403);
    assert_eq!(server.hits(), 2);
    // After them: one more is allowed.
    app.clock.advance(Duration::seconds(301));
    assert_eq!(post_unsolicited(port, &bodies[1]), 403);
    assert_eq!(post_unsolicited(port, &bodies[2]), 403);
    assert_eq!(server.hits(), 3);
    let t = trust(&app);
    assert!(
        t["issuers"][0]["refreshes"]["on_demand_rate_limited"]
            .as_u64()
            .unwrap()
            >= 2
    );
    // The known key still signs in.
    signed_in(&sign_in(&app, &k.old));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metadata_server_down_keeps_the_last_good_trust_and_a_restart_uses_the_backing_file() {
    let k = keys();
    let mut server = MdServer::start(Serve::Doc(md(&[&k.old], None, None)));
    let dir = temp_dir("down");
    let text = config(&server, &dir.join("md.xml"), "");
    let app = spawn_with(&text);
    signed_in(&sign_in(&app, &k.old));
    // The IdP's metadata endpoint fails: an unknown-key token asks for a refresh, which fails.
    server.set(Serve::Status(503));
    sign_in(&app, &k.new).rejected(403, "sig.key_untrusted");
    assert_eq!(server.hits(), 2);
    signed_in(&sign_in(&app, &k.old));
    let t = trust(&app);
    let i = &t["issuers"][0];
    assert_eq!(i["state"], "stale");
    assert!(i["last_error"].as_str().unwrap().contains("503"), "{i}");
    assert_eq!(i["keys"][0]["sha256"], sha256(&k.old));
    // Unreachable altogether, and fedrp restarts: the backing file carries it.
    server.stop();
    drop(app);
    let app = spawn_with(&text);
    signed_in(&sign_in(&app, &k.old));
    let t = trust(&app);
    let i = &t["issuers"][0];
    assert_eq!(i["document"]["origin"], "backing_file");
    assert!(i["last_error"].is_string(), "{i}");
    // Without the backing file there is nothing to start from: fedrp refuses to start.
    std::fs::remove_file(dir.join("md.xml")).unwrap();
    let config = fedrp::config::Config::from_toml(&text, &root(), None, &[]).unwrap();
    let clock: Arc<dyn fedrp::http::Clock> = Arc::new(fedrp::http::FixedClock::new(t0()));
    let m = fedrp::refresh::TrustManager::new(&config, clock, true);
    assert_eq!(m.startup_errors().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_documents_are_refused_and_the_old_trust_kept() {
    let k = keys();
    let good = |certs: &[&Idp]| md(certs, None, Some(&k.md_signer));
    let server = MdServer::start(Serve::Doc(good(&[&k.old])));
    let dir = temp_dir("bad");
    let app = spawn_with(&config(
        &server,
        &dir.join("md.xml"),
        &format!(
            "metadata_signing_certs = [{:?}]\nmetadata_max_bytes = 65536",
            root().join("certs/idp-ca-leaf.pem").display().to_string()
        ),
    ));
    signed_in(&sign_in(&app, &k.old));
    let expired = md(
        &[&k.old, &k.new],
        Some(t0() - Duration::hours(1)),
        Some(&k.md_signer),
    );
    let mut oversized = good(&[&k.old, &k.new]);
    oversized.extend(std::iter::repeat_n(b' ', 70_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"<html>maintenance</html>".to_vec(),
            "not SAML metadata",
        ),
        ("oversized", oversized, "metadata_max_bytes"),
        ("expired", expired, "validUntil"),
        (
            "wrongly signed",
            md(&[&k.old, &k.new], None, Some(&k.unknown)),
            "sig.key_untrusted",
        ),
        ("unsigned", md(&[&k.old, &k.new], None, None), "sig.missing"),
    ];
    let mut hits = server.hits();
    for (what, doc, needle) in cases {
        server.set(Serve::Doc(doc));
        app.clock.advance(Duration::seconds(301));
        // The new key's token asks for a refresh; the document is refused, the token too.
        sign_in(&app, &k.new).rejected(403, "sig.key_untrusted");
        hits += 1;
        assert_eq!(server.hits(), hits, "{what}");
        let t = trust(&app);
        let i = &t["issuers"][0];
        assert!(
            i["last_error"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{what}: {i}"
        );
        assert_eq!(trusted_keys(&app), vec![sha256(&k.old)], "{what}");
        signed_in(&sign_in(&app, &k.old));
    }
    // A good document again: the new key is trusted on the next on-demand refresh.
    server.set(Serve::Doc(good(&[&k.old, &k.new])));
    app.clock.advance(Duration::seconds(301));
    signed_in(&sign_in(&app, &k.new));
    let t = trust(&app);
    assert_eq!(t["issuers"][0]["state"], "ok");
    assert!(t["issuers"][0]["document"]["signed_by"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_config_shows_the_trust_state() {
    let k = keys();
    let server = MdServer::start(Serve::Doc(md(&[&k.old, &k.new], None, None)));
    let dir = temp_dir("checkconfig");
    let file = dir.join("fedrp.toml");
    std::fs::write(&file, config(&server, &dir.join("md.xml"), "")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(["check-config", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for needle in [
        "trust (at ",
        "issuer adfs (https://adfs.example.test/adfs/services/trust): ok",
        &server.url(),
        "(backing)",
        "last success",
        &sha256(&k.old),
        &sha256(&k.new),
        "days left",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
    // Offline with the backing file the first run wrote; then with nothing at all: exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(["check-config", "--json", "--offline", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        j["trust"]["issuers"][0]["document"]["origin"],
        "backing_file"
    );
    assert_eq!(
        j["trust"]["issuers"][0]["keys"].as_array().unwrap().len(),
        2
    );
    std::fs::remove_file(dir.join("md.xml")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fedrp"))
        .args(["check-config", "--offline", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ERROR: issuer adfs: no trusted key"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_metadata_server_certificate_is_verified() {
    let k = keys();
    let server = MdServer::start(Serve::Doc(md(&[&k.old], None, None)));
    let dir = temp_dir("tls");
    // Without metadata_ca_file the self-signed server certificate is not trusted.
    let text: String = config(&server, &dir.join("md.xml"), "")
        .lines()
        .filter(|l| !l.starts_with("metadata_ca_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let config = fedrp::config::Config::from_toml(&text, &root(), None, &[]).unwrap();
    let clock: Arc<dyn fedrp::http::Clock> = Arc::new(fedrp::http::FixedClock::new(t0()));
    let m = fedrp::refresh::TrustManager::new(&config, clock, true);
    let errors = m.startup_errors();
    assert!(
        errors.len() == 1 && errors[0].contains("certificate verify failed"),
        "{errors:?}"
    );
    assert!(
        !dir.join("md.xml").exists(),
        "nothing is written from a refused fetch"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
