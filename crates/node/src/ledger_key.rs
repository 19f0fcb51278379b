//! The node's ledger signing key: one Ed25519 key per node, in a file only its owner
//! can read, that signs the ledger's tree heads (see `accord_agreements::transparency`).
//!
//! # File format
//! Text: comment lines starting with `#`, then one line
//! `accord-ledger-secret-key ed25519 <64 hex digits>` (the 32-byte seed). The file is
//! created with mode 0600 (owner read/write only) and refused when others may read it
//! (as OpenSSH refuses a private key others can read). The key itself is never logged
//! or printed; `accord ledger key` prints the public key.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use accord_agreements::transparency::LedgerSigner;
use rand::RngCore as _;

/// The key file's default name, beside the configuration.
pub const LEDGER_KEY_FILE: &str = "ledger.key";

/// The first words of the key line.
const SECRET_PREFIX: &str = "accord-ledger-secret-key ed25519 ";

/// Why the key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerKeyError {
    /// The file could not be read or written.
    #[error("ledger key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file does not hold a key in the expected form.
    #[error("ledger key {path}: not an Accord ledger key ({detail})")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key's content).
        detail: &'static str,
    },
    /// Others than the owner may read the file.
    #[error("ledger key {path}: readable by others (mode {mode:o}); run `chmod 600 {path}`")]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// A key loaded from, or newly written to, its file.
#[derive(Debug)]
pub struct LoadedKey {
    /// The key.
    pub signer: LedgerSigner,
    /// Whether the file was created just now (for a node initialised by an older build,
    /// on first use): the caller says so, with the path.
    pub created: bool,
}

/// Loads the key at `path`, creating it (with fresh random bytes from the operating
/// system) when the file does not exist.
pub fn load_or_create(path: &Path) -> Result<LoadedKey, LedgerKeyError> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(LoadedKey {
            signer: load(path)?,
            created: false,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LoadedKey {
            signer: create(path)?,
            created: true,
        }),
        Err(source) => Err(LedgerKeyError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Loads an existing key.
pub fn load(path: &Path) -> Result<LedgerSigner, LedgerKeyError> {
    let io = |source| LedgerKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    check_mode(path)?;
    let text = std::fs::read_to_string(path).map_err(io)?;
    let malformed = |detail| LedgerKeyError::Malformed {
        path: path.to_path_buf(),
        detail,
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| malformed("empty"))?;
    let digits = line
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| malformed("wrong prefix"))?;
    let seed: [u8; 32] = hex::decode(digits.trim())
        .map_err(|_| malformed("not hex"))?
        .try_into()
        .map_err(|_| malformed("not 32 bytes"))?;
    Ok(LedgerSigner::from_seed(&seed))
}

/// Creates a new key file (failing if one appeared meanwhile).
pub fn create(path: &Path) -> Result<LedgerSigner, LedgerKeyError> {
    let io = |source| LedgerKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let signer = LedgerSigner::from_seed(&seed);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    let text = format!(
        "# Accord ledger signing key (Ed25519). Keep it secret: it signs this node's\n\
         # release ledger. Public key id {}.\n{SECRET_PREFIX}{}\n",
        hex::encode(signer.public_key().id()),
        hex::encode(seed)
    );
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(signer)
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), LedgerKeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|source| LedgerKeyError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(LedgerKeyError::TooOpen {
            path: path.to_path_buf(),
            mode: mode & 0o777,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path) -> Result<(), LedgerKeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(LEDGER_KEY_FILE);
        let first = load_or_create(&path).unwrap();
        assert!(first.created);
        let again = load_or_create(&path).unwrap();
        assert!(!again.created);
        assert_eq!(again.signer.public_key(), first.signer.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load(&path).unwrap_err();
            assert!(matches!(err, LedgerKeyError::TooOpen { .. }), "{err}");
        }
    }

    #[test]
    fn a_malformed_key_is_refused_without_showing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_KEY_FILE);
        create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let truncated = &text[..text.len() - 3];
        std::fs::write(&path, truncated).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = load(&path).unwrap_err().to_string();
        let seed_line = text.lines().last().unwrap();
        assert!(
            !err.contains(&seed_line[SECRET_PREFIX.len()..][..10]),
            "{err}"
        );
        assert!(err.contains("not"), "{err}");
    }
}
