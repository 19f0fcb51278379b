//! Offline exchange end to end: `accord export --sign` writes a bundle and its detached
//! JWS; `accord ingest --verify-with` ingests it on another node only when a trusted key
//! signed exactly those bytes, and otherwise ingests nothing and names the file and the
//! rule.

use std::path::PathBuf;

use accord_agreements::transparency::LedgerSigner;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};

use super::{bundle, code, exported, indicator, stderr, stdout, Scratch};

/// A node of `telco` holding three indicators, its signed export `out.json` (+ `.jws`)
/// and its public key `telco.pub`; and an empty receiving store.
struct Exchange {
    sender: Scratch,
    receiver: Scratch,
    bundle: PathBuf,
    key: PathBuf,
}

fn exchange() -> Exchange {
    let sender = Scratch::node();
    let objects: Vec<String> = (1..=3)
        .map(|n| indicator(n, "2024-01-01T00:00:00.000Z"))
        .collect();
    let input = sender.write("in.json", &bundle(&objects));
    let out = sender.run(&["ingest", input.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bundle = sender.path("out.json");
    let key_file = sender.path("node/ledger.key");
    let out = sender.run(&[
        "export",
        "--sign",
        key_file.to_str().unwrap(),
        "-o",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("out.json.jws"), "{}", stderr(&out));
    let key = sender.path("telco.pub");
    let out = sender.run(&["ledger", "key", "-o", key.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    Exchange {
        sender,
        receiver: Scratch::new(),
        bundle,
        key,
    }
}

impl Exchange {
    fn ingest(&self, keys: &[&PathBuf], files: &[&PathBuf]) -> std::process::Output {
        let mut args = vec!["ingest".to_string()];
        for key in keys {
            args.extend(["--verify-with".to_string(), key.display().to_string()]);
        }
        args.extend(files.iter().map(|f| f.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.receiver.run(&args)
    }

    fn jws(&self) -> PathBuf {
        PathBuf::from(format!("{}.jws", self.bundle.display()))
    }

    /// Asserts a refusal naming `file` and `rule`, with nothing ingested.
    fn refused(&self, out: &std::process::Output, file: &str, rule: &str) {
        let err = stderr(out);
        assert_eq!(code(out), 2, "{err}");
        assert!(err.contains(file), "names {file}: {err}");
        assert!(err.contains(rule), "names {rule}: {err}");
        assert!(err.contains("nothing was ingested"), "{err}");
        // Refused before the store is even opened.
        assert!(
            !self.receiver.path("store.sqlite").exists(),
            "nothing ingested"
        );
    }
}

#[test]
fn a_signed_bundle_round_trips_byte_for_byte() {
    let x = exchange();
    let jws = std::fs::read_to_string(x.jws()).unwrap();
    let (header, signature) = jws.trim().split_once("..").expect("detached compact JWS");
    assert!(!signature.is_empty());
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let printed = stdout(&x.sender.run(&["--json", "ledger", "key"]));
    let printed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(
        header["kid"], printed["key_id"],
        "kid is the key id `ledger key` prints"
    );
    let out = x.ingest(&[&x.key], &[&x.bundle]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("signature verified"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("stored 3 objects"),
        "{}",
        stdout(&out)
    );
    assert_eq!(exported(&x.receiver, &[]), exported(&x.sender, &[]));
}

#[test]
fn one_changed_byte_is_refused_and_nothing_is_ingested() {
    let x = exchange();
    let text = std::fs::read_to_string(&x.bundle).unwrap();
    let changed = text.replacen("198.51.100.2'", "198.51.100.7'", 1);
    assert_eq!(changed.len(), text.len());
    assert_ne!(changed, text);
    std::fs::write(&x.bundle, changed).unwrap();
    // A good bundle first: it is not ingested either.
    let good = x.receiver.write(
        "good.json",
        &bundle(&[indicator(9, "2024-01-01T00:00:00.000Z")]),
    );
    let signer = LedgerSigner::from_seed(&[4; 32]);
    let jws = accord_agreements::jws::sign_detached(&signer, &std::fs::read(&good).unwrap());
    std::fs::write(x.receiver.path("good.json.jws"), jws).unwrap();
    let other = x
        .receiver
        .write("other.pub", &signer.public_key().to_text());
    let out = x.ingest(&[&x.key, &other], &[&good, &x.bundle]);
    x.refused(&out, "out.json", "jws-signature");
    // Alone, the good one goes in.
    let out = x.ingest(&[&x.key, &other], &[&good]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn an_unknown_signer_is_refused() {
    let x = exchange();
    let stranger = LedgerSigner::from_seed(&[5; 32]).public_key();
    let key = x.receiver.write("stranger.pub", &stranger.to_text());
    let out = x.ingest(&[&key], &[&x.bundle]);
    x.refused(&out, "out.json", "jws-signer");
}

#[test]
fn a_missing_signature_is_refused() {
    let x = exchange();
    std::fs::remove_file(x.jws()).unwrap();
    let out = x.ingest(&[&x.key], &[&x.bundle]);
    x.refused(&out, "out.json.jws", "jws-missing");
    // Standard input is refused before it is read (null: no pipe to break).
    let out = x
        .receiver
        .accord()
        .args(["ingest", "--verify-with", x.key.to_str().unwrap(), "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("jws-missing"), "{}", stderr(&out));
}

/// Algorithm confusion: a JWS that says `none`, or `HS256` with the signer's public key
/// as the HMAC secret (what a verifier that takes `alg` from the header would accept).
#[test]
fn alg_none_and_hs256_are_refused() {
    let x = exchange();
    let bytes = std::fs::read(&x.bundle).unwrap();
    let public = std::fs::read_to_string(&x.key).unwrap();
    let public = accord_agreements::transparency::LedgerPublicKey::parse(&public).unwrap();
    let kid = accord_agreements::jws::key_id(&public);
    let input = |header: &str| {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(&bytes)
        )
    };
    let none = format!(r#"{{"alg":"none","kid":"{kid}"}}"#);
    let none_jws = format!("{}..", URL_SAFE_NO_PAD.encode(&none));
    let hs = format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&public.to_bytes()).unwrap();
    mac.update(input(&hs).as_bytes());
    let hs_jws = format!(
        "{}..{}",
        URL_SAFE_NO_PAD.encode(&hs),
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    for jws in [none_jws, hs_jws] {
        std::fs::write(x.jws(), &jws).unwrap();
        let out = x.ingest(&[&x.key], &[&x.bundle]);
        x.refused(&out, "out.json", "jws-alg");
    }
}

#[test]
fn signing_needs_an_output_file() {
    let x = exchange();
    let key = x.sender.path("node/ledger.key");
    let out = x.sender.run(&["export", "--sign", key.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--output"), "{}", stderr(&out));
}
