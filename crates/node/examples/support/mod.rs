//! What the door's examples share: indicators and agreements written as a provider
//! would send them.

use accord_agreements::{Agreement, Tlp};

/// Indicator `n` on the address `10.a.b.c` of `value`, created on day `day` of January
/// 2026, marked `tlp` (unmarked when `None`).
pub fn indicator(n: usize, value: usize, day: usize, tlp: Option<Tlp>) -> String {
    let marking = tlp.map_or(String::new(), |t| {
        format!(r#","object_marking_refs":["{}"]"#, t.marking_id())
    });
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-{day:02}T00:00:00.000Z","modified":"2026-01-{day:02}T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.{}.{}.{}']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"{marking}}}"#,
        value / 65_536,
        (value / 256) % 256,
        value % 256,
    )
}

/// An agreement from `provider` to `recipient` for indicators up to TLP:GREEN (unmarked
/// objects count as GREEN), with `protections` (TOML lines).
pub fn agreement(
    provider: &str,
    recipient: &str,
    protections: &str,
) -> Result<Agreement, Box<dyn std::error::Error>> {
    Ok(Agreement::from_toml(&format!(
        r#"
id = "{provider}-{recipient}"
version = 1
provider = {{ id = "{provider}" }}
recipient = {{ id = "{recipient}" }}
purpose = "Benchmark"
legal_basis = "MoU"
[validity]
from = 2020-01-01T00:00:00Z
[scope]
types = ["indicator"]
max_tlp = "GREEN"
unmarked_tlp = "GREEN"
[protections]
{protections}
[obligations]
onward_sharing = true
"#
    ))?)
}

/// Sighting `n` of indicator `target` (as [`indicator`] numbers them), counted once,
/// marked `tlp`.
#[allow(dead_code)] // not every example sights
pub fn sighting(n: usize, target: usize, tlp: Tlp) -> String {
    format!(
        r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-{n:012}","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","first_seen":"2026-01-02T00:00:00Z","last_seen":"2026-01-02T00:00:00Z","count":1,"sighting_of_ref":"indicator--00000000-0000-4000-8000-{target:012}","object_marking_refs":["{}"]}}"#,
        tlp.marking_id()
    )
}
