//! One module per TAXII resource; each handler parses, applies and responds.
//!
//! # Layout
//! - [`discovery`]: `/taxii2/` and API root information.
//! - [`collections`]: the collections of an API root, and one collection.
//! - [`objects`]: get and add objects, the manifest.
//! - [`object`]: get and delete one object, its versions.
//! - [`deletions`]: Accord's extension telling readers of deletions.
//! - [`status`]: status resources of earlier POSTs.
//! - [`receipts`]: the proofs behind the ledger receipts of earlier reads.
//! - [`ops`]: `/healthz`, `/metrics`, `/openapi.json`, and the 404/405 fallbacks.

pub mod analytics;
pub mod collections;
pub mod deletions;
pub mod discovery;
pub mod object;
pub mod objects;
pub mod ops;
pub mod receipts;
pub mod status;

use accord_node::accounts::Principal;
use accord_node::egress::{EgressError, Recipient, Released};
use accord_store::{Scope, VersionFilter};
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::TaxiiError;
use crate::media::{require_taxii_accept, TAXII_MEDIA_TYPE};
use crate::params;
use crate::state::{Access, AppState, CollectionView};

/// `/{api_root}/…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RootPath {
    /// API root name (configuration key `api_roots.<name>`).
    pub api_root: String,
}

/// `/{api_root}/status/{status_id}/`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StatusPath {
    /// API root name (configuration key `api_roots.<name>`).
    pub api_root: String,
    /// Status id (UUID), from the answer to a POST.
    pub status_id: String,
}

/// `/{api_root}/collections/{id}/…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CollectionPath {
    /// API root name (configuration key `api_roots.<name>`).
    pub api_root: String,
    /// Collection id (UUID) or alias.
    pub id: String,
}

/// `/{api_root}/collections/{id}/objects/{object_id}/…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ObjectPath {
    /// API root name (configuration key `api_roots.<name>`).
    pub api_root: String,
    /// Collection id (UUID) or alias.
    pub id: String,
    /// STIX object id (`type--uuid`).
    pub object_id: String,
}

/// `/{api_root}/ledger/receipts/{receipt_id}/`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReceiptPath {
    /// API root name (configuration key `api_roots.<name>`).
    pub api_root: String,
    /// The receipt id from `X-Accord-Receipt`: `<first seq>-<last seq>-<tree size>`.
    pub receipt_id: String,
}

/// Path parameters; a path that does not decode is a TAXII 404.
pub struct TaxiiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for TaxiiPath<T> {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| TaxiiPath(t))
            .map_err(|_| TaxiiError::not_found("No such resource."))
    }
}

/// A TAXII JSON response.
pub fn taxii_json(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    response
}

/// A TAXII resource as JSON text.
pub fn to_json(resource: &impl serde::Serialize) -> Result<String, TaxiiError> {
    serde_json::to_string(resource).map_err(TaxiiError::internal)
}

/// 404 unless the API root exists.
pub fn require_root(access: &Access, root: &str) -> Result<(), TaxiiError> {
    if access.config.api_roots.contains_key(root) {
        Ok(())
    } else {
        Err(TaxiiError::not_found(format!("No API root '{root}'.")))
    }
}

/// The collection as `who` sees it; 404 when it does not exist for them.
pub fn visible<'a>(
    access: &'a Access,
    root: &str,
    id: &str,
    who: &Principal,
) -> Result<CollectionView<'a>, TaxiiError> {
    require_root(access, root)?;
    access
        .collection(root, id, &who.organisation)
        .ok_or_else(|| TaxiiError::not_found(format!("No collection '{id}' in API root '{root}'.")))
}

/// The collection, if `who` may read it; 404 otherwise (a collection one may not read
/// does not exist for its content endpoints, even when one may write to it).
pub fn readable<'a>(
    access: &'a Access,
    root: &str,
    id: &str,
    who: &Principal,
) -> Result<CollectionView<'a>, TaxiiError> {
    let view = visible(access, root, id, who)?;
    if view.can_read {
        Ok(view)
    } else {
        Err(TaxiiError::not_found(format!(
            "No collection '{id}' in API root '{root}'."
        )))
    }
}

/// The query of a read from collection `id` of API root `root`, after the checks every
/// such read makes, in the order whose answer the client sees first: a TAXII `Accept`
/// (406), a collection `who` may read (404), then the query string, with the endpoint's
/// `allowed` filters and `default_versions` (400).
pub(crate) fn collection_request(
    state: &AppState,
    who: &Principal,
    headers: &HeaderMap,
    (root, id): (&str, &str),
    raw: Option<&str>,
    allowed: params::Allowed,
    default_versions: VersionFilter,
) -> Result<params::Request, TaxiiError> {
    readable_collection(state, who, headers, root, id)?;
    params::parse(
        raw,
        allowed,
        Scope::Collection(id.to_string()),
        default_versions,
        state.limits,
    )
}

/// The first two checks of [`collection_request`], for a read that checks more before
/// its query string (one object's: its id).
pub(crate) fn readable_collection(
    state: &AppState,
    who: &Principal,
    headers: &HeaderMap,
    root: &str,
    id: &str,
) -> Result<(), TaxiiError> {
    require_taxii_accept(headers)?;
    let access = state.access();
    readable(&access, root, id, who).map(drop)
}

/// What the egress door releases to `who` for `request` (content or manifest). (The door
/// itself never answers a request for an id with an object released under another id,
/// a pseudonymised SCO: that would confirm the real value is held.)
pub async fn release(
    state: &AppState,
    who: &Principal,
    request: params::Request,
    with_content: bool,
) -> Result<Released, TaxiiError> {
    let egress = state.egress.clone();
    let recipient = Recipient::new(who.organisation.clone());
    tokio::task::spawn_blocking(move || {
        let next = request.next.as_deref();
        if with_content {
            egress.objects(&recipient, &request.query, next)
        } else {
            egress.manifest(&recipient, &request.query, next)
        }
    })
    .await
    .map_err(TaxiiError::internal)?
    .map_err(egress_error)
}

/// Whether `who` may read anything of object `id` in `collection` (any version).
pub async fn holds(
    state: &AppState,
    who: &Principal,
    collection: String,
    id: String,
) -> Result<bool, TaxiiError> {
    let egress = state.egress.clone();
    let recipient = Recipient::new(who.organisation.clone());
    tokio::task::spawn_blocking(move || egress.holds(&recipient, &collection, &id))
        .await
        .map_err(TaxiiError::internal)?
        .map_err(egress_error)
}

/// A refused `next` token is the client's error (400); a collection the door does not
/// let the organisation read does not exist for it (404); anything else is the server's.
pub(crate) fn egress_error(e: EgressError) -> TaxiiError {
    match e {
        EgressError::InvalidNext(_) => TaxiiError::bad_request(e.to_string()),
        EgressError::NotReadable { .. } => TaxiiError::not_found("No such collection."),
        other => TaxiiError::internal(other),
    }
}
