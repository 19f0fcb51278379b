//! `accord export`: write stored objects as a STIX 2.1 bundle, through the agreement gate.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use accord_node::egress::Recipient;
use accord_stix::Timestamp;
use accord_store::{ObjectQuery, Scope, VersionFilter};
use anyhow::Context as _;

use crate::context::GlobalArgs;

/// Objects fetched per page from the door.
const PAGE: usize = 5_000;

/// Which versions of each object to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Versions {
    /// Every stored version
    All,
    /// The earliest version of each object
    First,
    /// The latest version of each object
    Last,
}

/// Write stored objects as a STIX 2.1 bundle.
///
/// Every export passes the agreement gate: for `--recipient ORG` the bundle holds what
/// that organisation's agreements release (transformed as they require), and each
/// release is recorded in the ledger. Without `--recipient`, the export is for this
/// node's own organisation.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord export -o everything.json\n  accord export --type indicator --type malware --added-after 2024-01-01T00:00:00Z\n  accord export --collection 365fed99-08fa-fdcd-a1b3-fb247eb41d01 --recipient centre"
)]
pub struct ExportArgs {
    /// Only objects of this type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only this object id (repeatable)
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    /// Only objects added after this time (RFC 3339, UTC, e.g. 2024-01-01T00:00:00Z)
    #[arg(long, value_name = "TIMESTAMP")]
    pub added_after: Option<String>,
    /// Only objects in this TAXII collection (its id)
    #[arg(short, long, value_name = "ID")]
    pub collection: Option<String>,
    /// Which versions of each object
    #[arg(long, value_enum, default_value_t = Versions::All)]
    pub versions: Versions,
    /// The organisation the export is for [default: this node's organisation]
    #[arg(long, value_name = "ORG")]
    pub recipient: Option<String>,
    /// Write the bundle here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let mut egress = global.egress(store.clone())?;
    let recipient = Recipient::new(
        args.recipient
            .clone()
            .unwrap_or_else(|| egress.local_organisation().to_string()),
    );
    if recipient.organisation != egress.local_organisation() {
        // Releases to a partner: recorded under a signed tree head.
        egress = egress.with_ledger(global.ledger_writer(store)?);
    }
    let mut query = query(args)?;
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    write!(
        out,
        r#"{{"type":"bundle","id":"bundle--{}","objects":["#,
        uuid::Uuid::new_v4()
    )?;
    let mut count = 0u64;
    loop {
        let page = egress.objects(&recipient, &query)?;
        for object in &page.objects {
            if count > 0 {
                out.write_all(b",")?;
            }
            out.write_all(object.json.as_bytes())?;
            count += 1;
        }
        match (page.more, page.next) {
            (true, Some(next)) => query.after = Some(next),
            _ => break,
        }
    }
    out.write_all(b"]}\n")?;
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    if args.output.is_some() {
        eprintln!("exported {count} objects");
    }
    Ok(ExitCode::SUCCESS)
}

fn query(args: &ExportArgs) -> anyhow::Result<ObjectQuery> {
    let scope = match &args.collection {
        Some(c) => Scope::Collection(c.clone()),
        None => Scope::Store,
    };
    let mut query = ObjectQuery::new(scope, PAGE);
    query.types = args.types.clone();
    query.ids = args.ids.clone();
    query.versions = match args.versions {
        Versions::All => VersionFilter::all(),
        Versions::First => VersionFilter {
            first: true,
            ..VersionFilter::default()
        },
        Versions::Last => VersionFilter::last(),
    };
    if let Some(text) = &args.added_after {
        let t = Timestamp::parse(text).with_context(|| format!("--added-after {text}"))?;
        query.added_after = Some(t.as_micros());
    }
    Ok(query)
}
