//! SAML 2.0 / WS-Federation metadata: entity IDs, signing keys (every one, for rollover),
//! endpoints and validity, read with the strict reader.

use chrono::{DateTime, Utc};

use super::keys::{TrustedKey, cert_from_der_or_base64};
use crate::xml::{self, Document, NodeId, ParseOptions};

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const FED: &str = "http://docs.oasis-open.org/wsfed/federation/200706";
const WSA: &str = "http://www.w3.org/2005/08/addressing";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One entity in a metadata document.
#[derive(Clone, Debug)]
pub struct EntityMetadata {
    /// `entityID`.
    pub entity_id: String,
    /// Every signing key of its IdP / STS roles (`use="signing"` or no `use`).
    pub signing_keys: Vec<TrustedKey>,
    /// SAML 2.0 SingleSignOnService locations with their bindings.
    pub sso_services: Vec<(String, String)>,
    /// WS-Federation passive requestor endpoints (the `wsignin1.0` URL).
    pub passive_endpoints: Vec<String>,
    /// `validUntil` on the entity or an enclosing EntitiesDescriptor (the earliest).
    pub valid_until: Option<DateTime<Utc>>,
    /// `cacheDuration` in seconds (the smallest found).
    pub cache_duration_secs: Option<u64>,
}

/// A parsed metadata document.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// The entities it describes.
    pub entities: Vec<EntityMetadata>,
}

impl Metadata {
    /// The entity whose `entityID` is `entity_id`.
    pub fn entity(&self, entity_id: &str) -> Option<&EntityMetadata> {
        self.entities.iter().find(|e| e.entity_id == entity_id)
    }

    /// Parses metadata bytes. `source` names the file or URL in messages.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Metadata, String> {
        let opts = ParseOptions {
            limits: xml::Limits {
                max_bytes: 16 << 20,
                max_nodes: 1_000_000,
                ..Default::default()
            },
            ..Default::default()
        };
        let doc = xml::parse(bytes, &opts).map_err(|e| format!("{source}: {e}"))?;
        let root = doc.root();
        let mut entities = Vec::new();
        if doc.is(root, MD, "EntityDescriptor") {
            entities.push(entity(&doc, root, source, None, None)?);
        } else if doc.is(root, MD, "EntitiesDescriptor") {
            collect(&doc, root, source, None, None, &mut entities)?;
        } else {
            return Err(format!(
                "{source}: not SAML metadata (document element {{{}}}{})",
                doc.ns(root),
                doc.local(root)
            ));
        }
        if entities.is_empty() {
            return Err(format!("{source}: no EntityDescriptor"));
        }
        Ok(Metadata { entities })
    }
}

fn valid_until(doc: &Document, n: NodeId, source: &str) -> Result<Option<DateTime<Utc>>, String> {
    match doc.attr(n, "", "validUntil") {
        None => Ok(None),
        Some(v) => xml::datetime::parse_utc(v)
            .map(Some)
            .ok_or_else(|| format!("{source}: validUntil {v:?} is not a UTC xs:dateTime")),
    }
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn collect(
    doc: &Document,
    n: NodeId,
    source: &str,
    until: Option<DateTime<Utc>>,
    cache: Option<u64>,
    out: &mut Vec<EntityMetadata>,
) -> Result<(), String> {
    let until = min_opt(until, valid_until(doc, n, source)?);
    let cache = min_opt(
        cache,
        doc.attr(n, "", "cacheDuration")
            .and_then(xml::datetime::parse_duration_secs),
    );
    for c in doc.elements(n) {
        if doc.is(c, MD, "EntityDescriptor") {
            out.push(entity(doc, c, source, until, cache)?);
        } else if doc.is(c, MD, "EntitiesDescriptor") {
            collect(doc, c, source, until, cache, out)?;
        }
    }
    Ok(())
}

fn entity(
    doc: &Document,
    n: NodeId,
    source: &str,
    until: Option<DateTime<Utc>>,
    cache: Option<u64>,
) -> Result<EntityMetadata, String> {
    let entity_id = doc
        .attr(n, "", "entityID")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{source}: EntityDescriptor without entityID"))?
        .to_owned();
    let mut e = EntityMetadata {
        entity_id,
        signing_keys: Vec::new(),
        sso_services: Vec::new(),
        passive_endpoints: Vec::new(),
        valid_until: min_opt(until, valid_until(doc, n, source)?),
        cache_duration_secs: min_opt(
            cache,
            doc.attr(n, "", "cacheDuration")
                .and_then(xml::datetime::parse_duration_secs),
        ),
    };
    for role in doc.elements(n) {
        let is_idp = doc.is(role, MD, "IDPSSODescriptor");
        let is_sts = doc.is(role, MD, "RoleDescriptor")
            && doc.attr(role, XSI, "type").is_some_and(|t| {
                t.ends_with(":SecurityTokenServiceType") || t == "SecurityTokenServiceType"
            });
        if !is_idp && !is_sts {
            continue;
        }
        for c in doc.elements(role) {
            if doc.is(c, MD, "KeyDescriptor") {
                if doc.attr(c, "", "use").is_some_and(|u| u != "signing") {
                    continue;
                }
                for ki in doc.elements(c).filter(|&k| doc.is(k, DS, "KeyInfo")) {
                    for xd in doc.elements(ki).filter(|&k| doc.is(k, DS, "X509Data")) {
                        for xc in doc
                            .elements(xd)
                            .filter(|&k| doc.is(k, DS, "X509Certificate"))
                        {
                            let text = doc.simple_text(xc).unwrap_or_default();
                            let cert =
                                cert_from_der_or_base64(text.as_bytes()).ok_or_else(|| {
                                    format!(
                                        "{source}: unreadable X509Certificate in {}",
                                        e.entity_id
                                    )
                                })?;
                            let key = TrustedKey::from_cert(
                                &cert,
                                format!("{source} ({})", e.entity_id),
                            )?;
                            if !e.signing_keys.iter().any(|k| {
                                k.cert.as_ref().map(|c| &c.der) == key.cert.as_ref().map(|c| &c.der)
                            }) {
                                e.signing_keys.push(key);
                            }
                        }
                    }
                }
            } else if is_idp && doc.is(c, MD, "SingleSignOnService") {
                if let (Some(b), Some(l)) =
                    (doc.attr(c, "", "Binding"), doc.attr(c, "", "Location"))
                {
                    e.sso_services.push((b.to_owned(), l.to_owned()));
                }
            } else if is_sts && doc.is(c, FED, "PassiveRequestorEndpoint") {
                for epr in doc.descendants(c).filter(|&d| doc.is(d, WSA, "Address")) {
                    if let Some(t) = doc.simple_text(epr) {
                        e.passive_endpoints.push(t.trim().to_owned());
                    }
                }
            }
        }
    }
    Ok(e)
}
