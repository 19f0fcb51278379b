//! Offline exchange: bundles signed with the node's Ed25519 key (a detached JWS beside
//! the bundle, see [`accord_agreements::jws`]), and their verification before ingest.
//!
//! # Files
//! The signature of `OUT` is `OUT.jws` ([`signature_path`]): one line, the compact JWS
//! with a detached payload. The signing key is a node key file (`ledger.key`, the
//! format of [`crate::ledger_key`]); the receiver's trusted keys are public key files as
//! `accord ledger key -o FILE` writes them (`accord-ledger-key ed25519 <hex>`).
//!
//! # What is ingested is what was verified
//! A signed bundle is read whole into memory, verified, and ingested from those bytes:
//! the file is not read a second time, so it cannot be swapped between the check and
//! the ingest. Hence the limit [`MAX_SIGNED_BUNDLE_BYTES`].

use std::io::Read as _;
use std::path::{Path, PathBuf};

use accord_agreements::jws::{self, JwsError};
use accord_agreements::transparency::{KeyTextError, LedgerPublicKey, LedgerSigner};

use crate::ledger_key::{self, LedgerKeyError};

/// What is appended to a bundle's file name to name its signature.
pub const SIGNATURE_SUFFIX: &str = ".jws";

/// Largest signed bundle verified (it is held in memory while verified and ingested).
pub const MAX_SIGNED_BUNDLE_BYTES: u64 = 2 << 30;

/// Largest public key file read.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// Why a bundle could not be signed, or a signed bundle was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignedBundleError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The signing key could not be loaded.
    #[error(transparent)]
    SigningKey(#[from] LedgerKeyError),
    /// A trusted key file does not hold a public key.
    #[error("public key {path}: {reason}")]
    PublicKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: KeyTextError,
    },
    /// The bundle has no signature beside it.
    #[error("{bundle}: refused by rule jws-missing: no signature {signature} beside it (signed bundles are written by `accord export --sign`)")]
    MissingSignature {
        /// The bundle.
        bundle: PathBuf,
        /// Where its signature was looked for.
        signature: PathBuf,
    },
    /// The signature does not hold.
    #[error("{bundle}: refused by rule {rule}: {reason} (signature {signature})", rule = reason.rule())]
    Refused {
        /// The bundle.
        bundle: PathBuf,
        /// Its signature file.
        signature: PathBuf,
        /// What failed.
        reason: JwsError,
    },
    /// A file is larger than it may be (a signed bundle: [`MAX_SIGNED_BUNDLE_BYTES`]).
    #[error("{path}: refused by rule jws-size: larger than {limit} bytes, the most it may hold")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
}

/// Where the signature of `bundle` is: its file name with [`SIGNATURE_SUFFIX`] appended.
pub fn signature_path(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(SIGNATURE_SUFFIX);
    PathBuf::from(name)
}

/// Loads a node key file to sign with (before exporting: a bad key stops the export
/// before anything is released).
pub fn load_signing_key(key_file: &Path) -> Result<LedgerSigner, SignedBundleError> {
    Ok(ledger_key::load(key_file)?)
}

/// Signs the bundle file `bundle` with `signer`, writing the detached JWS to
/// [`signature_path`]; returns that path.
pub fn sign_file(bundle: &Path, signer: &LedgerSigner) -> Result<PathBuf, SignedBundleError> {
    let bytes = read_bounded(bundle, MAX_SIGNED_BUNDLE_BYTES)?;
    let text = jws::sign_detached(signer, &bytes);
    let path = signature_path(bundle);
    std::fs::write(&path, format!("{text}\n")).map_err(|error| SignedBundleError::Io {
        path: path.clone(),
        error,
    })?;
    Ok(path)
}

/// Reads the trusted public keys (files as `accord ledger key -o` writes them).
pub fn read_public_keys(paths: &[PathBuf]) -> Result<Vec<LedgerPublicKey>, SignedBundleError> {
    paths
        .iter()
        .map(|path| {
            let bytes = read_bounded(path, MAX_KEY_FILE_BYTES)?;
            LedgerPublicKey::parse(&String::from_utf8_lossy(&bytes)).map_err(|reason| {
                SignedBundleError::PublicKey {
                    path: path.clone(),
                    reason,
                }
            })
        })
        .collect()
}

/// A bundle whose signature verified: its exact bytes and who signed them.
#[derive(Debug)]
pub struct VerifiedBundle {
    /// The bytes the signature covers (what is to be ingested).
    pub bytes: Vec<u8>,
    /// The key that signed.
    pub signer: LedgerPublicKey,
}

/// Reads `bundle` and its signature and checks that one of `keys` signed exactly these
/// bytes.
pub fn read_verified(
    bundle: &Path,
    keys: &[LedgerPublicKey],
) -> Result<VerifiedBundle, SignedBundleError> {
    let signature = signature_path(bundle);
    let jws = match read_bounded(&signature, jws::MAX_JWS_LEN as u64 + 2) {
        Ok(bytes) => bytes,
        Err(SignedBundleError::Io { error, .. })
            if error.kind() == std::io::ErrorKind::NotFound =>
        {
            return Err(SignedBundleError::MissingSignature {
                bundle: bundle.to_path_buf(),
                signature,
            })
        }
        Err(e) => return Err(e),
    };
    let bytes = read_bounded(bundle, MAX_SIGNED_BUNDLE_BYTES)?;
    let refused = |reason| SignedBundleError::Refused {
        bundle: bundle.to_path_buf(),
        signature: signature.clone(),
        reason,
    };
    let jws = std::str::from_utf8(&jws)
        .map_err(|_| refused(JwsError::Malformed("not UTF-8 text".into())))?;
    let signer = jws::verify_detached(jws, &bytes, keys).map_err(refused)?;
    Ok(VerifiedBundle { bytes, signer })
}

/// The whole file, refused when longer than `limit` bytes.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, SignedBundleError> {
    let io = |error| SignedBundleError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(SignedBundleError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_sits_beside_the_bundle() {
        assert_eq!(
            signature_path(Path::new("out/feed.json")),
            PathBuf::from("out/feed.json.jws")
        );
    }
}
