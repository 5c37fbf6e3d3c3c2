//! Form posts, checked before any parsing of their content: POST only, the urlencoded content
//! type only, a body cap enforced while reading (never buffering more than the cap), and no
//! parameter given twice anywhere (query and body together).

use actix_web::HttpRequest;
use actix_web::web::Payload;
use futures_util::StreamExt as _;

use super::error::Rejection;
use crate::Reason;

/// The parameters of a request (query + body), each name at most once.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The value of `name`, or `http.missing_param`.
    pub fn require(&self, name: &str) -> Result<&str, Rejection> {
        self.get(name)
            .ok_or_else(|| Rejection::new(Reason::HttpMissingParam, format!("{name} is missing")))
    }
}

fn parse_into(out: &mut Vec<(String, String)>, data: &[u8], where_: &str) -> Result<(), Rejection> {
    for (k, v) in url::form_urlencoded::parse(data) {
        if out.iter().any(|(x, _)| *x == k) {
            return Err(Rejection::new(
                Reason::HttpDupParam,
                format!("{k} given more than once ({where_})"),
            ));
        }
        out.push((k.into_owned(), v.into_owned()));
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
