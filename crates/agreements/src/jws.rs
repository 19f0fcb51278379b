//! Signed bundles for offline exchange: a detached JWS (RFC 7515) over a bundle's exact
//! bytes, signed with the node's Ed25519 ledger key (alg `EdDSA`, RFC 8037).
//!
//! # Form
//! JWS Compact Serialization with a detached payload (RFC 7515 Appendix F): one line
//! `BASE64URL(header)..BASE64URL(signature)` — the payload part is empty; the
//! verifier puts `BASE64URL(bundle bytes)` back in. Compact rather than the JSON
//! serialization because there is exactly one signer (the JSON form exists for several
//! signatures or unprotected headers, neither of which is wanted), it is one line any
//! JOSE library reads, and it leaves no unprotected header a forger could play with.
//! The payload is base64url-encoded in the signing input as RFC 7515 specifies; the
//! unencoded-payload option of RFC 7797 (`"b64": false`, which needs `crit`) is not
//! used, because fewer libraries implement it and nothing is gained: the bundle is
//! never copied to be encoded (the encoding streams into the signature's hash).
//!
//! The protected header is `{"alg":"EdDSA","kid":KEY_ID,"cty":"application/stix+json;version=2.1"}`
//! where `KEY_ID` is the key id `accord ledger key` prints (hex SHA-256 of the raw
//! public key): it tells the receiver which of its partners' keys to check with.
//!
//! # Verification
//! Only `alg` `EdDSA` is accepted — the algorithm comes from the receiver's policy,
//! never from the header (`none`, `HS256` and every other value are refused before a
//! key is chosen: no algorithm confusion). A header with `crit` or `b64` is refused (no
//! extension is understood, RFC 7515 §4.1.11). The `kid` must name one of the keys the
//! receiver trusts; the signature must verify over the exact bytes.
//!
//! # Domain separation
//! The node's key also signs ledger tree heads, whose signed bytes start with
//! `accord-ledger-tree-head-v1\0` ([`crate::transparency::HEAD_DOMAIN`]); a JWS signing
//! input starts with the base64url of `{"alg"`, i.e. `eyJ`: neither can be taken for
//! the other.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::hazmat::{raw_sign_byupdate, ExpandedSecretKey};
use ed25519_dalek::Signature;
use sha2::{Digest as _, Sha512};

use crate::transparency::{LedgerPublicKey, LedgerSigner};

/// The one algorithm a signed bundle may use (RFC 8037: Ed25519 under `EdDSA`).
pub const JWS_ALG: &str = "EdDSA";

/// The `cty` of a signed bundle's header: the payload is a STIX 2.1 bundle.
pub const JWS_CTY: &str = "application/stix+json;version=2.1";

/// Longest JWS text accepted (a header of three short members and a 64-byte
/// signature are some 250 characters; anything much longer is not ours).
pub const MAX_JWS_LEN: usize = 4096;

/// Payload bytes base64url-encoded at a time into the signature's hash (a multiple of
/// 3, so the chunks' encodings concatenate to the whole payload's).
const CHUNK: usize = 3 * 16 * 1024;

/// Why a signed bundle was refused. Each names the rule it broke ([`JwsError::rule`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// The text is not a compact JWS with a detached payload.
    #[error("not a detached compact JWS: {0}")]
    Malformed(String),
    /// The header names another algorithm than `EdDSA` (`none`, `HS256`, ...).
    #[error("algorithm {alg:?} is not accepted (only \"EdDSA\", Ed25519, is)")]
    Algorithm {
        /// The header's `alg` (as given).
        alg: String,
    },
    /// The header asks for an extension this verifier does not implement.
    #[error("header member {member:?} is not supported (no JWS extension is)")]
    Unsupported {
        /// `crit` or `b64`.
        member: String,
    },
    /// The header has no `kid`.
    #[error("the header has no \"kid\" naming the signer's key")]
    NoKeyId,
    /// The `kid` is none of the keys given.
    #[error("signer {kid} is not among the keys given")]
    UnknownSigner {
        /// The header's `kid`.
        kid: String,
    },
    /// The signature does not verify over these bytes with the named key.
    #[error(
        "the signature of key {kid} does not verify over the bundle's bytes (changed or forged)"
    )]
    BadSignature {
        /// The signer's key id.
        kid: String,
    },
}

