//! The conformance suite every `Store` backend must pass.
//!
//! Each check is a function over `&dyn Store`; `conformance_suite!` turns them into
//! `#[test]`s for one backend, given an expression that makes a fresh, empty store.
//! A new backend (PostgreSQL) adds one `conformance_suite!` invocation.

use accord_agreements::merkle;
use accord_agreements::transparency::{LedgerSigner, TreeHead};
use accord_agreements::UtcMicros;
use accord_store::{
    for_each_row, InsertOutcome, LedgerRecord, NewObject, ObjectQuery, ObjectRow, Provenance,
    ProviderWindow, Scope, StatusRecord, Store, StoreError, VersionFilter, VersionStamp,
};

/// Generate one `#[test]` per check for a backend.
macro_rules! conformance_suite {
    ($make:expr) => {
        conformance_suite!(@tests $make;
            insert_then_query_returns_the_object,
            reinserting_a_version_is_idempotent_and_flags_changed_text,
            a_version_from_another_provider_is_its_own_row,
            version_filters_select_first_last_all_and_exact,
            versions_in_one_batch_see_each_other_and_the_store,
            unversioned_objects_report_date_added_as_version,
            pagination_visits_every_row_once_in_date_added_order,
            added_after_is_exclusive_and_combines_with_the_cursor,
            type_id_and_spec_version_filters,
            id_lists_of_any_length_and_text_match_exactly,
            provider_windows_restrict_what_a_reader_sees,
            collections_are_independent_scopes,
            remove_from_collection_keeps_other_versions_and_the_store,
            removal_by_a_provider_leaves_the_others_and_is_logged,
            removals_leave_a_tombstone_per_version_in_order,
            change_feeds_list_new_ids_and_entries_at_positions,
            node_secrets_are_created_once,
            statuses_are_scoped_to_their_organisation,
            peers_keep_their_state_across_definition_changes,
            ledger_appends_in_order_and_finds_by_recipient,
            ledger_finds_pseudonymised_releases_by_released_id,
            ledger_finds_releases_across_a_long_ledger,
            ledger_keeps_the_merkle_tree_for_every_size,
            ledger_keeps_signed_heads,
            ledger_appends_and_keeps_the_signed_head_together,
            stats_count_versions_types_providers_and_collections,
        );
    };
    (@tests $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let store = $make;
                crate::conformance::$check(&*store);
            }
        )*
    };
}

const TELCO: &str = "telco";

fn provenance() -> Provenance {
    Provenance::new(TELCO, "test")
}

/// An indicator version with a given uuid suffix and modified second.
fn indicator(n: u32, modified_second: u32) -> NewObject {
    let id = format!("indicator--00000000-0000-4000-8000-{n:012}");
    let modified = format!("2024-01-01T00:00:{modified_second:02}.000Z");
    let json = format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2024-01-01T00:00:00.000Z","modified":"{modified}","pattern":"[ipv4-addr:value = '198.51.100.{}']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}}"#,
        n % 250
    );
    NewObject {
        id,
        object_type: "indicator".into(),
        spec_version: "2.1".into(),
        version: Some(VersionStamp {
            micros: 1_704_067_200_000_000 + i64::from(modified_second) * 1_000_000,
            text: modified,
        }),
        facts: vec![1, 2, 3],
        analytics: Default::default(),
        json,
    }
}

fn ipv4(n: u32) -> NewObject {
    let id = format!("ipv4-addr--00000000-0000-5000-8000-{n:012}");
    NewObject {
        json: format!(
            r#"{{"type":"ipv4-addr","id":"{id}","value":"203.0.113.{}"}}"#,
            n % 250
        ),
        id,
        object_type: "ipv4-addr".into(),
        spec_version: "2.1".into(),
        version: None,
        facts: Vec::new(),
        analytics: Default::default(),
    }
}

fn in_collection(c: &str, limit: usize) -> ObjectQuery {
    ObjectQuery::new(Scope::Collection(c.to_string()), limit)
}

fn all_rows(store: &dyn Store, query: ObjectQuery) -> Vec<ObjectRow> {
    let mut rows = Vec::new();
    for_each_row(store, query, |r| {
        rows.push(r);
        true
    })
    .expect("query");
    rows
}

pub fn insert_then_query_returns_the_object(store: &dyn Store) {
    let object = indicator(1, 1);
    let outcomes = store
        .insert(std::slice::from_ref(&object), &provenance(), Some("c"))
        .unwrap();
    assert!(matches!(outcomes[..], [InsertOutcome::Added { .. }]));
    let page = store.query(&in_collection("c", 10)).unwrap();
    assert_eq!(page.rows.len(), 1);
    assert!(!page.more);
    let row = &page.rows[0];
    assert_eq!(row.id, object.id);
    assert_eq!(row.json, object.json);
    assert_eq!(row.facts, object.facts);
    assert_eq!(row.version, "2024-01-01T00:00:01.000Z");
    assert_eq!(row.provenance, provenance());
    assert_eq!(row.date_added, outcomes[0].date_added());
    assert_eq!(
        store.latest(&object.id).unwrap().map(|r| r.json),
        Some(object.json)
    );
    assert!(store
        .latest("indicator--99999999-0000-4000-8000-000000000000")
        .unwrap()
        .is_none());
}

