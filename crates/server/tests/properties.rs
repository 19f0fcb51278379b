//! Property tests of the parsers and writers that see network input.

use accord_node::egress::{Released, ReleasedObject};
use accord_server::envelope::{render, Kind};
use accord_server::media::{require_taxii_accept, require_taxii_content_type};
use accord_server::params::{parse, Allowed, PageLimits};
use accord_store::{Scope, VersionFilter};
use axum::http::{header, HeaderMap, HeaderValue};
use proptest::prelude::*;

const LIMITS: PageLimits = PageLimits {
    default: 100,
    max: 1000,
};

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn query_strings_never_panic(raw in ".{0,200}") {
        let _ = parse(Some(&raw), Allowed::ALL, Scope::Collection("c".into()), VersionFilter::last(), LIMITS);
    }

    #[test]
    fn encoded_filters_parse_back(
        ids in proptest::collection::vec("[a-z][a-z0-9-]{0,20}--[0-9a-f]{8}", 1..5),
        types in proptest::collection::vec("[a-z][a-z0-9-]{0,20}", 1..4),
        limit in 1usize..5000,
        next in "[A-Za-z0-9_-]{1,128}",
        after in 0i64..253_402_300_799_999_999,
    ) {
        let added_after = accord_stix::Timestamp::from_micros(after);
        let raw = format!(
            "match[id]={}&match%5Btype%5D={}&limit={limit}&next={}&added_after={}",
            encode(&ids.join(",")),
            encode(&types.join(",")),
            next,
            encode(added_after.as_str()),
        );
        let q = parse(Some(&raw), Allowed::ALL, Scope::Collection("c".into()), VersionFilter::last(), LIMITS).unwrap();
        prop_assert_eq!(q.next.as_deref(), Some(next.as_str()));
        let q = q.query;
        prop_assert_eq!(q.ids, ids);
        prop_assert_eq!(q.types, types);
        prop_assert_eq!(q.limit, limit.min(LIMITS.max));
        prop_assert_eq!(q.added_after, Some(added_after.as_micros()));
    }

    #[test]
    fn media_type_headers_never_panic(value in "[ -~]{0,120}") {
        if let Ok(v) = HeaderValue::from_str(&value) {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, v.clone());
            h.insert(header::CONTENT_TYPE, v);
            let _ = require_taxii_accept(&h);
            let _ = require_taxii_content_type(&h);
        }
    }

    #[test]
    fn rendered_pages_are_json_with_what_was_released(
        entries in proptest::collection::vec((".{0,30}", ".{0,30}", 0i64..253_402_300_799_999_999), 0..20),
        more in any::<bool>(),
    ) {
        let objects: Vec<ReleasedObject> = entries
            .iter()
            .map(|(id, version, added)| ReleasedObject {
                id: id.clone(),
                version: version.clone(),
                spec_version: "2.1".into(),
                provider: "telco".into(),
                date_added: *added,
                json: serde_json::json!({"id": id}).to_string(),
            })
            .collect();
        let page = Released { objects, more, next: more.then(|| "token42".to_string()), receipt: None };
        for kind in [Kind::Objects, Kind::Manifest, Kind::Versions] {
            let v: serde_json::Value = serde_json::from_str(&render(&page, kind)).unwrap();
            prop_assert_eq!(v["more"].as_bool(), Some(more));
            prop_assert_eq!(v.get("next").is_some(), more);
            let list = match kind {
                Kind::Versions => v.get("versions"),
                _ => v.get("objects"),
            };
            let got: Vec<String> = list
                .and_then(|l| l.as_array())
                .map(|a| a.iter().map(|x| match kind {
                    Kind::Versions => x.as_str().unwrap().to_string(),
                    _ => x["id"].as_str().unwrap().to_string(),
                }).collect())
                .unwrap_or_default();
            let want: Vec<String> = entries.iter().map(|(id, version, _)| match kind {
                Kind::Versions => version.clone(),
                _ => id.clone(),
            }).collect();
            prop_assert_eq!(got, want);
        }
    }
}
