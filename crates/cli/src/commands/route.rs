//! `accord route`: each country its part — per organisation responsible for countries
//! or ASNs (`accord org add NAME --countries MY --asns 4788`), the objects located there
//! with what explains them, released through the door and recorded in the ledger.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use accord_node::enrich::Index;
use accord_node::route::{self, Package, Responsible};
use accord_store::Store;
use anyhow::{bail, Context as _};

use crate::context::GlobalArgs;

/// Build and deliver each responsible organisation's package (or preview it).
///
/// Needs the enrichment (`accord enrich`). Each package is released through the
/// agreement gate under the recipient's agreements with each object's provider; what
/// the gate withholds is listed here for the operator and never written into the
/// package. Writes, per recipient, OUT/NAME.bundle.json (STIX 2.1), OUT/NAME.events.csv
/// and OUT/NAME.events.json (IntelMQ-style events, JSON lines). With `--deliver taxii`,
/// keeps each recipient's routed TAXII collection (created in the default API root
/// when missing, read by that organisation only) equal to its routing; the recipient
/// reads it through the gate, each read recorded in the ledger.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord org add cert-my --countries MY --asns 4788\n  accord enrich --mmdb-country geo-db/country.mmdb --mmdb-asn geo-db/asn.mmdb\n  accord route --dry-run\n  accord --json route --dry-run --operation botnet-takedown\n  accord route -o routes\n  accord route --deliver taxii              (each recipient's routed TAXII collection)\n  accord route --deliver files,taxii --to cert-my"
)]
pub struct RouteArgs {
    /// Route only what this collection holds (an operation's collection: id or alias)
    #[arg(long, value_name = "COLLECTION")]
    pub operation: Option<String>,
    /// Preview: what each recipient would get and what is withheld and why; writes
    /// nothing (no files, no ledger entries)
    #[arg(long)]
    pub dry_run: bool,
    /// Only this recipient
    #[arg(long, value_name = "ORG")]
    pub to: Option<String>,
    /// Directory for the packages
    #[arg(short, long, value_name = "DIR", default_value = "routes")]
    pub out: PathBuf,
    /// How to deliver: files (bundle and events in DIR), taxii (each recipient's
    /// routed TAXII collection), or both (files,taxii)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "files")]
    pub deliver: Vec<Deliver>,
}

/// A way to deliver the packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Deliver {
    /// OUT/NAME.bundle.json, NAME.events.csv, NAME.events.json
    Files,
    /// The recipient's routed TAXII collection
    Taxii,
}