pub fn reinserting_a_version_is_idempotent_and_flags_changed_text(store: &dyn Store) {
    let object = indicator(1, 1);
    let first = store
        .insert(std::slice::from_ref(&object), &provenance(), Some("c"))
        .unwrap();
    let again = store
        .insert(std::slice::from_ref(&object), &provenance(), Some("c"))
        .unwrap();
    assert_eq!(
        again[0],
        InsertOutcome::AlreadyPresent {
            date_added: first[0].date_added(),
            differs: false
        }
    );
    let mut changed = object.clone();
    changed.json = changed.json.replace("198.51.100.1", "198.51.100.99");
    let third = store.insert(&[changed], &provenance(), Some("c")).unwrap();
    assert!(matches!(
        third[0],
        InsertOutcome::AlreadyPresent { differs: true, .. }
    ));
    let rows = all_rows(store, in_collection("c", 10));
    assert_eq!(rows.len(), 1, "one version only");
    assert_eq!(rows[0].json, object.json, "the first text is kept");
    assert_eq!(rows[0].provenance.organisation, TELCO);
}

/// The same id and version from another provider is that provider's own row: its text
/// and provenance, in the collection it wrote to, never a link to the first provider's
/// row (which would release the first provider's text through the second's collection).
pub fn a_version_from_another_provider_is_its_own_row(store: &dyn Store) {
    let mut telco = ipv4(7);
    telco.json = telco.json.replace('}', r#","x_customer_name":"Alice"}"#);
    store
        .insert(
            std::slice::from_ref(&telco),
            &provenance(),
            Some("restricted"),
        )
        .unwrap();
    let partner = ipv4(7);
    let outcome = store
        .insert(
            std::slice::from_ref(&partner),
            &Provenance::new("partner", "taxii"),
            Some("shared"),
        )
        .unwrap();
    assert!(
        matches!(outcome[..], [InsertOutcome::Added { .. }]),
        "another provider's copy is new to the store: {outcome:?}"
    );
    let shared = all_rows(store, in_collection("shared", 10));
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].json, partner.json, "the partner's own text");
    assert_eq!(shared[0].provenance.organisation, "partner");
    let restricted = all_rows(store, in_collection("restricted", 10));
    assert_eq!(restricted.len(), 1);
    assert_eq!(restricted[0].json, telco.json);
    let mut everywhere = ObjectQuery::new(Scope::Store, 10);
    everywhere.versions = VersionFilter::all();
    assert_eq!(all_rows(store, everywhere.clone()).len(), 2);
    // Both copies of the same version are the latest of their id.
    everywhere.versions = VersionFilter::last();
    assert_eq!(all_rows(store, everywhere).len(), 2);
    // The telco adding the same object to "shared" too gives a second entry there.
    store
        .insert(std::slice::from_ref(&telco), &provenance(), Some("shared"))
        .unwrap();
    let shared = all_rows(store, in_collection("shared", 10));
    let providers: Vec<&str> = shared
        .iter()
        .map(|r| r.provenance.organisation.as_str())
        .collect();
    assert_eq!(providers, ["partner", TELCO]);
}

pub fn version_filters_select_first_last_all_and_exact(store: &dyn Store) {
    // Versions arrive out of order: 20, then 10, then 30.
    for second in [20, 10, 30] {
        store
            .insert(&[indicator(7, second)], &provenance(), Some("c"))
            .unwrap();
    }
    let versions = |filter: VersionFilter| -> Vec<String> {
        let mut q = in_collection("c", 100);
        q.versions = filter;
        all_rows(store, q).into_iter().map(|r| r.version).collect()
    };
    let v = |s: u32| format!("2024-01-01T00:00:{s:02}.000Z");
    assert_eq!(
        versions(VersionFilter::all()),
        [v(20), v(10), v(30)],
        "date_added order"
    );
    assert_eq!(versions(VersionFilter::last()), [v(30)]);
    assert_eq!(
        versions(VersionFilter {
            first: true,
            ..Default::default()
        }),
        [v(10)]
    );
    assert_eq!(
        versions(VersionFilter {
            first: true,
            last: true,
            ..Default::default()
        }),
        [v(10), v(30)]
    );
    let exact = 1_704_067_200_000_000 + 20 * 1_000_000;
    assert_eq!(
        versions(VersionFilter {
            exact: vec![exact],
            ..Default::default()
        }),
        [v(20)]
    );
    assert!(
        versions(VersionFilter::default()).is_empty(),
        "no version named selects nothing"
    );
    let mut q = ObjectQuery::new(Scope::Store, 10);
    q.versions = VersionFilter::last();
    assert_eq!(
        all_rows(store, q).len(),
        1,
        "store scope has the same version logic"
    );
    assert_eq!(
        store
            .latest(&indicator(7, 0).id)
            .unwrap()
            .map(|r| r.version),
        Some(v(30))
    );
}

