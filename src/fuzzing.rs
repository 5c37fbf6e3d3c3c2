//! Structure-aware mutations of signed tokens and the engine differential, shared by the
//! property tests and the cargo-fuzz targets. Not part of the supported API.
//!
//! Mutations work on the markup lexically (tags, text, comments), the way an attacker edits a
//! captured token: attribute, namespace, whitespace, character-reference, CDATA, comment, CR,
//! duplication and reordering edits.

use chrono::{DateTime, Utc};

use crate::token::input::{find, tag_end};
use crate::token::{Binding, ValidatedAssertion, Validator};

/// A small deterministic PRNG (xorshift64*), so every mutation is reproducible from its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seg {
    Start,
    End,
    Empty,
    Other,
    Text,
}

/// Splits a document into (kind, byte range) segments.
fn segments(s: &[u8]) -> Vec<(Seg, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'<' {
            let rest = &s[i..];
            let end = if rest.starts_with(b"<!--") {
                find(rest, b"-->").map(|e| e + 3)
            } else if rest.starts_with(b"<![CDATA[") {
                find(rest, b"]]>").map(|e| e + 3)
            } else if rest.starts_with(b"<?") {
                find(rest, b"?>").map(|e| e + 2)
            } else {
                tag_end(rest)
            };
            let Some(end) = end else { break };
            let kind = if rest.starts_with(b"</") {
                Seg::End
            } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
                Seg::Other
            } else if rest[..end].ends_with(b"/>") {
                Seg::Empty
            } else {
                Seg::Start
            };
            out.push((kind, i, i + end));
            i += end;
        } else {
            let end = s[i..]
                .iter()
                .position(|&c| c == b'<')
                .map_or(s.len(), |p| i + p);
            out.push((Seg::Text, i, end));
            i = end;
        }
    }
    out
}

/// The element (start segment index, end segment index) pairs.
fn elements(segs: &[(Seg, usize, usize)]) -> Vec<(usize, usize)> {
    let mut stack = Vec::new();
    let mut out = Vec::new();
    for (i, (k, _, _)) in segs.iter().enumerate() {
        match k {
            Seg::Start => stack.push(i),
            Seg::End => {
                if let Some(s) = stack.pop() {
                    out.push((s, i));
                }
            }
            Seg::Empty => out.push((i, i)),
            _ => {}
        }
    }
    out
}

/// Attribute byte ranges inside a start tag (`name="value"` spans).
fn attr_spans(tag: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
        i += 1;
    }
    loop {
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= tag.len() || tag[i] == b'>' || tag[i] == b'/' {
            break;
        }
        let start = i;
        while i < tag.len() && tag[i] != b'=' {
            i += 1;
        }
        i += 1;
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&q) = tag.get(i) else { break };
        if q != b'"' && q != b'\'' {
            break;
        }
        i += 1;
        while i < tag.len() && tag[i] != q {
            i += 1;
        }
        i += 1;
        out.push((start, i.min(tag.len())));
    }
    out
}

