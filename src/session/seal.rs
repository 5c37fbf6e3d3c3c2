//! AES-256-GCM sealing with a key rotation list.
//!
//! Sealed blob: `version (1) | key id (4) | scope (4) | chunk count (1) | nonce (12) |
//! ciphertext | tag (16)`. The 22-byte header is associated data, together with the caller's
//! extra AAD (the cookie name, or a purpose label). The key id is the first 4 bytes of
//! SHA-256(key); the scope tag binds a blob to a realm and host. A blob that authenticates but
//! was sealed for another scope is [`OpenError::Scope`]; every other failure (any flipped byte,
//! an unknown key, a wrong AAD) is [`OpenError::Invalid`].

use openssl::hash::{MessageDigest, hash};
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

/// Header length.
pub const HEADER: usize = 22;
/// Tag length.
pub const TAG: usize = 16;
const VERSION: u8 = 1;

/// Why a blob does not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Malformed, unknown key, or authentication failed.
    Invalid,
    /// Sealed for another realm or host.
    Scope,
}

/// A 4-byte tag naming a scope (realm + host, or a purpose).
pub fn scope_tag(parts: &[&str]) -> [u8; 4] {
    let mut joined = Vec::new();
    for p in parts {
        joined.extend_from_slice(p.as_bytes());
        joined.push(0x1f);
    }
    let h = hash(MessageDigest::sha256(), &joined)
        .map(|d| d.to_vec())
        .unwrap_or_else(|_| vec![0; 4]);
    [h[0], h[1], h[2], h[3]]
}

/// Seals and opens with a list of keys: the first seals, all open.
pub struct Sealer {
    keys: Vec<([u8; 4], [u8; 32])>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({} keys)", self.keys.len())
    }
}

impl Sealer {
    /// A sealer; `keys` must not be empty (configuration guarantees it).
    pub fn new(keys: &[[u8; 32]]) -> Sealer {
        let keys = keys
            .iter()
            .map(|k| {
                let d = hash(MessageDigest::sha256(), k)
                    .map(|d| d.to_vec())
                    .unwrap_or_else(|_| vec![0; 4]);
                ([d[0], d[1], d[2], d[3]], *k)
            })
            .collect();
        Sealer { keys }
    }

    /// Length of a sealed blob for `plaintext_len` bytes.
    pub fn sealed_len(plaintext_len: usize) -> usize {
        HEADER + plaintext_len + TAG
    }

    /// Seals `plaintext` under the first key.
    pub fn seal(
        &self,
        scope: [u8; 4],
        chunks: u8,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Option<Vec<u8>> {
        let (kid, key) = self.keys.first()?;
        let mut nonce = [0u8; 12];
        openssl::rand::rand_bytes(&mut nonce).ok()?;
        let mut header = Vec::with_capacity(Self::sealed_len(plaintext.len()));
        header.push(VERSION);
        header.extend_from_slice(kid);
        header.extend_from_slice(&scope);
        header.push(chunks);
        header.extend_from_slice(&nonce);
        let mut full_aad = Vec::with_capacity(HEADER + aad.len());
        full_aad.extend_from_slice(&header);
        full_aad.extend_from_slice(aad);
        let mut tag = [0u8; TAG];
        let ct = encrypt_aead(
            Cipher::aes_256_gcm(),
            key,
            Some(&nonce),
            &full_aad,
            plaintext,
            &mut tag,
        )
        .ok()?;
        header.extend_from_slice(&ct);
        header.extend_from_slice(&tag);
        Some(header)
    }

    /// The chunk count recorded in a blob's header (unauthenticated until [`Sealer::open`]).
    pub fn chunk_count(blob: &[u8]) -> Option<u8> {
        (blob.len() >= HEADER + TAG && blob[0] == VERSION).then(|| blob[9])
    }

    /// Opens a blob sealed with `aad`, expected to be for `scope`. Returns the plaintext and whether it was
    /// sealed with the current (first) key — if not, the caller re-seals.
    pub fn open(
        &self,
        scope: [u8; 4],
        aad: &[u8],
        blob: &[u8],
    ) -> Result<(Vec<u8>, bool), OpenError> {
        if blob.len() < HEADER + TAG || blob[0] != VERSION {
            return Err(OpenError::Invalid);
        }
        let kid = &blob[1..5];
        let (pos, (_, key)) = self
            .keys
            .iter()
            .enumerate()
            .find(|(_, (k, _))| k == kid)
            .ok_or(OpenError::Invalid)?;
        let nonce = &blob[10..22];
        let (ct, tag) = blob[HEADER..].split_at(blob.len() - HEADER - TAG);
        let mut full_aad = Vec::with_capacity(HEADER + aad.len());
        full_aad.extend_from_slice(&blob[..HEADER]);
        full_aad.extend_from_slice(aad);
        let pt = decrypt_aead(Cipher::aes_256_gcm(), key, Some(nonce), &full_aad, ct, tag)
            .map_err(|_| OpenError::Invalid)?;
        if blob[5..9] != scope {
            return Err(OpenError::Scope);
        }
        Ok((pt, pos == 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_rotation_scope_and_tamper() {
        let old = Sealer::new(&[[1; 32]]);
        let s = Sealer::new(&[[2; 32], [1; 32]]);
        let scope = scope_tag(&["realm", "host"]);
        let blob = old.seal(scope, 1, b"name", b"hello").unwrap();
        assert_eq!(
            s.open(scope, b"name", &blob).unwrap(),
            (b"hello".to_vec(), false)
        );
        let blob2 = s.seal(scope, 1, b"name", b"hello").unwrap();
        assert!(s.open(scope, b"name", &blob2).unwrap().1);
        assert_eq!(old.open(scope, b"name", &blob2), Err(OpenError::Invalid));
        assert_eq!(
            s.open(scope_tag(&["other", "host"]), b"name", &blob2),
            Err(OpenError::Scope)
        );
        assert_eq!(
            s.open(scope, b"other-name", &blob2),
            Err(OpenError::Invalid)
        );
        for i in 0..blob2.len() {
            let mut t = blob2.clone();
            t[i] ^= 0x01;
            assert!(s.open(scope, b"name", &t).is_err(), "flip at {i} accepted");
        }
    }
}