/// One batch with several versions of an id (out of order, one repeated), beside ids
/// the store already holds: each object sees the ones before it.
pub fn versions_in_one_batch_see_each_other_and_the_store(store: &dyn Store) {
    store
        .insert(&[indicator(8, 1)], &provenance(), Some("c"))
        .unwrap();
    let batch = [
        indicator(7, 20),
        indicator(8, 1),
        indicator(7, 10),
        indicator(9, 5),
        indicator(7, 30),
        indicator(7, 20),
    ];
    let outcomes = store.insert(&batch, &provenance(), Some("c")).unwrap();
    let present: Vec<bool> = outcomes
        .iter()
        .map(|o| matches!(o, InsertOutcome::AlreadyPresent { .. }))
        .collect();
    assert_eq!(present, [false, true, false, false, false, true]);
    let versions = |filter: VersionFilter| -> Vec<String> {
        let mut q = in_collection("c", 100);
        q.versions = filter;
        q.ids = vec![indicator(7, 0).id];
        all_rows(store, q).into_iter().map(|r| r.version).collect()
    };
    let v = |s: u32| format!("2024-01-01T00:00:{s:02}.000Z");
    assert_eq!(versions(VersionFilter::all()), [v(20), v(10), v(30)]);
    assert_eq!(versions(VersionFilter::last()), [v(30)]);
    let first = VersionFilter {
        first: true,
        ..Default::default()
    };
    assert_eq!(versions(first), [v(10)]);
    let mut q = ObjectQuery::new(Scope::Store, 100);
    q.versions = VersionFilter::all();
    assert_eq!(
        all_rows(store, q).len(),
        5,
        "ids 7 (three versions), 8 and 9"
    );
}

pub fn unversioned_objects_report_date_added_as_version(store: &dyn Store) {
    let outcome = store.insert(&[ipv4(1)], &provenance(), Some("c")).unwrap();
    let again = store.insert(&[ipv4(1)], &provenance(), Some("c")).unwrap();
    assert!(matches!(
        again[0],
        InsertOutcome::AlreadyPresent { differs: false, .. }
    ));
    let rows = all_rows(store, in_collection("c", 10));
    assert_eq!(rows.len(), 1);
    let date_added = outcome[0].date_added();
    assert_eq!(rows[0].version_micros, date_added);
    assert_eq!(
        rows[0].version,
        accord_stix::Timestamp::from_micros(date_added).as_str()
    );
    let mut q = in_collection("c", 10);
    q.versions = VersionFilter {
        exact: vec![date_added],
        ..Default::default()
    };
    assert_eq!(
        all_rows(store, q).len(),
        1,
        "an exact match on date_added finds it"
    );
}

pub fn pagination_visits_every_row_once_in_date_added_order(store: &dyn Store) {
    let batch: Vec<NewObject> = (0..250).map(|n| indicator(n, 1)).collect();
    store
        .insert(&batch[..100], &provenance(), Some("c"))
        .unwrap();
    store
        .insert(&batch[100..], &provenance(), Some("c"))
        .unwrap();
    let mut query = in_collection("c", 100);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query(&query).unwrap();
        pages += 1;
        assert!(page.rows.len() <= 100);
        seen.extend(page.rows.iter().map(|r| (r.date_added, r.id.clone())));
        if !page.more {
            break;
        }
        query.after = page.cursor();
        // A write between pages must not disturb the walk.
        if pages == 1 {
            store
                .insert(&[indicator(1000, 1)], &provenance(), Some("c"))
                .unwrap();
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 251);
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "strictly ascending date_added"
    );
    let ids: std::collections::HashSet<_> = seen.iter().map(|s| &s.1).collect();
    assert_eq!(ids.len(), 251, "no row twice");
    let exact = store.query(&in_collection("c", 251)).unwrap();
    assert!(
        !exact.more,
        "more is false when the page holds the last row"
    );
}

pub fn added_after_is_exclusive_and_combines_with_the_cursor(store: &dyn Store) {
    let outcomes = store
        .insert(
            &(0..10).map(|n| indicator(n, 1)).collect::<Vec<_>>(),
            &provenance(),
            Some("c"),
        )
        .unwrap();
    let mut q = in_collection("c", 100);
    q.added_after = Some(outcomes[4].date_added());
    let rows = all_rows(store, q.clone());
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].date_added, outcomes[5].date_added());
    q.limit = 2;
    let page = store.query(&q).unwrap();
    q.after = page.cursor();
    let next = store.query(&q).unwrap();
    assert_eq!(next.rows[0].date_added, outcomes[7].date_added());
}

