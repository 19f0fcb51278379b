//! `GET /{api_root}/collections/` and `GET /{api_root}/collections/{id}/`.

use accord_node::accounts::Principal;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};

use super::{require_root, taxii_json, visible, TaxiiPath};
use crate::error::TaxiiError;
use crate::media::{require_taxii_accept, STIX_MEDIA_TYPE};
use crate::state::{AppState, CollectionView};

fn resource(view: &CollectionView<'_>) -> Value {
    let c = view.collection;
    let mut v = json!({
        "id": c.id,
        "title": c.title,
        "alias": view.alias,
        "can_read": view.can_read,
        "can_write": view.can_write,
        "media_types": [STIX_MEDIA_TYPE],
    });
    if let (Some(d), Some(map)) = (&c.description, v.as_object_mut()) {
        map.insert("description".into(), d.clone().into());
    }
    v
}

/// `GET /{api_root}/collections/`: the collections the organisation has a right on.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(root): TaxiiPath<String>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    require_root(&access, &root)?;
    let collections: Vec<Value> = access
        .collections(&root, &who.organisation)
        .iter()
        .map(resource)
        .collect();
    let body = if collections.is_empty() {
        json!({})
    } else {
        json!({ "collections": collections })
    };
    Ok(taxii_json(StatusCode::OK, body.to_string()))
}

/// `GET /{api_root}/collections/{id}/`.
pub async fn one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath((root, id)): TaxiiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    let view = visible(&access, &root, &id, &who)?;
    Ok(taxii_json(StatusCode::OK, resource(&view).to_string()))
}
