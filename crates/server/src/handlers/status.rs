//! `GET /{api_root}/status/{status_id}/`: the outcome of an earlier POST, visible only
//! to the organisation that made it.

use accord_node::accounts::Principal;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::{require_root, taxii_json, StatusPath, TaxiiPath};
use crate::error::TaxiiError;
use crate::media::require_taxii_accept;
use crate::openapi::TaxiiErrors;
use crate::state::AppState;
use accord_taxii::{Status, TAXII_MEDIA_TYPE};

/// A stored status as TAXII wants it: statuses stored by earlier versions carried
/// `"pendings": []`, which TAXII forbids (an empty list is left out); read as the
/// typed resource, [`Status`] leaves them out. A record that does not read as a status
/// (none is written so) is served as stored.
fn without_empty_lists(json: String) -> String {
    if !json.contains("[]") {
        return json;
    }
    serde_json::from_str::<Status>(&json)
        .ok()
        .and_then(|status| serde_json::to_string(&status).ok())
        .unwrap_or(json)
}

/// `GET /{api_root}/status/{status_id}/`.
#[utoipa::path(get, path = "/{api_root}/status/{status_id}/", tag = "TAXII", operation_id = "getStatus",
    summary = "Status of an earlier POST (visible to the posting organisation only)", params(StatusPath),
    responses((status = 200, description = "OK", body = Status, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(StatusPath {
        api_root: root,
        status_id: id,
    }): TaxiiPath<StatusPath>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    require_root(&state.access(), &root)?;
    let store = state.store.clone();
    let organisation = who.organisation.clone();
    let lookup = id.clone();
    let record = tokio::task::spawn_blocking(move || store.status(&lookup, &organisation))
        .await
        .map_err(TaxiiError::internal)?
        .map_err(TaxiiError::internal)?;
    match record {
        Some(r) => Ok(taxii_json(StatusCode::OK, without_empty_lists(r.json))),
        None => Err(TaxiiError::not_found(format!("No status '{id}'."))),
    }
}
