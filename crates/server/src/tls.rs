//! HTTPS with rustls, using the `ring` provider only (installed once per process).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::{Error as PemError, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The certificate file holds no certificate, or the key file no private key.
    #[error("{path}: {what}")]
    Content {
        /// The file.
        path: String,
        /// What is missing or wrong.
        what: String,
    },
    /// rustls refused the certificate and key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Make `ring` the process's rustls crypto provider (once; later calls do nothing).
pub fn install_ring_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A TLS acceptor for the PEM certificate chain and private key at these paths.
pub fn acceptor(certificate: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    install_ring_provider();
    let certs = read_certificates(certificate)?;
    let key = read_key(key)?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The bytes of a PEM file.
fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn content(path: &Path, what: impl Into<String>) -> TlsError {
    TlsError::Content {
        path: path.display().to_string(),
        what: what.into(),
    }
}

/// Every certificate of a PEM file (`rustls-pki-types`' own PEM reader: the
/// `rustls-pemfile` crate is unmaintained, RUSTSEC-2025-0134).
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| content(path, format!("unreadable PEM: {e}")))?;
    if certs.is_empty() {
        return Err(content(path, "no PEM certificate found"));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        PemError::NoItemsFound => {
            content(path, "no PEM private key (PKCS#8, PKCS#1 or SEC1) found")
        }
        other => content(path, format!("unreadable PEM: {other}")),
    })
}
