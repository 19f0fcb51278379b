//! HTTPS peers: a peer may name the CA that signs its certificate
//! (`accord peer add … --ca-cert FILE`, [`super::Peer::ca_cert`]); only that CA is then
//! trusted for it. Without one, the system's roots apply. A certificate that does not
//! verify fails the request, and the error in `accord peer status` says so in words.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Federation, FederationError, Peer, REQUEST_TIMEOUT};

/// Largest CA file read, in bytes.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Clients made for peers with their own CA: peer name → (the PEM, the client).
#[derive(Default)]
pub(super) struct PeerClients(Mutex<HashMap<String, (Vec<u8>, reqwest::blocking::Client)>>);

/// The certificates of a PEM file, checked: readable, at most [`MAX_CA_FILE_BYTES`],
/// and at least one certificate. (For `accord peer add --ca-cert` to refuse a wrong
/// file at once, and for each run.)
pub fn read_ca_certificates(path: &str) -> Result<Vec<u8>, FederationError> {
    use std::io::Read as _;
    let invalid = |what: String| FederationError::Invalid(format!("ca-cert {path}: {what}"));
    let file = std::fs::File::open(path).map_err(|e| invalid(e.to_string()))?;
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| invalid(e.to_string()))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(invalid(format!("larger than {MAX_CA_FILE_BYTES} bytes")));
    }
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| invalid(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no PEM certificate found".to_string()));
    }
    Ok(pem)
}

/// Whether a request's error (its causes in words) is the peer's certificate refused.
pub(super) fn is_certificate_error(text: &str) -> bool {
    text.to_ascii_lowercase().contains("certificate")
}

/// `text` (a request's error), with a hint when the peer's certificate was refused.
pub(super) fn with_hint(peer: &Peer, text: String) -> String {
    if !is_certificate_error(&text) {
        return text;
    }
    let hint = match &peer.ca_cert {
        Some(path) => format!("the peer's certificate does not verify against the CA in {path}"),
        None => "the peer's certificate does not verify against the system's roots; name its CA with `accord peer add … --ca-cert FILE`".to_string(),
    };
    format!("{text} ({hint})")
}

impl Federation {
    /// The HTTP client for `peer`: the shared one, or one trusting only the peer's CA.
    pub(super) fn client_for(
        &self,
        peer: &Peer,
    ) -> Result<reqwest::blocking::Client, FederationError> {
        let Some(path) = &peer.ca_cert else {
            return Ok(self.client.clone());
        };
        let fail = |detail: String| FederationError::Peer {
            peer: peer.name.clone(),
            detail,
        };
        let pem = read_ca_certificates(path).map_err(|e| fail(e.to_string()))?;
        let mut clients = self
            .peer_clients
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((known, client)) = clients.get(&peer.name) {
            if *known == pem {
                return Ok(client.clone());
            }
        }
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| fail(format!("ca-cert {path}: {e}")))?;
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("accord/", env!("CARGO_PKG_VERSION")))
            .tls_certs_only(certs)
            .build()
            .map_err(|e| fail(format!("HTTP client with the CA in {path}: {e}")))?;
        clients.insert(peer.name.clone(), (pem, client.clone()));
        Ok(client)
    }
}
