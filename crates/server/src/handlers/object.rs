//! `GET` and `DELETE /{api_root}/collections/{id}/objects/{object_id}/`, and
//! `GET .../objects/{object_id}/versions/`.

use accord_node::accounts::Principal;
use accord_store::{ProviderWindow, Scope, VersionFilter};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::{holds, readable, readable_collection, release, taxii_json, ObjectPath, TaxiiPath};
use crate::envelope::{page_response, Kind};
use crate::error::TaxiiError;
use crate::media::require_taxii_accept;
use crate::openapi::TaxiiErrors;
use crate::params::{self, Allowed};
use crate::params::{DeleteFilters, ObjectFilters, VersionsFilters};
use crate::state::AppState;
use accord_taxii::resources::Versions;
use accord_taxii::{ErrorMessage, TAXII_MEDIA_TYPE};

/// Longest object id accepted in a path (a STIX id is at most a 250-character type,
/// `--` and a UUID).
pub const MAX_OBJECT_ID_LEN: usize = 300;

fn check_id(object_id: &str) -> Result<(), TaxiiError> {
    if object_id.is_empty() || object_id.len() > MAX_OBJECT_ID_LEN {
        return Err(TaxiiError::not_found(format!("No object '{object_id}'.")));
    }
    Ok(())
}

/// `GET .../objects/{object_id}/`: an envelope of the object's versions (the latest
/// by default).
#[utoipa::path(get, path = "/{api_root}/collections/{id}/objects/{object_id}/", tag = "TAXII", operation_id = "getObject",
    summary = "An object: an envelope of its versions (the latest by default)",
    params(ObjectPath, ObjectFilters),
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
    TaxiiPath(ObjectPath {
        api_root: root,
        id,
        object_id,
    }): TaxiiPath<ObjectPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    one(state, who, root, id, object_id, raw, headers, Kind::Objects).await
}

