//! `GET /{api_root}/collections/{id}/x-accord-deletions/`: Accord's extension that
//! tells a reader of the deletions in a collection it may learn of (TAXII 2.1 has no
//! way to). Paged like objects by `added_after` (a deletion time) and `limit`, with the
//! `X-TAXII-Date-Added-First`/`-Last` headers set to the page's first and last
//! deletion times. What a partner learns is the egress door's decision
//! ([`accord_node::egress::Egress::deletions`]): only deletions of versions it holds.

use accord_node::accounts::Principal;
use accord_node::egress::Recipient;
use accord_stix::Timestamp;
use accord_store::VersionFilter;
use accord_taxii::{Deletion, DeletionPage, ErrorMessage, TAXII_MEDIA_TYPE};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use super::{collection_request, egress_error, taxii_json, to_json, CollectionPath, TaxiiPath};
use crate::envelope::insert_date_added;
use crate::error::TaxiiError;
use crate::openapi::TaxiiErrors;
use crate::params::{Allowed, DeletionsFilters};
use crate::state::AppState;

/// `GET .../x-accord-deletions/`.
#[utoipa::path(get, path = "/{api_root}/collections/{id}/x-accord-deletions/", tag = "Federation", operation_id = "getDeletions",
    summary = "Accord extension: deletions of object versions the reader holds, paged by added_after (a deletion time)",
    params(CollectionPath, DeletionsFilters),
    responses(
        (status = 200, description = "OK", body = DeletionPage, content_type = TAXII_MEDIA_TYPE, headers(
            ("X-TAXII-Date-Added-First" = String, description = "date_deleted of the first deletion returned"),
            ("X-TAXII-Date-Added-Last" = String, description = "date_deleted of the last deletion returned")
        )),
        (status = 400, description = "A malformed filter value (the parameter is named), or next (deletions are paged by added_after).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(CollectionPath { api_root: root, id }): TaxiiPath<CollectionPath>,
    RawQuery(raw): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, TaxiiError> {
    let request = collection_request(
        &state,
        &who,
        &headers,
        (&root, &id),
        raw.as_deref(),
        Allowed::DELETIONS,
        VersionFilter::all(),
    )?;
    if request.next.is_some() {
        return Err(TaxiiError::bad_request(
            "next: deletions are paged by added_after (the last date_deleted read)",
        ));
    }
    let after = request.query.added_after.unwrap_or(i64::MIN);
    let limit = request.query.limit;
    let egress = state.egress.clone();
    let recipient = Recipient::new(who.organisation.clone());
    let page = tokio::task::spawn_blocking(move || egress.deletions(&recipient, &id, after, limit))
        .await
        .map_err(TaxiiError::internal)?
        .map_err(egress_error)?;
    let body = DeletionPage {
        more: page.more,
        deletions: page
            .deletions
            .iter()
            .map(|d| Deletion {
                id: d.id.clone(),
                version: d.version.clone(),
                date_deleted: Timestamp::from_micros(d.deleted).as_str().to_string(),
            })
            .collect(),
    };
    let mut response = taxii_json(StatusCode::OK, to_json(&body)?);
    if let (Some(first), Some(last)) = (page.deletions.first(), page.deletions.last()) {
        insert_date_added(response.headers_mut(), first.deleted, last.deleted);
    }
    Ok(response)
}
