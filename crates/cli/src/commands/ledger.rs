//! `accord ledger`: verify, explain and export the record of every release.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use accord_agreements::ledger::Verifier;
use accord_agreements::{LedgerBreak, LedgerEntry, UtcMicros};
use accord_node::egress::ledger::decode_record;
use accord_store::{ObjectQuery, Scope, Store, VersionFilter};
use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::context::{print_stdout, GlobalArgs};

/// Entries read from the store at a time.
const CHUNK: usize = 10_000;

/// Verify, explain and export the ledger of releases.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  accord ledger verify\n  accord ledger export -o ledger.jsonl")]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Check the hash chain; name the first changed, missing or reordered entry.
    ///
    /// Exit status: 0 intact, 1 broken, 2 error.
    #[command(
        after_help = "Examples:\n  accord ledger verify\n  accord ledger verify --file ledger.jsonl"
    )]
    Verify {
        /// Verify an exported ledger (JSON lines) instead of the store's
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Did ORG receive OBJECT? When, under which agreement, and in what form.
    ///
    /// Exit status: 0 received at least once, 1 never received, 2 error.
    #[command(
        after_help = "Example:\n  accord ledger explain --recipient centre --object indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    )]
    Explain {
        /// The receiving organisation
        #[arg(long, value_name = "ORG")]
        recipient: String,
        /// The object id
        #[arg(long, value_name = "ID")]
        object: String,
    },
    /// Write the ledger as JSON lines, one entry per line, for auditors.
    #[command(
        after_help = "Examples:\n  accord ledger export -o ledger.jsonl\n  accord ledger export | jq 'select(.recipient == \"centre\")'"
    )]
    Export {
        /// Write here instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(global: &GlobalArgs, args: &LedgerArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        LedgerCommand::Verify { file: Some(file) } => verify_file(global, file),
        LedgerCommand::Verify { file: None } => verify_store(global),
        LedgerCommand::Explain { recipient, object } => explain(global, recipient, object),
        LedgerCommand::Export { output } => export(global, output.as_ref()),
    }
}

/// How a verification ended.
enum Outcome {
    Intact { entries: u64 },
    Broken(LedgerBreak),
    Unreadable { seq: u64, detail: String },
}

fn verify_store(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let mut verifier = Verifier::new();
    let mut after = 0;
    let mut entries = 0u64;
    let outcome = 'scan: loop {
        let records = store.ledger_scan(after, CHUNK)?;
        let Some(last) = records.last() else {
            break Outcome::Intact { entries };
        };
        after = last.seq;
        for record in &records {
            let entry = match decode_record(record) {
                Ok(entry) => entry,
                Err(detail) => {
                    break 'scan Outcome::Unreadable {
                        seq: record.seq,
                        detail,
                    }
                }
            };
            if let Err(broken) = verifier.push(&entry) {
                break 'scan Outcome::Broken(broken);
            }
            entries += 1;
        }
    };
    report_verification(global, outcome)
}

fn verify_file(global: &GlobalArgs, file: &PathBuf) -> anyhow::Result<ExitCode> {
    let reader =
        BufReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?);
    let mut verifier = Verifier::new();
    let mut entries = 0u64;
    let mut outcome = None;
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = match serde_json::from_str::<ExportedEntry>(&line)
            .map_err(|e| e.to_string())
            .and_then(ExportedEntry::into_entry)
        {
            Ok(entry) => entry,
            Err(detail) => {
                outcome = Some(Outcome::Unreadable {
                    seq: entries + 1,
                    detail: format!("line {}: {detail}", n + 1),
                });
                break;
            }
        };
        if let Err(broken) = verifier.push(&entry) {
            outcome = Some(Outcome::Broken(broken));
            break;
        }
        entries += 1;
    }
    report_verification(global, outcome.unwrap_or(Outcome::Intact { entries }))
}