pub fn type_id_and_spec_version_filters(store: &dyn Store) {
    let mut old = indicator(3, 1);
    old.spec_version = "2.0".into();
    store
        .insert(
            &[indicator(1, 1), ipv4(2), old.clone()],
            &provenance(),
            Some("c"),
        )
        .unwrap();
    let mut q = in_collection("c", 10);
    q.types = vec!["ipv4-addr".into()];
    assert_eq!(all_rows(store, q).len(), 1);
    let mut q = in_collection("c", 10);
    q.types = vec!["ipv4-addr".into(), "indicator".into()];
    assert_eq!(all_rows(store, q).len(), 3);
    let mut q = in_collection("c", 10);
    q.ids = vec![indicator(1, 1).id, ipv4(2).id];
    assert_eq!(all_rows(store, q).len(), 2);
    let mut q = in_collection("c", 10);
    q.spec_versions = vec!["2.0".into()];
    let rows = all_rows(store, q);
    assert_eq!(
        rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [old.id.as_str()]
    );
}

/// An id list (one parameter, whatever its length) matches exactly the ids it names:
/// text JSON would have to escape, and a page's worth of ids and more.
pub fn id_lists_of_any_length_and_text_match_exactly(store: &dyn Store) {
    let mut odd = ipv4(1);
    odd.id = r#"x-odd--a"b\c'd"#.to_string();
    odd.object_type = "x-odd".into();
    odd.json = r#"{"type":"x-odd","id":"x-odd--a\"b\\c'd"}"#.to_string();
    let mut plain = ipv4(2);
    plain.id = "x-odd--abcd".to_string();
    store
        .insert(
            &[odd.clone(), plain.clone(), ipv4(3)],
            &provenance(),
            Some("c"),
        )
        .unwrap();
    let ids_of = |ids: Vec<String>| {
        let mut q = in_collection("c", 10);
        q.ids = ids;
        let mut found: Vec<String> = all_rows(store, q).into_iter().map(|r| r.id).collect();
        found.sort();
        found
    };
    assert_eq!(ids_of(vec![odd.id.clone()]), [odd.id.clone()]);
    assert_eq!(ids_of(vec![plain.id.clone()]), [plain.id.clone()]);
    // 10,001 ids, two of them held: more than a federation page names.
    let mut many: Vec<String> = (10..10_011).map(|n| ipv4(n).id).collect();
    many.push(ipv4(3).id);
    many.push(odd.id.clone());
    let mut expected = vec![ipv4(3).id, odd.id.clone()];
    expected.sort();
    assert_eq!(ids_of(many), expected);
}

pub fn provider_windows_restrict_what_a_reader_sees(store: &dyn Store) {
    let a = store
        .insert(&[indicator(1, 1)], &Provenance::new("a", "t"), Some("c"))
        .unwrap();
    store
        .insert(&[indicator(2, 1)], &Provenance::new("b", "t"), Some("c"))
        .unwrap();
    store
        .insert(&[indicator(3, 1)], &Provenance::new("a", "t"), Some("c"))
        .unwrap();
    let only = |windows: Vec<ProviderWindow>| -> Vec<String> {
        let mut q = in_collection("c", 10);
        q.providers = Some(windows);
        all_rows(store, q).into_iter().map(|r| r.id).collect()
    };
    let window = |org: &str, until| ProviderWindow {
        organisation: org.into(),
        added_until: until,
    };
    assert_eq!(
        only(vec![window("a", None)]),
        [indicator(1, 1).id, indicator(3, 1).id]
    );
    assert_eq!(
        only(vec![window("a", Some(a[0].date_added()))]),
        [indicator(1, 1).id]
    );
    assert_eq!(
        only(vec![
            window("a", Some(a[0].date_added())),
            window("b", None)
        ])
        .len(),
        2
    );
    assert!(only(vec![]).is_empty(), "no provider means nothing");
}

pub fn collections_are_independent_scopes(store: &dyn Store) {
    store
        .insert(&[indicator(1, 1)], &provenance(), Some("one"))
        .unwrap();
    let later = store
        .insert(&[indicator(1, 1)], &provenance(), Some("two"))
        .unwrap();
    store
        .insert(&[indicator(2, 1)], &provenance(), None)
        .unwrap();
    assert_eq!(all_rows(store, in_collection("one", 10)).len(), 1);
    let two = all_rows(store, in_collection("two", 10));
    assert_eq!(two.len(), 1);
    assert_eq!(
        two[0].date_added,
        later[0].date_added(),
        "date_added is per collection"
    );
    assert!(all_rows(store, in_collection("none", 10)).is_empty());
    let mut q = ObjectQuery::new(Scope::Store, 10);
    q.versions = VersionFilter::all();
    assert_eq!(
        all_rows(store, q).len(),
        2,
        "the store holds each version once"
    );
}

