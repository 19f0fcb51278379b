//! `accord ledger`: verify, explain, export and prove the record of every release.
//!
//! The ledger is a hash chain and a Merkle tree (RFC 9162) whose heads the node signs
//! with its ledger key (docs/agreements.md, "The ledger"). `verify --head` checks the
//! store or an export against a head saved earlier (`head -o`); `prove` writes a proof
//! an auditor checks with `check-proof` and the public key (`key`) alone.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use accord_agreements::merkle;
use accord_agreements::transparency::{
    entry_from_json, entry_json, LedgerProof, LedgerPublicKey, LedgerSigner, LogProblem,
    LogVerifier, SignedTreeHead, TreeHead,
};
use accord_agreements::{LedgerEntry, UtcMicros};
use accord_node::egress::ledger::{build_proof, decode_record};
use accord_store::{LedgerRecord, ObjectQuery, Scope, Store, VersionFilter};
use anyhow::{bail, Context as _};
use sha2::{Digest, Sha256};

use crate::context::{print_stdout, GlobalArgs};

/// Entries read from the store at a time.
const CHUNK: usize = 10_000;

/// Largest file `check-proof` and `verify --head` read (a proof of 100,000 entries
/// is about 200 MB; a head is a few hundred bytes).
const MAX_PROOF_FILE: u64 = 512 << 20;

/// Verify, explain, export and prove the ledger of releases.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  accord ledger verify\n  accord ledger export -o ledger.jsonl")]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Check the hash chain and the Merkle tree; with --head, that the ledger still
    /// extends a signed head saved earlier (catches entries cut off the end, and
    /// entries rewritten even with every later hash recomputed).
    ///
    /// Exit status: 0 intact, 1 broken, 2 error.
    #[command(
        after_help = "Examples:\n  accord ledger verify\n  accord ledger verify --head head-2026-05.json\n  accord ledger verify --file ledger.jsonl --head head.json --key telco-ledger.pub"
    )]
    Verify {
        /// Verify an exported ledger (JSON lines) instead of the store's
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// A signed tree head saved earlier (`accord ledger head -o FILE`)
        #[arg(long, value_name = "FILE")]
        head: Option<PathBuf>,
        /// The public key the head must be signed with [default: this node's]
        #[arg(long, value_name = "PUBKEY")]
        key: Option<PathBuf>,
    },
    /// Did ORG receive OBJECT? When, under which agreement, and in what form. OBJECT
    /// is the stored id or the id the recipient holds (a pseudonymised SCO's).
    ///
    /// Exit status: 0 received at least once, 1 never received, 2 error.
    #[command(
        after_help = "Example:\n  accord ledger explain --recipient centre --object indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    )]
    Explain {
        /// The receiving organisation
        #[arg(long, value_name = "ORG")]
        recipient: String,
        /// The object id (stored, or as the recipient received it)
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
    /// Print (or save) the signed tree head of the ledger as it is now: keep it, and
    /// later `verify --head` proves nothing was cut or rewritten since.
    #[command(
        after_help = "Examples:\n  accord ledger head -o head-2026-05.json\n  accord ledger head | jq .tree_size"
    )]
    Head {
        /// Write here instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print (or save) this node's ledger public key, for partners and auditors.
    #[command(after_help = "Example:\n  accord ledger key -o telco-ledger.pub")]
    Key {
        /// Write here instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a self-contained proof of every release of OBJECT to ORG: the entries,
    /// their inclusion proofs and a signed tree head, for `check-proof`.
    ///
    /// Exit status: 0 written, 1 never received, 2 error.
    #[command(
        after_help = "Example:\n  accord ledger prove --recipient centre --object indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f -o proof.json"
    )]
    Prove {
        /// The receiving organisation
        #[arg(long, value_name = "ORG")]
        recipient: String,
        /// The object id (stored, or as the recipient received it)
        #[arg(long, value_name = "ID")]
        object: String,
        /// Write here instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check a proof (from `prove`, or a receipt a partner fetched) with a public key
    /// alone: no store, no configuration.
    ///
    /// Exit status: 0 valid, 1 invalid, 2 error.
    #[command(
        after_help = "Example:\n  accord ledger check-proof --key telco-ledger.pub proof.json"
    )]
    CheckProof {
        /// The node's public key (`accord ledger key`)
        #[arg(long, value_name = "PUBKEY")]
        key: PathBuf,
        /// The proof (JSON)
        #[arg(value_name = "FILE")]
        proof: PathBuf,
    },
}

