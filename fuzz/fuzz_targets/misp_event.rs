//! `accord misp import`: any input is read as MISP events or refused with a rule; every
//! event converts (or is refused) without a panic; every object written has an id of
//! the form `type--uuid`, the STIX written converts back to MISP events (attributes
//! and the MISP objects Accord maps), and those events convert to STIX again.
#![no_main]

use accord_misp::from_stix::Exporter;
use accord_misp::{event_to_stix, read_events};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(events) = read_events(&text) else { return };
    let mut exporter = Exporter::new();
    for (n, event) in events.iter().enumerate() {
        let Ok(converted) = event_to_stix(event, n) else { continue };
        for object in &converted.objects {
            let id = object["id"].as_str().expect("every object has an id");
            let (kind, uuid) = id.split_once("--").expect("type--uuid");
            assert!(!kind.is_empty());
            assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{id}");
            exporter.add(&object.to_string()).expect("written objects read back");
        }
    }
    for event in exporter.render().events {
        let _ = event_to_stix(&event["Event"], 0);
    }
});
