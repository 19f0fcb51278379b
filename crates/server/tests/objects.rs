//! Objects, object, versions, manifest: POST honesty, filters, pagination, order.

use std::collections::HashSet;

use crate::support::*;

const T1: &str = "2021-01-01T00:00:00.000Z";
const T2: &str = "2021-06-01T00:00:00.000Z";
const T3: &str = "2022-01-01T00:00:00.000Z";

/// Posts: ids 1..=5 at T1, then id 1 at T3 and T2 (later version first), and one
/// invalid object. Returns the status of the first post.
async fn seed(f: &Fixture) -> serde_json::Value {
    let mut batch: Vec<serde_json::Value> = (1..=5).map(|i| identity(i, T1)).collect();
    let mut bad = identity(99, T1);
    bad["created"] = "yesterday".into();
    batch.insert(2, bad);
    let r = post_objects(&f.app, SHARED, Who::Telco, &batch).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.header("content-type"), Some(TAXII));
    let status = r.json();
    assert_eq!(
        post_objects(&f.app, SHARED, Who::Telco, &[identity(1, T3)])
            .await
            .status,
        202
    );
    assert_eq!(
        post_objects(&f.app, SHARED, Who::Admin, &[identity(1, T2)])
            .await
            .status,
        202
    );
    status
}

fn object_ids(j: &serde_json::Value) -> Vec<String> {
    j["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn post_reports_each_object_honestly_and_the_status_persists() {
    let f = fixture();
    let status = seed(&f).await;
    assert_eq!(status["status"], "complete");
    assert_eq!(status["total_count"], 6);
    assert_eq!(status["success_count"], 5);
    assert_eq!(status["failure_count"], 1);
    assert_eq!(status["pending_count"], 0);
    let failure = &status["failures"][0];
    assert_eq!(failure["id"], identity_id(99));
    assert_eq!(failure["version"], T1);
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("objects[2]") && message.contains("created"),
        "{message}"
    );
    let successes: HashSet<String> = status["successes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(successes, (1..=5).map(identity_id).collect());
    assert!(status["request_timestamp"].as_str().unwrap().ends_with('Z'));

    // The status resource is stored and served as posted.
    let again = get(
        &f.app,
        &format!("/intel/status/{}/", status["id"].as_str().unwrap()),
        Who::Admin,
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), status);

    // Posting the same version again succeeds and says it was already there.
    let r = post_objects(&f.app, SHARED, Who::Telco, &[identity(2, T1)])
        .await
        .json();
    assert_eq!(r["success_count"], 1);
    assert!(r["successes"][0]["message"]
        .as_str()
        .unwrap()
        .contains("already"));

    // An envelope without objects is a complete, empty status; a non-object fails.
    let r = post_objects(&f.app, SHARED, Who::Telco, &[]).await.json();
    assert_eq!(
        (r["total_count"].as_u64(), r["success_count"].as_u64()),
        (Some(0), Some(0))
    );
    let r = post_objects(&f.app, SHARED, Who::Telco, &[serde_json::json!(42)])
        .await
        .json();
    assert_eq!(
        (r["failure_count"].as_u64(), r["success_count"].as_u64()),
        (Some(1), Some(0))
    );
}

