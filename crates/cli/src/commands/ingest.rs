//! `accord ingest`: validate STIX 2.1 objects from bundles or JSON arrays and store them.
//!
//! Input streams: a reader thread splits the input into objects, validators (one per
//! core) validate batches, and the main thread commits them in input order, so memory
//! stays flat whatever the input size and every core works.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Mutex};
use std::thread;

use accord_node::ingest::{prepare, store_prepared, IngestOptions, ObjectResult, Recorded};
use accord_stix::types::kind_of;
use accord_stix::{BundleReader, ObjectKind, Rejection, Rule};
use accord_store::{Durability, NewObject, Provenance, Store};
use anyhow::Context as _;

use crate::context::GlobalArgs;
use crate::input::{open_input, progress_bar};

/// Objects a validator takes at a time: enough to amortise the hand-over between
/// threads. A batch also ends at [`BATCH_BYTES`] of text, so that memory in flight is
/// bounded whatever the objects' size (each may be up to 16 MiB).
const BATCH: usize = 2_000;

/// Bytes of object text after which a batch ends early.
const BATCH_BYTES: usize = 4 << 20;

/// Batches in flight from the reader to the validators.
const READ_BATCHES_IN_FLIGHT: usize = 8;

/// Validated batches in flight to the writer. More than read ones: when the writer
/// waits for a checkpoint pass at the log's bound, the validators go on until this
/// queue is full, instead of leaving a core idle (measured on 1,000,000 ATT&CK
/// objects, side by side: 8 batches, 9.25 s and 9.21 s; 16, 8.61 s and 8.51 s, 30 MiB
/// more at peak; 32, 8.35 s twice, 100 MiB more).
const VALIDATED_BATCHES_IN_FLIGHT: usize = 16;

/// Bytes of validated objects (text and facts) committed in one transaction. Each
/// commit rewrites every index page it touched, and ids are random: the larger the
/// commit, the more new ids share a page (measured on 1,000,000 ATT&CK objects, in an
/// earlier round: 2,000 objects per commit, 31,000 objects/s; 16,000 objects, 44,000).
/// Past a point the commit's dirty pages outgrow SQLite's page cache: with 64 KiB
/// pages, side by side, 16 MiB commits took 8.37, 8.71 and 8.60 s; 32 MiB, 9.61, 9.38
/// and 10.04 s; 64 MiB, 9.00, 8.92 and 9.30 s (and 70 MiB more memory). A budget in
/// bytes, not objects, keeps memory bounded whatever the objects' size.
const COMMIT_BYTES: usize = 16 << 20;

/// Validate STIX 2.1 objects and store them.
///
/// Each FILE is a STIX bundle or a JSON array of objects (`-` reads standard input).
/// Invalid objects are reported with their id, property and rule, and skipped; the
/// valid ones are stored. Exit status: 0 all stored, 1 some rejected, 2 error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord ingest bundle.json\n  accord ingest --collection shared a.json b.json\n  curl -s https://example.org/feed.json | accord ingest -"
)]
pub struct IngestArgs {
    /// Bundles or JSON arrays of objects (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also add the objects to this TAXII collection (its id or alias)
    #[arg(short, long, value_name = "COLLECTION")]
    pub collection: Option<String>,
    /// The providing organisation recorded as provenance [default: this node's organisation]
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// Fill in missing SCO ids (deterministic, as the OASIS stix2 library computes them)
    #[arg(long)]
    pub fill_ids: bool,
    /// Never show a progress bar
    #[arg(long)]
    pub no_progress: bool,
    /// Accept only bundles signed by one of these public keys (repeatable; files as
    /// `accord ledger key -o` writes them): each FILE needs its detached JWS FILE.jws
    /// (`accord export --sign`); if any is unsigned or does not verify, nothing is ingested
    #[arg(long = "verify-with", value_name = "PUBKEY_FILE")]
    pub verify_with: Vec<PathBuf>,
    /// Record nothing for correlation and trends (measuring their cost only:
    /// scripts/bench-hub-trends; these objects then count in no correlation or trend)
    #[arg(long, hide = true)]
    pub no_analytics: bool,
    /// Record trends but nothing for correlation (measuring correlation's cost only:
    /// scripts/bench-hub-trends; these objects then count in no correlation)
    #[arg(long, hide = true, conflicts_with = "no_analytics")]
    pub no_correlation: bool,
}

