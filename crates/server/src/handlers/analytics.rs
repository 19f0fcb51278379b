//! `GET /{api_root}/analytics/correlations/` and `GET /{api_root}/analytics/trends/`:
//! correlation and trends as JSON, over what the requesting organisation may read
//! (the node's own organisation reads everything; a partner's answer is computed from
//! what the gate releases to it, trends k-anonymous under its agreements;
//! docs/trends.md). Not TAXII resources: plain `application/json`.

use accord_node::accounts::Principal;
use accord_node::correlate::{correlate, CorrelateQuery, MAX_CORRELATIONS};
use accord_node::egress::{AggregateAnswer, Egress, Receipt, Recipient};
use accord_node::trends::{parse_day, trends, Interval, TrendQuery};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{require_root, RootPath, TaxiiPath};
use crate::envelope::RECEIPT;
use crate::error::TaxiiError;
use crate::openapi::AccordErrors;
use crate::params::{pairs, MAX_QUERY_LEN};
use crate::state::AppState;
use accord_taxii::{ErrorMessage, TAXII_MEDIA_TYPE};

fn params(raw: Option<String>, allowed: &[&str]) -> Result<Vec<(String, String)>, TaxiiError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_LEN {
        return Err(TaxiiError::bad_request(format!(
            "The query string is longer than {MAX_QUERY_LEN} bytes."
        )));
    }
    let pairs = pairs(&raw)?;
    for (k, _) in &pairs {
        if !allowed.contains(&k.as_str()) {
            return Err(TaxiiError::bad_request(format!(
                "Unknown parameter '{}' (this endpoint takes {}).",
                k.chars().take(64).collect::<String>(),
                allowed.join(", ")
            )));
        }
    }
    Ok(pairs)
}

fn json((body, receipt): (String, Option<Receipt>)) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(receipt) = receipt {
        if let Ok(v) = HeaderValue::from_str(&receipt.id()) {
            response.headers_mut().insert(RECEIPT.clone(), v);
        }
    }
    response
}

/// Records the answer in the ledger before it leaves (docs/trends.md, "In the
/// ledger"): an answer that cannot be recorded is not sent.
fn recorded(
    egress: &Egress,
    recipient: &Recipient,
    query: &str,
    summary: &str,
    body: String,
) -> Result<(String, Option<Receipt>), String> {
    let answer = AggregateAnswer {
        query,
        summary,
        bytes: body.as_bytes(),
    };
    let receipt = egress
        .record_aggregate(recipient, &answer)
        .map_err(|e| e.to_string())?;
    Ok((body, receipt))
}

fn number(name: &str, value: &str) -> Result<usize, TaxiiError> {
    value
        .parse()
        .map_err(|_| TaxiiError::bad_request(format!("'{name}' takes a whole number.")))
}

