//! Form posts, checked before any parsing of their content: POST only, the urlencoded content
//! type only, a body cap enforced while reading (never buffering more than the cap), and no
//! parameter given twice anywhere (query and body together).
//!
//! Values are percent-decoded to bytes exactly once. The token parameters (`wresult`,
//! `SAMLResponse`) stay bytes and reach the token core unchanged (no lossy UTF-8 repair that
//! would change what is verified); every other value must be UTF-8 (`http.content_type`).

use actix_web::HttpRequest;
use actix_web::web::Payload;
use futures_util::StreamExt as _;

use super::error::Rejection;
use crate::Reason;

/// Parameters whose values are tokens: kept as bytes.
const BINARY: &[&str] = &["wresult", "SAMLResponse"];

/// The parameters of a request (query + body), each name at most once.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, Vec<u8>)>);

impl Params {
    /// The text value of `name` (every non-token value is checked to be UTF-8).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.bytes(name).and_then(|v| std::str::from_utf8(v).ok())
    }
    /// The raw value of `name`.
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }
    /// The text value of `name`, or `http.missing_param`.
    pub fn require(&self, name: &str) -> Result<&str, Rejection> {
        self.get(name)
            .ok_or_else(|| Rejection::new(Reason::HttpMissingParam, format!("{name} is missing")))
    }
    /// The raw value of `name`, or `http.missing_param`.
    pub fn require_bytes(&self, name: &str) -> Result<&[u8], Rejection> {
        self.bytes(name)
            .ok_or_else(|| Rejection::new(Reason::HttpMissingParam, format!("{name} is missing")))
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space, `%XX`
/// a byte; a `%` not followed by two hex digits stays as it is (as the WHATWG parser does).
fn decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn parse_into(
    out: &mut Vec<(String, Vec<u8>)>,
    data: &[u8],
    where_: &str,
) -> Result<(), Rejection> {
    for pair in data.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        let name = String::from_utf8(decode(k)).map_err(|_| {
            Rejection::new(Reason::HttpContentType, "a parameter name is not UTF-8")
        })?;
        let value = decode(v);
        if !BINARY.contains(&name.as_str()) && std::str::from_utf8(&value).is_err() {
            return Err(Rejection::new(
                Reason::HttpContentType,
                format!("{name} is not UTF-8"),
            ));
        }
        if out.iter().any(|(x, _)| *x == name) {
            return Err(Rejection::new(
                Reason::HttpDupParam,
                format!("{name} given more than once ({where_})"),
            ));
        }
        out.push((name, value));
    }
    Ok(())
}

/// Query parameters only (GET endpoints).
pub fn query(req: &HttpRequest) -> Result<Params, Rejection> {
    let mut out = Vec::new();
    parse_into(&mut out, req.query_string().as_bytes(), "query")?;
    Ok(Params(out))
}

/// A form POST: checks method, content type and size, then parses query + body.
pub async fn read_post(
    req: &HttpRequest,
    mut payload: Payload,
    max: usize,
) -> Result<Params, Rejection> {
    if req.method() != actix_web::http::Method::POST {
        return Err(Rejection::new(
            Reason::HttpMethod,
            format!("{} instead of POST", req.method()),
        ));
    }
    let ct = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Rejection::new(
            Reason::HttpContentType,
            format!("content type {ct:?}"),
        ));
    }
    if let Some(len) = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(Rejection::new(
            Reason::HttpTooLarge,
            format!("Content-Length {len} over the {max} byte cap"),
        ));
    }
    let mut body = Vec::with_capacity(8 * 1024);
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| Rejection::new(Reason::HttpTooLarge, format!("body: {e}")))?;
        if body.len() + chunk.len() > max {
            return Err(Rejection::new(
                Reason::HttpTooLarge,
                format!("body over the {max} byte cap"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let mut out = Vec::new();
    parse_into(&mut out, req.query_string().as_bytes(), "query")?;
    let mut body_params = Vec::new();
    parse_into(&mut body_params, &body, "body")?;
    for (k, v) in body_params {
        if out.iter().any(|(x, _)| *x == k) {
            return Err(Rejection::new(
                Reason::HttpDupParam,
                format!("{k} in both the query and the body"),
            ));
        }
        out.push((k, v));
    }
    Ok(Params(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_bytewise_and_exactly_once() {
        assert_eq!(decode(b"a+b%20c%2Bd"), b"a b c+d");
        assert_eq!(decode(b"%FF%FE%3C"), vec![0xFF, 0xFE, b'<']);
        assert_eq!(decode(b"%25%3C"), b"%<");
        assert_eq!(decode(b"100%"), b"100%");
        assert_eq!(decode(b"%4"), b"%4");
        assert_eq!(decode(b"%zz"), b"%zz");
        let mut out = Vec::new();
        assert!(parse_into(&mut out, b"wresult=%FF%FE&wctx=ok", "body").is_ok());
        assert!(parse_into(&mut Vec::new(), b"wctx=%FF", "body").is_err());
        assert!(parse_into(&mut Vec::new(), b"a=1&a=2", "body").is_err());
    }
}
