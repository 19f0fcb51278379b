//! Onward sharing across hops: what a node received under an agreement that forbids
//! onward sharing never leaves it again, and what it received under one that permits
//! it leaves only under the node's own agreements.

use accord_agreements::{Agreement, Decision, Gate, NoObjects, ObjectFacts, ObjectVersion};
use serde_json::json;

use crate::common::{now, t};

fn pact(id: &str, provider: &str, recipient: &str, onward: bool, types: &str) -> Agreement {
    let text = format!(
        "id = \"{id}\"\nversion = 1\nprovider = {{ id = \"{provider}\" }}\nrecipient = {{ id = \"{recipient}\" }}\n\
         purpose = \"p\"\nlegal_basis = \"b\"\n[obligations]\nonward_sharing = {onward}\n\
         [validity]\nfrom = 2026-01-01T00:00:00Z\n[scope]\ntypes = [{types}]\nmax_tlp = \"AMBER\"\n"
    );
    Agreement::from_toml(&text).unwrap()
}

fn indicator(n: u32) -> (String, ObjectFacts) {
    let v = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]
    });
    (v.to_string(), ObjectFacts::extract(&v))
}

fn decide(gate: &Gate, recipient: &str, provider: &str) -> Result<(), String> {
    let (raw, facts) = indicator(1);
    let object = ObjectVersion {
        facts: &facts,
        provider,
        collection: None,
        date_added: t("2026-03-01T00:00:00Z"),
        raw: &raw,
    };
    match gate.view(recipient, now()).decide(&object, &NoObjects) {
        Decision::Release(r) => {
            assert_eq!(
                r.agreement().map(|a| a.id().to_owned()),
                Some("b-to-c".to_owned())
            );
            Ok(())
        }
        Decision::Withhold(reason) => Err(reason.code().to_owned()),
    }
}

#[test]
fn received_data_goes_onward_only_when_the_senders_agreement_permits_it() {
    for (onward, expected) in [
        (true, Ok(())),
        (false, Err("onward-sharing-forbidden".to_owned())),
    ] {
        let gate = Gate::new([
            pact("a-to-b", "a", "b", onward, "\"*\""),
            pact("b-to-c", "b", "c", false, "\"indicator\""),
        ])
        .unwrap()
        .with_holder("b");
        assert_eq!(
            decide(&gate, "c", "a"),
            expected,
            "onward_sharing = {onward}"
        );
        // Anyone the node has no agreement with gets nothing either way.
        let code = if onward {
            "no-agreement"
        } else {
            "onward-sharing-forbidden"
        };
        assert_eq!(decide(&gate, "d", "a"), Err(code.to_owned()));
        // The holder itself reads under A's agreement with it.
        assert!(gate.view("b", now()).has_active_agreement("a"));
    }
}

#[test]
fn without_a_holder_received_data_needs_the_providers_own_agreement() {
    let gate = Gate::new([
        pact("a-to-b", "a", "b", true, "\"*\""),
        pact("b-to-c", "b", "c", false, "\"indicator\""),
    ])
    .unwrap();
    assert_eq!(decide(&gate, "c", "a"), Err("no-agreement".to_owned()));
}

#[test]
fn the_holders_agreement_with_the_recipient_still_applies_its_scope() {
    // B may pass A's data on, but B's agreement with C covers only reports.
    let gate = Gate::new([
        pact("a-to-b", "a", "b", true, "\"*\""),
        pact("b-to-c", "b", "c", false, "\"report\""),
    ])
    .unwrap()
    .with_holder("b");
    assert_eq!(decide(&gate, "c", "a"), Err("type-out-of-scope".to_owned()));
}
