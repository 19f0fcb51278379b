//! `GET /{api_root}/status/{status_id}/`: the outcome of an earlier POST, visible only
//! to the organisation that made it.

use accord_node::accounts::Principal;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::{require_root, taxii_json, TaxiiPath};
use crate::error::TaxiiError;
use crate::media::require_taxii_accept;
use crate::state::AppState;

/// A stored status without its empty lists: statuses stored by earlier versions
/// carried `"pendings": []`, which TAXII forbids (an empty list is left out).
fn without_empty_lists(json: String) -> String {
    let Ok(serde_json::Value::Object(mut status)) = serde_json::from_str(&json) else {
        return json;
    };
    let before = status.len();
    status.retain(|_, v| v.as_array().is_none_or(|a| !a.is_empty()));
    if status.len() == before {
        return json;
    }
    serde_json::Value::Object(status).to_string()
}

/// `GET /{api_root}/status/{status_id}/`.
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath((root, id)): TaxiiPath<(String, String)>,
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
