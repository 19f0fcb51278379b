//! The way in: validate, extract gate facts, store.
//!
//! Every source (CLI ingest, TAXII POST, telemetry sightings) goes through
//! [`ingest_batch`], so every stored object was validated with the model's rules and has
//! the facts the agreement gate needs (DESIGN.md, principles 1 and 3).

use accord_stix::{parse_object_then, ParseOptions, Rejection, StixObject};
use accord_store::{InsertOutcome, NewObject, Provenance, Store, StoreError, VersionStamp};

/// How to treat incoming objects.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Fill in a missing SCO `id` (deterministic UUIDv5, as the OASIS `stix2` library).
    pub fill_sco_ids: bool,
    /// What to record for the hub's analytics ([`crate::analytics`]): everything but
    /// for measuring what correlation, or all of it, costs.
    pub analytics: Recorded,
}

/// What ingest records for the hub's analytics ([`crate::analytics`]). Anything but
/// [`Recorded::All`] is for measuring their cost at ingest (`scripts/bench-hub-trends`):
/// objects stored so count in no correlation (and with [`Recorded::Nothing`], in no
/// trend).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Recorded {
    /// Correlation and trends.
    #[default]
    All,
    /// Trends only: no value stated and no sighting goes to the correlation index.
    TrendsOnly,
    /// Neither.
    Nothing,
}

/// What became of one object of a batch.
#[derive(Debug, Clone)]
pub enum ObjectResult {
    /// Validated and committed.
    Stored {
        /// Position of the object in its input.
        index: usize,
        /// Its id.
        id: String,
        /// Its version (`modified`, else `created`, else the `date_added`).
        version: String,
        /// When it was added (to the collection, if one was named), microseconds.
        date_added: i64,
        /// The store already held this version.
        already_present: bool,
    },
    /// Not stored, with every rule it broke.
    Rejected {
        /// Position of the object in its input.
        index: usize,
        /// Why, naming the object id, properties and rules.
        rejection: Rejection,
    },
}

impl ObjectResult {
    /// Was the object stored?
    pub fn is_stored(&self) -> bool {
        matches!(self, ObjectResult::Stored { .. })
    }
}

/// Validate and store a batch of objects given as JSON texts, in one transaction.
///
/// Invalid objects are reported and skipped; they never take their valid neighbours
/// down with them. `Err` means the store failed and nothing of the batch was committed.
///
/// ```
/// use accord_node::ingest::{ingest_batch, IngestOptions};
/// use accord_store::{Provenance, SqliteStore};
/// let store = SqliteStore::open_in_memory()?;
/// let texts = [
///     r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#,
///     r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"not an address"}"#,
/// ];
/// let results = ingest_batch(&store, &texts, &Provenance::new("telco", "doc"), None, &IngestOptions::default())?;
/// assert!(results[0].is_stored());
/// assert!(!results[1].is_stored());
/// # Ok::<(), accord_store::StoreError>(())
/// ```
pub fn ingest_batch<T: AsRef<str>>(
    store: &dyn Store,
    texts: &[T],
    provenance: &Provenance,
    collection: Option<&str>,
    options: &IngestOptions,
) -> Result<Vec<ObjectResult>, StoreError> {
    let prepared: Vec<Result<NewObject, Rejection>> =
        texts.iter().map(|t| prepare(t.as_ref(), options)).collect();
    store_prepared(store, prepared, provenance, collection)
}

/// Validate one object and turn it into what the store keeps.
pub fn prepare(text: &str, options: &IngestOptions) -> Result<NewObject, Rejection> {
    let parse_options = ParseOptions {
        fill_sco_ids: options.fill_sco_ids,
        pattern_checker: Some(check_pattern),
    };
    let recorded = options.analytics;
    let (object, (facts, analytics)) = parse_object_then(text, &parse_options, |view| {
        let analytics = if recorded == Recorded::Nothing {
            Default::default()
        } else {
            crate::analytics::extract(view)
        };
        (crate::facts::extract(view), analytics)
    })?;
    let mut object = new_object(object, facts);
    object.analytics = analytics;
    if recorded == Recorded::TrendsOnly {
        object.analytics.values.clear();
        object.analytics.sighting_of = None;
    }
    Ok(object)
}

/// Indicators' STIX patterns must parse and pass the specification's checks (as the
/// OASIS stix2-validator requires through stix2-patterns); other pattern languages
/// (Snort, YARA, Sigma...) are taken as they are.
fn check_pattern(pattern_type: &str, pattern: &str, _version: Option<&str>) -> Result<(), String> {
    if pattern_type != "stix" {
        return Ok(());
    }
    let check = crate::pattern_memo::check(pattern);
    let first_error = check.errors().next().map(ToString::to_string);
    match first_error {
        Some(error) => Err(error),
        None if check.is_valid() => Ok(()),
        None => Err("the pattern does not parse".to_string()),
    }
}

/// Store prepared objects (validated by [`prepare`], perhaps on another thread) and
/// report on each, rejections included, in input order.
pub fn store_prepared(
    store: &dyn Store,
    prepared: Vec<Result<NewObject, Rejection>>,
    provenance: &Provenance,
    collection: Option<&str>,
) -> Result<Vec<ObjectResult>, StoreError> {
    let mut valid = Vec::with_capacity(prepared.len());
    let mut results: Vec<Option<ObjectResult>> = Vec::with_capacity(prepared.len());
    let mut positions = Vec::with_capacity(prepared.len());
    for (index, item) in prepared.into_iter().enumerate() {
        match item {
            Ok(object) => {
                positions.push(index);
                valid.push(object);
                results.push(None);
            }
            Err(rejection) => results.push(Some(ObjectResult::Rejected { index, rejection })),
        }
    }
    crate::analytics::complete(store, &mut valid)?;
    let outcomes = store.insert(&valid, provenance, collection)?;
    for ((index, object), outcome) in positions.into_iter().zip(valid).zip(outcomes) {
        let date_added = outcome.date_added();
        let version = match object.version {
            Some(v) => v.text,
            None => accord_stix::Timestamp::from_micros(date_added)
                .as_str()
                .to_string(),
        };
        results[index] = Some(ObjectResult::Stored {
            index,
            id: object.id,
            version,
            date_added,
            already_present: matches!(outcome, InsertOutcome::AlreadyPresent { .. }),
        });
    }
    Ok(results.into_iter().flatten().collect())
}

/// The store's view of a validated object, with the gate's facts extracted.
fn new_object(object: StixObject, facts: Vec<u8>) -> NewObject {
    let version = object.version().map(|t| VersionStamp {
        micros: t.as_micros(),
        text: t.as_str().to_string(),
    });
    NewObject {
        spec_version: object
            .spec_version
            .clone()
            .unwrap_or_else(|| "2.1".to_string()),
        id: object.id,
        object_type: object.object_type,
        version,
        facts,
        json: object.json,
        analytics: Default::default(),
    }
}