pub fn remove_from_collection_keeps_other_versions_and_the_store(store: &dyn Store) {
    for second in [1, 2, 3] {
        store
            .insert(&[indicator(1, second)], &provenance(), Some("c"))
            .unwrap();
    }
    let id = indicator(1, 1).id;
    assert_eq!(
        store
            .remove_from_collection("c", &id, &VersionFilter::last(), None)
            .unwrap(),
        1
    );
    let mut q = in_collection("c", 10);
    q.versions = VersionFilter::all();
    assert_eq!(all_rows(store, q.clone()).len(), 2);
    assert_eq!(
        store
            .remove_from_collection("c", &id, &VersionFilter::all(), None)
            .unwrap(),
        2
    );
    assert!(all_rows(store, q).is_empty());
    assert_eq!(
        store
            .latest(&id)
            .unwrap()
            .map(|r| r.version_micros % 10_000_000),
        Some(3_000_000)
    );
    assert_eq!(
        store
            .remove_from_collection("c", &id, &VersionFilter::all(), None)
            .unwrap(),
        0
    );
}

/// A provider removes only its own entries, even of a version another provider holds
/// too; every removal is logged for readers that keep derived state.
pub fn removal_by_a_provider_leaves_the_others_and_is_logged(store: &dyn Store) {
    let object = indicator(4, 1);
    store
        .insert(std::slice::from_ref(&object), &provenance(), Some("c"))
        .unwrap();
    store
        .insert(
            std::slice::from_ref(&object),
            &Provenance::new("partner", "taxii"),
            Some("c"),
        )
        .unwrap();
    assert!(store.removals_after(0, 10).unwrap().is_empty());
    let removed = store
        .remove_from_collection("c", &object.id, &VersionFilter::all(), Some("partner"))
        .unwrap();
    assert_eq!(removed, 1);
    let mut q = in_collection("c", 10);
    q.versions = VersionFilter::all();
    let rows = all_rows(store, q);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].provenance.organisation, TELCO);
    let log = store.removals_after(0, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].collection.as_str(), log[0].id.as_str()),
        ("c", object.id.as_str())
    );
    assert!(store.removals_after(log[0].seq, 10).unwrap().is_empty());
    // Nothing removed, nothing logged.
    store
        .remove_from_collection("c", &object.id, &VersionFilter::all(), Some("partner"))
        .unwrap();
    assert_eq!(store.removals_after(0, 10).unwrap().len(), 1);
}

/// Every version removed leaves a tombstone (id, version, provider) in its collection,
/// stamped after every earlier one; a cursor (`deleted`) pages through them.
pub fn removals_leave_a_tombstone_per_version_in_order(store: &dyn Store) {
    for second in [1, 2, 3] {
        store
            .insert(&[indicator(5, second)], &provenance(), Some("c"))
            .unwrap();
    }
    store.insert(&[ipv4(5)], &provenance(), Some("c")).unwrap();
    store.insert(&[ipv4(5)], &provenance(), Some("d")).unwrap();
    let id = indicator(5, 1).id;
    assert!(store.tombstones_after("c", 0, 10).unwrap().is_empty());
    store
        .remove_from_collection("c", &id, &VersionFilter::last(), None)
        .unwrap();
    store
        .remove_from_collection("c", &id, &VersionFilter::all(), None)
        .unwrap();
    store
        .remove_from_collection("c", &ipv4(5).id, &VersionFilter::all(), None)
        .unwrap();
    // Nothing removed, no tombstone.
    store
        .remove_from_collection("c", &id, &VersionFilter::all(), None)
        .unwrap();
    let all = store.tombstones_after("c", 0, 10).unwrap();
    let seen: Vec<(&str, i64, &str)> = all
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.version_micros % 10_000_000,
                t.provider.as_str(),
            )
        })
        .collect();
    assert_eq!(seen.len(), 4, "{all:?}");
    assert_eq!(seen[0], (id.as_str(), 3_000_000, TELCO));
    assert_eq!(
        (seen[1].1, seen[2].1),
        (1_000_000, 2_000_000),
        "the rest oldest version first"
    );
    assert_eq!(all[3].id, ipv4(5).id);
    assert_eq!(
        (all[3].version.as_str(), all[3].version_micros),
        ("", i64::MIN)
    );
    assert_eq!(all[0].version, "2024-01-01T00:00:03.000Z");
    assert!(all.windows(2).all(|w| w[0].deleted < w[1].deleted));
    assert!(all.iter().all(|t| t.collection == "c"));
    // Paged by the cursor; another collection has none.
    let rest = store.tombstones_after("c", all[1].deleted, 1).unwrap();
    assert_eq!(rest, vec![all[2].clone()]);
    assert!(store.tombstones_after("d", 0, 10).unwrap().is_empty());
}

