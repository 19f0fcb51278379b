//! Which endpoints of a record are internal (the operator's customers).
//!
//! Internal addresses are counted into a sighting's distinct-host sketch and nowhere
//! else. The decision, in order:
//! 1. if internal networks are configured, an endpoint is internal iff it lies in one;
//! 2. otherwise, if the record carries Zeek's `local_orig` / `local_resp`, those decide;
//! 3. otherwise the counterpart of the matched endpoint is taken as the host (the
//!    responder when the originator matched, else the originator — for DNS and HTTP
//!    records, the client).

use std::net::IpAddr;

use accord_telemetry::Conn;
use ipnet::IpNet;

use crate::atom::Side;
use crate::Error;

/// The operator's internal networks.
#[derive(Debug, Clone, Default)]
pub struct InternalNets {
    nets: Vec<IpNet>,
}

impl InternalNets {
    /// Parses CIDRs (or single addresses); `setting` names the source in errors.
    ///
    /// ```
    /// let n = accord_detect::InternalNets::parse(["10.0.0.0/8", "2001:db8::/32"])?;
    /// assert!(n.contains("10.9.9.9".parse().unwrap()));
    /// assert!(!n.contains("192.0.2.1".parse().unwrap()));
    /// # Ok::<(), accord_detect::Error>(())
    /// ```
    pub fn parse<S: AsRef<str>>(cidrs: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let nets = cidrs
            .into_iter()
            .map(|s| {
                crate::atom::parse_net(s.as_ref()).ok_or_else(|| Error::Config {
                    setting: "internal_cidrs",
                    message: format!("`{}` is not an IP address or CIDR", s.as_ref()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(InternalNets { nets })
    }

    /// From already parsed networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        InternalNets { nets }
    }

    /// `true` if no network is configured.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Is `addr` internal?
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&addr))
    }

    /// The internal hosts of a record whose `matched` endpoint matched an indicator
    /// (see the module documentation). Writes at most two addresses into `out`.
    pub fn hosts(&self, c: &Conn<'_>, matched: Side, out: &mut Vec<IpAddr>) {
        out.clear();
        if !self.nets.is_empty() {
            for a in [c.orig_h, c.resp_h] {
                if self.contains(a) && !out.contains(&a) {
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
}