#[tokio::test]
async fn pages_cover_everything_once_in_date_added_order() {
    let f = fixture();
    seed(&f).await;
    // Six entries in the collection, latest versions: ids 2..5 and id 1 (T3). The
    // page size is 3 by configuration.
    let mut uri = objects_path(SHARED);
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut last_added = String::new();
    loop {
        let r = get(&f.app, &uri, Who::Telco).await;
        assert_eq!(r.status, 200);
        let j = r.json();
        let objects = j["objects"].as_array().cloned().unwrap_or_default();
        assert!(objects.len() <= 3);
        let first = r.header("x-taxii-date-added-first").unwrap().to_string();
        let last = r.header("x-taxii-date-added-last").unwrap().to_string();
        assert!(
            first <= last && last_added < first,
            "{last_added} {first} {last}"
        );
        last_added = last;
        seen.extend(object_ids(&j));
        pages += 1;
        if j["more"] == true {
            let next = j["next"].as_str().unwrap();
            uri = format!("{}?next={next}", objects_path(SHARED));
        } else {
            assert!(j.get("next").is_none());
            break;
        }
    }
    assert_eq!(pages, 2);
    // Version T3 of id 1 was added after ids 2..5 (T1) and T2 later still, but T3 is
    // the latest version: the default filter (last) keeps it at its place.
    let expected: Vec<String> = [2, 3, 4, 5, 1].into_iter().map(identity_id).collect();
    assert_eq!(seen, expected);

    // limit is honoured up to max_page_size (5).
    let j = get(
        &f.app,
        &format!("{}?limit=2", objects_path(SHARED)),
        Who::Telco,
    )
    .await
    .json();
    assert_eq!(object_ids(&j).len(), 2);
    assert_eq!(j["more"], true);
    let j = get(
        &f.app,
        &format!("{}?limit=1000", objects_path(SHARED)),
        Who::Telco,
    )
    .await
    .json();
    assert_eq!(object_ids(&j).len(), 5);
}