impl JwsError {
    /// A stable kebab-case code of the rule broken.
    pub fn rule(&self) -> &'static str {
        match self {
            JwsError::Malformed(_) => "jws-format",
            JwsError::Algorithm { .. } => "jws-alg",
            JwsError::Unsupported { .. } => "jws-crit",
            JwsError::NoKeyId => "jws-kid",
            JwsError::UnknownSigner { .. } => "jws-signer",
            JwsError::BadSignature { .. } => "jws-signature",
        }
    }
}

/// The `kid` of `key`: its key id in hex, as `accord ledger key` prints it.
pub fn key_id(key: &LedgerPublicKey) -> String {
    hex::encode(key.id())
}

/// The detached compact JWS of `payload` signed by `signer` (one line, no newline).
///
/// ```
/// use accord_agreements::jws::{sign_detached, verify_detached};
/// use accord_agreements::transparency::LedgerSigner;
/// let signer = LedgerSigner::from_seed(&[7; 32]);
/// let jws = sign_detached(&signer, b"{\"type\":\"bundle\"}");
/// let key = verify_detached(&jws, b"{\"type\":\"bundle\"}", &[signer.public_key()]).unwrap();
/// assert_eq!(key, signer.public_key());
/// assert!(verify_detached(&jws, b"{\"type\":\"bundle\"} ", &[key]).is_err());
/// ```
pub fn sign_detached(signer: &LedgerSigner, payload: &[u8]) -> String {
    let key = signer.signing_key();
    let public = signer.public_key();
    let header = serde_json::json!({"alg": JWS_ALG, "kid": key_id(&public), "cty": JWS_CTY});
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let expanded = ExpandedSecretKey::from(&key.to_bytes());
    let signature = raw_sign_byupdate::<Sha512, _>(
        &expanded,
        |hash| {
            feed(hash, &header, payload);
            Ok(())
        },
        &key.verifying_key(),
    );
    // `raw_sign_byupdate` fails only when the closure does, and ours never does (were
    // it to, the all-zero signature verifies for no key: fail-safe, no panic).
    let signature = signature.map(|s| s.to_bytes()).unwrap_or([0; 64]);
    format!("{header}..{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Hash the signing input `header '.' BASE64URL(payload)` without building it.
fn feed(hash: &mut impl Update, header: &str, payload: &[u8]) {
    hash.feed(header.as_bytes());
    hash.feed(b".");
    let mut encoded = String::with_capacity(CHUNK / 3 * 4);
    for chunk in payload.chunks(CHUNK) {
        encoded.clear();
        URL_SAFE_NO_PAD.encode_string(chunk, &mut encoded);
        hash.feed(encoded.as_bytes());
    }
}

/// What the signing input is fed to: a hash when signing, a stream verifier.
trait Update {
    fn feed(&mut self, bytes: &[u8]);
}

impl Update for Sha512 {
    fn feed(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Update for ed25519_dalek::StreamVerifier {
    fn feed(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// Checks the detached compact JWS `jws` over `payload` against the trusted `keys`;
/// returns the key that signed.
pub fn verify_detached(
    jws: &str,
    payload: &[u8],
    keys: &[LedgerPublicKey],
) -> Result<LedgerPublicKey, JwsError> {
    let malformed = |m: &str| JwsError::Malformed(m.to_string());
    let jws = jws.trim();
    if jws.len() > MAX_JWS_LEN {
        return Err(malformed("longer than a signed bundle's JWS can be"));
    }
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(attached), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(
            "expected three parts separated by '.' (compact serialization)",
        ));
    };
    if !attached.is_empty() {
        return Err(malformed(
            "the payload part is not empty: the signature must be detached (RFC 7515 Appendix F)",
        ));
    }
    let header = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| malformed("the header is not base64url"))?;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|_| malformed("the header is not a JSON object"))?;
    match header.get("alg") {
        Some(serde_json::Value::String(alg)) if alg == JWS_ALG => {}
        Some(serde_json::Value::String(alg)) => {
            return Err(JwsError::Algorithm { alg: alg.clone() })
        }
        Some(other) => {
            return Err(JwsError::Algorithm {
                alg: other.to_string(),
            })
        }
        None => return Err(malformed("the header has no \"alg\"")),
    }
    for member in ["crit", "b64"] {
        if header.contains_key(member) {
            return Err(JwsError::Unsupported {
                member: member.to_string(),
            });
        }
    }
    let kid = match header.get("kid") {
        Some(serde_json::Value::String(kid)) => kid.clone(),
        _ => return Err(JwsError::NoKeyId),
    };
    let key = keys
        .iter()
        .find(|k| key_id(k) == kid)
        .ok_or_else(|| JwsError::UnknownSigner { kid: kid.clone() })?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| malformed("the signature is not base64url"))?
        .try_into()
        .map_err(|_| malformed("the signature is not 64 bytes (Ed25519)"))?;
    let bad = || JwsError::BadSignature { kid: kid.clone() };
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&key.to_bytes()).map_err(|_| bad())?;
    let mut verifier = verifying
        .verify_stream(&Signature::from_bytes(&signature))
        .map_err(|_| bad())?;
    feed(&mut verifier, header_b64, payload);
    verifier.finalize_and_verify().map_err(|_| bad())?;
    Ok(*key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(n: u8) -> LedgerSigner {
        LedgerSigner::from_seed(&[n; 32])
    }

    /// The streamed signature is the ordinary Ed25519 signature over the signing input
    /// built whole (so any JOSE library verifies it).
    #[test]
    fn the_streamed_signature_is_the_plain_ed25519_one() {
        use ed25519_dalek::Signer as _;
        let payload: Vec<u8> = (0..(CHUNK * 2 + 7)).map(|i| (i % 251) as u8).collect();
        let s = signer(3);
        let jws = sign_detached(&s, &payload);
        let (header, signature) = jws.split_once("..").unwrap();
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&payload));
        let expected = s.signing_key().sign(input.as_bytes());
        assert_eq!(signature, URL_SAFE_NO_PAD.encode(expected.to_bytes()));
        assert_eq!(
            verify_detached(&jws, &payload, &[s.public_key()]),
            Ok(s.public_key())
        );
    }

    #[test]
    fn changed_bytes_other_signers_and_other_algorithms_are_refused() {
        let (a, b) = (signer(1), signer(2));
        let payload = b"{\"type\":\"bundle\",\"objects\":[]}\n";
        let jws = sign_detached(&a, payload);
        let mut changed = payload.to_vec();
        changed[3] ^= 1;
        let err = verify_detached(&jws, &changed, &[a.public_key()]).unwrap_err();
        assert_eq!(err.rule(), "jws-signature");
        let err = verify_detached(&jws, payload, &[b.public_key()]).unwrap_err();
        assert_eq!(
            err,
            JwsError::UnknownSigner {
                kid: key_id(&a.public_key())
            }
        );
        let signature = jws.split_once("..").unwrap().1;
        for header in [
            r#"{"alg":"none","kid":"x"}"#,
            r#"{"alg":"HS256","kid":"x"}"#,
            r#"{"alg":["EdDSA"]}"#,
        ] {
            let forged = format!("{}..{signature}", URL_SAFE_NO_PAD.encode(header));
            let err = verify_detached(&forged, payload, &[a.public_key()]).unwrap_err();
            assert_eq!(err.rule(), "jws-alg", "{header}: {err}");
        }
        let kid = key_id(&a.public_key());
        let crit = format!(r#"{{"alg":"EdDSA","kid":"{kid}","b64":false,"crit":["b64"]}}"#);
        let forged = format!("{}..{signature}", URL_SAFE_NO_PAD.encode(crit));
        assert_eq!(
            verify_detached(&forged, payload, &[a.public_key()])
                .unwrap_err()
                .rule(),
            "jws-crit"
        );
        let attached = jws.replace("..", &format!(".{}.", URL_SAFE_NO_PAD.encode(payload)));
        assert_eq!(
            verify_detached(&attached, payload, &[a.public_key()])
                .unwrap_err()
                .rule(),
            "jws-format"
        );
    }
}
