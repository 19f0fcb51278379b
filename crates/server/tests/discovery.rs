//! Discovery, API root information, collections.

use crate::support::*;

#[tokio::test]
async fn discovery_lists_api_roots_under_the_request_host() {
    let f = fixture();
    let r = get(&f.app, "/taxii2/", Who::Telco).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(TAXII));
    let j = r.json();
    assert_eq!(j["title"], "Test node");
    assert_eq!(j["contact"], "soc@example.net");
    assert_eq!(j["default"], "http://taxii.test/intel/");
    assert_eq!(
        j["api_roots"],
        serde_json::json!(["http://taxii.test/intel/", "http://taxii.test/other/"])
    );
    // Without the trailing slash too.
    assert_eq!(get(&f.app, "/taxii2", Who::Telco).await.status, 200);
}

#[tokio::test]
async fn public_url_overrides_the_host() {
    let f = fixture_with("public_url = \"https://intel.example.net/\"");
    let j = get(&f.app, "/taxii2/", Who::Police).await.json();
    assert_eq!(j["default"], "https://intel.example.net/intel/");
}

#[tokio::test]
async fn api_root_information() {
    let f = fixture();
    let r = get(&f.app, "/intel/", Who::Police).await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["title"], "Intel");
    assert_eq!(j["description"], "Threat intelligence");
    assert_eq!(j["versions"], serde_json::json!([TAXII]));
    assert_eq!(j["max_content_length"], 10 * 1024 * 1024);
    get(&f.app, "/nope/", Who::Telco)
        .await
        .assert_taxii_error(404);
}

#[tokio::test]
async fn collection_resources_carry_rights_and_media_types() {
    let f = fixture();
    let j = get(
        &f.app,
        &format!("/intel/collections/{SHARED}/"),
        Who::Police,
    )
    .await
    .json();
    assert_eq!(j["id"], SHARED);
    assert_eq!(j["title"], "Shared");
    assert_eq!(j["alias"], "shared");
    assert_eq!(j["can_read"], true);
    assert_eq!(j["can_write"], false);
    assert_eq!(
        j["media_types"],
        serde_json::json!(["application/stix+json;version=2.1"])
    );
    let j = get(&f.app, "/intel/collections/", Who::Telco).await.json();
    let ids: Vec<&str> = j["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    // An API root without collections answers an empty object.
    assert_eq!(
        get(&f.app, "/other/collections/", Who::Telco).await.json(),
        serde_json::json!({})
    );
}
