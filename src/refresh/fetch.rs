//! Fetching a metadata document over HTTPS (`awc` on the actix runtime, OpenSSL): certificate
//! and host name verification always on (system roots plus an optional CA file), no redirects
//! followed, HTTP/1.1, one deadline over connect, TLS, request and body, and a byte cap
//! (checked against `Content-Length` first, then while reading). No decompression.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod};
use url::Url;

/// How one fetch is bounded.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Extra trusted CA certificates (PEM), for a private PKI or tests.
    pub ca_file: Option<PathBuf>,
    /// The whole fetch, connect to last byte.
    pub timeout: Duration,
    /// The largest body accepted.
    pub max_bytes: usize,
}

/// Fetches `url`. Must run on an actix (tokio local) runtime.
pub async fn fetch(url: &Url, o: &FetchOptions) -> Result<Vec<u8>, String> {
    match actix_web::rt::time::timeout(o.timeout, fetch_inner(url, o)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no complete answer within {} s (metadata_timeout_secs)",
            o.timeout.as_secs()
        )),
    }
}

async fn fetch_inner(url: &Url, o: &FetchOptions) -> Result<Vec<u8>, String> {
    let mut ssl = SslConnector::builder(SslMethod::tls()).map_err(|e| format!("TLS: {e}"))?;
    if let Some(ca) = &o.ca_file {
        ssl.set_ca_file(ca)
            .map_err(|e| format!("metadata_ca_file {}: {e}", ca.display()))?;
    }
    ssl.set_alpn_protos(b"\x08http/1.1")
        .map_err(|e| format!("TLS: {e}"))?;
    // HTTP/1.1 through ALPN above: awc's `max_http_version` (client or connector) would replace
    // this TLS configuration, and with it the CA file, by a default one.
    let connector = awc::Connector::new()
        .openssl(ssl.build())
        .timeout(o.timeout)
        .handshake_timeout(o.timeout);
    let client = awc::Client::builder()
        .connector(connector)
        .timeout(o.timeout)
        .disable_redirects()
        .finish();
    let mut resp = client
        .get(url.as_str())
        .insert_header((
            "Accept",
            "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8",
        ))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    if status.is_redirection() {
        let to = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?")
            .to_owned();
        return Err(format!(
            "HTTP {status}: redirect to {to:?} not followed (configure the final URL)"
        ));
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let body = resp.body().limit(o.max_bytes).await.map_err(|e| match e {
        awc::error::PayloadError::Overflow => format!(
            "the document is larger than {} bytes (metadata_max_bytes)",
            o.max_bytes
        ),
        e => format!("reading the body: {e}"),
    })?;
    Ok(body.to_vec())
}

/// Fetches every `(tag, url, options)` at once on a runtime of its own (on a helper thread), for
/// synchronous callers: start-up and `check-config`.
pub fn fetch_blocking<T: Send + 'static>(
    jobs: Vec<(T, Url, FetchOptions)>,
) -> Vec<(T, Result<Vec<u8>, String>)> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let worker = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let running: Vec<_> = jobs
                .into_iter()
                .map(|(tag, url, o)| {
                    let h = actix_web::rt::spawn(async move { fetch(&url, &o).await });
                    (tag, h)
                })
                .collect();
            let mut out = Vec::new();
            for (tag, h) in running {
                let r = h
                    .await
                    .unwrap_or_else(|e| Err(format!("fetch task failed: {e}")));
                out.push((tag, r));
            }
            out
        })
    });
    worker.join().unwrap_or_default()
}

/// Reads a metadata file, refusing one larger than `max_bytes` before reading it.
pub fn read_capped(path: &Path, max_bytes: usize) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if len > max_bytes as u64 {
        return Err(format!(
            "{}: {len} bytes is larger than {max_bytes} (metadata_max_bytes)",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory, written
/// and synced, then renamed over `path` (readers see the old or the new document, never a part).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        TMP_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable (best effort: not every platform syncs directories).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok::<(), std::io::Error>(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("fedrp-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("md.xml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["md.xml".to_owned()]);
        assert!(write_atomic(&dir.join("missing-dir/x.xml"), b"x").is_err());
        assert!(read_capped(&p, 2).unwrap_err().contains("larger than 2"));
        assert_eq!(read_capped(&p, 3).unwrap(), b"two");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