/// What a reader that keeps derived state needs: the ids stored since it last looked,
/// and the entries at known positions (those that still exist).
pub fn change_feeds_list_new_ids_and_entries_at_positions(store: &dyn Store) {
    let first = store
        .insert(&[indicator(1, 1), ipv4(2)], &provenance(), Some("c"))
        .unwrap();
    let second = store
        .insert(&[indicator(3, 1)], &provenance(), None)
        .unwrap();
    let all = store.ids_added_after(0, 10).unwrap();
    let ids: Vec<&str> = all.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, [indicator(1, 1).id, ipv4(2).id, indicator(3, 1).id]);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    let after = store.ids_added_after(all[0].0, 1).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].1, ipv4(2).id);
    assert!(store
        .ids_added_after(second[0].date_added(), 10)
        .unwrap()
        .is_empty());
    let positions = [first[1].date_added(), first[0].date_added(), 42];
    let rows = store.entries_at("c", &positions).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [indicator(1, 1).id, ipv4(2).id],
        "ascending, missing skipped"
    );
    assert_eq!(rows[0].cursor.0, first[0].date_added());
    assert!(store.entries_at("other", &positions).unwrap().is_empty());
}

/// A node secret is created once and shared by everyone who opens the store.
pub fn node_secrets_are_created_once(store: &dyn Store) {
    let first = store.node_secret("paging", &[1; 32]).unwrap();
    assert_eq!(first, vec![1; 32]);
    let again = store.node_secret("paging", &[2; 32]).unwrap();
    assert_eq!(again, first);
    assert_eq!(store.node_secret("other", &[3; 4]).unwrap(), vec![3; 4]);
}

pub fn statuses_are_scoped_to_their_organisation(store: &dyn Store) {
    let status = StatusRecord {
        id: "2d086da7-4bdc-4f91-900e-d77486753710".into(),
        organisation: TELCO.into(),
        json: r#"{"status":"complete"}"#.into(),
    };
    store.put_status(&status).unwrap();
    assert_eq!(
        store.status(&status.id, TELCO).unwrap(),
        Some(status.clone())
    );
    assert_eq!(store.status(&status.id, "centre").unwrap(), None);
    let updated = StatusRecord {
        json: r#"{"status":"pending"}"#.into(),
        ..status.clone()
    };
    store.put_status(&updated).unwrap();
    assert_eq!(store.status(&status.id, TELCO).unwrap(), Some(updated));
}

pub fn ledger_appends_in_order_and_finds_by_recipient(store: &dyn Store) {
    let record = |seq: u64, recipient: &str, object: &str| ledger_record(seq, recipient, object);
    assert_eq!(store.ledger_last().unwrap(), None);
    store
        .ledger_append(&[record(1, "centre", "x"), record(2, "cert", "x")])
        .unwrap();
    store.ledger_append(&[record(3, "centre", "x")]).unwrap();
    let err = store
        .ledger_append(&[record(5, "centre", "y")])
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::LedgerOutOfOrder {
            expected: 4,
            got: 5
        }
    ));
    let err = store
        .ledger_append(&[record(4, "a", "y"), record(4, "a", "y")])
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::LedgerOutOfOrder {
            expected: 5,
            got: 4
        }
    ));
    assert_eq!(
        store.ledger_last().unwrap().map(|r| r.seq),
        Some(3),
        "failed appends leave nothing"
    );
    let seqs = |rs: Vec<LedgerRecord>| rs.into_iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(seqs(store.ledger_scan(0, 10).unwrap()), [1, 2, 3]);
    assert_eq!(seqs(store.ledger_scan(1, 1).unwrap()), [2]);
    assert_eq!(seqs(store.ledger_find("centre", "x").unwrap()), [1, 3]);
    assert_eq!(store.ledger_scan(0, 10).unwrap()[1], record(2, "cert", "x"));
}

fn ledger_record(seq: u64, recipient: &str, object: &str) -> LedgerRecord {
    LedgerRecord {
        seq,
        recipient: recipient.into(),
        object_id: object.into(),
        released_id: object.into(),
        encoded: vec![seq as u8; 3],
        hash: vec![seq as u8; 32],
        salt: vec![seq as u8; 16],
    }
}

pub fn ledger_finds_pseudonymised_releases_by_released_id(store: &dyn Store) {
    let mut pseudonymised = ledger_record(2, "centre", "ipv4-addr--real");
    pseudonymised.released_id = "ipv4-addr--pseudonym".into();
    let mut old_format = ledger_record(3, "centre", "ipv4-addr--real");
    old_format.released_id = String::new();
    store
        .ledger_append(&[
            ledger_record(1, "centre", "indicator--a"),
            pseudonymised.clone(),
            old_format,
        ])
        .unwrap();
    assert_eq!(
        store
            .ledger_find_released("centre", "ipv4-addr--pseudonym")
            .unwrap(),
        [pseudonymised]
    );
    assert!(store
        .ledger_find_released("cert", "ipv4-addr--pseudonym")
        .unwrap()
        .is_empty());
    // Entries released under their stored id are found by that id, not here.
    assert!(store
        .ledger_find_released("centre", "indicator--a")
        .unwrap()
        .is_empty());
    let seqs: Vec<u64> = store
        .ledger_find("centre", "ipv4-addr--real")
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [2, 3]);
}