pub fn run(global: &GlobalArgs, args: &LedgerArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        LedgerCommand::Verify { file, head, key } => {
            let checkpoint = match head {
                Some(path) => Some(read_head(path)?),
                None => None,
            };
            let key = match key {
                Some(path) => Some(read_key(path)?),
                None => None,
            };
            match file {
                Some(file) => verify_file(global, file, checkpoint, key),
                None => verify_store(global, checkpoint, key),
            }
        }
        LedgerCommand::Explain { recipient, object } => explain(global, recipient, object),
        LedgerCommand::Export { output } => export(global, output.as_ref()),
        LedgerCommand::Head { output } => head(global, output.as_deref()),
        LedgerCommand::Key { output } => key(global, output.as_deref()),
        LedgerCommand::Prove {
            recipient,
            object,
            output,
        } => prove(global, recipient, object, output.as_deref()),
        LedgerCommand::CheckProof { key, proof } => check_proof(global, key, proof),
    }
}

/// How a verification ended.
enum Outcome {
    Intact {
        entries: u64,
        against: Option<SignedTreeHead>,
    },
    Broken {
        seq: u64,
        problem: String,
    },
}

fn read_limited(path: &Path) -> anyhow::Result<String> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut text = String::new();
    io::Read::read_to_string(&mut io::Read::take(file, MAX_PROOF_FILE), &mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(text)
}

fn read_head(path: &Path) -> anyhow::Result<SignedTreeHead> {
    serde_json::from_str(&read_limited(path)?)
        .with_context(|| format!("{} is not a signed tree head", path.display()))
}

fn read_key(path: &Path) -> anyhow::Result<LedgerPublicKey> {
    LedgerPublicKey::parse(&read_limited(path)?)
        .with_context(|| format!("reading the public key {}", path.display()))
}

/// The node's signing key (created, with a message, for a node that has none).
fn node_signer(global: &GlobalArgs) -> anyhow::Result<LedgerSigner> {
    global.node()?.ledger_signer()
}

/// The public key heads are checked with: `--key`, else the node's own (the key file
/// is only read, never created, for a check).
fn checking_key(
    global: &GlobalArgs,
    key: Option<LedgerPublicKey>,
) -> anyhow::Result<LedgerPublicKey> {
    if let Some(key) = key {
        return Ok(key);
    }
    let path = global.node()?.ledger_key_path();
    if !path.exists() {
        bail!(
            "this node has no ledger key at {}; pass the public key with --key",
            path.display()
        );
    }
    Ok(accord_node::ledger_key::load(&path)?.public_key())
}

/// Checks a head's signature; a problem is a broken ledger, not an error.
fn head_problem(head: &SignedTreeHead, key: &LedgerPublicKey) -> Option<String> {
    head.verify(key)
        .err()
        .map(|e| format!("the head given does not hold: {e}"))
}

fn log_problem(problem: LogProblem) -> Outcome {
    let seq = match &problem {
        LogProblem::Chain(b) => b.seq,
        LogProblem::Rewritten { tree_size, .. } => *tree_size,
        LogProblem::Truncated { entries, .. } => entries + 1,
        _ => 0,
    };
    let problem = match problem {
        LogProblem::Chain(b) => b.to_string(),
        other => format!("ledger broken: {other}"),
    };
    Outcome::Broken { seq, problem }
}

