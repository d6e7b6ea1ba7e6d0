//! Sealing secrets that must be read back (AccessKey secrets: verifying an HMAC signature
//! needs the secret itself, so they cannot be hashed like SCIM tokens).
//!
//! XChaCha20-Poly1305 under a 256-bit key that lives outside the database (`<data>/seal.key`,
//! mode 0600, written by `main` on first start): a stolen database file alone does not yield
//! any secret. Each sealed value has its own random 192-bit nonce and is bound to its purpose
//! and owner (the AccessKeyId) as associated data, so a sealed value moved to another record
//! does not open. Pure: no IO.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Length of a sealing key, in bytes.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Version prefix of a sealed value.
const SEALED_V1: &str = "v1:";
/// Separates the fingerprint of a sealing key from any other use of its digest.
const FINGERPRINT_CONTEXT: &[u8] = b"cloudsso seal.key fingerprint v1\0";

/// The fingerprint of a sealing key (hex of the first 16 bytes of a SHA-256 under its own
/// context): names the key, recorded in the database and in backup manifests, without
/// revealing it.
pub fn fingerprint(key: &[u8]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(FINGERPRINT_CONTEXT);
    hasher.update(key);
    let digest = hasher.finalize();
    digest
        .get(..16)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealing key must be {KEY_BYTES} bytes")]
    BadKey,
    #[error("a sealed value is corrupt or was sealed under another key")]
    Unreadable,
}

/// The key that seals and opens secrets. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

impl Sealer {
    pub fn new(key: &[u8]) -> Result<Sealer, SealError> {
        if key.len() != KEY_BYTES {
            return Err(SealError::BadKey);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealError::BadKey)?;
        Ok(Sealer { cipher })
    }

    /// A fresh random key.
    pub fn new_key() -> [u8; KEY_BYTES] {
        let mut k = [0u8; KEY_BYTES];
        crate::model::fill_random(&mut k);
        k
    }

    /// Seals `secret` for `owner` (associated data): `v1:` then base64 of nonce and ciphertext.
    pub fn seal(&self, owner: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        crate::model::fill_random(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: owner.as_bytes(),
        };
        // Encryption with a valid key and an in-memory buffer cannot fail.
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!(
            "{SEALED_V1}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    /// Opens a value sealed for `owner`.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<String, SealError> {
        let b64 = sealed
            .strip_prefix(SEALED_V1)
            .ok_or(SealError::Unreadable)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| SealError::Unreadable)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SealError::Unreadable);
        }
        let (nonce, ct) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SealError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_the_same_key_and_owner() {
        let s = Sealer::new(&Sealer::new_key()).unwrap();
        let sealed = s.seal("LTAIabc", "the secret");
        assert!(!sealed.contains("the secret"));
        assert_ne!(sealed, s.seal("LTAIabc", "the secret"), "random nonce");
        assert_eq!(s.open("LTAIabc", &sealed).unwrap(), "the secret");
        assert_eq!(s.open("LTAIother", &sealed), Err(SealError::Unreadable));
        let other = Sealer::new(&Sealer::new_key()).unwrap();
        assert_eq!(other.open("LTAIabc", &sealed), Err(SealError::Unreadable));
        assert_eq!(s.open("LTAIabc", "v1:AAAA"), Err(SealError::Unreadable));
        assert_eq!(s.open("LTAIabc", "garbage"), Err(SealError::Unreadable));
        assert_eq!(Sealer::new(&[0u8; 5]).unwrap_err(), SealError::BadKey);
        assert_eq!(format!("{s:?}"), "Sealer(<key>)");
    }

    #[test]
    fn a_fingerprint_names_a_key_without_showing_it() {
        let key = [7u8; KEY_BYTES];
        let f = fingerprint(&key);
        assert_eq!(f.len(), 32);
        assert_eq!(f, fingerprint(&key));
        assert_ne!(f, fingerprint(&[8u8; KEY_BYTES]));
        assert!(!f.contains("07070707"));
    }
}
