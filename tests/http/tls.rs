//! fedrp terminating TLS itself (`server.tls_*`, here `certs/rp-tls.*`): HTTPS works, HSTS is
//! sent, and the public URL is https.

use std::io::{Read, Write};
use std::net::TcpStream;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};

use crate::helpers::*;

#[test]
fn https_with_hsts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let extra = "";
    let text = config_text("", extra).replace(
        "expose_reason_header = true",
        &format!(
            "expose_reason_header = true\ntls_cert_file = {:?}\ntls_key_file = {:?}",
            root.join("certs/rp-tls.pem").display().to_string(),
            root.join("certs/rp-tls.key").display().to_string()
        ),
    );
    let app = spawn_with(&text);
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let connector = b.build();
    let tcp = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    let mut tls = connector.connect("localhost", tcp).unwrap();
    let req = format!(
        "GET /app/ HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
        app.port
    );
    tls.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 302"), "{text}");
    assert!(
        text.contains("strict-transport-security: max-age=31536000; includesubdomains"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "wreply=https%3a%2f%2flocalhost%3a{}%2fsignin-wsfed",
            app.port
        )),
        "{text}"
    );
}