#[tokio::test]
async fn match_filters() {
    let f = fixture();
    seed(&f).await;
    let path = objects_path(SHARED);
    let q = |query: &str| format!("{path}?limit=5&{query}");

    let all = get(&f.app, &q("match[version]=all"), Who::Telco)
        .await
        .json();
    assert_eq!(object_ids(&all).len(), 5);
    let versions: Vec<&str> = all["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["id"] == identity_id(1))
        .map(|o| o["modified"].as_str().unwrap())
        .collect();
    assert_eq!(versions, [T1]);
    let rest = get(
        &f.app,
        &format!(
            "{}&next={}",
            q("match[version]=all"),
            all["next"].as_str().unwrap()
        ),
        Who::Telco,
    )
    .await
    .json();
    let later: Vec<&str> = rest["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["modified"].as_str().unwrap())
        .collect();
    assert_eq!(later, [T3, T2]);

    let one = |query: String| {
        let app = f.app.clone();
        async move {
            let j = get(&app, &query, Who::Telco).await.json();
            j["objects"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|o| o["id"] == identity_id(1))
                        .map(|o| o["modified"].as_str().unwrap().to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    let id1 = identity_id(1);
    assert_eq!(
        one(q(&format!("match[id]={id1}&match[version]=first"))).await,
        [T1]
    );
    assert_eq!(
        one(q(&format!("match[id]={id1}&match[version]=last"))).await,
        [T3]
    );
    assert_eq!(
        one(q(&format!("match[id]={id1}&match[version]={T2}"))).await,
        [T2]
    );
    assert_eq!(
        one(q(&format!("match[id]={id1}&match[version]=first,last"))).await,
        [T1, T3]
    );
    assert_eq!(
        one(q(&format!(
            "match[id]={id1}&match[version]=2021-06-01T00:00:00Z"
        )))
        .await,
        [T2]
    );

    let two = get(
        &f.app,
        &q(&format!("match[id]={},{}", identity_id(2), identity_id(3))),
        Who::Telco,
    )
    .await
    .json();
    assert_eq!(object_ids(&two), [identity_id(2), identity_id(3)]);
    let typed = get(&f.app, &q("match[type]=identity,indicator"), Who::Telco)
        .await
        .json();
    assert_eq!(object_ids(&typed).len(), 5);
    let spec = get(&f.app, &q("match[spec_version]=2.1"), Who::Telco)
        .await
        .json();
    assert_eq!(object_ids(&spec).len(), 5);

    // Nothing matches: an empty envelope, no date headers.
    let none = get(&f.app, &q("match[type]=indicator"), Who::Telco).await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json(), serde_json::json!({"more": false}));
    assert!(none.header("x-taxii-date-added-first").is_none());
    let none = get(&f.app, &q("match[spec_version]=2.0"), Who::Telco).await;
    assert_eq!(none.json(), serde_json::json!({"more": false}));
}

#[tokio::test]
async fn added_after_is_strict_and_uses_date_added() {
    let f = fixture();
    seed(&f).await;
    let first_page = get(
        &f.app,
        &format!("{}?limit=2", objects_path(SHARED)),
        Who::Telco,
    )
    .await;
    let last = first_page
        .header("x-taxii-date-added-last")
        .unwrap()
        .to_string();
    let after = get(
        &f.app,
        &format!("{}?added_after={last}", objects_path(SHARED)),
        Who::Telco,
    )
    .await;
    let ids = object_ids(&after.json());
    assert_eq!(ids, [4, 5, 1].map(identity_id));
    assert!(after.header("x-taxii-date-added-first").unwrap() > last.as_str());
}

#[tokio::test]
async fn object_by_id_versions_and_manifest() {
    let f = fixture();
    seed(&f).await;
    let id1 = identity_id(1);
    let base = format!("/intel/collections/{SHARED}/objects/{id1}/");

    let latest = get(&f.app, &base, Who::Telco).await;
    assert_eq!(latest.status, 200);
    let j = latest.json();
    assert_eq!(j["objects"].as_array().unwrap().len(), 1);
    assert_eq!(j["objects"][0]["modified"], T3);
    let all = get(&f.app, &format!("{base}?match[version]=all"), Who::Telco)
        .await
        .json();
    assert_eq!(all["objects"].as_array().unwrap().len(), 3);

    // Versions: every version, in the order they were added (T1, T3, T2).
    let v = get(&f.app, &format!("{base}versions/"), Who::Telco).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["versions"], serde_json::json!([T1, T3, T2]));
    assert!(v.header("x-taxii-date-added-first").is_some());
    let page = get(&f.app, &format!("{base}versions/?limit=2"), Who::Telco)
        .await
        .json();
    assert_eq!(page["versions"], serde_json::json!([T1, T3]));
    let rest = get(
        &f.app,
        &format!("{base}versions/?next={}", page["next"].as_str().unwrap()),
        Who::Telco,
    )
    .await
    .json();
    assert_eq!(rest["versions"], serde_json::json!([T2]));

    // A filter that excludes every version of an existing object: empty, not 404.
    let empty = get(
        &f.app,
        &format!("{base}?match[version]=1999-01-01T00:00:00Z"),
        Who::Telco,
    )
    .await;
    assert_eq!(empty.status, 200);
    // An object that is not there: 404.
    let missing = format!("/intel/collections/{SHARED}/objects/{}/", identity_id(77));
    get(&f.app, &missing, Who::Telco)
        .await
        .assert_taxii_error(404);
    get(&f.app, &format!("{missing}versions/"), Who::Telco)
        .await
        .assert_taxii_error(404);

    // Manifest: one entry per latest version with date_added, version and media type.
    let m = get(
        &f.app,
        &format!("/intel/collections/{SHARED}/manifest/?limit=5"),
        Who::Telco,
    )
    .await;
    assert_eq!(m.status, 200);
    let entries = m.json()["objects"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 5);
    let e = entries.iter().find(|e| e["id"] == id1).unwrap();
    assert_eq!(e["version"], T3);
    assert_eq!(e["media_type"], "application/stix+json;version=2.1");
    assert_eq!(
        m.header("x-taxii-date-added-first"),
        entries[0]["date_added"].as_str()
    );
    assert_eq!(
        m.header("x-taxii-date-added-last"),
        entries[4]["date_added"].as_str()
    );
}

#[tokio::test]
async fn delete_removes_selected_versions_from_the_collection() {
    let f = fixture();
    seed(&f).await;
    let id1 = identity_id(1);
    let base = format!("/intel/collections/{SHARED}/objects/{id1}/");
    let r = request(
        &f.app,
        "DELETE",
        &format!("{base}?match[version]=first"),
        Who::Telco,
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        get(&f.app, &format!("{base}versions/"), Who::Telco)
            .await
            .json()["versions"],
        serde_json::json!([T3, T2])
    );
    assert_eq!(
        request(&f.app, "DELETE", &base, Who::Admin, &[], None)
            .await
            .status,
        200
    );
    get(&f.app, &base, Who::Telco).await.assert_taxii_error(404);
    request(&f.app, "DELETE", &base, Who::Telco, &[], None)
        .await
        .assert_taxii_error(404);
}