pub fn run(global: &GlobalArgs, args: &RouteArgs) -> anyhow::Result<ExitCode> {
    let node = global.node()?;
    let Some(config) = &node.config else {
        bail!("routing needs a node configuration with responsible organisations (accord org add NAME --countries CC)");
    };
    let mut recipients = Responsible::from_config(config);
    if let Some(to) = &args.to {
        node.require_organisation(to)?;
        recipients.retain(|r| &r.organisation == to);
        if recipients.is_empty() {
            bail!("organisation '{to}' is responsible for no country or ASN (accord org add {to} --countries CC)");
        }
    }
    if recipients.is_empty() {
        bail!("no organisation is responsible for a country or ASN (accord org add NAME --countries CC --asns N)");
    }
    let operation = node.collection_id(args.operation.as_deref())?;
    if args.deliver.contains(&Deliver::Taxii) {
        let deliveries = deliver_taxii(
            global,
            &node,
            config,
            &recipients,
            operation.as_deref(),
            args.dry_run,
        )?;
        if !args.deliver.contains(&Deliver::Files) {
            if global.json {
                let out = serde_json::json!({
                    "dry_run": args.dry_run,
                    "operation": operation,
                    "collections": deliveries,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
            return Ok(ExitCode::SUCCESS);
        }
    }
    let gate = node.gate()?;
    let (store, egress) = if args.dry_run {
        let store = node.read_store()?;
        (store.clone(), node.egress(store, gate))
    } else {
        let store = node.write_store(accord_store::Durability::EveryCommit)?;
        node.publish_obligations(&store, &gate)?;
        let writer = node.ledger_writer(store.clone())?;
        (store.clone(), node.egress(store, gate).with_ledger(writer))
    };
    if store.enrichment_state()?.is_none() {
        bail!("the store is not enriched: run accord enrich --mmdb-country F --mmdb-asn F first");
    }
    let index = Index::load(&*store)?;
    let packages = route::route(
        &*store,
        &egress,
        &index,
        &recipients,
        operation.as_deref(),
        !args.dry_run,
    )?;
    if !args.dry_run {
        write_packages(&*store, &index, &recipients, &packages, &args.out)?;
    }
    if global.json {
        let out = serde_json::json!({
            "dry_run": args.dry_run,
            "operation": operation,
            "recipients": packages,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    for p in &packages {
        println!(
            "{}  countries [{}] asns [{}]: {} released, {} withheld{}",
            p.recipient,
            p.countries.join(", "),
            p.asns
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            p.released.len(),
            p.withheld.len(),
            if args.dry_run {
                String::new()
            } else {
                format!(
                    " -> {}",
                    args.out
                        .join(format!("{}.bundle.json", p.recipient))
                        .display()
                )
            }
        );
        if args.dry_run {
            for o in &p.released {
                println!(
                    "  release  {:<10} {}",
                    format!("{:?}", o.why).to_lowercase(),
                    o.id
                );
            }
        }
        for w in &p.withheld {
            println!("  withhold {} ({}): {}", w.id, w.reason, w.detail);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Fills each recipient's routed collection (creating missing ones in the default API
/// root, unless a dry run), and prints what changed (unless `--json`).
fn deliver_taxii(
    global: &GlobalArgs,
    node: &crate::context::Node,
    config: &accord_node::config::Config,
    recipients: &[Responsible],
    operation: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<Vec<accord_node::routed::Delivery>> {
    let missing: Vec<&str> = recipients
        .iter()
        .map(|r| r.organisation.as_str())
        .filter(|org| !config.routed_collections().contains_key(org))
        .collect();
    let mut created = config.clone();
    if !missing.is_empty() && !dry_run {
        let Some(root) = config.default_api_root().map(str::to_owned) else {
            bail!("no default API root for the routed collections: mark one default = true (or declare one: accord collection add)");
        };
        let mut editor = super::init::editor(global)?;
        for org in &missing {
            editor.add_routed_collection(&root, org)?;
        }
        created = super::init::save(
            &editor,
            &format!(
                "Added the routed collection of {} in API root '{root}'",
                missing.join(", ")
            ),
        )?;
    }
    let collections: std::collections::BTreeMap<String, String> = created
        .routed_collections()
        .into_iter()
        .map(|(org, (_, c))| (org.to_owned(), c.id.clone()))
        .collect();
    let store = if dry_run {
        node.read_store()?
    } else {
        node.write_store(accord_store::Durability::EveryCommit)?
    };
    if store.enrichment_state()?.is_none() {
        bail!("the store is not enriched: run accord enrich --mmdb-country F --mmdb-asn F first");
    }
    let index = Index::load(&*store)?;
    let deliveries = accord_node::routed::deliver(
        &*store,
        &index,
        recipients,
        operation,
        &collections,
        dry_run,
    )?;
    if !global.json {
        for org in missing.iter().filter(|_| dry_run) {
            println!("{org}  would get a routed collection (none yet) in the default API root");
        }
        for d in &deliveries {
            let (root, alias) = created
                .collection_by_id(&d.collection)
                .map(|(r, a, _)| (r.to_owned(), a.to_owned()))
                .unwrap_or_default();
            println!(
                "{}  /{root}/collections/{}/ ({alias}): {} {} added, {} removed, {} held (read through the gate)",
                d.recipient,
                d.collection,
                if dry_run { "would be" } else { "" },
                d.added,
                d.removed,
                d.held
            );
        }
    }
    Ok(deliveries)
}

fn write_packages(
    store: &dyn Store,
    index: &Index,
    recipients: &[Responsible],
    packages: &[Package],
    out: &std::path::Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let observed = accord_stix::Timestamp::now().to_string();
    let mut as_names: HashMap<u32, String> = HashMap::new();
    let mut after = String::new();
    loop {
        let rows = store.scan_enriched_addresses(&after, 10_000)?;
        let Some(last) = rows.last() else { break };
        after.clone_from(&last.address);
        for r in rows {
            if let (Some(asn), Some(name)) = (r.asn, r.as_name) {
                as_names.entry(asn).or_insert(name);
            }
        }
    }
    for (p, r) in packages.iter().zip(recipients) {
        let events = route::events(p, r, index, &as_names, &observed);
        let write = |name: String, text: String| -> anyhow::Result<()> {
            let path = out.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
        };
        write(format!("{}.bundle.json", p.recipient), route::bundle(p))?;
        write(
            format!("{}.events.csv", p.recipient),
            route::events_csv(&events),
        )?;
        write(
            format!("{}.events.json", p.recipient),
            route::events_json(&events),
        )?;
    }
    Ok(())
}
