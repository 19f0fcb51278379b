//! `GET` and `POST /{api_root}/collections/{id}/objects/`, and
//! `GET /{api_root}/collections/{id}/manifest/`.

use accord_node::accounts::Principal;
use accord_node::ingest::{prepare, store_prepared, IngestOptions, ObjectResult};
use accord_stix::Rejection;
use accord_stix::Timestamp;
use accord_store::NewObject;
use accord_store::{Provenance, StatusRecord, Store, VersionFilter};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{collection_request, release, taxii_json, visible, CollectionPath, TaxiiPath};
use crate::envelope::{page_response, Kind};
use crate::error::TaxiiError;
use crate::media::{require_taxii_accept, require_taxii_content_type};
use crate::openapi::TaxiiErrors;
use crate::params::AllFilters;
use crate::params::Allowed;
use crate::state::AppState;
use accord_taxii::resources::{Manifest, StatusDetails};
use accord_taxii::{ErrorMessage, Status, TAXII_MEDIA_TYPE};

/// The provenance channel of objects posted over TAXII.
pub const CHANNEL: &str = "taxii";

/// `GET .../objects/`: an envelope of the objects the organisation may read.
#[utoipa::path(get, path = "/{api_root}/collections/{id}/objects/", tag = "TAXII", operation_id = "getObjects",
    summary = "Objects (released through the agreement gate), ascending date_added",
    params(CollectionPath, AllFilters),
    responses(
        (status = 200, description = "OK", body = accord_taxii::Envelope, content_type = TAXII_MEDIA_TYPE, headers(
            ("X-TAXII-Date-Added-First" = String, description = "date_added of the first item returned"),
            ("X-TAXII-Date-Added-Last" = String, description = "date_added of the last item returned"),
            ("X-Accord-Receipt" = String, description = "The ledger receipt of this response, present when it released objects under an agreement: its proof is at /{api_root}/ledger/receipts/{receipt_id}/ (docs/taxii.md, Ledger receipts).")
        )),
        (status = 400, description = "A malformed filter value (the parameter is named).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(CollectionPath { api_root: root, id }): TaxiiPath<CollectionPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    page(state, who, root, id, raw, headers, Kind::Objects).await
}

/// `GET .../manifest/`: the same selection, described instead of delivered.
#[utoipa::path(get, path = "/{api_root}/collections/{id}/manifest/", tag = "TAXII", operation_id = "getManifest",
    summary = "Manifest: the same selection as get objects, described instead of delivered",
    params(CollectionPath, AllFilters),
    responses(
        (status = 200, description = "OK", body = Manifest, content_type = TAXII_MEDIA_TYPE, headers(
            ("X-TAXII-Date-Added-First" = String, description = "date_added of the first item returned"),
            ("X-TAXII-Date-Added-Last" = String, description = "date_added of the last item returned")
        )),
        (status = 400, description = "A malformed filter value (the parameter is named).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn manifest(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(CollectionPath { api_root: root, id }): TaxiiPath<CollectionPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    page(state, who, root, id, raw, headers, Kind::Manifest).await
}

async fn page(
    state: AppState,
    who: Principal,
    root: String,
    id: String,
    raw: Option<String>,
    headers: HeaderMap,
    kind: Kind,
) -> Result<Response, TaxiiError> {
    let request = collection_request(
        &state,
        &who,
        &headers,
        (&root, &id),
        raw.as_deref(),
        Allowed::ALL,
        VersionFilter::last(),
    )?;
    let page = release(&state, &who, request, kind == Kind::Objects).await?;
    if kind == Kind::Objects {
        state
            .metrics
            .objects_out(&who.organisation, page.objects.len() as u64);
    }
    Ok(page_response(&page, kind))
}

/// The body of a POST: a TAXII envelope (only `objects` is read).
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    objects: Vec<&'a RawValue>,
}

/// `POST .../objects/`: validate each object, store the valid ones in the collection
/// with the poster's organisation as provenance, and answer 202 with the (persisted)
/// status resource, which lists each object as a success (committed) or a failure
/// (with the reason).
#[utoipa::path(post, path = "/{api_root}/collections/{id}/objects/", tag = "TAXII", operation_id = "addObjects",
    summary = "Add objects: each is validated; valid ones are stored, invalid ones reported as failures",
    params(CollectionPath),
    request_body(content = accord_taxii::Envelope, content_type = TAXII_MEDIA_TYPE, description = "An envelope of STIX 2.1 objects (only `objects` is read)."),
    responses(
        (status = 202, description = "Accepted: processed; the status lists successes and failures", body = Status, content_type = TAXII_MEDIA_TYPE),
        (status = 400, description = "Not a TAXII envelope.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        (status = 403, description = "The organisation may see but not write to the collection.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        (status = 408, description = "The body did not arrive within body_read_timeout.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        (status = 413, description = "The body exceeds max_content_length.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        (status = 415, description = "The body is not application/taxii+json;version=2.1.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        TaxiiErrors))]
pub async fn post(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(CollectionPath { api_root: root, id }): TaxiiPath<CollectionPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, TaxiiError> {
    let request_timestamp = Timestamp::now();
    require_taxii_accept(&headers)?;
    {
        let access = state.access();
        let view = visible(&access, &root, &id, &who)?;
        if !view.can_write {
            return Err(TaxiiError::forbidden(format!(
                "Organisation '{}' may not write to collection '{id}'.",
                who.organisation
            )));
        }
    }
    require_taxii_content_type(&headers)?;
    let bytes = read_body(&headers, body, state.max_content_length).await?;
    let store = state.store.clone();
    let organisation = who.organisation.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        ingest_envelope(
            store.as_ref(),
            &bytes,
            &organisation,
            &id,
            &request_timestamp,
        )
    })
    .await
    .map_err(TaxiiError::internal)??;
    state
        .metrics
        .objects_in(&who.organisation, outcome.stored, outcome.rejected);
    Ok(taxii_json(StatusCode::ACCEPTED, outcome.status_json))
}

/// Read at most `max` bytes of body; 413 beyond.
async fn read_body(headers: &HeaderMap, body: Body, max: u64) -> Result<Bytes, TaxiiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(TaxiiError::too_large(max));
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(TaxiiError::too_large(max)),
        Err(e) => Err(TaxiiError::bad_request(format!(
            "the request body could not be read: {e}"
        ))),
    }
}

/// Objects per thread below which validation of a POST stays on one thread.
pub const OBJECTS_PER_THREAD: usize = 64;

/// Validate every object of a POST, spread over the machine's cores (validation is
/// pure CPU work; the store then takes the results in one transaction).
fn prepare_all(texts: &[&str]) -> Vec<Result<NewObject, Rejection>> {
    let options = IngestOptions::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(texts.len() / OBJECTS_PER_THREAD).max(1);
    if threads == 1 {
        return texts.iter().map(|t| prepare(t, &options)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                let options = &options;
                scope.spawn(move || part.iter().map(|t| prepare(t, options)).collect::<Vec<_>>())
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

struct PostOutcome {
    status_json: String,
    stored: u64,
    rejected: u64,
}

/// Parse, validate, store, and persist the status (blocking).
fn ingest_envelope(
    store: &dyn Store,
    bytes: &[u8],
    organisation: &str,
    collection: &str,
    request_timestamp: &Timestamp,
) -> Result<PostOutcome, TaxiiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(TaxiiError::bad_request(
            "the body is not a TAXII envelope: expected a JSON object",
        ));
    }
    let envelope: Envelope<'_> = serde_json::from_slice(bytes)
        .map_err(|e| TaxiiError::bad_request(format!("the body is not a TAXII envelope: {e}")))?;
    let texts: Vec<&str> = envelope.objects.iter().map(|r| r.get()).collect();
    let provenance = Provenance::new(organisation, CHANNEL);
    let prepared = prepare_all(&texts);
    let results = store_prepared(store, prepared, &provenance, Some(collection))
        .map_err(TaxiiError::internal)?;
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for result in &results {
        match result {
            ObjectResult::Stored {
                id,
                version,
                already_present,
                ..
            } => successes.push(StatusDetails {
                id: id.clone(),
                version: version.clone(),
                message: already_present.then(|| "already present in the collection".into()),
            }),
            ObjectResult::Rejected { index, rejection } => {
                let raw = texts.get(*index).copied().unwrap_or("");
                let (raw_id, raw_version) = identify(raw);
                failures.push(StatusDetails {
                    id: rejection.object_id.clone().or(raw_id).unwrap_or_default(),
                    version: raw_version.unwrap_or_default(),
                    message: Some(format!("objects[{index}]: {rejection}")),
                });
            }
        }
    }
    let (stored, rejected) = (successes.len() as u64, failures.len() as u64);
    // Empty lists are left out (TAXII, like STIX, forbids them): `Status` skips them.
    let status = Status {
        id: uuid::Uuid::new_v4().to_string(),
        status: "complete".into(),
        request_timestamp: Some(request_timestamp.as_str().to_string()),
        total_count: results.len() as u64,
        success_count: stored,
        successes,
        failure_count: rejected,
        failures,
        pending_count: 0,
        pendings: Vec::new(),
    };
    let record = StatusRecord {
        json: serde_json::to_string(&status).map_err(TaxiiError::internal)?,
        id: status.id,
        organisation: organisation.to_string(),
    };
    store.put_status(&record).map_err(TaxiiError::internal)?;
    Ok(PostOutcome {
        status_json: record.json,
        stored,
        rejected,
    })
}

/// The `id` and version (`modified`, else `created`) of a rejected object, as far as
/// they can be read, for its status entry.
fn identify(raw: &str) -> (Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Head {
        id: Option<Value>,
        modified: Option<Value>,
        created: Option<Value>,
    }
    match serde_json::from_str::<Head>(raw) {
        Ok(h) => {
            let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
            let version = text(h.modified).or_else(|| text(h.created));
            (text(h.id), version)
        }
        Err(_) => (None, None),
    }
}