fn verify_store(
    global: &GlobalArgs,
    checkpoint: Option<SignedTreeHead>,
    key: Option<LedgerPublicKey>,
) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let latest = store.ledger_latest_head()?;
    let mut heads = Vec::new();
    if checkpoint.is_some() || latest.is_some() {
        let key = checking_key(global, key)?;
        for head in checkpoint.iter().chain(latest.iter()) {
            if let Some(problem) = head_problem(head, &key) {
                let problem = if Some(head) == latest.as_ref() && Some(head) != checkpoint.as_ref()
                {
                    format!("the store's latest signed head does not hold: {problem}")
                } else {
                    problem
                };
                return report_verification(global, Outcome::Broken { seq: 0, problem });
            }
            heads.push(head.head);
        }
    }
    let mut verifier = LogVerifier::new(heads);
    let mut after = 0;
    let outcome = 'scan: loop {
        let records = store.ledger_scan(after, CHUNK)?;
        let Some(last) = records.last() else {
            break 'scan None;
        };
        after = last.seq;
        for record in &records {
            let entry = match decode_record(record) {
                Ok(entry) => entry,
                Err(detail) => {
                    break 'scan Some(Outcome::Broken {
                        seq: record.seq,
                        problem: format!("ledger broken at entry seq {}: {detail}", record.seq),
                    })
                }
            };
            if let Err(problem) = verifier.push(&entry) {
                break 'scan Some(log_problem(problem));
            }
        }
    };
    if let Some(outcome) = outcome {
        return report_verification(global, outcome);
    }
    let entries = verifier.entries();
    let tree = match verifier.finish() {
        Ok(tree) => tree,
        Err(problem) => return report_verification(global, log_problem(problem)),
    };
    // The stored tree (what proofs and receipts are built from) must be the entries'.
    let stored = store.ledger_tree()?;
    if stored.size != tree.size() || stored.root != tree.root() {
        return report_verification(
            global,
            Outcome::Broken {
                seq: 0,
                problem: "ledger broken: the stored Merkle tree does not match the entries (its nodes were changed)".into(),
            },
        );
    }
    // The consistency proof a partner holding the checkpoint would ask for: from the
    // checkpoint to the store's latest signed head, from the stored nodes.
    if let (Some(old), Some(new)) = (&checkpoint, &latest) {
        if new.head.tree_size >= old.head.tree_size {
            let plan = merkle::consistency_plan(old.head.tree_size, new.head.tree_size)?;
            let proof = plan.assemble(&store.ledger_nodes(&plan.nodes())?)?;
            if let Err(e) = merkle::verify_consistency(
                old.head.tree_size,
                new.head.tree_size,
                &old.head.root_hash,
                &new.head.root_hash,
                &proof,
            ) {
                return report_verification(
                    global,
                    Outcome::Broken {
                        seq: 0,
                        problem: format!("ledger broken: the latest signed head does not extend the head given: {e}"),
                    },
                );
            }
        }
    }
    report_verification(
        global,
        Outcome::Intact {
            entries,
            against: checkpoint,
        },
    )
}

fn verify_file(
    global: &GlobalArgs,
    file: &PathBuf,
    checkpoint: Option<SignedTreeHead>,
    key: Option<LedgerPublicKey>,
) -> anyhow::Result<ExitCode> {
    let mut heads = Vec::new();
    if let Some(head) = &checkpoint {
        let key = checking_key(global, key)?;
        if let Some(problem) = head_problem(head, &key) {
            return report_verification(global, Outcome::Broken { seq: 0, problem });
        }
        heads.push(head.head);
    }
    let reader =
        BufReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?);
    let mut verifier = LogVerifier::new(heads);
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = match serde_json::from_str::<serde_json::Value>(&line)
            .map_err(|e| e.to_string())
            .and_then(|v| entry_from_json(&v))
        {
            Ok(entry) => entry,
            Err(detail) => {
                let seq = verifier.entries() + 1;
                return report_verification(
                    global,
                    Outcome::Broken {
                        seq,
                        problem: format!(
                            "ledger broken at entry seq {seq}: line {} cannot be read: {detail}",
                            n + 1
                        ),
                    },
                );
            }
        };
        if let Err(problem) = verifier.push(&entry) {
            return report_verification(global, log_problem(problem));
        }
    }
    let entries = verifier.entries();
    let outcome = match verifier.finish() {
        Ok(_) => Outcome::Intact {
            entries,
            against: checkpoint,
        },
        Err(problem) => log_problem(problem),
    };
    report_verification(global, outcome)
}

