//! `accord enrich`: the hub's enrichment (country, ASN and AS name of every address the
//! stored objects are about; registrable domains), and looking it up.

use std::path::PathBuf;
use std::process::ExitCode;

use accord_node::enrich::{self, Answer, Databases};
use accord_store::Store;

use crate::context::GlobalArgs;

/// Compute (or bring up to date) the enrichment of the store's addresses and domains
/// from MaxMind-format databases; or look values up.
///
/// The enrichment is kept beside the objects (never in them) with the metadata of the
/// databases read. Without --mmdb-* options, the databases recorded by the last run are
/// read again from their paths: a newer file (another build) recomputes everything;
/// otherwise only objects added since are enriched.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  scripts/fetch-geo-db geo-db\n  accord enrich --mmdb-country geo-db/country.mmdb --mmdb-asn geo-db/asn.mmdb\n  accord enrich\n  accord enrich lookup 203.0.113.5 www.example.co.uk indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\n  accord --json enrich lookup 203.0.113.5"
)]
pub struct EnrichArgs {
    #[command(subcommand)]
    pub command: Option<EnrichCommand>,
    /// Country database (.mmdb: GeoLite2/DB-IP Country or City, ip-location-db country)
    #[arg(long, env = "ACCORD_MMDB_COUNTRY", value_name = "FILE")]
    pub mmdb_country: Option<PathBuf>,
    /// ASN database (.mmdb: GeoLite2-ASN layout)
    #[arg(long, env = "ACCORD_MMDB_ASN", value_name = "FILE")]
    pub mmdb_asn: Option<PathBuf>,
    /// Recompute everything even if the databases and objects did not change
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum EnrichCommand {
    /// What the stored enrichment says of addresses, domains or object ids
    #[command(
        after_help = "Examples:\n  accord enrich lookup 203.0.113.5 2001:db8:1::7\n  accord enrich lookup www.example.co.uk\n  accord --json enrich lookup ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
    )]
    Lookup {
        /// Addresses, domain names or object ids
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Where the stored enrichment stands (databases, counts)
    #[command(after_help = "Example:\n  accord --json enrich status")]
    Status,
}

pub fn run(global: &GlobalArgs, args: &EnrichArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(EnrichCommand::Lookup { values }) => lookup(global, values),
        Some(EnrichCommand::Status) => status(global),
        None => compute(global, args),
    }
}

fn compute(global: &GlobalArgs, args: &EnrichArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let store = node.write_store(accord_store::Durability::EveryCommit)?;
    let databases = if args.mmdb_country.is_none() && args.mmdb_asn.is_none() {
        match store.enrichment_state()? {
            Some(state) if !state.sources.is_empty() => Databases::reopen(&state)?,
            _ => return Err(enrich::EnrichError::NoDatabase.into()),
        }
    } else {
        Databases::open(args.mmdb_country.as_deref(), args.mmdb_asn.as_deref())?
    };
    let summary = enrich::run(&*store, &databases, args.force)?;
    // Standing routed collections follow the enrichment: what is newly located (or
    // located elsewhere now) reaches its recipient's collection at once.
    let deliveries = match &node.config {
        Some(config) if !summary.up_to_date => {
            accord_node::enrich_keeper::deliver_routed(&*store, config)?
        }
        _ => Vec::new(),
    };
    if global.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &summary.sources {
        println!(
            "{:<8} {} ({}, built {})",
            s.role,
            s.path,
            s.database_type,
            accord_stix::Timestamp::from_micros(s.build_epoch.saturating_mul(1_000_000) as i64)
        );
    }
    if summary.up_to_date {
        println!("enrichment up to date (same databases, no new objects)");
    } else {
        println!(
            "{} {} object versions: {} addresses ({} located), {} domains",
            if summary.recomputed {
                "recomputed over"
            } else {
                "added"
            },
            summary.objects_read,
            summary.addresses,
            summary.located,
            summary.domains
        );
    }
    let cells = &summary.trend_cells;
    if cells.rebuilt {
        println!(
            "country/ASN trend cells recounted over {} objects",
            cells.objects
        );
    } else if cells.objects > 0 {
        println!(
            "country/ASN trend cells: {} objects (new, and sightings of them) counted",
            cells.objects
        );
    }
    for d in &deliveries {
        println!(
            "routed to {} (collection {}): {} added, {} removed, {} held",
            d.recipient, d.collection, d.added, d.removed, d.held
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let state = store.enrichment_state()?;
    if global.json {
        println!("{}", serde_json::to_string_pretty(&state)?);
        return Ok(ExitCode::SUCCESS);
    }
    match state {
        None => println!("not enriched (run accord enrich --mmdb-country F --mmdb-asn F)"),
        Some(state) => {
            for s in &state.sources {
                println!(
                    "{:<8} {} ({}, build epoch {})",
                    s.role, s.path, s.database_type, s.build_epoch
                );
            }
            println!("{} addresses, {} domains", state.addresses, state.domains);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn lookup(global: &GlobalArgs, values: &[String]) -> anyhow::Result<ExitCode> {
    let store = global.open_store()?;
    let answers = enrich::lookup(&*store, values)?;
    if global.json {
        println!("{}", serde_json::to_string_pretty(&answers)?);
        return Ok(ExitCode::SUCCESS);
    }
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    for a in &answers {
        match a {
            Answer::Address { value, enrichment } => match enrichment {
                Some(e) => println!(
                    "{value}  country {}  asn {}  {}",
                    opt(&e.country),
                    e.asn.map_or("-".into(), |n| n.to_string()),
                    opt(&e.as_name)
                ),
                None => println!("{value}  not enriched (no stored object is about it)"),
            },
            Answer::Domain {
                value,
                registrable,
                stored,
            } => println!(
                "{value}  registrable {}{}",
                opt(registrable),
                if *stored {
                    ""
                } else {
                    "  (no stored object is about it)"
                }
            ),
            Answer::Object {
                value,
                found,
                addresses,
                domains,
                countries,
                asns,
            } => {
                if !found {
                    println!("{value}  not in the store");
                    continue;
                }
                println!(
                    "{value}  countries [{}]  asns [{}]  addresses [{}]  domains [{}]",
                    countries.join(", "),
                    asns.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    addresses.join(", "),
                    domains.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
