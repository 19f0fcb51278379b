//! `GET /{api_root}/ledger/receipts/{receipt_id}/`: the proof behind a receipt, for
//! the organisation it was issued to.
//!
//! Every objects or object response that released content under an agreement names
//! its receipt in the `X-Accord-Receipt` header. The proof (the node's signed tree
//! head, the encoded ledger entries of that response and their inclusion proofs) is
//! checked offline with the node's public key alone (`accord ledger check-proof`, or
//! `accord_agreements::transparency::LedgerProof::verify`). A receipt of another
//! organisation, or an id never issued, is answered 404 alike.

use accord_node::accounts::Principal;
use accord_node::egress::ledger::receipt_proof;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{require_root, TaxiiPath};
use crate::error::TaxiiError;
use crate::state::AppState;

/// `GET /{api_root}/ledger/receipts/{receipt_id}/`.
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath((root, id)): TaxiiPath<(String, String)>,
) -> Result<Response, TaxiiError> {
    require_root(&state.access(), &root)?;
    let store = state.store.clone();
    let organisation = who.organisation.clone();
    let lookup = id.clone();
    let proof = tokio::task::spawn_blocking(move || receipt_proof(&*store, &lookup, &organisation))
        .await
        .map_err(TaxiiError::internal)?
        .map_err(TaxiiError::internal)?;
    match proof {
        Some(proof) => {
            let mut response = (StatusCode::OK, proof.to_json().to_string()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        None => Err(TaxiiError::not_found(format!("No receipt '{id}'."))),
    }
}
