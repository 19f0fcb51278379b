//! What the door's examples share: indicators and agreements written as a provider
//! would send them.

use std::sync::Arc;

use accord_agreements::{Agreement, Gate, Tlp};
use accord_node::egress::{Egress, Readers};
use accord_node::ingest::{ingest_batch, IngestOptions};
use accord_store::{Provenance, SqliteStore};

/// The errors an example stops on.
pub type Failure = Box<dyn std::error::Error>;

/// Ingests `texts` as `provider`'s into the collection `shared`, 10,000 a batch.
#[allow(dead_code)] // not every example ingests this way
pub fn ingest_shared(store: &SqliteStore, provider: &str, texts: &[String]) -> Result<(), Failure> {
    let provenance = Provenance::new(provider, "bench");
    for chunk in texts.chunks(10_000) {
        ingest_batch(
            store,
            chunk,
            &provenance,
            Some("shared"),
            &IngestOptions::default(),
        )?;
    }
    Ok(())
}

/// The door of `telco`, whose one partner, `centre`, reads the collection `shared`
/// under `agreements`; its release views decided beforehand, as `accord serve` keeps
/// them (with the partner's trend cells when `keep_trends`, as `accord serve` does by
/// default).
#[allow(dead_code)] // not every example has one partner
pub fn partner_door(
    store: &Arc<SqliteStore>,
    agreements: Vec<Agreement>,
    keep_trends: bool,
) -> Result<Egress, Failure> {
    let mut readers = Readers::none();
    readers.grant("shared", "centre");
    let door = Egress::new(store.clone(), "telco")
        .with_gate(Gate::new(agreements)?)
        .with_readers(readers)
        .keeping_partner_trends(keep_trends);
    door.refresh_views()?;
    Ok(door)
}

/// Indicator `n` on the address `10.a.b.c` of `value`, created on day `day` of January
/// 2026, marked `tlp` (unmarked when `None`).
pub fn indicator(n: usize, value: usize, day: usize, tlp: Option<Tlp>) -> String {
    let marking = tlp.map_or(String::new(), |t| {
        format!(r#","object_marking_refs":["{}"]"#, t.marking_id())
    });
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-{day:02}T00:00:00.000Z","modified":"2026-01-{day:02}T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.{}.{}.{}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"{marking}}}"#,
        value / 65_536,
        (value / 256) % 256,
        value % 256,
    )
}

/// An agreement from `provider` to `recipient` for indicators up to TLP:GREEN (unmarked
/// objects count as GREEN), with `protections` (TOML lines).
pub fn agreement(provider: &str, recipient: &str, protections: &str) -> Result<Agreement, Failure> {
    Ok(Agreement::from_toml(&format!(
        r#"
id = "{provider}-{recipient}"
version = 1
provider = {{ id = "{provider}" }}
recipient = {{ id = "{recipient}" }}
purpose = "Benchmark"
legal_basis = "MoU"
[validity]
from = 2020-01-01T00:00:00Z
[scope]
types = ["indicator"]
max_tlp = "GREEN"
unmarked_tlp = "GREEN"
[protections]
{protections}
[obligations]
onward_sharing = true
"#
    ))?)
}

/// Sighting `n` of indicator `target` (as [`indicator`] numbers them), counted once,
/// marked `tlp`.
#[allow(dead_code)] // not every example sights
pub fn sighting(n: usize, target: usize, tlp: Tlp) -> String {
    format!(
        r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-{n:012}","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","first_seen":"2026-01-02T00:00:00Z","last_seen":"2026-01-02T00:00:00Z","count":1,"sighting_of_ref":"indicator--00000000-0000-4000-8000-{target:012}","object_marking_refs":["{}"]}}"#,
        tlp.marking_id()
    )
}

/// [`partner_door`] with agreements from `telco` and `isp`, each up to TLP:GREEN.
#[allow(dead_code)] // not every example has two providers
pub fn two_provider_door(store: &Arc<SqliteStore>) -> Result<Egress, Failure> {
    partner_door(
        store,
        vec![
            agreement("telco", "centre", "")?,
            agreement("isp", "centre", "")?,
        ],
        false,
    )
}

/// What [`timed`] measured: the best and the first of the runs, in milliseconds, and
/// the last run's answer.
#[allow(dead_code)] // not every example times an answer
pub struct Timed<T> {
    pub best_ms: f64,
    pub first_ms: f64,
    pub answer: T,
}

/// Runs `f` `runs` times (at least once).
#[allow(dead_code)] // not every example times an answer
pub fn timed<T>(
    runs: usize,
    mut f: impl FnMut() -> Result<T, Failure>,
) -> Result<Timed<T>, Failure> {
    let mut best = f64::MAX;
    let mut first = None;
    let mut answer = None;
    for _ in 0..runs.max(1) {
        let started = std::time::Instant::now();
        answer = Some(f()?);
        let took = started.elapsed().as_secs_f64() * 1e3;
        first.get_or_insert(took);
        best = best.min(took);
    }
    Ok(Timed {
        best_ms: best,
        first_ms: first.unwrap_or_default(),
        answer: answer.ok_or("no run")?,
    })
}

/// The correlations `centre` gets for `query`.
#[allow(dead_code)] // not every example correlates
pub fn centre_correlations(
    store: &SqliteStore,
    door: &Egress,
    query: &accord_node::correlate::CorrelateQuery,
) -> Result<Vec<accord_node::correlate::Correlation>, Failure> {
    Ok(accord_node::correlate::correlate(
        store,
        door,
        &accord_node::egress::Recipient::new("centre"),
        query,
        &accord_detect::Warninglists::empty(),
    )?)
}