/// Applies one random structure-aware mutation.
pub fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let segs = segments(input);
    if segs.is_empty() {
        return input.to_vec();
    }
    let pick = |rng: &mut Rng, kind: &[Seg]| -> Option<(usize, usize, usize)> {
        let c: Vec<usize> = (0..segs.len())
            .filter(|&i| kind.contains(&segs[i].0))
            .collect();
        (!c.is_empty()).then(|| {
            let i = c[rng.below(c.len())];
            (i, segs[i].1, segs[i].2)
        })
    };
    let splice = |a: usize, b: usize, with: &[u8]| -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() + with.len());
        out.extend_from_slice(&input[..a]);
        out.extend_from_slice(with);
        out.extend_from_slice(&input[b..]);
        out
    };
    let tag_body_end = |s: usize, e: usize| if input[..e].ends_with(b"/>") { e - 2 } else { e - 1 } - s;
    match rng.below(18) {
        // Comment between two markup items.
        0 => {
            let (_, s, _) = pick(rng, &[Seg::Start, Seg::End, Seg::Empty]).unwrap_or((0, 0, 0));
            splice(s, s, b"<!--x-->")
        }
        // Whitespace (space, tab, LF, CR LF) before the end of a start tag.
        1 => match pick(rng, &[Seg::Start, Seg::Empty]) {
            Some((_, s, e)) => {
                let at = s + tag_body_end(s, e);
                let ws: &[&[u8]] = &[b" ", b"\t", b"\n", b"\r\n", b"  \n  "];
                splice(at, at, ws[rng.below(ws.len())])
            }
            None => input.to_vec(),
        },
        // A character of text as a character reference.
        2 => match pick(rng, &[Seg::Text]) {
            Some((_, s, e)) if e > s => {
                let at = s + rng.below(e - s);
                let c = input[at];
                if c.is_ascii_alphanumeric() {
                    splice(at, at + 1, format!("&#x{c:X};").as_bytes())
                } else {
                    input.to_vec()
                }
            }
            _ => input.to_vec(),
        },
        // Text as CDATA.
        3 => match pick(rng, &[Seg::Text]) {
            Some((_, s, e)) if e > s && !input[s..e].contains(&b'&') => {
                let mut with = b"<![CDATA[".to_vec();
                with.extend_from_slice(&input[s..e]);
                with.extend_from_slice(b"]]>");
                splice(s, e, &with)
            }
            _ => input.to_vec(),
        },
        // An unused namespace declaration on a start tag.
        4 => match pick(rng, &[Seg::Start, Seg::Empty]) {
            Some((_, s, e)) => {
                let at = s + tag_body_end(s, e);
                let decls: &[&[u8]] = &[
                    b" xmlns:zz=\"urn:zz\"",
                    b" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
                    b" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
                    b" xmlns=\"urn:other\"",
                    b" xmlns=\"\"",
                ];
                splice(at, at, decls[rng.below(decls.len())])
            }
            None => input.to_vec(),
        },
        // Swap two attributes of a start tag.
        5 => match pick(rng, &[Seg::Start, Seg::Empty]) {
            Some((_, s, e)) => {
                let tag = &input[s..e];
                let a = attr_spans(tag);
                if a.len() < 2 {
                    return input.to_vec();
                }
                let i = rng.below(a.len() - 1);
                let (x, y) = (a[i], a[i + 1]);
                let mut t = tag[..x.0].to_vec();
                t.extend_from_slice(&tag[y.0..y.1]);
                t.extend_from_slice(&tag[x.1..y.0]);
                t.extend_from_slice(&tag[x.0..x.1]);
                t.extend_from_slice(&tag[y.1..]);
                splice(s, e, &t)
            }
            None => input.to_vec(),
        },
        // Change one character of an attribute value.
        6 => match pick(rng, &[Seg::Start, Seg::Empty]) {
            Some((_, s, e)) => {
                let tag = &input[s..e];
                let a = attr_spans(tag);
                if a.is_empty() {
                    return input.to_vec();
                }
                let (x, y) = a[rng.below(a.len())];
                let Some(q) = tag[x..y].iter().position(|&c| c == b'"' || c == b'\'') else {
                    return input.to_vec();
                };
                let vs = x + q + 1;
                if y <= vs + 1 {
                    return input.to_vec();
                }
                let at = s + vs + rng.below(y - 1 - vs);
                let c = input[at];
                let n = if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    b'x'
                };
                splice(at, at + 1, &[n])
            }
            None => input.to_vec(),
        },
        // Swap two sibling elements (reordering).
        7 => {
            let els = elements(&segs);
            if els.len() < 2 {
                return input.to_vec();
            }
            let (a0, a1) = els[rng.below(els.len())];
            // the next element that starts right after this one ends
            let after = segs[a1].2;
            let next = els.iter().find(|(s, _)| {
                let st = segs[*s].1;
                st >= after && input[after..st].iter().all(u8::is_ascii_whitespace)
            });
            match next {
                Some(&(b0, b1)) => {
                    let (x0, x1) = (segs[a0].1, segs[a1].2);
                    let (y0, y1) = (segs[b0].1, segs[b1].2);
                    let mut w = input[y0..y1].to_vec();
                    w.extend_from_slice(&input[x1..y0]);
                    w.extend_from_slice(&input[x0..x1]);
                    splice(x0, y1, &w)
                }
                None => input.to_vec(),
            }
        }
        // Duplicate an element (wrapping-style copy).
        8 => {
            let els = elements(&segs);
            if els.is_empty() {
                return input.to_vec();
            }
            let (a0, a1) = els[rng.below(els.len())];
            let (x0, x1) = (segs[a0].1, segs[a1].2);
            if x0 == 0 {
                return input.to_vec();
            }
            let copy = input[x0..x1].to_vec();
            let els2: Vec<_> = els.iter().filter(|(s, _)| segs[*s].1 != 0).collect();
            let (b0, _) = els2[rng.below(els2.len())];
            let at = segs[*b0].1;
            splice(at, at, &copy)
        }
        // Literal CR in text (line-end normalisation).
        9 => match pick(rng, &[Seg::Text]) {
            Some((_, s, e)) => {
                let at = s + rng.below(e - s + 1);
                let w: &[&[u8]] = &[b"\r", b"\r\n", b"\n"];
                splice(at, at, w[rng.below(w.len())])
            }
            None => input.to_vec(),
        },
        // Whitespace inside an attribute value (attribute-value normalisation).
        10 => match pick(rng, &[Seg::Start, Seg::Empty]) {
            Some((_, s, e)) => {
                let tag = &input[s..e];
                let a = attr_spans(tag);
                if a.is_empty() {
                    return input.to_vec();
                }
                let (x, y) = a[rng.below(a.len())];
                let at = s + y - 1;
                let w: &[&[u8]] = &[b"\t", b"\n", b"&#10;", b"&#9;", b" ", b"\r\n", b"&#13;"];
                let _ = x;
                splice(at, at, w[rng.below(w.len())])
            }
            None => input.to_vec(),
        },
        // Predefined entity or character reference inserted into text.
        11 => match pick(rng, &[Seg::Text]) {
            Some((_, s, e)) => {
                let at = s + rng.below(e - s + 1);
                let w: &[&[u8]] = &[
                    b"&amp;",
                    b"&lt;",
                    b"&gt;",
                    b"&quot;",
                    b"&apos;",
                    b"&#x20;",
                    b"&#160;",
                    b"&undefined;",
                ];
                splice(at, at, w[rng.below(w.len())])
            }
            None => input.to_vec(),
        },
        // An xml:* or namespaced twin attribute.
        12 => match pick(rng, &[Seg::Start, Seg::Empty]) {
            Some((_, s, e)) => {
                let at = s + tag_body_end(s, e);
                let w: &[&[u8]] = &[
                    b" xml:space=\"preserve\"",
                    b" xml:lang=\"en\"",
                    b" xmlns:x=\"urn:x\" x:ID=\"evil\"",
                    b" ID=\"_evil\"",
                    b" AssertionID=\"_evil\"",
                ];
                splice(at, at, w[rng.below(w.len())])
            }
            None => input.to_vec(),
        },
        // Remove one markup segment (unbalances the tree: parsers must agree it is broken).
        13 => match pick(rng, &[Seg::Start, Seg::End, Seg::Empty, Seg::Other]) {
            Some((_, s, e)) => splice(s, e, b""),
            None => input.to_vec(),
        },
        // Change a character of text.
        14 => match pick(rng, &[Seg::Text]) {
            Some((_, s, e)) if e > s => {
                let at = s + rng.below(e - s);
                let c = input[at];
                if c.is_ascii_alphanumeric() {
                    splice(at, at + 1, &[if c == b'a' { b'b' } else { b'a' }])
                } else {
                    input.to_vec()
                }
            }
            _ => input.to_vec(),
        },
        // Change a prefix on a start/end tag pair.
        15 => {
            let els = elements(&segs);
            if els.is_empty() {
                return input.to_vec();
            }
            let (a0, _) = els[rng.below(els.len())];
            let (_, s, e) = segs[a0];
            let tag = &input[s..e];
            match tag.iter().position(|&c| c == b':') {
                Some(p) if tag[1..p].iter().all(|c| c.is_ascii_alphanumeric()) => {
                    splice(s + 1, s + p, b"zz")
                }
                _ => input.to_vec(),
            }
        }
        // Move whitespace: strip all whitespace-only text between tags once.
        16 => match pick(rng, &[Seg::Text]) {
            Some((_, s, e)) if input[s..e].iter().all(u8::is_ascii_whitespace) => splice(s, e, b""),
            _ => input.to_vec(),
        },
        // Processing instruction or DOCTYPE-like noise.
        _ => {
            let (_, s, _) = pick(rng, &[Seg::Start, Seg::End]).unwrap_or((0, 0, 0));
            let w: &[&[u8]] = &[b"<?pi x?>", b"<!-- -->", b"\n"];
            splice(s, s, w[rng.below(w.len())])
        }
    }
}

