//! TLP: every level against every maximum, TLP 1.0 and 2.0 markings, unmarked
//! objects, custom TLP markings, statements and unknown markings.

use accord_agreements::tlp::{TLP1_MARKINGS, TLP2_MARKINGS};
use accord_agreements::Tlp;
use serde_json::json;

use crate::common::*;

#[test]
fn release_iff_the_level_is_at_most_the_maximum() {
    for max in Tlp::ALL {
        let g = gate(vec![agreement(
            "a",
            1,
            &format!("obligations = {{ onward_sharing = true }}\n[scope]\ntypes = [\"*\"]\nmax_tlp = \"{}\"\n", max.name()),
        )]);
        let view = g.view(RECIPIENT, now());
        for (n, (marking, level)) in TLP1_MARKINGS.iter().chain(TLP2_MARKINGS.iter()).enumerate() {
            let o = Stored::new(indicator(
                n as u32,
                json!({"object_marking_refs": [marking]}),
            ));
            let got = decide(&view, &o, &store(&[]));
            if *level <= max {
                assert_eq!(got.as_deref(), Ok(o.raw.as_str()), "{level} under {max}");
            } else {
                assert_eq!(got, Err("tlp-above-maximum".into()), "{level} under {max}");
            }
        }
    }
}

#[test]
fn the_most_restrictive_marking_counts_including_granular_ones() {
    let g = gate(vec![agreement(
        "a",
        1,
        "[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\n",
    )]);
    let view = g.view(RECIPIENT, now());
    let o = Stored::new(indicator(
        1,
        json!({
            "object_marking_refs": [Tlp::Clear.marking_id()],
            "granular_markings": [{"marking_ref": Tlp::Red.marking_id(), "selectors": ["description"]}]
        }),
    ));
    assert_eq!(
        decide(&view, &o, &store(&[])),
        Err("tlp-above-maximum".into())
    );
}

#[test]
fn unmarked_objects_take_the_agreements_unmarked_level() {
    let strict = gate(vec![agreement(
        "a",
        1,
        "[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\n",
    )]);
    let o = Stored::new(indicator(1, json!({})));
    assert_eq!(
        decide(&strict.view(RECIPIENT, now()), &o, &store(&[])),
        Err("tlp-above-maximum".into())
    );
    let lenient = gate(vec![agreement(
        "a",
        1,
        "[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\nunmarked_tlp = \"CLEAR\"\n",
    )]);
    assert!(decide(&lenient.view(RECIPIENT, now()), &o, &store(&[])).is_ok());
}

#[test]
fn custom_markings_are_resolved_by_content() {
    let g = gate(vec![agreement(
        "a",
        1,
        "[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\n",
    )]);
    let view = g.view(RECIPIENT, now());
    let red = Stored::new(json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--11111111-1111-4111-8111-111111111111", "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "tlp", "definition": {"tlp": "red"}}));
    let statement = Stored::new(json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--22222222-2222-4222-8222-222222222222", "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "statement", "definition": {"statement": "Copyright Example"}}));
    let objects = store(&[&red, &statement]);
    let marked = |id: &str| {
        Stored::new(indicator(
            1,
            json!({"object_marking_refs": [Tlp::Green.marking_id(), id]}),
        ))
    };
    assert_eq!(
        decide(&view, &marked(&red.facts.id), &objects),
        Err("tlp-above-maximum".into())
    );
    assert!(decide(&view, &marked(&statement.facts.id), &objects).is_ok());
    let unknown = "marking-definition--33333333-3333-4333-8333-333333333333";
    assert_eq!(
        decide(&view, &marked(unknown), &objects),
        Err("marking-withheld".into())
    );
    let ignoring = gate(vec![agreement(
        "a",
        1,
        "[scope]\ntypes = [\"*\"]\nmax_tlp = \"GREEN\"\nunknown_markings = \"ignore\"\n",
    )]);
    assert!(decide(&ignoring.view(RECIPIENT, now()), &marked(unknown), &objects).is_ok());
}

#[test]
fn standard_tlp_marking_definitions_are_released_to_anyone() {
    let g = gate(vec![]);
    let view = g.view("stranger", now());
    let m = Stored::new(
        json!({"type": "marking-definition", "spec_version": "2.1", "id": Tlp::Red.marking_id(),
        "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED"}),
    );
    assert!(decide(&view, &m, &store(&[])).is_ok());
}