fn report_verification(global: &GlobalArgs, outcome: Outcome) -> anyhow::Result<ExitCode> {
    let (ok, message, json) = match outcome {
        Outcome::Intact { entries, against } => {
            let mut message = format!("ledger intact: {entries} entries");
            let mut json = serde_json::json!({"intact": true, "entries": entries});
            if let Some(head) = against {
                message.push_str(&format!(
                    "; it extends the head signed at {} over {} entries (key {})",
                    head.head.timestamp.to_stix(),
                    head.head.tree_size,
                    hex::encode(head.key_id)
                ));
                json["head_tree_size"] = head.head.tree_size.into();
            }
            (true, message, json)
        }
        Outcome::Broken { seq, problem } => (
            false,
            problem.clone(),
            serde_json::json!({"intact": false, "first_broken_seq": seq, "problem": problem}),
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

/// The entries recording releases of `object` to `recipient`, whether `object` is the
/// stored id or the id the recipient holds.
fn releases_of(
    store: &dyn Store,
    recipient: &str,
    object: &str,
) -> anyhow::Result<Vec<LedgerRecord>> {
    let mut records = store.ledger_find(recipient, object)?;
    records.extend(store.ledger_find_released(recipient, object)?);
    records.sort_by_key(|r| r.seq);
    records.dedup_by_key(|r| r.seq);
    Ok(records)
}

fn decoded(record: &LedgerRecord) -> anyhow::Result<LedgerEntry> {
    decode_record(record).map_err(|e| {
        anyhow::anyhow!(
            "ledger entry seq {}: {e}; run `accord ledger verify`",
            record.seq
        )
    })
}

fn explain(global: &GlobalArgs, recipient: &str, object: &str) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let records = releases_of(&*store, recipient, object)?;
    if records.is_empty() {
        // A past partner may have left the configuration and still be in the ledger;
        // a name that is in neither is a mistake, not a "never received".
        global.node()?.require_organisation(recipient)?;
    }
    let mut explained = Vec::new();
    for record in &records {
        let entry = decoded(record)?;
        let form = form_of(&*store, &entry)?;
        explained.push((entry, form));
    }
    if global.json {
        let list: Vec<_> = explained
            .iter()
            .map(|(e, form)| {
                let mut v = entry_json(e);
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
            let held = if e.released_id.is_empty() || e.released_id == e.object_id {
                String::new()
            } else {
                format!("    released as      {}\n", e.released_id)
            };
            text.push_str(&format!(
                "\n  entry {}  at {}\n    object           {}\n{held}    version          {}\n    agreement        {} v{}\n    purpose          {}\n    legal basis      {}\n    form             {form}\n    released sha256  {}\n",
                e.seq,
                e.time.to_stix(),
                e.object_id,
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

/// Writes `text` to `output` (created) or standard output.
fn emit(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display())),
        None => print_stdout(text),
    }
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
            serde_json::to_writer(&mut out, &entry_json(&decoded(record)?))?;
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

/// A signed head of the tree as it is now: the latest kept one when it covers every
/// entry, else a new one signed with the node's key (and kept).
fn current_head(global: &GlobalArgs, store: &dyn Store) -> anyhow::Result<SignedTreeHead> {
    let tree = store.ledger_tree()?;
    if let Some(latest) = store.ledger_latest_head()? {
        if latest.head.tree_size == tree.size && latest.head.root_hash == tree.root {
            return Ok(latest);
        }
    }
    let signer = node_signer(global)?;
    let head = signer.sign(TreeHead {
        tree_size: tree.size,
        root_hash: tree.root,
        timestamp: UtcMicros(accord_stix::Timestamp::now().as_micros()),
    });
    store.ledger_put_head(&head)?;
    Ok(head)
}

fn head(global: &GlobalArgs, output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let head = current_head(global, &*store)?;
    emit(output, &serde_json::to_string_pretty(&head)?)?;
    if output.is_some() {
        eprintln!(
            "saved the signed head over {} entries (root {})",
            head.head.tree_size,
            hex::encode(head.head.root_hash)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn key(global: &GlobalArgs, output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let public = node_signer(global)?.public_key();
    let text = if global.json {
        serde_json::json!({"key": public.to_text(), "key_id": hex::encode(public.id())}).to_string()
    } else {
        format!(
            "# Accord ledger public key, key id {}\n{}",
            hex::encode(public.id()),
            public.to_text()
        )
    };
    emit(output, &text)?;
    Ok(ExitCode::SUCCESS)
}

fn prove(
    global: &GlobalArgs,
    recipient: &str,
    object: &str,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let records = releases_of(&*store, recipient, object)?;
    if records.is_empty() {
        print_stdout(&format!("{recipient} never received {object}"))?;
        return Ok(ExitCode::from(1));
    }
    for record in &records {
        decoded(record)?;
    }
    let head = current_head(global, &*store)?;
    let proof = build_proof(&*store, &records, head, true, None)?;
    emit(output, &serde_json::to_string_pretty(&proof.to_json())?)?;
    if output.is_some() {
        eprintln!(
            "wrote a proof of {} release(s) against the head over {} entries; check it with `accord ledger check-proof --key PUBKEY FILE`",
            records.len(),
            head.head.tree_size
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check_proof(global: &GlobalArgs, key: &Path, proof: &Path) -> anyhow::Result<ExitCode> {
    let key = read_key(key)?;
    let value: serde_json::Value = serde_json::from_str(&read_limited(proof)?)
        .with_context(|| format!("{} is not JSON", proof.display()))?;
    let verified = LedgerProof::from_json(&value).and_then(|p| {
        let entries = p.verify(&key)?;
        Ok((p, entries))
    });
    let (proof, entries) = match verified {
        Ok(ok) => ok,
        Err(e) => {
            if global.json {
                print_stdout(
                    &serde_json::json!({"valid": false, "problem": e.to_string()}).to_string(),
                )?;
            } else {
                print_stdout(&format!("proof invalid: {e}"))?;
            }
            return Ok(ExitCode::from(1));
        }
    };
    let head = proof.signed_head.head;
    if global.json {
        let list: Vec<_> = entries.iter().map(entry_json).collect();
        print_stdout(
            &serde_json::json!({
                "valid": true,
                "tree_size": head.tree_size,
                "signed_at": head.timestamp.to_stix(),
                "key_id": hex::encode(proof.signed_head.key_id),
                "entries": list,
            })
            .to_string(),
        )?;
    } else {
        let mut text = format!(
            "proof valid: {} entr{} in the ledger of {} entries signed at {} by key {}\n",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" },
            head.tree_size,
            head.timestamp.to_stix(),
            hex::encode(proof.signed_head.key_id)
        );
        for e in &entries {
            let object = if e.object_id.is_empty() {
                e.held_id().to_string()
            } else if e.released_id.is_empty() || e.released_id == e.object_id {
                e.object_id.clone()
            } else {
                format!("{} (released as {})", e.object_id, e.released_id)
            };
            text.push_str(&format!(
                "\n  entry {}  at {}\n    recipient        {}\n    object           {object}\n    version          {}\n    agreement        {} v{}\n    released sha256  {}\n",
                e.seq,
                e.time.to_stix(),
                e.recipient,
                e.object_version,
                e.agreement_id,
                e.agreement_version,
                hex::encode(e.released_sha256),
            ));
        }
        print_stdout(text.trim_end())?;
    }
    Ok(ExitCode::SUCCESS)
}