/// What one engine answered, reduced to what the engines must agree on.
#[derive(Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted: the digested bytes, subject and claims.
    Accept {
        /// Canonical bytes the covering signature digested.
        signed: Vec<u8>,
        /// Subject.
        subject: Option<String>,
        /// (type, value) claims.
        claims: Vec<(String, String)>,
    },
    /// Rejected with a code.
    Reject(&'static str),
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Accept {
                signed,
                subject,
                claims,
            } => write!(
                f,
                "Accept {{ subject: {subject:?}, {} claims, signed: {} }}",
                claims.len(),
                String::from_utf8_lossy(signed)
            ),
            Verdict::Reject(code) => write!(f, "Reject({code})"),
        }
    }
}

impl Verdict {
    /// From a validation result.
    pub fn of(r: &Result<ValidatedAssertion, crate::token::TokenError>) -> Verdict {
        match r {
            Ok(v) => Verdict::Accept {
                signed: v.signed_xml().to_vec(),
                subject: v.subject().map(str::to_owned),
                claims: v
                    .claims()
                    .into_iter()
                    .map(|c| (c.claim_type, c.value))
                    .collect(),
            },
            Err(e) => Verdict::Reject(e.reason.code()),
        }
    }
}

/// Runs both engines on `input`; `Err` describes a disagreement.
pub fn differential(
    reference: &Validator,
    streaming: &Validator,
    input: &[u8],
    binding: Binding,
    now: DateTime<Utc>,
) -> Result<Verdict, String> {
    let a = Verdict::of(&reference.validate(input, binding, now));
    let b = Verdict::of(&streaming.validate(input, binding, now));
    if a == b {
        Ok(a)
    } else {
        Err(format!("xmlsec: {a:?}\nstreaming: {b:?}"))
    }
}