/// `GET .../objects/{object_id}/versions/`: the object's version timestamps, every
/// version, in ascending `date_added` order.
#[utoipa::path(get, path = "/{api_root}/collections/{id}/objects/{object_id}/versions/", tag = "TAXII",
    operation_id = "getObjectVersions",
    summary = "An object's version timestamps (every version by default), ascending date_added",
    params(ObjectPath, VersionsFilters),
    responses(
        (status = 200, description = "OK", body = Versions, content_type = TAXII_MEDIA_TYPE, headers(
            ("X-TAXII-Date-Added-First" = String, description = "date_added of the first item returned"),
            ("X-TAXII-Date-Added-Last" = String, description = "date_added of the last item returned")
        )),
        (status = 400, description = "A malformed filter value (the parameter is named).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn versions(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(ObjectPath {
        api_root: root,
        id,
        object_id,
    }): TaxiiPath<ObjectPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    one(
        state,
        who,
        root,
        id,
        object_id,
        raw,
        headers,
        Kind::Versions,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn one(
    state: AppState,
    who: Principal,
    root: String,
    id: String,
    object_id: String,
    raw: Option<String>,
    headers: HeaderMap,
    kind: Kind,
) -> Result<Response, TaxiiError> {
    readable_collection(&state, &who, &headers, &root, &id)?;
    check_id(&object_id)?;
    let (allowed, default_versions) = match kind {
        Kind::Versions => (Allowed::VERSIONS, VersionFilter::all()),
        _ => (Allowed::OBJECT, VersionFilter::last()),
    };
    let scope = Scope::Collection(id.clone());
    let mut request = params::parse(
        raw.as_deref(),
        allowed,
        scope,
        default_versions,
        state.limits,
    )?;
    request.query.ids = vec![object_id.clone()];
    let page = release(&state, &who, request, kind == Kind::Objects).await?;
    // Nothing matched the filters: is there anything of this object at all for this
    // reader? If not, the object does not exist for them (whatever others may read).
    if page.objects.is_empty() && !holds(&state, &who, id.clone(), object_id.clone()).await? {
        return Err(TaxiiError::not_found(format!(
            "No object '{object_id}' in collection '{id}'."
        )));
    }
    if kind == Kind::Objects {
        state
            .metrics
            .objects_out(&who.organisation, page.objects.len() as u64);
    }
    Ok(page_response(&page, kind))
}

/// `DELETE .../objects/{object_id}/`: remove versions of the object (all by default,
/// or those `match[version]` / `match[spec_version]` select) from the collection.
///
/// Needs read and write rights. The node's own organisation may remove any version; a
/// partner only the versions it provided itself. The versions stay in the store (other
/// collections and the ledger refer to them). Nothing is released here: the lookup
/// reads only which versions exist and who provided them.
#[utoipa::path(delete, path = "/{api_root}/collections/{id}/objects/{object_id}/", tag = "TAXII",
    operation_id = "deleteObject",
    summary = "Remove versions of an object from the collection (all by default; a partner only its own)",
    params(ObjectPath, DeleteFilters),
    responses(
        (status = 200, description = "Removed (no body)"),
        (status = 400, description = "A malformed filter value (the parameter is named).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        (status = 403, description = "The organisation may read but not write the collection.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        TaxiiErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(ObjectPath {
        api_root: root,
        id,
        object_id,
    }): TaxiiPath<ObjectPath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let local = {
        let access = state.access();
        let view = readable(&access, &root, &id, &who)?;
        if !view.can_write {
            return Err(TaxiiError::forbidden(format!(
                "Organisation '{}' may not delete from collection '{id}'.",
                who.organisation
            )));
        }
        access.config.server.organisation == who.organisation
    };
    check_id(&object_id)?;
    let scope = Scope::Collection(id.clone());
    let mut query = params::parse(
        raw.as_deref(),
        Allowed::DELETE,
        scope,
        VersionFilter::all(),
        state.limits,
    )?
    .query;
    query.ids = vec![object_id.clone()];
    query.limit = usize::MAX / 2;
    // A partner's `first`/`last` are among its own versions: the store's marks span
    // every provider's, and whether someone else holds a newer version of the id must
    // not change the answer.
    let wanted = query.versions.clone();
    if !local {
        query.providers = Some(vec![ProviderWindow {
            organisation: who.organisation.clone(),
            added_until: None,
        }]);
        query.versions = VersionFilter::all();
    }
    let store = state.store.clone();
    let (collection, oid) = (id.clone(), object_id.clone());
    let provider = (!local).then(|| who.organisation.clone());
    let removed = tokio::task::spawn_blocking(move || {
        let rows = store.query(&query)?.rows;
        let versions: Vec<i64> = rows.iter().map(|r| r.version_micros).collect();
        let chosen = if provider.is_some() {
            select_versions(&wanted, &versions)
        } else {
            versions
        };
        if chosen.is_empty() {
            return Ok(0);
        }
        let exact = VersionFilter {
            exact: chosen,
            ..VersionFilter::default()
        };
        store.remove_from_collection(&collection, &oid, &exact, provider.as_deref())
    })
    .await
    .map_err(TaxiiError::internal)?
    .map_err(TaxiiError::internal)?;
    if removed == 0 {
        return Err(TaxiiError::not_found(format!(
            "No object '{object_id}' in collection '{id}'."
        )));
    }
    // No body (TAXII 2.1 section 5.7), but the TAXII media type all its answers carry.
    Ok(taxii_json(StatusCode::OK, String::new()))
}

/// The versions of `versions` (one provider's) that `filter` selects, first and last
/// taken among them.
fn select_versions(filter: &VersionFilter, versions: &[i64]) -> Vec<i64> {
    let (Some(first), Some(last)) = (versions.iter().min(), versions.iter().max()) else {
        return Vec::new();
    };
    versions
        .iter()
        .copied()
        .filter(|v| {
            filter.all
                || (filter.first && v == first)
                || (filter.last && v == last)
                || filter.exact.contains(v)
        })
        .collect()
}
