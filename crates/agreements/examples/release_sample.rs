//! Runs the gate over a STIX bundle as if every object came from the agreement's
//! provider, and prints the released objects as a bundle (stdout) and a preview
//! of the decisions (stderr). Used to check released objects with the OASIS
//! stix2-validator.
//!
//! ```text
//! cargo run -p accord-agreements --example release-sample -- AGREEMENT.toml BUNDLE.json [NOW]
//! ```
//! The pseudonym key is read from `ACCORD_PSEUDONYM_KEY` (hex) if set, otherwise
//! from the agreement's key source.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use accord_agreements::{
    Agreement, Decision, Gate, KeySource, ObjectFacts, ObjectVersion, Preview, PseudonymKey,
    ResolvedObject, UtcMicros,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn load_key(agreement: &Agreement, path: &Path) -> Result<Option<PseudonymKey>, String> {
    let text = match (
        std::env::var("ACCORD_PSEUDONYM_KEY").ok(),
        agreement.key_source(),
    ) {
        (Some(hex), _) => hex,
        (None, None) => return Ok(None),
        (None, Some(KeySource::Env(var))) => {
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
        }
        (None, Some(KeySource::File(file))) => {
            let full = path.parent().unwrap_or(Path::new(".")).join(file);
            std::fs::read_to_string(&full).map_err(|e| format!("{}: {e}", full.display()))?
        }
    };
    PseudonymKey::from_hex(&text)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [agreement_path, bundle_path, rest @ ..] = args.as_slice() else {
        return Err("usage: release-sample AGREEMENT.toml BUNDLE.json [NOW]".into());
    };
    let text =
        std::fs::read_to_string(agreement_path).map_err(|e| format!("{agreement_path}: {e}"))?;
    let mut agreement =
        Agreement::from_toml(&text).map_err(|e| format!("{agreement_path}: {e}"))?;
    if agreement.pseudonymises() {
        if let Some(key) = load_key(&agreement, Path::new(agreement_path))? {
            agreement = agreement.with_key(key);
        }
    }
    let provider = agreement.provider().id.clone();
    let recipient = agreement.recipient().id.clone();
    let marking = agreement.obligations_marking();
    let now = match rest.first() {
        Some(t) => UtcMicros::parse(t).ok_or_else(|| format!("{t} is not a UTC timestamp"))?,
        None => agreement.valid_from().plus(agreement.protections().embargo),
    };
    let gate = Gate::new([agreement]).map_err(|e| e.to_string())?;
    let bundle: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(bundle_path).map_err(|e| format!("{bundle_path}: {e}"))?,
    )
    .map_err(|e| format!("{bundle_path}: {e}"))?;
    let objects: Vec<(String, ObjectFacts)> = bundle["objects"]
        .as_array()
        .ok_or("the bundle has no objects array")?
        .iter()
        .map(|o| (o.to_string(), ObjectFacts::extract(o)))
        .collect();
    let date_added = UtcMicros(0);
    let resolver: HashMap<String, ResolvedObject> = objects
        .iter()
        .map(|(raw, f)| {
            let resolved = ResolvedObject {
                facts: f.clone(),
                provider: provider.clone(),
                collection: None,
                date_added,
                raw: Some(raw.as_str().into()),
            };
            (f.id.clone(), resolved)
        })
        .collect();
    let view = gate.view(&recipient, now);
    let mut preview = Preview::default();
    let mut released = Vec::new();
    for (raw, facts) in &objects {
        let object = ObjectVersion {
            facts,
            provider: &provider,
            collection: None,
            date_added,
            raw,
        };
        let decision = view.decide(&object, &resolver);
        preview.record(facts, &decision);
        match decision {
            Decision::Release(r) => {
                released.push(
                    serde_json::from_str::<serde_json::Value>(&r.bytes)
                        .map_err(|e| e.to_string())?,
                );
            }
            Decision::Withhold(reason) => eprintln!("withheld {}: {reason}", facts.id),
        }
    }
    if let (Some(m), false) = (marking, released.is_empty()) {
        released.push(m);
    }
    eprint!("{preview}");
    let out = serde_json::json!({
        "type": "bundle",
        "id": bundle.get("id").cloned().unwrap_or_else(|| "bundle--00000000-0000-4000-8000-000000000000".into()),
        "objects": released,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    );
    Ok(())
}
