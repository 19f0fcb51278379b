//! Which endpoints of a matched record are internal (the operator's customers).
//!
//! Internal addresses are counted into a sighting's distinct-host sketch and nowhere
//! else. The decision, in order:
//! 1. if internal networks are configured, an endpoint is internal iff it lies in one;
//! 2. otherwise, if the record carries Zeek's `local_orig` / `local_resp`, those decide;
//! 3. otherwise the counterpart of the matched endpoint is taken as the host (the
//!    responder when the originator matched, else the originator — for DNS and HTTP
//!    records, the client).
//!
//! The networks themselves are [`accord_detect::InternalNets`], shared with every
//! detector.

use std::net::IpAddr;

use accord_telemetry::Conn;

pub use accord_detect::InternalNets;

use crate::atom::Side;

/// The internal hosts of a record whose `matched` endpoint matched an indicator
/// (see the module documentation). Writes at most two addresses into `out`.
pub fn internal_hosts(nets: &InternalNets, c: &Conn<'_>, matched: Side, out: &mut Vec<IpAddr>) {
    out.clear();
    if !nets.is_empty() {
        for a in [c.orig_h, c.resp_h] {
            if nets.contains(a) && !out.contains(&a) {
                out.push(a);
            }
        }
    } else if c.local_orig.is_some() || c.local_resp.is_some() {
        if c.local_orig == Some(true) {
            out.push(c.orig_h);
        }
        if c.local_resp == Some(true) && !out.contains(&c.resp_h) {
            out.push(c.resp_h);
        }
    } else {
        out.push(match matched {
            Side::Src => c.resp_h,
            Side::Dst | Side::Any => c.orig_h,
        });
    }
}