/// Totals over all inputs.
#[derive(Debug, Default, Clone, serde::Serialize)]
struct Summary {
    stored: u64,
    already_present: u64,
    rejected: u64,
    /// The id of the last object of the input committed to the store (stored now or
    /// already present): where to look when an input broke off.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_stored: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    // Names first: an unknown one is refused before anything is opened or created.
    let collection = node.collection_id(args.collection.as_deref())?;
    let provider = node.organisation_or_own(args.org.as_deref())?;
    // Signatures before anything is stored: one bad input and none is ingested.
    let mut verified = verify_all(args)?;
    // Commits reach the disk lazily during the load; `sync` below makes all of them
    // durable before the summary acknowledges them.
    let store = node.write_store(Durability::AtSync)?;
    // The index follower works beside the writer, as the validators do: behind it.
    if let Some(thread) = store.correlation_thread_id() {
        yield_to_the_writer(thread);
    }
    let provenance = Provenance::new(provider, "cli-ingest");
    let options = IngestOptions {
        fill_sco_ids: args.fill_ids,
        analytics: if args.no_analytics {
            Recorded::Nothing
        } else if args.no_correlation {
            Recorded::TrendsOnly
        } else {
            Recorded::All
        },
    };
    let mut summary = Summary::default();
    for (n, file) in args.files.iter().enumerate() {
        let before = summary.clone();
        let opened = match verified.as_mut() {
            Some(bundles) => {
                let bytes = std::mem::take(&mut bundles[n]);
                let size = bytes.len() as u64;
                let input: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(bytes));
                Ok((input, Some(size)))
            }
            None => open_input(file),
        };
        let result = opened.and_then(|(input, size)| {
            let bar = progress_bar(size, !(args.no_progress || global.json));
            let input = bar.wrap_read(input);
            let result = ingest_one(
                &*store,
                input,
                &provenance,
                collection.as_deref(),
                &options,
                &mut summary,
                file,
            );
            bar.finish_and_clear();
            result
        });
        if let Err(error) = result {
            // Whatever was committed before the error stays: make it durable, then say
            // exactly what it was.
            store
                .sync()
                .context("making the ingested objects durable")?;
            let error = error.context(format!("ingesting {}", file.display()));
            report_break(
                &summary,
                &before,
                file,
                &args.files[n + 1..],
                &error,
                global.json,
            )?;
            return Err(error);
        }
    }
    store
        .sync()
        .context("making the ingested objects durable")?;
    if global.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "stored {} objects ({} already present), rejected {}",
            summary.stored, summary.already_present, summary.rejected
        );
    }
    Ok(if summary.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// With `--verify-with`: every input's exact bytes, once its signature verified (what
/// is ingested is what was verified, not the file read again); without, `None`.
fn verify_all(args: &IngestArgs) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
    if args.verify_with.is_empty() {
        return Ok(None);
    }
    let keys = accord_node::signed_bundle::read_public_keys(&args.verify_with)?;
    let mut bundles = Vec::with_capacity(args.files.len());
    for file in &args.files {
        if file.as_os_str() == "-" {
            anyhow::bail!(
                "-: refused by rule jws-missing: standard input has no signature beside it; with --verify-with, name the bundle's file (its signature is FILE.jws)"
            );
        }
        let bundle = accord_node::signed_bundle::read_verified(file, &keys)
            .context("nothing was ingested")?;
        eprintln!(
            "{}: signature verified (key {})",
            file.display(),
            accord_agreements::jws::key_id(&bundle.signer)
        );
        bundles.push(bundle.bytes);
    }
    Ok(Some(bundles))
}

type Batch = Vec<Result<NewObject, Rejection>>;

/// A run of raw objects from the input, numbered so that validated batches are stored
/// in input order whichever validator finishes first.
struct RawBatch {
    seq: u64,
    first_index: usize,
    texts: Vec<String>,
}