fn report_verification(global: &GlobalArgs, outcome: Outcome) -> anyhow::Result<ExitCode> {
    let (ok, message, json) = match outcome {
        Outcome::Intact { entries } => (
            true,
            format!("ledger intact: {entries} entries"),
            serde_json::json!({"intact": true, "entries": entries}),
        ),
        Outcome::Broken(broken) => (
            false,
            broken.to_string(),
            serde_json::json!({"intact": false, "first_broken_seq": broken.seq, "problem": broken.to_string()}),
        ),
        Outcome::Unreadable { seq, detail } => (
            false,
            format!("ledger broken at entry {seq}: unreadable: {detail}"),
            serde_json::json!({"intact": false, "first_broken_seq": seq, "problem": detail}),
        ),
    };
    if global.json {
        print_stdout(&json.to_string())?;
    } else {
        print_stdout(&message)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn explain(global: &GlobalArgs, recipient: &str, object: &str) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let records = store.ledger_find(recipient, object)?;
    if records.is_empty() {
        // A past partner may have left the configuration and still be in the ledger;
        // a name that is in neither is a mistake, not a "never received".
        global.node()?.require_organisation(recipient)?;
    }
    let mut explained = Vec::new();
    for record in &records {
        let entry = decode_record(record).map_err(|e| {
            anyhow::anyhow!(
                "ledger entry {}: {e}; run `accord ledger verify`",
                record.seq
            )
        })?;
        let form = form_of(&*store, &entry)?;
        explained.push((entry, form));
    }
    if global.json {
        let list: Vec<_> = explained
            .iter()
            .map(|(e, form)| {
                let mut v = exported(e);
                v["form"] = serde_json::Value::String(form.to_string());
                v
            })
            .collect();
        print_stdout(&serde_json::to_string_pretty(&list)?)?;
    } else if explained.is_empty() {
        print_stdout(&format!("{recipient} never received {object}"))?;
    } else {
        let mut text = format!(
            "{recipient} received {object} {} time(s):\n",
            explained.len()
        );
        for (e, form) in &explained {
            text.push_str(&format!(
                "\n  entry {}  at {}\n    version          {}\n    agreement        {} v{}\n    purpose          {}\n    legal basis      {}\n    form             {form}\n    released sha256  {}\n",
                e.seq,
                e.time.to_stix(),
                e.object_version,
                e.agreement_id,
                e.agreement_version,
                one_line(&e.purpose),
                one_line(&e.legal_basis),
                hex::encode(e.released_sha256),
            ));
        }
        print_stdout(text.trim_end())?;
    }
    Ok(if explained.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether the released bytes were the stored object itself or a transformed form.
fn form_of(store: &dyn Store, entry: &LedgerEntry) -> anyhow::Result<&'static str> {
    let mut query = ObjectQuery::new(Scope::Store, 1000);
    query.ids = vec![entry.object_id.clone()];
    query.versions = VersionFilter::all();
    let page = store.query(&query)?;
    let Some(row) = page.rows.iter().find(|r| r.version == entry.object_version) else {
        return Ok("unknown (that version is no longer in the store)");
    };
    let stored: [u8; 32] = Sha256::digest(row.json.as_bytes()).into();
    Ok(if stored == entry.released_sha256 {
        "as stored (unchanged)"
    } else {
        "transformed by the agreement's protections (removed properties, pseudonymised addresses or added obligations)"
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn export(global: &GlobalArgs, output: Option<&PathBuf>) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let sink: Box<dyn Write> = match output {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(sink);
    let mut after = 0;
    let mut count = 0u64;
    loop {
        let records = store.ledger_scan(after, CHUNK)?;
        let Some(last) = records.last() else { break };
        after = last.seq;
        for record in &records {
            let entry = decode_record(record).map_err(|e| {
                anyhow::anyhow!(
                    "ledger entry {}: {e}; run `accord ledger verify`",
                    record.seq
                )
            })?;
            serde_json::to_writer(&mut out, &exported(&entry))?;
            out.write_all(b"\n")?;
            count += 1;
        }
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    if output.is_some() {
        eprintln!("exported {count} ledger entries");
    }
    Ok(ExitCode::SUCCESS)
}

/// An entry as a JSON line: every field of the chained entry, hashes in hex.
fn exported(e: &LedgerEntry) -> serde_json::Value {
    serde_json::json!({
        "seq": e.seq,
        "time": e.time.to_stix(),
        "time_micros": e.time.0,
        "recipient": e.recipient,
        "object_id": e.object_id,
        "object_version": e.object_version,
        "agreement_id": e.agreement_id,
        "agreement_version": e.agreement_version,
        "purpose": e.purpose,
        "legal_basis": e.legal_basis,
        "released_sha256": hex::encode(e.released_sha256),
        "prev_hash": hex::encode(e.prev_hash),
        "hash": hex::encode(e.hash),
    })
}

/// The fields of an exported line needed to rebuild the entry.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportedEntry {
    seq: u64,
    time: String,
    time_micros: i64,
    recipient: String,
    object_id: String,
    object_version: String,
    agreement_id: String,
    agreement_version: u32,
    purpose: String,
    legal_basis: String,
    released_sha256: String,
    prev_hash: String,
    hash: String,
}

impl ExportedEntry {
    fn into_entry(self) -> Result<LedgerEntry, String> {
        let hash32 = |name: &str, text: &str| -> Result<[u8; 32], String> {
            let bytes = hex::decode(text).map_err(|e| format!("{name}: {e}"))?;
            bytes
                .try_into()
                .map_err(|_| format!("{name}: not 32 bytes"))
        };
        let time = UtcMicros(self.time_micros);
        // The readable time is not hashed; it must say what the hashed one says.
        if time.to_stix() != self.time {
            return Err(format!(
                "time {} does not match time_micros {}",
                self.time, self.time_micros
            ));
        }
        Ok(LedgerEntry {
            seq: self.seq,
            time,
            recipient: self.recipient,
            object_id: self.object_id,
            object_version: self.object_version,
            agreement_id: self.agreement_id,
            agreement_version: self.agreement_version,
            purpose: self.purpose,
            legal_basis: self.legal_basis,
            released_sha256: hash32("released_sha256", &self.released_sha256)?,
            prev_hash: hash32("prev_hash", &self.prev_hash)?,
            hash: hash32("hash", &self.hash)?,
        })
    }
}