/// Lookups find every release of an object however far apart its entries are, in seq
/// order, whatever the backend's index layout (the SQLite store indexes lookups in runs
/// of 16,384 entries: releases in the first, a middle and the last, partial run, and
/// on both sides of each boundary, must all be found).
pub fn ledger_finds_releases_across_a_long_ledger(store: &dyn Store) {
    const SIZE: u64 = 3 * 16_384 + 10;
    let wanted = [1, 16_383, 16_384, 16_385, 32_768, 40_000, 49_152, SIZE];
    let mut records = Vec::with_capacity(SIZE as usize);
    for seq in 1..=SIZE {
        let mut record = if wanted.contains(&seq) {
            ledger_record(seq, "centre", "ipv4-addr--real")
        } else {
            ledger_record(seq, "centre", &format!("indicator--{seq}"))
        };
        if wanted.contains(&seq) && seq % 2 == 0 {
            record.released_id = "ipv4-addr--pseudonym".into();
        }
        records.push(record);
    }
    for chunk in records.chunks(5_000) {
        store.ledger_append(chunk).unwrap();
    }
    let seqs = |rs: Vec<LedgerRecord>| rs.into_iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(store.ledger_find("centre", "ipv4-addr--real").unwrap()),
        wanted
    );
    assert_eq!(
        seqs(
            store
                .ledger_find_released("centre", "ipv4-addr--pseudonym")
                .unwrap()
        ),
        wanted
            .iter()
            .copied()
            .filter(|s| s % 2 == 0)
            .collect::<Vec<_>>()
    );
    assert!(store
        .ledger_find("cert", "ipv4-addr--real")
        .unwrap()
        .is_empty());
    assert_eq!(
        seqs(store.ledger_find("centre", "indicator--49151").unwrap()),
        [49_151]
    );
}

