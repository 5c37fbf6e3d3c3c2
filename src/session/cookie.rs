//! Cookie text: parsing the `Cookie` header, splitting a sealed blob into `__Host-` chunks and
//! formatting `Set-Cookie` values for both profiles.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::config::Profile;

/// Encoded characters per chunk (a multiple of 4 so chunks decode independently); with the
/// name and attributes each `Set-Cookie` stays under 4 KB.
pub const CHUNK_CHARS: usize = 3800;

/// Cookie attributes for a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieAttrs {
    /// Cookie / framing profile.
    pub profile: Profile,
}

impl CookieAttrs {
    /// `Set-Cookie` text. `max_age` in seconds; `None` for a browser-session cookie.
    pub fn set(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut s = String::with_capacity(name.len() + value.len() + 80);
        s.push_str(name);
        s.push('=');
        s.push_str(value);
        s.push_str("; Path=/; Secure; HttpOnly");
        match self.profile {
            Profile::TopLevel => s.push_str("; SameSite=Lax"),
            Profile::Iframe => s.push_str("; SameSite=None; Partitioned"),
        }
        if let Some(m) = max_age {
            s.push_str(&format!("; Max-Age={}", m.max(0)));
        }
        s
    }

    /// `Set-Cookie` text for a cross-site capable cookie (correlation: survives the IdP's
    /// cross-site POST back), whatever the profile.
    pub fn set_cross_site(&self, name: &str, value: &str, max_age: i64) -> String {
        let mut s = format!(
            "{name}={value}; Path=/; Secure; HttpOnly; SameSite=None; Max-Age={}",
            max_age.max(0)
        );
        if self.profile == Profile::Iframe {
            s.push_str("; Partitioned");
        }
        s
    }

    /// `Set-Cookie` text deleting `name`.
    pub fn delete(&self, name: &str) -> String {
        self.set(name, "", Some(0))
    }
}

/// The name of chunk `i` of cookie `base`.
pub fn chunk_name(base: &str, i: usize) -> String {
    if i == 0 {
        base.to_owned()
    } else {
        format!("{base}.{i}")
    }
}

/// Number of chunks a sealed blob of `len` bytes needs.
pub fn chunks_for(len: usize) -> usize {
    let enc = (len * 4).div_ceil(3);
    enc.div_ceil(CHUNK_CHARS).max(1)
}

/// Splits a blob into chunk values.
pub fn split(blob: &[u8]) -> Vec<String> {
    let enc = B64.encode(blob);
    enc.as_bytes()
        .chunks(CHUNK_CHARS)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// Decodes chunk 0 alone (to read the header) or the concatenation of all chunks.
pub fn decode(value: &str) -> Option<Vec<u8>> {
    B64.decode(value.as_bytes()).ok()
}

/// Cookies of a request, in header order.
pub struct Cookies<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Cookies<'a> {
    /// Parses every `Cookie` header value.
    pub fn parse<I: IntoIterator<Item = &'a str>>(headers: I) -> Cookies<'a> {
        let mut pairs = Vec::new();
        for h in headers {
            for part in h.split(';') {
                let part = part.trim();
                if let Some((k, v)) = part.split_once('=') {
                    pairs.push((k.trim(), v.trim()));
                }
            }
        }
        Cookies { pairs }
    }

    /// The value of `name`; `Err(())` when it is present more than once.
    #[allow(clippy::result_unit_err)]
    pub fn get(&self, name: &str) -> Result<Option<&'a str>, ()> {
        let mut it = self.pairs.iter().filter(|(k, _)| *k == name);
        let first = it.next().map(|(_, v)| *v);
        if it.next().is_some() {
            Err(())
        } else {
            Ok(first)
        }
    }

    /// Names starting with `prefix`.
    pub fn names_with_prefix(&self, prefix: &str) -> Vec<&'a str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| *k)
            .collect()
    }

    /// Whether any cookie is present.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_arithmetic_matches_encoding() {
        for len in [1usize, 2, 3, 100, 2849, 2850, 2851, 5700, 10_000] {
            let blob = vec![7u8; len];
            assert_eq!(split(&blob).len(), chunks_for(len), "len {len}");
            assert_eq!(decode(&split(&blob).concat()).unwrap(), blob);
        }
    }

    #[test]
    fn attributes_per_profile() {
        let top = CookieAttrs {
            profile: Profile::TopLevel,
        };
        assert_eq!(
            top.set("__Host-a", "v", None),
            "__Host-a=v; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        let fr = CookieAttrs {
            profile: Profile::Iframe,
        };
        assert_eq!(
            fr.delete("__Host-a"),
            "__Host-a=; Path=/; Secure; HttpOnly; SameSite=None; Partitioned; Max-Age=0"
        );
    }

    #[test]
    fn duplicate_cookie_names_are_ambiguous() {
        let c = Cookies::parse(["a=1; b=2", "a=3"]);
        assert!(c.get("a").is_err());
        assert_eq!(c.get("b"), Ok(Some("2")));
        assert_eq!(c.get("z"), Ok(None));
    }
}
