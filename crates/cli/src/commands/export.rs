//! `accord export`: write stored objects as a STIX 2.1 bundle, through the agreement gate.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use std::collections::HashSet;

use accord_node::egress::{Egress, Recipient};
use accord_node::enforcement::{Converter, Format};
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
/// that organisation's agreements release (transformed as they require) from the
/// collections it may read over TAXII, and each release is recorded in the ledger.
/// Without `--recipient`, the export is for this node's own organisation.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord export -o everything.json\n  accord export --type indicator --type malware --added-after 2024-01-01T00:00:00Z\n  accord export --collection shared --recipient centre\n  accord export --recipient centre --sign ledger.key -o shared.json   (writes shared.json.jws)\n  accord export --recipient centre --format zeek-intel -o centre.intel\n  accord export --recipient centre --format misp -o centre-misp.json"
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
    /// Only objects in this TAXII collection (its id or alias)
    #[arg(short, long, value_name = "COLLECTION")]
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
    /// Sign the bundle with this node key file (e.g. the node's ledger.key): a detached
    /// JWS (EdDSA) over the bundle's exact bytes is written to FILE.jws beside `-o FILE`
    #[arg(long, value_name = "KEY_FILE", requires = "output")]
    pub sign: Option<PathBuf>,
    /// Output format: stix, blocklist-ip, blocklist-cidr, blocklist-domain,
    /// blocklist-url, zeek-intel, suricata, suricata-dataset-domain, suricata-dataset-ip, csv,
    /// misp (all but stix take each object's latest released
    /// version; what is left out, and why, goes to standard error)
    #[arg(long, value_name = "FORMAT", default_value = "stix")]
    pub format: String,
    /// With a format other than stix: name each object left out, and why
    #[arg(long)]
    pub verbose: bool,
    /// With a format other than stix: keep values on the bundled warninglists
    /// (known-benign resolvers, CDNs, cloud ranges, top domains), left out by default
    #[arg(long)]
    pub include_warninglisted: bool,
    /// With a format other than stix: a MISP warninglist (list.json) of known-benign
    /// values also left out, beside the bundled ones (repeatable)
    #[arg(long, value_name = "FILE", conflicts_with = "include_warninglisted")]
    pub warninglist: Vec<std::path::PathBuf>,
    /// With a format other than stix: leave out indicators' values whose score, decayed
    /// with age per value kind (MISP's polynomial model; age from the indicator's last
    /// statement or last released sighting; docs/trends.md), is below SCORE (0-100).
    /// Blocking formats (blocklists, zeek-intel, suricata*) default to MISP's
    /// threshold, 30; `--min-score 0` keeps every value. csv and misp default to none
    #[arg(long, value_name = "SCORE")]
    pub min_score: Option<f64>,
}

