//! Paging tokens (TAXII `next`): authenticated encryption of a position in a
//! recipient's release view.
//!
//! A token is `base64url(version || nonce || XChaCha20-Poly1305(position))` under a key
//! the node keeps in its store (created on first use, so it survives restarts and
//! every process serving the same store shares it), with the recipient and the
//! collection as associated data. So a token:
//! - says nothing about the position it holds (encrypted; a fresh random nonce each
//!   time, so two tokens for the same position differ);
//! - cannot be forged or altered (the tag fails), and a token issued to another
//!   recipient or for another collection, or under another node's key, is refused with
//!   a clear error instead of being reinterpreted as some other position;
//! - does not expire: it names a position in the recipient's own view, which stays
//!   meaningful as objects arrive (TAXII pages are in `date_added` order).
//!
//! Hand-written framing over the RustCrypto `chacha20poly1305` AEAD; the nonce is
//! 192 bits, so random nonces never repeat in practice.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The name of the paging key among the store's node secrets.
pub(super) const KEY_NAME: &str = "taxii-next-key-v1";

/// Token format version (the first byte).
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const POSITION_LEN: usize = 8;
/// Length of a token's bytes before base64.
const TOKEN_BYTES: usize = 1 + NONCE_LEN + POSITION_LEN + TAG_LEN;
/// Longest `next` value read: anything longer is not a token of this node.
pub const MAX_TOKEN_LEN: usize = 128;

/// Why a `next` token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not the shape of a token (length, alphabet, version byte).
    #[error("not a paging token of this server")]
    Malformed,
    /// Well formed, but it does not authenticate: forged, altered, issued for another
    /// collection or reader, or by another node.
    #[error("this paging token was not issued by this server for this collection and reader")]
    Foreign,
}

/// Seals and opens paging tokens with the node's key.
pub(super) struct TokenSeal {
    cipher: XChaCha20Poly1305,
}

impl TokenSeal {
    /// A seal under `key` (32 bytes; any other length is refused).
    pub(super) fn new(key: &[u8]) -> Option<TokenSeal> {
        XChaCha20Poly1305::new_from_slice(key)
            .ok()
            .map(|cipher| TokenSeal { cipher })
    }

    /// A fresh random key.
    pub(super) fn fresh_key() -> [u8; 32] {
        use rand::RngCore as _;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    }

    /// The token for `position` in `recipient`'s view of `collection`.
    pub(super) fn seal(&self, position: i64, recipient: &str, collection: &str) -> String {
        use rand::RngCore as _;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(recipient, collection);
        let sealed = self.cipher.encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &position.to_be_bytes(),
                aad: &aad,
            },
        );
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.push(VERSION);
        bytes.extend_from_slice(&nonce);
        // Encryption of 8 bytes cannot fail (the AEAD's only error is a message
        // too long for the cipher); an empty ciphertext would simply never open.
        bytes.extend_from_slice(&sealed.unwrap_or_default());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position a token holds, if this node issued it to `recipient` for
    /// `collection`.
    pub(super) fn open(
        &self,
        token: &str,
        recipient: &str,
        collection: &str,
    ) -> Result<i64, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() != TOKEN_BYTES || bytes[0] != VERSION {
            return Err(TokenError::Malformed);
        }
        let (nonce, sealed) = bytes[1..].split_at(NONCE_LEN);
        let aad = associated_data(recipient, collection);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| TokenError::Foreign)?;
        let position: [u8; POSITION_LEN] = plain.try_into().map_err(|_| TokenError::Foreign)?;
        Ok(i64::from_be_bytes(position))
    }
}

/// What a token is bound to, unambiguously framed.
fn associated_data(recipient: &str, collection: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + recipient.len() + collection.len());
    aad.extend_from_slice(b"accord-next-v1\0");
    for part in [recipient, collection] {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> TokenSeal {
        TokenSeal::new(&TokenSeal::fresh_key()).expect("32-byte key")
    }

    #[test]
    fn a_token_opens_to_its_position_for_its_reader_and_collection_only() {
        let seal = seal();
        for position in [0, 1, 1_700_000_000_123_456, i64::MAX] {
            let token = seal.seal(position, "cert", "c1");
            assert!(token.len() <= MAX_TOKEN_LEN);
            assert_eq!(seal.open(&token, "cert", "c1"), Ok(position));
            assert_eq!(seal.open(&token, "police", "c1"), Err(TokenError::Foreign));
            assert_eq!(seal.open(&token, "cert", "c2"), Err(TokenError::Foreign));
            // Framing: moving a character between the two bound names changes them.
            assert_eq!(seal.open(&token, "cert", "c1 "), Err(TokenError::Foreign));
        }
    }

    #[test]
    fn tokens_hide_positions_and_never_repeat() {
        let seal = seal();
        let a = seal.seal(42, "cert", "c1");
        let b = seal.seal(42, "cert", "c1");
        assert_ne!(a, b, "fresh nonce each time");
    }

    #[test]
    fn another_key_a_flipped_bit_or_junk_is_refused() {
        let seal = seal();
        let token = seal.seal(1_700_000_000_000_000, "cert", "c1");
        assert_eq!(
            self::seal().open(&token, "cert", "c1"),
            Err(TokenError::Foreign),
            "another node's (or a replaced) key"
        );
        let bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        for i in 1..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut flipped = bytes.clone();
                flipped[i] ^= bit;
                let forged = URL_SAFE_NO_PAD.encode(&flipped);
                assert_eq!(seal.open(&forged, "cert", "c1"), Err(TokenError::Foreign));
            }
        }
        for junk in ["", "zz", "6f", &"A".repeat(66), &"A".repeat(500), "ab+/"] {
            assert_eq!(
                seal.open(junk, "cert", "c1"),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
        let mut other_version = bytes;
        other_version[0] = 2;
        assert_eq!(
            seal.open(&URL_SAFE_NO_PAD.encode(&other_version), "cert", "c1"),
            Err(TokenError::Malformed)
        );
    }
}
