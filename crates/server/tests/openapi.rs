//! The OpenAPI document (`/openapi.json`) against the router that serves it: every
//! described operation is served, every served route is described, the filters each
//! operation documents are the ones it parses, and `docs/openapi.json` is the generated
//! document.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

use crate::support::*;

/// Methods probed on every served path (HEAD is GET's, answered by axum on every GET
/// route, and not described separately).
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"];

const MATCHED: &str = "x-test-matched-path";

/// The app, answering with the route template axum matched (none for the fallback).
fn probed(app: &Router) -> Router {
    async fn record(request: Request, next: Next) -> Response {
        let matched = request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_string());
        let mut response = next.run(request).await;
        if let Some(m) = matched.and_then(|m| m.parse().ok()) {
            response.headers_mut().insert(MATCHED, m);
        }
        response
    }
    app.clone().layer(middleware::from_fn(record))
}

/// The generated document, as served.
async fn document(app: &Router) -> Value {
    let r = get(app, "/openapi.json", Who::Nobody).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

/// (path template, methods) of every described operation.
fn described(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| METHODS.contains(&k.to_ascii_uppercase().as_str()))
                .map(|k| k.to_ascii_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// Every path template the router serves. axum lists no routes; its `Debug` output
/// holds the path table of its router (`path_router: … node: Node { paths:
/// {RouteId(n): "/path", …} }`, before the fallback router's). Read from the real
/// router, it also finds a route added past the described ones; the count check of the
/// caller fails loudly if axum ever writes that table otherwise.
fn served_paths(app: &Router) -> BTreeSet<String> {
    let text = format!("{app:?}");
    let routes = text.split("fallback_router").next().unwrap_or("");
    let table = routes.rsplit("paths: {").next().unwrap_or("");
    let mut paths = BTreeSet::new();
    for entry in table.split("RouteId(").skip(1) {
        let Some((_, quoted)) = entry.split_once(": \"") else {
            continue;
        };
        if let Some((path, _)) = quoted.split_once('"') {
            paths.insert(path.to_string());
        }
    }
    paths
}

/// A concrete URL for a path template, with values that exist in the fixture.
fn concrete(template: &str, status_id: &str) -> String {
    template
        .replace("{api_root}", "intel")
        .replace("{id}", SHARED)
        .replace("{object_id}", &identity_id(1))
        .replace("{status_id}", status_id)
        .replace("{receipt_id}", "1-1-1")
}

/// A fixture with one object in the shared collection; the id of its POST's status.
async fn seeded() -> (Fixture, String) {
    let f = fixture();
    let r = post_objects(
        &f.app,
        SHARED,
        Who::Telco,
        &[identity(1, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let status_id = r.json()["id"].as_str().unwrap().to_string();
    (f, status_id)
}

async fn send(app: &Router, method: &str, url: &str) -> Reply {
    let body = (method == "POST").then(|| r#"{"objects":[]}"#.to_string());
    request(
        app,
        method,
        url,
        Who::Admin,
        &[("accept", TAXII), ("content-type", TAXII)],
        body,
    )
    .await
}

#[tokio::test]
async fn every_described_operation_is_served() {
    let (f, status_id) = seeded().await;
    let app = probed(&f.app);
    let doc = document(&app).await;
    let operations = described(&doc);
    assert!(operations.len() >= 15, "{operations:?}");
    for (template, methods) in &operations {
        assert!(!methods.is_empty(), "{template}: no operation");
        for method in methods {
            let url = concrete(template, &status_id);
            let r = send(&app, method, &url).await;
            assert_ne!(r.status, 405, "{method} {template}: {}", r.body);
            assert_eq!(
                r.header(MATCHED),
                Some(template.as_str()),
                "{method} {url} is not routed to {template} (status {}): {}",
                r.status,
                r.body
            );
        }
    }
}

#[tokio::test]
async fn every_route_is_described() {
    let (f, status_id) = seeded().await;
    let app = probed(&f.app);
    let doc = document(&app).await;
    let operations = described(&doc);
    let served = served_paths(&f.app);
    // Each described path is served, and (TAXII paths) its alias without the `/`.
    assert!(
        served.len() >= operations.len(),
        "axum's route table was not read: {served:?}"
    );
    for path in &served {
        let canonical = if operations.contains_key(path) {
            path.clone()
        } else {
            format!("{path}/")
        };
        let Some(documented) = operations.get(&canonical) else {
            panic!("{path} is served but not described in /openapi.json");
        };
        // Which methods the route answers (anything but the router's 405).
        let url = concrete(path, &status_id);
        let mut answered = BTreeSet::new();
        for method in METHODS {
            let r = send(&app, method, &url).await;
            assert_eq!(r.header(MATCHED), Some(path.as_str()), "{method} {url}");
            if r.status != 405 {
                answered.insert(method.to_string());
            }
        }
        assert_eq!(
            &answered, documented,
            "{path}: methods served (left) and described (right) differ"
        );
    }
    for path in operations.keys() {
        assert!(served.contains(path), "{path} is described but not served");
    }
}

/// Which documented query parameters each TAXII operation takes, against which ones
/// its parser reads: a malformed value of a parameter is a 400 exactly when the
/// parameter is documented (others are ignored, as TAXII asks).
#[tokio::test]
async fn documented_filters_are_the_parsed_ones() {
    let (f, _) = seeded().await;
    let doc = document(&f.app).await;
    let malformed = [
        ("added_after", "yesterday"),
        ("limit", "0"),
        ("next", "%21%21"),
        ("match[id]", "a,,b"),
        ("match[type]", "a,,b"),
        ("match[version]", "a,,b"),
        ("match[spec_version]", "a,,b"),
    ];
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.contains("/collections/{id}/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let params: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            for (name, value) in malformed {
                let url = format!(
                    "{}?{}={value}",
                    concrete(template, "-"),
                    name.replace('[', "%5B").replace(']', "%5D")
                );
                let r = send(&f.app, &method.to_ascii_uppercase(), &url).await;
                if params.contains(name) {
                    r.assert_taxii_error(400);
                    assert!(r.body.contains(name), "{method} {url}: {}", r.body);
                } else {
                    assert_ne!(r.status, 400, "{method} {url} reads undocumented {name}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 7 * 6, "{checked}");
}

/// What the document says of media types: every TAXII operation answers (and takes)
/// application/taxii+json;version=2.1, errors included, with the TAXII schemas.
#[tokio::test]
async fn taxii_operations_speak_the_taxii_media_type() {
    let f = fixture();
    let doc = document(&f.app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Discovery",
        "ApiRoot",
        "Collection",
        "Collections",
        "Envelope",
        "Manifest",
        "Versions",
        "Status",
        "ErrorMessage",
        "LedgerProof",
        "SignedTreeHead",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let mut taxii_operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let tags = op["tags"].as_array().unwrap();
            if !tags.iter().any(|t| t == "TAXII") {
                continue;
            }
            taxii_operations += 1;
            let responses = op["responses"].as_object().unwrap();
            for code in ["401", "404", "405", "406", "429"] {
                assert!(responses.contains_key(code), "{method} {path}: no {code}");
            }
            for (code, response) in responses {
                if let Some(content) = response["content"].as_object() {
                    let types: Vec<&String> = content.keys().collect();
                    assert_eq!(types, [TAXII], "{method} {path} {code}");
                }
                if code.starts_with('4') {
                    assert_eq!(
                        response["content"][TAXII]["schema"]["$ref"],
                        "#/components/schemas/ErrorMessage",
                        "{method} {path} {code}"
                    );
                }
            }
            if method == "post" {
                assert!(op["requestBody"]["content"][TAXII]["schema"].is_object());
            }
        }
    }
    assert_eq!(taxii_operations, 11);
}

/// `docs/openapi.json` is the generated document; `UPDATE_OPENAPI=1` rewrites it.
#[test]
fn committed_document_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = format!("{}\n", accord_server::openapi::json());
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not the generated document: run \
         UPDATE_OPENAPI=1 cargo test -p accord-server --test tests openapi"
    );
}
