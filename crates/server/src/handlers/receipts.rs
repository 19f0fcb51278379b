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

use super::{require_root, ReceiptPath, TaxiiPath};
use crate::error::TaxiiError;
use crate::openapi::{AccordErrors, LedgerProof};
use crate::state::AppState;

/// `GET /{api_root}/ledger/receipts/{receipt_id}/`.
#[utoipa::path(get, path = "/{api_root}/ledger/receipts/{receipt_id}/", tag = "Ledger",
    operation_id = "getLedgerReceipt",
    summary = "The proof behind a ledger receipt (visible to the organisation it was issued to only)",
    description = "The node's signed tree head, the encoded ledger entries of the response that named this receipt in X-Accord-Receipt, and their Merkle inclusion proofs (RFC 9162). Verify it offline with the node's public key: `accord ledger check-proof --key KEY FILE`. Entries show the id the recipient holds (released_id) and the SHA-256 of the bytes it received; the node's stored id is committed to, never shown. A receipt of another organisation, or an id never issued, is 404.",
    params(ReceiptPath),
    responses((status = 200, description = "OK", body = LedgerProof, content_type = "application/json"), AccordErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(ReceiptPath {
        api_root: root,
        receipt_id: id,
    }): TaxiiPath<ReceiptPath>,
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
