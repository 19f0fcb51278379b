//! The OpenAPI 3.1 document of the server (`GET /openapi.json`), generated from the code.
//!
//! Each handler carries its description (`#[utoipa::path]`: path, parameters, request
//! body, responses); the router registers it with `utoipa_axum::routes!`, which adds
//! the route and its description together, so a route cannot be served without being
//! described ([`crate::router`]). Resource schemas are `accord_taxii`'s types (derived
//! with its `openapi` feature); the filters each endpoint admits come from the sets the
//! parser enforces ([`crate::params::Allowed`]). Only the ledger proof's schema is
//! written here by hand ([`LedgerProof`]): its JSON is built by `accord_agreements`.
//!
//! `docs/openapi.json` is this document, written by the test
//! `openapi::committed_document_is_the_generated_one` (which fails while they differ):
//! `UPDATE_OPENAPI=1 cargo test -p accord-server --test tests openapi` rewrites it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use accord_taxii::{ErrorMessage, TAXII_MEDIA_TYPE};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Ref, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Response};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::router;

/// The document's frame: title, servers, security schemes; the paths come from the
/// router ([`document`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Accord TAXII 2.1 server",
        description = "TAXII 2.1 (OASIS Standard) as served by `accord serve`, with Accord's ledger receipts, analytics and operational endpoints. Every response of the TAXII routes, errors included, is application/taxii+json;version=2.1. Each TAXII path is also answered without its trailing slash. Generated from the server's code (crates/server/src/openapi.rs); see docs/taxii.md."
    ),
    servers((url = "/")),
    security(("basic" = []), ("bearer" = [])),
    components(schemas(ErrorMessage)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "TAXII", description = "TAXII 2.1 resources (OASIS TAXII Version 2.1, sections 4 and 5)"),
        (name = "Ledger", description = "Proofs behind the ledger receipts of released objects"),
        (name = "Analytics", description = "Correlations and trends over what the requester may read (plain application/json)"),
        (name = "Federation", description = "Accord extensions for federation between Accord nodes (docs/federation.md)"),
        (name = "Operations", description = "Health, metrics and this document"),
    )
)]
struct Frame;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut basic = HttpBuilder::new().scheme(HttpAuthScheme::Basic).build();
        basic.description = Some("A user of an organisation (argon2id-hashed password)".into());
        let mut bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        bearer.description = Some("An API token (`accord token create`)".into());
        components.add_security_scheme("basic", SecurityScheme::Http(basic));
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// The whole document: the frame and every route of [`router::routes`].
pub fn document() -> Document {
    let (taxii, ops) = router::routes();
    OpenApiRouter::with_openapi(Frame::openapi())
        .merge(taxii)
        .merge(ops)
        .into_openapi()
}

/// The document as pretty JSON (built once; `GET /openapi.json` serves it).
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document().to_pretty_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document could not be written");
            String::from("{}")
        })
    })
}

/// An error response: a TAXII error message in the TAXII media type.
pub fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            TAXII_MEDIA_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorMessage::name())))
                .build(),
        )
        .build()
        .into()
}

fn responses(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| (status.to_string(), error_response(description)))
        .collect()
}

/// What 401 says on every authenticated route.
const UNAUTHORIZED: &str =
    "No or invalid credentials (WWW-Authenticate challenge: Basic and Bearer).";
/// What 405 says on every route.
const METHOD_NOT_ALLOWED: &str = "Method not supported by this resource.";

/// The errors every TAXII resource may answer (authentication, admission, content
/// negotiation, routing).
pub struct TaxiiErrors;

impl utoipa::IntoResponses for TaxiiErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (401, UNAUTHORIZED),
            (404, "No such resource, or not one the requester may see."),
            (405, METHOD_NOT_ALLOWED),
            (406, "The Accept header excludes application/taxii+json;version=2.1."),
            (
                429,
                "The organisation's max_requests_per_organisation requests were all in progress for body_read_timeout.",
            ),
        ])
    }
}

