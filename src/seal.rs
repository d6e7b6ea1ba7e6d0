//! Sealing secrets that must be read back (AccessKey secrets: verifying an HMAC signature
//! needs the secret itself, so they cannot be hashed like SCIM tokens).
//!
//! XChaCha20-Poly1305 under a 256-bit key that lives outside the database (`<data>/seal.key`,
//! mode 0600, written by `main` on first start): a stolen database file alone does not yield
//! any secret. Each sealed value has its own random 192-bit nonce and is bound to its purpose
//! and owner (the AccessKeyId) as associated data, so a sealed value moved to another record
//! does not open. Pure: no IO.
//!
//! The same key also derives MAC keys (`mac_key`): HMAC-SHA256 of the key over a fixed context
//! and a purpose label, so each use (temporary credentials' AccessKeyIds and secrets) has its
//! own key and none of them reveals the sealing key or another purpose's key.

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
/// Separates derived MAC keys from any other use of the sealing key.
const MAC_KEY_CONTEXT: &[u8] = b"cloudsso seal.key mac key v1\0";

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
    /// The key itself, for `mac_key` only.
    key: [u8; KEY_BYTES],
}

/// A key derived for one purpose (`Sealer::mac_key`). Its `Debug` never shows it.
#[derive(Clone)]
pub struct MacKey([u8; 32]);

impl MacKey {
    /// HMAC-SHA256 of `parts` under this key, each part preceded by its length (so no two
    /// different lists of parts are ever the same input).
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0) else {
            return [0u8; 32];
        };
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(<key>)")
    }
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
        let key: [u8; KEY_BYTES] = key.try_into().map_err(|_| SealError::BadKey)?;
        Ok(Sealer { cipher, key })
    }

    /// The MAC key of purpose `label`: HMAC-SHA256(sealing key, context || label). One-way:
    /// it reveals neither the sealing key nor the key of another label.
    pub fn mac_key(&self, label: &str) -> MacKey {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key) else {
            return MacKey([0u8; 32]);
        };
        mac.update(MAC_KEY_CONTEXT);
        mac.update(label.as_bytes());
        MacKey(mac.finalize().into_bytes().into())
    }

    /// A fresh random key.
    pub fn new_key() -> [u8; KEY_BYTES] {
        let mut k = [0u8; KEY_BYTES];
        crate::model::fill_random(&mut k);
        k
    }

    /// Seals `secret` for `owner` (associated data): `v1:` then base64 of nonce and ciphertext.
    pub fn seal(&self, owner: &str, secret: &str) -> String {
        format!(
            "{SEALED_V1}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD
                .encode(self.seal_bytes(owner, secret.as_bytes()))
        )
    }

    /// Seals `plain` for `owner` (associated data): the random nonce, then the ciphertext and
    /// its tag.
    pub fn seal_bytes(&self, owner: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        crate::model::fill_random(&mut nonce);
        let payload = Payload {
            msg: plain,
            aad: owner.as_bytes(),
        };
        // Encryption with a valid key and an in-memory buffer cannot fail.
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what `seal_bytes` sealed for `owner`.
    pub fn open_bytes(&self, owner: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_BYTES {
            return Err(SealError::Unreadable);
        }
        let (nonce, ct) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Unreadable)
    }

    /// Opens a value sealed for `owner`.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<String, SealError> {
        let b64 = sealed
            .strip_prefix(SEALED_V1)
            .ok_or(SealError::Unreadable)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| SealError::Unreadable)?;
        let plain = self.open_bytes(owner, &bytes)?;
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
    fn mac_keys_are_per_label_and_per_sealing_key() {
        let s = Sealer::new(&[7u8; KEY_BYTES]).unwrap();
        let other = Sealer::new(&[8u8; KEY_BYTES]).unwrap();
        let m = |s: &Sealer, label: &str| s.mac_key(label).mac(&[b"x"]);
        assert_eq!(m(&s, "a"), m(&s, "a"));
        assert_ne!(m(&s, "a"), m(&s, "b"));
        assert_ne!(m(&s, "a"), m(&other, "a"));
        let k = s.mac_key("a");
        assert_ne!(
            k.mac(&[b"ab", b"c"]),
            k.mac(&[b"a", b"bc"]),
            "parts are framed"
        );
        assert_eq!(format!("{k:?}"), "MacKey(<key>)");
        let sealed = s.seal_bytes("o", b"plain");
        assert_eq!(s.open_bytes("o", &sealed).unwrap(), b"plain");
        assert_eq!(s.open_bytes("p", &sealed), Err(SealError::Unreadable));
        assert_eq!(s.open_bytes("o", &sealed[..10]), Err(SealError::Unreadable));
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