/// RFC 9162 `MTH`, the reference the store's tree is compared with.
fn mth(leaves: &[merkle::Hash]) -> merkle::Hash {
    match leaves.len() {
        0 => merkle::empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            merkle::node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

pub fn ledger_keeps_the_merkle_tree_for_every_size(store: &dyn Store) {
    let empty = store.ledger_tree().unwrap();
    assert_eq!((empty.size, empty.root), (0, merkle::empty_root()));
    let mut leaves = Vec::new();
    let mut seq = 0u64;
    // Batches of several sizes, so appends continue trees of every shape.
    for batch in [1usize, 2, 1, 5, 8, 3, 13] {
        let records: Vec<LedgerRecord> = (0..batch)
            .map(|_| {
                seq += 1;
                let mut r = ledger_record(seq, "centre", "x");
                r.encoded = format!("entry {seq}").into_bytes();
                leaves.push(merkle::leaf_hash(&r.encoded));
                r
            })
            .collect();
        let tree = store.ledger_append(&records).unwrap();
        assert_eq!((tree.size, tree.root), (seq, mth(&leaves)), "after {seq}");
        assert_eq!(store.ledger_tree().unwrap(), tree);
    }
    // A refused append leaves the tree as it was.
    assert!(store
        .ledger_append(&[ledger_record(seq + 2, "a", "b")])
        .is_err());
    assert_eq!(store.ledger_tree().unwrap().size, seq);
    let n = seq;
    let root = mth(&leaves);
    for size in 1..=n {
        let old_root = mth(&leaves[..size as usize]);
        let plan = merkle::root_plan(size);
        let stored = store.ledger_nodes(&plan.nodes()).unwrap();
        assert_eq!(merkle::root_from(&stored), old_root, "root of {size}");
        for index in 0..size {
            let plan = merkle::inclusion_plan(index, size).unwrap();
            let proof = plan
                .assemble(&store.ledger_nodes(&plan.nodes()).unwrap())
                .unwrap();
            merkle::verify_inclusion(index, size, &leaves[index as usize], &proof, &old_root)
                .unwrap();
        }
        let plan = merkle::consistency_plan(size, n).unwrap();
        let proof = plan
            .assemble(&store.ledger_nodes(&plan.nodes()).unwrap())
            .unwrap();
        merkle::verify_consistency(size, n, &old_root, &root, &proof).unwrap();
    }
    // A node the tree does not have yet is refused, not made up.
    let beyond = merkle::NodeId { level: 0, index: n };
    assert!(matches!(
        store.ledger_nodes(&[beyond]),
        Err(StoreError::LedgerNodeAbsent { .. })
    ));
    let beyond = merkle::NodeId { level: 6, index: 0 };
    assert!(matches!(
        store.ledger_nodes(&[beyond]),
        Err(StoreError::LedgerNodeAbsent { .. })
    ));
}

pub fn ledger_keeps_signed_heads(store: &dyn Store) {
    let signer = LedgerSigner::from_seed(&[4; 32]);
    let head = |size: u64, t: i64| {
        signer.sign(TreeHead {
            tree_size: size,
            root_hash: [size as u8; 32],
            timestamp: UtcMicros(t),
        })
    };
    assert_eq!(store.ledger_latest_head().unwrap(), None);
    store.ledger_put_head(&head(2, 10)).unwrap();
    store.ledger_put_head(&head(7, 20)).unwrap();
    store.ledger_put_head(&head(5, 30)).unwrap();
    // The first head of a size stays.
    store.ledger_put_head(&head(7, 40)).unwrap();
    assert_eq!(store.ledger_head(7).unwrap(), Some(head(7, 20)));
    assert_eq!(store.ledger_head(5).unwrap(), Some(head(5, 30)));
    assert_eq!(store.ledger_head(6).unwrap(), None);
    assert_eq!(store.ledger_head(u64::MAX).unwrap(), None);
    assert_eq!(store.ledger_latest_head().unwrap(), Some(head(7, 20)));
    store
        .ledger_head(7)
        .unwrap()
        .unwrap()
        .verify(&signer.public_key())
        .unwrap();
}

pub fn ledger_appends_and_keeps_the_signed_head_together(store: &dyn Store) {
    let signer = LedgerSigner::from_seed(&[5; 32]);
    let sign = |tree: accord_store::LedgerTree| {
        signer.sign(TreeHead {
            tree_size: tree.size,
            root_hash: tree.root,
            timestamp: UtcMicros(tree.size as i64),
        })
    };
    let first = store
        .ledger_append_signed(
            &[
                ledger_record(1, "centre", "x"),
                ledger_record(2, "centre", "y"),
            ],
            &sign,
        )
        .unwrap();
    let tree = store.ledger_tree().unwrap();
    assert_eq!(
        (first.head.tree_size, first.head.root_hash),
        (tree.size, tree.root)
    );
    assert_eq!(store.ledger_latest_head().unwrap(), Some(first));
    // A refused append keeps neither entries nor a head.
    assert!(store
        .ledger_append_signed(&[ledger_record(4, "centre", "z")], &sign)
        .is_err());
    assert_eq!(store.ledger_tree().unwrap(), tree);
    assert_eq!(store.ledger_latest_head().unwrap(), Some(first));
    assert_eq!(store.ledger_head(3).unwrap(), None);
    let second = store
        .ledger_append_signed(&[ledger_record(3, "cert", "z")], &sign)
        .unwrap();
    assert_eq!(second.head.tree_size, 3);
    assert_eq!(store.ledger_latest_head().unwrap(), Some(second));
    second.verify(&signer.public_key()).unwrap();
}

pub fn stats_count_versions_types_providers_and_collections(store: &dyn Store) {
    store
        .insert(
            &[indicator(1, 1), indicator(1, 2), ipv4(1)],
            &provenance(),
            Some("c"),
        )
        .unwrap();
    store
        .insert(&[indicator(2, 1)], &Provenance::new("centre", "t"), None)
        .unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.object_versions, 4);
    assert_eq!(stats.objects, 3);
    assert_eq!(
        stats.by_type,
        [("indicator".to_string(), 3), ("ipv4-addr".to_string(), 1)]
    );
    assert_eq!(
        stats.by_provider,
        [("centre".to_string(), 1), (TELCO.to_string(), 3)]
    );
    assert_eq!(stats.by_collection, [("c".to_string(), 3)]);
}

pub fn peers_keep_their_state_across_definition_changes(store: &dyn Store) {
    assert!(store.peers().unwrap().is_empty());
    store.put_peer("b", r#"{"url":"1"}"#).unwrap();
    store.put_peer("a", r#"{"url":"2"}"#).unwrap();
    let peers = store.peers().unwrap();
    assert_eq!(
        peers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(peers[0].state, "{}");
    assert!(store.put_peer_state("a", r#"{"cursor":5}"#).unwrap());
    // A new definition keeps the state (the cursor survives an edit).
    store.put_peer("a", r#"{"url":"3"}"#).unwrap();
    let a = store.peers().unwrap().into_iter().next().unwrap();
    assert_eq!(
        (a.definition.as_str(), a.state.as_str()),
        (r#"{"url":"3"}"#, r#"{"cursor":5}"#)
    );
    assert!(store.remove_peer("a").unwrap());
    assert!(!store.remove_peer("a").unwrap());
    // The state of a removed peer is not written back.
    assert!(!store.put_peer_state("a", "{}").unwrap());
    assert_eq!(store.peers().unwrap().len(), 1);
}
