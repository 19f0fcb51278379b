//! `GET /{api_root}/collections/` and `GET /{api_root}/collections/{id}/`.

use accord_node::accounts::Principal;
use accord_taxii::{Collection, Collections};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::{require_root, taxii_json, to_json, visible, CollectionPath, RootPath, TaxiiPath};
use crate::error::TaxiiError;
use crate::media::{require_taxii_accept, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE};
use crate::openapi::TaxiiErrors;
use crate::state::{AppState, CollectionView};

fn resource(view: &CollectionView<'_>) -> Collection {
    let c = view.collection;
    Collection {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        alias: Some(view.alias.to_string()),
        can_read: view.can_read,
        can_write: view.can_write,
        media_types: vec![STIX_MEDIA_TYPE.to_string()],
    }
}

/// `GET /{api_root}/collections/`: the collections the organisation has a right on.
#[utoipa::path(get, path = "/{api_root}/collections/", tag = "TAXII", operation_id = "getCollections",
    summary = "Collections the requester's organisation may read or write", params(RootPath),
    responses((status = 200, description = "OK", body = Collections, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(RootPath { api_root: root }): TaxiiPath<RootPath>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    require_root(&access, &root)?;
    let body = Collections {
        collections: access
            .collections(&root, &who.organisation)
            .iter()
            .map(resource)
            .collect(),
    };
    Ok(taxii_json(StatusCode::OK, to_json(&body)?))
}

/// `GET /{api_root}/collections/{id}/`.
#[utoipa::path(get, path = "/{api_root}/collections/{id}/", tag = "TAXII", operation_id = "getCollection",
    summary = "One collection", params(CollectionPath),
    responses((status = 200, description = "OK", body = Collection, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(CollectionPath { api_root: root, id }): TaxiiPath<CollectionPath>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    let view = visible(&access, &root, &id, &who)?;
    Ok(taxii_json(StatusCode::OK, to_json(&resource(&view))?))
}
