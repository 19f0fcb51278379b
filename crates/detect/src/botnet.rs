//! C2 and DDoS in one observer, linked: the internal hosts that join a flood and the
//! command-and-control servers they beacon to are the two halves of one botnet.
//!
//! Each detector on its own sees half the story: the C2 detector which destinations
//! internal hosts beacon to, the DDoS detector which internal hosts flood an external
//! target. [`Botnets`] runs both over the same records and, as a window closes, links
//! every outbound flood to the C2 destinations some of its participants beaconed to in
//! that window ([`ControlledBy`] on the flood's finding: its evidence and a STIX
//! `related-to` relationship from the C2's `infrastructure`). The participants are
//! customers: only their number crosses into the finding.

use std::collections::HashMap;
use std::net::IpAddr;

use accord_telemetry::Record;

use crate::c2::{C2Detector, C2Links};
use crate::ddos::{ControlledBy, DdosDetector, DdosLinks, Direction};
use crate::observer::{Finding, Observer, Window};

/// Controllers listed on one flood, most shared participants first.
pub const MAX_CONTROLLERS: usize = 8;

/// The C2 and DDoS detectors run as one observer, their findings linked.
#[derive(Debug)]
pub struct Botnets {
    c2: C2Detector,
    ddos: DdosDetector,
    c2_links: C2Links,
    ddos_links: DdosLinks,
}

impl Botnets {
    /// Both detectors, with their own configurations.
    pub fn new(c2: C2Detector, ddos: DdosDetector) -> Self {
        let c2_links = c2.links();
        let ddos_links = ddos.links();
        Botnets {
            c2,
            ddos,
            c2_links,
            ddos_links,
        }
    }

    /// The C2 detector's handle on the internal hosts of its findings.
    pub fn c2_links(&self) -> C2Links {
        self.c2_links.clone()
    }

    /// The DDoS detector's handle on victims and participants.
    pub fn ddos_links(&self) -> DdosLinks {
        self.ddos_links.clone()
    }
}

impl Observer for Botnets {
    fn name(&self) -> &'static str {
        "c2+ddos"
    }

    #[inline]
    fn observe(&mut self, record: &Record<'_>) {
        self.c2.observe(record);
        self.ddos.observe(record);
    }

    /// The C2 findings, then the floods (outbound ones with their controllers).
    fn finish(&mut self, window: &Window) -> Vec<Box<dyn Finding>> {
        let c2 = self.c2.finish_window(window);
        let mut floods = self.ddos.finish_window(window);
        if !c2.is_empty() {
            let by_host = destinations_by_host(&self.c2_links);
            for f in &mut floods {
                if f.direction != Direction::Outbound {
                    continue;
                }
                let members = self.ddos_links.participants(&f.id).unwrap_or_default();
                f.controlled_by = controllers(&members, &by_host);
            }
        }
        let mut out: Vec<Box<dyn Finding>> = Vec::with_capacity(c2.len() + floods.len());
        out.extend(c2.into_iter().map(|f| Box::new(f) as Box<dyn Finding>));
        out.extend(floods.into_iter().map(|f| Box::new(f) as Box<dyn Finding>));
        out
    }
}

type Controller = (IpAddr, Option<u16>);

/// Internal host → the reported C2 destinations it talked to.
fn destinations_by_host(links: &C2Links) -> HashMap<IpAddr, Vec<Controller>> {
    let mut by_host: HashMap<IpAddr, Vec<Controller>> = HashMap::new();
    links.for_each(|dst, hosts| {
        for h in hosts {
            by_host.entry(*h).or_default().push(dst);
        }
    });
    by_host
}

/// The controllers of a flood whose participants are `members`: every C2 destination
/// at least one of them talked to, by shared participants (then address), at most
/// [`MAX_CONTROLLERS`].
fn controllers(
    members: &[IpAddr],
    by_host: &HashMap<IpAddr, Vec<Controller>>,
) -> Vec<ControlledBy> {
    let mut shared: HashMap<Controller, u64> = HashMap::new();
    for m in members {
        for c in by_host.get(m).map(Vec::as_slice).unwrap_or(&[]) {
            *shared.entry(*c).or_default() += 1;
        }
    }
    let mut v: Vec<ControlledBy> = shared
        .into_iter()
        .map(|((destination, port), n)| ControlledBy {
            destination,
            port,
            shared_participants: n,
        })
        .collect();
    v.sort_by(|a, b| {
        b.shared_participants
            .cmp(&a.shared_participants)
            .then_with(|| (a.destination, a.port).cmp(&(b.destination, b.port)))
    });
    v.truncate(MAX_CONTROLLERS);
    v
}
