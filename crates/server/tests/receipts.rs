//! Ledger receipts over a real socket: a partner reads, keeps the `X-Accord-Receipt` of
//! the response, fetches its proof and verifies it offline with nothing but the node's
//! public key — each entry's released SHA-256 is the SHA-256 of the bytes it received.

use accord_agreements::transparency::{LedgerProof, LedgerPublicKey};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// One HTTP/1.1 exchange: (status line, headers in lower case, body).
async fn fetch(
    addr: std::net::SocketAddr,
    path: &str,
    who: Who,
) -> (String, Vec<(String, String)>, Vec<u8>) {
    let auth = authorization(who)
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: {TAXII}\r\n{auth}Connection: close\r\n\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = unchunk(&body);
    }
    (status, headers, body)
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn indicator(n: u32) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '192.0.2.{n}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}}"#
    )
}

#[tokio::test]
async fn a_partner_verifies_its_receipt_offline_with_the_public_key() {
    let f = fixture();
    let objects: Vec<String> = (1..=4).map(indicator).collect();
    telco_shares_with_police(&f, &objects, 1, "");
    // What the node's operator hands partners: the public key's text, derived here
    // from the key file the server created on first use.
    let signer = accord_node::ledger_key::load(&f.dir.path().join("ledger.key")).unwrap();
    let public_text = signer.public_key().to_text();
    drop(signer);

    let server = serve(f.state.clone()).await;
    let addr = server.addr;

    let objects_path = format!("/intel/collections/{SHARED}/objects/");
    let (status, headers, body) = fetch(addr, &objects_path, Who::Police).await;
    assert!(status.contains(" 200"), "{status}");
    let receipt_id = header(&headers, "x-accord-receipt")
        .expect("a response that released objects names its receipt")
        .to_string();
    // The bytes the partner received, one object each, exactly as the envelope holds them.
    #[derive(serde::Deserialize)]
    struct Envelope {
        objects: Vec<Box<serde_json::value::RawValue>>,
    }
    let envelope: Envelope = serde_json::from_slice(&body).unwrap();
    let received_texts: Vec<String> = envelope
        .objects
        .iter()
        .map(|o| o.get().to_string())
        .collect();
    assert_eq!(received_texts.len(), 3, "page_size 3");

    // The manifest releases no content: no receipt.
    let (_, manifest_headers, _) = fetch(
        addr,
        &format!("/intel/collections/{SHARED}/manifest/"),
        Who::Police,
    )
    .await;
    assert_eq!(header(&manifest_headers, "x-accord-receipt"), None);
    // The owner's own read is not a release: no receipt.
    let (_, own_headers, _) = fetch(addr, &objects_path, Who::Telco).await;
    assert_eq!(header(&own_headers, "x-accord-receipt"), None);

    let receipt_path = format!("/intel/ledger/receipts/{receipt_id}/");
    let (status, headers, body) = fetch(addr, &receipt_path, Who::Police).await;
    assert!(status.contains(" 200"), "{status}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    // Another organisation, or no credentials, cannot have it.
    let (status, _, _) = fetch(addr, &receipt_path, Who::Cert).await;
    assert!(status.contains(" 404"), "{status}");
    let (status, _, _) = fetch(addr, &receipt_path, Who::Nobody).await;
    assert!(status.contains(" 401"), "{status}");
    let (status, _, _) = fetch(addr, "/intel/ledger/receipts/1-2-99999/", Who::Police).await;
    assert!(status.contains(" 404"), "{status}");

    server.stop().await;

    // Offline, with only the public key's text and the proof's bytes.
    let key = LedgerPublicKey::parse(&public_text).unwrap();
    let proof = LedgerProof::from_json(&serde_json::from_slice(&body).unwrap()).unwrap();
    assert_eq!(proof.receipt_id.as_deref(), Some(receipt_id.as_str()));
    let entries = proof.verify(&key).unwrap();
    assert_eq!(entries.len(), received_texts.len());
    for (entry, text) in entries.iter().zip(&received_texts) {
        assert_eq!(entry.recipient, "police");
        assert_eq!(entry.agreement_id, "telco-police");
        let object: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(entry.released_id, object["id"].as_str().unwrap());
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        assert_eq!(
            entry.released_sha256, digest,
            "the released bytes are the ones received"
        );
    }
    // A proof tampered with in transit fails.
    let mut tampered: serde_json::Value = serde_json::from_slice(&body).unwrap();
    tampered["signed_head"]["tree_size"] = 99.into();
    let tampered = LedgerProof::from_json(&tampered).unwrap();
    assert!(tampered.verify(&key).is_err());
}
