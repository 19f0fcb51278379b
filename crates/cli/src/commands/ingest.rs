//! `accord ingest`: validate STIX 2.1 objects from bundles or JSON arrays and store them.
//!
//! Input streams: a reader thread splits the input into objects and validates them in
//! batches while the main thread commits the previous batch, so memory stays flat
//! whatever the input size and both cores work.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use accord_node::ingest::{prepare, store_prepared, IngestOptions, ObjectResult};
use accord_stix::{BundleReader, Rejection};
use accord_store::{Durability, NewObject, Provenance, Store};
use anyhow::Context as _;

use crate::context::GlobalArgs;
use crate::input::{open_input, progress_bar};

/// Objects validated and committed together. Large enough to amortise a commit (an
/// fsync), small enough that a batch of ATT&CK-sized objects is a few MiB.
const BATCH: usize = 2_000;

/// Batches in flight between the reader thread and the writer.
const BATCHES_IN_FLIGHT: usize = 4;

/// Validate STIX 2.1 objects and store them.
///
/// Each FILE is a STIX bundle or a JSON array of objects (`-` reads standard input).
/// Invalid objects are reported with their id, property and rule, and skipped; the
/// valid ones are stored. Exit status: 0 all stored, 1 some rejected, 2 error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord ingest bundle.json\n  accord ingest --collection 365fed99-08fa-fdcd-a1b3-fb247eb41d01 a.json b.json\n  curl -s https://example.org/feed.json | accord ingest -"
)]
pub struct IngestArgs {
    /// Bundles or JSON arrays of objects (`-` for standard input)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also add the objects to this TAXII collection (its id)
    #[arg(short, long, value_name = "ID")]
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
}

/// Totals over all inputs.
#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    stored: u64,
    already_present: u64,
    rejected: u64,
}

pub fn run(global: &GlobalArgs, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    // Commits reach the disk lazily during the load; `sync` below makes all of them
    // durable before the summary acknowledges them.
    let store = global.open_store_with(Durability::AtSync)?;
    let provenance = Provenance::new(
        match &args.org {
            Some(org) => org.clone(),
            None => global.local_organisation()?,
        },
        "cli-ingest",
    );
    let options = IngestOptions {
        fill_sco_ids: args.fill_ids,
    };
    let mut summary = Summary::default();
    for file in &args.files {
        let (input, size) = open_input(file)?;
        let progress = progress_bar(size, !(args.no_progress || global.json));
        let input = progress.wrap_read(input);
        ingest_one(
            &*store,
            input,
            &provenance,
            args.collection.as_deref(),
            &options,
            &mut summary,
            file,
        )
        .with_context(|| format!("ingesting {}", file.display()))?;
        progress.finish_and_clear();
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

type Batch = Vec<Result<NewObject, Rejection>>;

fn ingest_one(
    store: &dyn Store,
    input: impl Read + Send,
    provenance: &Provenance,
    collection: Option<&str>,
    options: &IngestOptions,
    summary: &mut Summary,
    file: &Path,
) -> anyhow::Result<()> {
    let (sender, receiver) = mpsc::sync_channel::<(usize, Batch)>(BATCHES_IN_FLIGHT);
    thread::scope(|scope| {
        let reader = scope.spawn(move || read_batches(input, options, sender));
        for (first_index, batch) in receiver {
            for result in store_prepared(store, batch, provenance, collection)? {
                summary.record(&result, first_index, file);
            }
        }
        reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?
    })
}

/// Split the input into objects and validate them, a batch at a time.
fn read_batches(
    input: impl Read,
    options: &IngestOptions,
    sender: mpsc::SyncSender<(usize, Batch)>,
) -> anyhow::Result<()> {
    let mut batch: Batch = Vec::with_capacity(BATCH);
    let mut first_index = 0;
    for raw in BundleReader::new(BufReader::with_capacity(1 << 20, input)) {
        let raw = match raw {
            Ok(raw) => raw,
            Err(error) => {
                // Keep what was read before the input broke off.
                if !batch.is_empty() {
                    let _ = sender.send((first_index, batch));
                }
                return Err(error.into());
            }
        };
        if batch.is_empty() {
            first_index = raw.index;
        }
        batch.push(prepare(&raw.text, options));
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if sender.send((first_index, full)).is_err() {
                return Ok(()); // the writer stopped; its error is reported
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send((first_index, batch));
    }
    Ok(())
}

impl Summary {
    fn record(&mut self, result: &ObjectResult, first_index: usize, file: &Path) {
        match result {
            ObjectResult::Stored {
                already_present: true,
                ..
            } => self.already_present += 1,
            ObjectResult::Stored { .. } => self.stored += 1,
            ObjectResult::Rejected { index, rejection } => {
                self.rejected += 1;
                eprintln!(
                    "{}: object #{} rejected: {rejection}",
                    file.display(),
                    first_index + index
                );
            }
        }
    }
}