/// `GET /{api_root}/analytics/correlations/?value=&min_providers=&limit=`.
#[utoipa::path(get, path = "/{api_root}/analytics/correlations/", tag = "Analytics", operation_id = "getCorrelations",
    summary = "Correlations: values several providers report alike, over what the requester may read",
    description = "One entry per value (kind, value, provider_count, providers with first_seen/last_seen/objects/sightings, objects, sightings, warninglist). A partner's answer counts only objects and sightings the gate releases to it, and names providers provider-1, provider-2... (docs/trends.md).",
    params(RootPath,
        ("value" = Option<String>, Query, description = "One value (address, domain, URL, file hash, email)"),
        ("min_providers" = Option<u64>, Query, description = "Least providers (default: with value 1; without, values of two providers or two collections)"),
        ("limit" = Option<u64>, Query, description = "At most this many (default 1000)")),
    responses(
        (status = 200, description = "OK", body = Vec<Object>, content_type = "application/json", headers(
            ("X-Accord-Receipt" = String, description = "Present when the answer went to a partner under an agreement: it was recorded in the ledger (query, counts, k, digest of the bytes) before it left; its proof is at /{api_root}/ledger/receipts/{receipt_id}/ (docs/trends.md, In the ledger).")
        )),
        (status = 400, description = "A parameter is not understood (unknown parameters are refused).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE), AccordErrors))]
pub async fn correlations(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(RootPath { api_root: root }): TaxiiPath<RootPath>,
    RawQuery(raw): RawQuery,
) -> Result<Response, TaxiiError> {
    require_root(&state.access(), &root)?;
    let mut query = CorrelateQuery {
        value: None,
        min_providers: None,
        limit: 1_000,
    };
    for (k, v) in params(raw, &["value", "min_providers", "limit"])? {
        match k.as_str() {
            "value" => query.value = Some(v),
            "min_providers" => query.min_providers = Some(number(&k, &v)?),
            _ => query.limit = number(&k, &v)?.min(MAX_CORRELATIONS),
        }
    }
    // The query as answered: a named value's least providers is 1 unless asked;
    // a listing without one keeps values of two providers or two collections.
    let mut asked = String::from("analytics/correlations?");
    if let Some(value) = &query.value {
        asked.push_str(&format!("value={value}&"));
    }
    match (query.min_providers, query.value.is_some()) {
        (Some(min), _) => asked.push_str(&format!("min_providers={min}&")),
        (None, true) => asked.push_str("min_providers=1&"),
        (None, false) => {}
    }
    asked.push_str(&format!("limit={}", query.limit));
    let store = state.store.clone();
    let egress = state.egress.clone();
    let recipient = Recipient::new(who.organisation.clone());
    let body = tokio::task::spawn_blocking(move || {
        let found = correlate(
            &*store,
            &egress,
            &recipient,
            &query,
            &accord_detect::Warninglists::bundled(),
        )
        .map_err(|e| e.to_string())?;
        let body = serde_json::to_string(&found).map_err(|e| e.to_string())?;
        let objects: usize = found.iter().map(|c| c.objects.len()).sum();
        let summary = format!("values={};objects={objects}", found.len());
        recorded(&egress, &recipient, &asked, &summary, body)
    })
    .await
    .map_err(TaxiiError::internal)?
    .map_err(TaxiiError::internal)?;
    Ok(json(body))
}

/// `GET /{api_root}/analytics/trends/?by=&interval=&since=`.
#[utoipa::path(get, path = "/{api_root}/analytics/trends/", tag = "Analytics", operation_id = "getTrends",
    summary = "Trends: new indicators, infrastructure and sightings per day or week, per series, with emerging series",
    description = "dimension, interval, test (the emerging test, stated), threshold, k and suppression (the rule, stated: cells from fewer than k providers, or sightings seen at fewer than k victims, are suppressed: count null) and series (metric, key, buckets of start/count, z, emerging). A partner's answer is computed over what the gate releases to it, k from its agreements (protections.aggregate_min_providers, default 3) (docs/trends.md).",
    params(RootPath,
        ("by" = String, Query, description = "type, family, provider, technique, country or asn (country and asn: cells kept by accord enrich, plus objects ingested since counted at query time)"),
        ("interval" = Option<String>, Query, description = "day (default) or week"),
        ("since" = Option<String>, Query, description = "First day, YYYY-MM-DD")),
    responses(
        (status = 200, description = "OK", body = Object, content_type = "application/json", headers(
            ("X-Accord-Receipt" = String, description = "Present when the answer went to a partner under an agreement: it was recorded in the ledger (query, counts, k, digest of the bytes) before it left; its proof is at /{api_root}/ledger/receipts/{receipt_id}/ (docs/trends.md, In the ledger).")
        )),
        (status = 400, description = "A parameter is not understood (unknown parameters are refused).", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE), AccordErrors))]
pub async fn trends_get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    TaxiiPath(RootPath { api_root: root }): TaxiiPath<RootPath>,
    RawQuery(raw): RawQuery,
) -> Result<Response, TaxiiError> {
    require_root(&state.access(), &root)?;
    let mut query = TrendQuery {
        dimension: String::new(),
        interval: Interval::Day,
        since_day: None,
    };
    for (k, v) in params(raw, &["by", "interval", "since"])? {
        match k.as_str() {
            "by" => {
                let known: Vec<&str> = accord_node::analytics::DIMENSIONS
                    .iter()
                    .chain(accord_node::trends::LOCATION_DIMENSIONS.iter())
                    .copied()
                    .collect();
                if !known.contains(&v.as_str()) {
                    return Err(TaxiiError::bad_request(format!(
                        "'by' takes one of {}.",
                        known.join(", ")
                    )));
                }
                query.dimension = v;
            }
            "interval" => {
                query.interval = match v.as_str() {
                    "day" => Interval::Day,
                    "week" => Interval::Week,
                    _ => return Err(TaxiiError::bad_request("'interval' takes day or week.")),
                }
            }
            _ => {
                query.since_day =
                    Some(parse_day(&v).ok_or_else(|| {
                        TaxiiError::bad_request("'since' takes a date (YYYY-MM-DD).")
                    })?)
            }
        }
    }
    if query.dimension.is_empty() {
        return Err(TaxiiError::bad_request("'by' is required."));
    }
    let mut asked = format!(
        "analytics/trends?by={}&interval={}",
        query.dimension,
        match query.interval {
            Interval::Day => "day",
            Interval::Week => "week",
        }
    );
    if let Some(day) = query.since_day {
        asked.push_str(&format!("&since={}", accord_node::trends::date(day)));
    }
    let store = state.store.clone();
    let egress = state.egress.clone();
    let recipient = Recipient::new(who.organisation.clone());
    let body = tokio::task::spawn_blocking(move || {
        let t = trends(&*store, &egress, &recipient, &query).map_err(|e| e.to_string())?;
        let body = serde_json::to_string(&t).map_err(|e| e.to_string())?;
        let buckets = t.series.iter().flat_map(|s| &s.buckets);
        let (cells, suppressed) = buckets.fold((0usize, 0usize), |(c, s), b| match b.count {
            Some(_) => (c + 1, s),
            None => (c, s + 1),
        });
        let summary = format!(
            "series={};cells={cells};suppressed={suppressed};k={}",
            t.series.len(),
            t.k
        );
        recorded(&egress, &recipient, &asked, &summary, body)
    })
    .await
    .map_err(TaxiiError::internal)?
    .map_err(TaxiiError::internal)?;
    Ok(json(body))
}