pub fn run(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&args.format).map_err(anyhow::Error::msg)?;
    if format != Format::Stix && args.sign.is_some() {
        anyhow::bail!("--sign signs STIX bundles only (--format stix)");
    }
    let node = global.node()?;
    let signer = match &args.sign {
        Some(key) => Some(accord_node::signed_bundle::load_signing_key(key)?),
        None => None,
    };
    let collection = node.collection_id(args.collection.as_deref())?;
    let recipient = node.organisation_or_own(args.recipient.as_deref())?;
    // An export for this node's own organisation only reads (no agreement applies);
    // one for a partner records its releases in the ledger, and stores the
    // obligations markings they reference.
    let egress = if recipient == node.organisation() {
        node.egress(node.read_store()?, accord_agreements::Gate::default())
    } else {
        let gate = node.gate()?;
        let store = node.write_store(accord_store::Durability::EveryCommit)?;
        node.publish_obligations(&store, &gate)?;
        // Releases to a partner: recorded under a signed tree head.
        let writer = node.ledger_writer(store.clone())?;
        node.egress(store, gate).with_ledger(writer)
    };
    let recipient = Recipient::new(recipient);
    let scopes = scopes(&egress, &recipient, collection)?;
    if format != Format::Stix {
        return convert(args, format, &egress, &recipient, scopes);
    }
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
    // An object in several collections the recipient reads is written once.
    let mut written: HashSet<(String, String)> = HashSet::new();
    for scope in scopes {
        let query = query(args, scope)?;
        let mut next: Option<String> = None;
        loop {
            let page = egress.objects(&recipient, &query, next.as_deref())?;
            for object in page.objects {
                if !written.insert((object.id, object.version)) {
                    continue;
                }
                if count > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(object.json.as_bytes())?;
                count += 1;
            }
            match (page.more, page.next) {
                (true, Some(token)) => next = Some(token),
                _ => break,
            }
        }
    }
    out.write_all(b"]}\n")?;
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    drop(out);
    if let Some(path) = &args.output {
        eprintln!("exported {count} objects");
        if let Some(signer) = &signer {
            let signature = accord_node::signed_bundle::sign_file(path, signer)
                .with_context(|| format!("signing {}", path.display()))?;
            eprintln!(
                "signed with key {}: {}",
                accord_agreements::jws::key_id(&signer.public_key()),
                signature.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An export in an enforcement format: the latest released version of each object,
/// through the same door, converted; what was left out is counted on standard error.
fn convert(
    args: &ExportArgs,
    format: Format,
    egress: &Egress,
    recipient: &Recipient,
    scopes: Vec<Scope>,
) -> anyhow::Result<ExitCode> {
    let mut converter = Converter::new(format, Timestamp::now().as_micros());
    if !args.include_warninglisted {
        let lists = accord_node::detect::load_warninglists(&args.warninglist, true)
            .context("--warninglist")?;
        converter = converter.with_warninglists(lists);
    }
    let min_score = min_score(args.min_score, format)?;
    if let Some(min) = min_score {
        converter = converter.with_min_score(accord_node::enforcement::DecayModels::default(), min);
    }
    let mut seen: HashSet<String> = HashSet::new();
    for scope in scopes {
        let mut query = query(args, scope)?;
        query.versions = VersionFilter::last();
        let mut next: Option<String> = None;
        loop {
            let page = egress.objects(recipient, &query, next.as_deref())?;
            for object in page.objects {
                if seen.insert(object.id) {
                    converter.add(&object.json);
                }
            }
            match (page.more, page.next) {
                (true, Some(token)) => next = Some(token),
                _ => break,
            }
        }
    }
    converter.finish();
    let text = converter.render();
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => match io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            other => other?,
        },
    }
    if args.verbose {
        for (id, reason, detail) in &converter.details {
            if detail.is_empty() {
                eprintln!("left out {id}: {}", reason.code());
            } else {
                eprintln!("left out {id}: {}: {detail}", reason.code());
            }
        }
    }
    if let Some(rule) = format.dataset_rule(
        &args
            .output
            .as_ref()
            .map_or("accord.lst".to_string(), |p| p.display().to_string()),
    ) {
        eprintln!("load it in Suricata with this rule (beside the file): {rule}");
    }
    let left: Vec<String> = converter
        .left_out()
        .iter()
        .map(|(reason, n)| format!("{n} {}", reason.code()))
        .collect();
    let total: u64 = converter.left_out().values().sum();
    let skipped: Vec<String> = converter
        .skipped_values()
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    eprintln!(
        "exported {} objects as {}; left out {total}{}{}{}",
        converter.converted(),
        args.format,
        if left.is_empty() { "" } else { ": " },
        left.join(", "),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; values of exported objects this format has no line for: {}",
                skipped.join(", ")
            )
        }
    );
    if !converter.warninglisted().is_empty() {
        let lists: Vec<String> = converter
            .warninglisted()
            .iter()
            .map(|(list, n)| format!("{n} on {list}"))
            .collect();
        eprintln!(
            "left out known-benign values (warninglists; --include-warninglisted keeps them): {}",
            lists.join(", ")
        );
    }
    if converter.decayed() > 0 {
        let why = if args.min_score.is_none() {
            " (the default of blocking formats, MISP's threshold: stale indicators are not \
             pushed; --min-score 0 keeps them)"
        } else {
            ""
        };
        eprintln!(
            "left out {} values of indicators whose decayed score is below {}{why}",
            converter.decayed(),
            min_score.unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The decay threshold of an export: `--min-score` when given (0: none), else MISP's
/// threshold for the formats that block ([`Format::blocks`]), else none.
fn min_score(given: Option<f64>, format: Format) -> anyhow::Result<Option<f64>> {
    match given {
        Some(min) if !(0.0..=100.0).contains(&min) => {
            anyhow::bail!("--min-score takes a score from 0 to 100, not {min}")
        }
        Some(0.0) => Ok(None),
        Some(min) => Ok(Some(min)),
        None if format.blocks() => Ok(Some(accord_node::enforcement::DEFAULT_MIN_SCORE)),
        None => Ok(None),
    }
}

/// What the export reads: the named collection, else the whole store for this node's
/// own organisation, and for a partner the collections it may read over TAXII (the
/// door refuses any other).
fn scopes(
    egress: &Egress,
    recipient: &Recipient,
    collection: Option<String>,
) -> anyhow::Result<Vec<Scope>> {
    if let Some(c) = collection {
        return Ok(vec![Scope::Collection(c)]);
    }
    if recipient.organisation == egress.local_organisation() {
        return Ok(vec![Scope::Store]);
    }
    let readable = egress.readers().collections_of(&recipient.organisation);
    if readable.is_empty() {
        anyhow::bail!(
            "organisation '{}' may not read any collection of this node (grant it with `accord collection grant`)",
            recipient.organisation
        );
    }
    Ok(readable.into_iter().map(Scope::Collection).collect())
}

fn query(args: &ExportArgs, scope: Scope) -> anyhow::Result<ObjectQuery> {
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
