//! Issue 15: agreements scoped by location (`scope.countries`, `scope.asns`). The gate
//! asks the resolver where an object is; unknown is out of scope (fail-closed);
//! relationships and sightings follow their endpoints.

use std::collections::HashMap;

use accord_agreements::{Location, ObjectFacts, ReferenceResolver, ResolvedObject};
use serde_json::json;

use crate::common::*;

/// The store as a resolver, locating address SCOs by a table of address → place.
struct Located {
    objects: HashMap<String, ResolvedObject>,
    places: HashMap<&'static str, (&'static str, u32)>,
}

impl ReferenceResolver for Located {
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        self.objects.get(id).cloned()
    }

    fn locate(&self, _facts: &ObjectFacts, raw: &str) -> Option<Location> {
        let v: serde_json::Value = serde_json::from_str(raw).ok()?;
        let value = v.get("value")?.as_str()?;
        let &(cc, asn) = self.places.get(value)?;
        Some(Location {
            countries: vec![cc.to_owned()],
            asns: vec![asn],
        })
    }
}

fn scope(extra: &str) -> String {
    format!(
        "obligations = {{ onward_sharing = true }}\n[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\nunmarked_tlp = \"GREEN\"\n{extra}"
    )
}

fn code(
    view: &accord_agreements::RecipientView<'_>,
    o: &Stored,
    r: &Located,
) -> Result<(), String> {
    match view.decide(&o.version(), r) {
        accord_agreements::Decision::Release(_) => Ok(()),
        accord_agreements::Decision::Withhold(reason) => Err(reason.code().to_owned()),
    }
}

#[test]
fn countries_and_asns_select_located_objects_and_unknown_is_out() {
    let my = Stored::new(ipv4("203.0.113.5"));
    let sg = Stored::new(ipv4("203.0.113.200"));
    let nowhere = Stored::new(ipv4("10.0.0.1"));
    let malware = Stored::new(sdo("malware", 1, json!({"is_family": true})));
    let rel_my = Stored::new(relationship(2, &malware.facts.id, &my.facts.id));
    let rel_sg = Stored::new(relationship(3, &malware.facts.id, &sg.facts.id));
    let resolver = Located {
        objects: store(&[&my, &sg, &nowhere, &malware]),
        places: HashMap::from([
            ("203.0.113.5", ("MY", 4788)),
            ("203.0.113.200", ("SG", 4773)),
        ]),
    };
    let cases: &[(&str, [Result<(), &str>; 4])] = &[
        (
            "countries = [\"my\"]",
            [
                Ok(()),
                Err("location-out-of-scope"),
                Err("location-unknown"),
                Err("location-unknown"),
            ],
        ),
        (
            "asns = [4773]",
            [
                Err("location-out-of-scope"),
                Ok(()),
                Err("location-unknown"),
                Err("location-unknown"),
            ],
        ),
        // Either matching suffices.
        (
            "countries = [\"MY\"]\nasns = [4773]",
            [
                Ok(()),
                Ok(()),
                Err("location-unknown"),
                Err("location-unknown"),
            ],
        ),
        // No location scope: everything, located or not.
        ("", [Ok(()), Ok(()), Ok(()), Ok(())]),
    ];
    for (extra, want) in cases {
        let g = gate(vec![agreement("a", 1, &scope(extra))]);
        let view = g.view(RECIPIENT, now());
        let got: Vec<Result<(), String>> = [&my, &sg, &nowhere, &malware]
            .iter()
            .map(|o| code(&view, o, &resolver))
            .collect();
        let want: Vec<Result<(), String>> = want.iter().map(|w| w.map_err(str::to_owned)).collect();
        assert_eq!(got, want, "{extra}");
    }
    // A relationship follows its endpoints: the malware (unlocated) withholds both
    // under a country scope; with a scope that releases the malware's type... it is
    // still unlocated, so relationships to it never pass a location scope.
    let g = gate(vec![agreement("a", 1, &scope("countries = [\"MY\"]"))]);
    let view = g.view(RECIPIENT, now());
    assert_eq!(
        code(&view, &rel_my, &resolver),
        Err("references-withheld".into())
    );
    assert_eq!(
        code(&view, &rel_sg, &resolver),
        Err("references-withheld".into())
    );
}

#[test]
fn relationships_between_located_objects_pass() {
    let my = Stored::new(ipv4("203.0.113.5"));
    let sg = Stored::new(ipv4("203.0.113.200"));
    let my2 = Stored::new(ipv4("203.0.113.6"));
    let rel_in = Stored::new(relationship(2, &my2.facts.id, &my.facts.id));
    let rel_out = Stored::new(relationship(3, &my.facts.id, &sg.facts.id));
    let resolver = Located {
        objects: store(&[&my, &sg, &my2]),
        places: HashMap::from([
            ("203.0.113.5", ("MY", 4788)),
            ("203.0.113.6", ("MY", 4788)),
            ("203.0.113.200", ("SG", 4773)),
        ]),
    };
    let g = gate(vec![agreement("a", 1, &scope("countries = [\"MY\"]"))]);
    let view = g.view(RECIPIENT, now());
    assert_eq!(code(&view, &rel_in, &resolver), Ok(()));
    assert_eq!(
        code(&view, &rel_out, &resolver),
        Err("references-withheld".into())
    );
}

#[test]
fn a_resolver_that_cannot_locate_withholds_everything_scoped() {
    // The default `locate` (the HashMap resolver) knows nothing: fail-closed.
    let my = Stored::new(ipv4("203.0.113.5"));
    let objects = store(&[&my]);
    let g = gate(vec![agreement("a", 1, &scope("countries = [\"MY\"]"))]);
    let view = g.view(RECIPIENT, now());
    assert_eq!(decide(&view, &my, &objects), Err("location-unknown".into()));
}

#[test]
fn bad_location_scopes_are_refused() {
    for (extra, rule) in [
        ("countries = []", "countries"),
        ("countries = [\"MYS\"]", "country-code"),
        ("countries = [\"M1\"]", "country-code"),
        ("asns = []", "asns"),
        ("asns = [0]", "asn"),
        ("asns = [4294967296]", "asn"),
        ("asns = [-1]", "asn"),
    ] {
        let text = format!(
            "id = \"a\"\nversion = 1\nprovider = {{ id = \"{PROVIDER}\" }}\nrecipient = {{ id = \"{RECIPIENT}\" }}\npurpose = \"p\"\nlegal_basis = \"l\"\nvalidity = {{ from = 2026-01-01T00:00:00Z }}\n{}",
            scope(extra)
        );
        let err = accord_agreements::Agreement::from_toml(&text)
            .expect_err(extra)
            .to_string();
        assert!(err.contains(&format!("[{rule}]")), "{extra}: {err}");
        assert!(err.contains("scope."), "{extra}: {err}");
    }
}