/// The errors of the authenticated routes that are not TAXII resources (ledger,
/// analytics): no content negotiation.
pub struct AccordErrors;

impl utoipa::IntoResponses for AccordErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (401, UNAUTHORIZED),
            (404, "No such API root (or receipt), or not one the requester may see."),
            (405, METHOD_NOT_ALLOWED),
            (
                429,
                "The organisation's max_requests_per_organisation requests were all in progress for body_read_timeout.",
            ),
        ])
    }
}

/// The errors of the operational routes.
pub struct OpsErrors;

impl utoipa::IntoResponses for OpsErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[(405, METHOD_NOT_ALLOWED)])
    }
}

/// The schema of a ledger proof (`GET /{api_root}/ledger/receipts/{receipt_id}/`), as
/// `accord_agreements::transparency::LedgerProof::to_json` writes it.
pub struct LedgerProof;

/// The schema of a signed tree head (part of a [`LedgerProof`]).
pub struct SignedTreeHead;

fn schema_from(value: serde_json::Value) -> RefOr<Schema> {
    serde_json::from_value(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a hand-written schema does not parse");
        RefOr::T(Schema::default())
    })
}

const HEX: &str = "^[0-9a-f]*$";

impl PartialSchema for SignedTreeHead {
    fn schema() -> RefOr<Schema> {
        schema_from(serde_json::json!({
            "type": "object",
            "description": "A tree head of the ledger's Merkle tree signed with the node's Ed25519 ledger key. The signature covers \"accord-ledger-tree-head-v1\\0\" || key_id || tree_size (u64 BE) || root_hash || timestamp_micros (i64 BE).",
            "required": ["format", "key_id", "tree_size", "root_hash", "timestamp", "timestamp_micros", "signature"],
            "properties": {
                "format": {"type": "string", "enum": ["accord-signed-tree-head/1"]},
                "key_id": {"type": "string", "pattern": HEX, "description": "SHA-256 of the public key (hex)"},
                "tree_size": {"type": "integer", "minimum": 0},
                "root_hash": {"type": "string", "pattern": HEX, "description": "RFC 9162 root hash (hex)"},
                "timestamp": {"type": "string", "format": "date-time"},
                "timestamp_micros": {"type": "integer"},
                "signature": {"type": "string", "pattern": HEX, "description": "Ed25519 signature (hex)"}
            },
            "additionalProperties": false
        }))
    }
}

impl ToSchema for SignedTreeHead {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SignedTreeHead")
    }
}

impl PartialSchema for LedgerProof {
    fn schema() -> RefOr<Schema> {
        schema_from(serde_json::json!({
            "type": "object",
            "description": "Ledger entries with their inclusion proofs and the signed tree head they lead to.",
            "required": ["format", "public_key_id", "signed_head", "entries"],
            "properties": {
                "format": {"type": "string", "enum": ["accord-ledger-proof/1"]},
                "receipt_id": {"type": "string"},
                "public_key_id": {"type": "string", "pattern": HEX},
                "signed_head": {"$ref": "#/components/schemas/SignedTreeHead"},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["seq", "leaf", "inclusion_proof"],
                        "properties": {
                            "seq": {"type": "integer", "minimum": 1},
                            "leaf": {"type": "string", "pattern": HEX, "description": "The encoded entry (docs/agreements.md, The ledger); its leaf hash is SHA-256(0x00 || leaf)"},
                            "inclusion_proof": {"type": "array", "items": {"type": "string", "pattern": HEX}},
                            "object_id": {"type": "string", "description": "Auditor proofs only: the stored object id"},
                            "object_salt": {"type": "string", "pattern": HEX, "description": "Auditor proofs only: the salt of the object commitment"},
                            "entry": {"type": "object", "description": "Readable copy of the leaf's fields (checked against the leaf)"}
                        }
                    }
                }
            },
            "additionalProperties": false
        }))
    }
}

impl ToSchema for LedgerProof {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LedgerProof")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((SignedTreeHead::name().into(), SignedTreeHead::schema()));
    }
}