/// The fixed scene every fuzz target and its regression test run in: the test IdP's trust
/// (`certs/idp-a.pem`), both engines configured alike, a clock inside the fixtures' lifetime
/// and the accepted baseline tokens of `fixtures/tokens/baseline`.
pub struct Harness {
    /// The libxmlsec1 reference engine.
    pub xmlsec: Validator,
    /// The streaming engine.
    pub streaming: Validator,
    /// Validation time.
    pub now: DateTime<Utc>,
    /// Accepted baseline tokens (posted bytes).
    pub baselines: Vec<Vec<u8>>,
}

impl Harness {
    /// Loads the scene from the repository at `root`. Panics on a broken checkout: this is
    /// test scaffolding, never run by the server.
    #[allow(clippy::expect_used, clippy::unwrap_used)]
    pub fn load(root: &std::path::Path) -> Harness {
        use crate::token::Policy;
        use crate::trust::{Engine, IssuerPolicy, TrustStore, TrustedIssuer, load_trust_file};

        let validator = |engine: Engine| {
            let (keys, _) =
                load_trust_file(&root.join("certs/idp-a.pem")).expect("certs/idp-a.pem");
            let issuer = TrustedIssuer::new(
                Some("https://idp-a.example.test/adfs/services/trust".into()),
                keys,
                Vec::new(),
                IssuerPolicy {
                    allow_sha1: true,
                    engine,
                    ..Default::default()
                },
            )
            .expect("issuer");
            let policy = Policy {
                audiences: vec!["urn:fedrp:test".into(), "https://rp.example.test/".into()],
                recipient: Some("https://rp.example.test/signin-saml".into()),
                engine_override: Some(engine),
                ..Default::default()
            };
            Validator::new(TrustStore::new(vec![issuer]), policy).expect("validator")
        };
        let now = DateTime::parse_from_rfc3339("2027-01-01T00:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let xmlsec = validator(Engine::Xmlsec);
        let streaming = validator(Engine::Streaming);
        let dir = root.join("fixtures/tokens/baseline");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixtures/tokens/baseline")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .collect();
        files.sort();
        let baselines: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(f).expect("baseline token"))
            .filter(|b| streaming.validate(b, Binding::Any, now).is_ok())
            .collect();
        assert!(!baselines.is_empty(), "no accepted baseline token");
        Harness {
            xmlsec,
            streaming,
            now,
            baselines,
        }
    }

    /// The `validate` target: arbitrary bytes into both engines; `Err` on disagreement.
    pub fn check_bytes(&self, data: &[u8]) -> Result<(), String> {
        differential(&self.xmlsec, &self.streaming, data, Binding::Any, self.now).map(drop)
    }

    /// The `differential` target: `data[0]` picks a baseline, each following 8-byte chunk (up
    /// to four) seeds one [`mutate`] step. The engines must agree on the mutant, and an
    /// accepted mutant must carry exactly the baseline's signed content and claims.
    pub fn check_mutant(&self, data: &[u8]) -> Result<(), String> {
        if data.len() < 3 {
            return Ok(());
        }
        let base = &self.baselines[data[0] as usize % self.baselines.len()];
        let mut m = base.clone();
        for chunk in data[1..].chunks(8).take(4) {
            let mut seed = [0u8; 8];
            seed[..chunk.len()].copy_from_slice(chunk);
            m = mutate(&m, &mut Rng::new(u64::from_le_bytes(seed)));
        }
        let mutant = || String::from_utf8_lossy(&m).into_owned();
        match differential(&self.xmlsec, &self.streaming, &m, Binding::Any, self.now) {
            Err(e) => Err(format!("engines disagree:\n{e}\n--- mutant:\n{}", mutant())),
            Ok(Verdict::Accept { signed, claims, .. }) => {
                match Verdict::of(&self.streaming.validate(base, Binding::Any, self.now)) {
                    Verdict::Accept {
                        signed: s0,
                        claims: c0,
                        ..
                    } if s0 == signed && c0 == claims => Ok(()),
                    _ => Err(format!("accepted changed content:\n{}", mutant())),
                }
            }
            Ok(Verdict::Reject(_)) => Ok(()),
        }
    }
}