/// Stream one input: a reader thread splits it into objects, one validator per core
/// validates batches, and this thread stores them in input order (so `date_added`
/// follows the input). Channels are bounded: memory stays flat whatever the input size.
fn ingest_one(
    store: &dyn Store,
    input: impl Read + Send,
    provenance: &Provenance,
    collection: Option<&str>,
    options: &IngestOptions,
    summary: &mut Summary,
    file: &Path,
) -> anyhow::Result<()> {
    let validators = thread::available_parallelism().map_or(2, |n| n.get());
    let (raw_sender, raw_receiver) = mpsc::sync_channel::<RawBatch>(READ_BATCHES_IN_FLIGHT);
    let raw_receiver = Mutex::new(raw_receiver);
    let (done_sender, done_receiver) =
        mpsc::sync_channel::<(u64, usize, Batch)>(VALIDATED_BATCHES_IN_FLIGHT);
    thread::scope(|scope| {
        let reader = scope.spawn(move || read_batches(input, raw_sender));
        for _ in 0..validators {
            let done = done_sender.clone();
            let raws = &raw_receiver;
            scope.spawn(move || {
                if let Some(thread) = this_thread() {
                    yield_to_the_writer(thread);
                }
                loop {
                    // The lock is held only to take the next batch.
                    let next = raws.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(raw) = next else { return };
                    let batch = raw
                        .texts
                        .iter()
                        .map(|t| prepare(t, options).map_err(|r| with_hint(t, r, options)))
                        .collect();
                    if done.send((raw.seq, raw.first_index, batch)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_sender);
        let mut waiting = BTreeMap::new();
        let mut next_seq = 0;
        let mut group = CommitGroup::default();
        for (seq, first_index, batch) in done_receiver {
            waiting.insert(seq, (first_index, batch));
            while let Some((first_index, batch)) = waiting.remove(&next_seq) {
                group.add(first_index, batch);
                if group.bytes >= COMMIT_BYTES {
                    group.commit(store, provenance, collection, summary, file)?;
                }
                next_seq += 1;
            }
        }
        group.commit(store, provenance, collection, summary, file)?;
        reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?
    })
}

/// A rejection the command line can fix, with the hint: an SCO without an `id`
/// is accepted with `--fill-ids`, which computes the id the OASIS `stix2` library
/// would. (The hint is the CLI's own: a TAXII client has no such flag.)
fn with_hint(text: &str, mut rejection: Rejection, options: &IngestOptions) -> Rejection {
    if options.fill_sco_ids || !rejection.has(Rule::RequiredProperty, "id") {
        return rejection;
    }
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let is_sco = serde_json::from_str::<Head>(text)
        .ok()
        .and_then(|h| h.kind)
        .is_some_and(|t| kind_of(&t) == ObjectKind::Sco);
    if is_sco {
        for e in &mut rejection.errors {
            if e.rule == Rule::RequiredProperty && e.property == "id" {
                e.message.push_str(
                    " (an SCO's id can be computed from its properties: ingest with --fill-ids)",
                );
            }
        }
    }
    rejection
}

/// How much less CPU priority a validator thread takes than the writer (a nice value).
#[cfg(target_os = "linux")]
const VALIDATOR_NICENESS: i32 = 10;

/// Lowers a thread's scheduling priority (Linux; a no-op elsewhere): a validator's,
/// or the store's correlation follower's.
///
/// The one writer thread is the pipeline's critical path: every object passes through
/// it, one at a time. With the validators, the reader and the store's checkpointer all
/// runnable on two cores, a fair scheduler gives it well under one core while the
/// validators fill the queues it cannot empty. At a lower priority the validators take
/// what the writer leaves (measured on 1,000,000 ATT&CK objects, three runs side by
/// side: 15.9 / 15.4 / 15.1 s -> 12.2 / 14.1 / 13.4 s). The correlation follower
/// (the store's thread that writes the correlation index from what the writer queued)
/// is background work of the same kind (measured on the observable-heavy corpus of
/// `scripts/bench-hub-trends`, BENCHMARKS.md). Best effort: if the call fails,
/// nothing changes.
fn yield_to_the_writer(thread: u32) {
    #[cfg(target_os = "linux")]
    // SAFETY: `setpriority` takes and returns plain integers and touches no memory of
    // ours. On Linux the nice value is per thread, so this affects that thread only.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, VALIDATOR_NICENESS);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = thread;
}

/// The calling thread's id (Linux).
fn this_thread() -> Option<u32> {
    #[cfg(target_os = "linux")]
    // SAFETY: `gettid` takes nothing and returns the caller's thread id.
    let thread = u32::try_from(unsafe { libc::gettid() }).ok();
    #[cfg(not(target_os = "linux"))]
    let thread = None;
    thread
}

/// Validated batches waiting to be committed together, with each object's position
/// in the input.
#[derive(Default)]
struct CommitGroup {
    prepared: Batch,
    positions: Vec<usize>,
    /// Text and facts of the valid objects in `prepared`.
    bytes: usize,
}

impl CommitGroup {
    fn add(&mut self, first_index: usize, batch: Batch) {
        self.positions
            .extend((0..batch.len()).map(|offset| first_index + offset));
        self.bytes += batch
            .iter()
            .flatten()
            .map(|o| o.json.len() + o.facts.len())
            .sum::<usize>();
        self.prepared.extend(batch);
    }

    fn commit(
        &mut self,
        store: &dyn Store,
        provenance: &Provenance,
        collection: Option<&str>,
        summary: &mut Summary,
        file: &Path,
    ) -> anyhow::Result<()> {
        if self.prepared.is_empty() {
            return Ok(());
        }
        let prepared = std::mem::take(&mut self.prepared);
        self.bytes = 0;
        for result in store_prepared(store, prepared, provenance, collection)? {
            summary.record(&result, &self.positions, file);
        }
        self.positions.clear();
        Ok(())
    }
}

/// Split the input into objects, a batch at a time.
fn read_batches(input: impl Read, sender: mpsc::SyncSender<RawBatch>) -> anyhow::Result<()> {
    let mut texts = Vec::with_capacity(BATCH);
    let mut bytes = 0;
    let mut first_index = 0;
    let mut seq = 0;
    let mut send = |texts: Vec<String>, first_index: usize| -> bool {
        let ok = sender
            .send(RawBatch {
                seq,
                first_index,
                texts,
            })
            .is_ok();
        seq += 1;
        ok
    };
    // The reader buffers on its own: a BufReader would only copy each byte once more.
    for raw in BundleReader::new(input) {
        let raw = match raw {
            Ok(raw) => raw,
            Err(error) => {
                // Keep what was read before the input broke off.
                if !texts.is_empty() {
                    send(texts, first_index);
                }
                return Err(error.into());
            }
        };
        if texts.is_empty() {
            first_index = raw.index;
        }
        bytes += raw.text.len();
        texts.push(raw.text);
        if texts.len() == BATCH || bytes >= BATCH_BYTES {
            bytes = 0;
            let full = std::mem::replace(&mut texts, Vec::with_capacity(BATCH));
            if !send(full, first_index) {
                return Ok(()); // the writer stopped; its error is reported
            }
        }
    }
    if !texts.is_empty() {
        send(texts, first_index);
    }
    Ok(())
}

/// What an ingest that stopped on an error had done: the objects of the failing
/// input stored before the error, none after it, and the inputs not read at all.
fn report_break(
    summary: &Summary,
    before: &Summary,
    file: &Path,
    not_read: &[PathBuf],
    error: &anyhow::Error,
    json: bool,
) -> anyhow::Result<()> {
    let stored = summary.stored - before.stored;
    let present = summary.already_present - before.already_present;
    let rejected = summary.rejected - before.rejected;
    let last = if summary.last_stored == before.last_stored {
        None
    } else {
        summary.last_stored.as_deref()
    };
    if json {
        let mut value = serde_json::to_value(summary)?;
        value["error"] = serde_json::json!(format!("{error:#}"));
        value["failed_input"] = serde_json::json!(file);
        value["not_read"] = serde_json::json!(not_read);
        println!("{value}");
        return Ok(());
    }
    let mut text = format!(
        "accord: {}: before the error, stored {stored} objects ({present} already present), rejected {rejected}",
        file.display()
    );
    match last {
        Some(id) => text.push_str(&format!("; the last one stored: {id}")),
        None => text.push_str("; none of this input was stored"),
    }
    text.push_str("; nothing after the error was stored");
    if !not_read.is_empty() {
        let names: Vec<String> = not_read.iter().map(|p| p.display().to_string()).collect();
        text.push_str(&format!("; not read: {}", names.join(", ")));
    }
    if summary.stored + summary.already_present > stored + present {
        text.push_str(&format!(
            "\naccord: in all, stored {} objects ({} already present), rejected {}",
            summary.stored, summary.already_present, summary.rejected
        ));
    }
    eprintln!("{text}");
    Ok(())
}

impl Summary {
    /// `positions` maps an object's place in its commit to its place in the input.
    fn record(&mut self, result: &ObjectResult, positions: &[usize], file: &Path) {
        match result {
            ObjectResult::Stored {
                id,
                already_present,
                ..
            } => {
                if *already_present {
                    self.already_present += 1;
                } else {
                    self.stored += 1;
                }
                self.last_stored = Some(id.clone());
            }
            ObjectResult::Rejected { index, rejection } => {
                self.rejected += 1;
                eprintln!(
                    "{}: object #{} rejected: {rejection}",
                    file.display(),
                    positions.get(*index).copied().unwrap_or(*index)
                );
            }
        }
    }
}
