//! Which addresses are internal: the operator's customers.
//!
//! Every detector needs the same split. Internal addresses are what a network
//! operator must never publish: findings name external destinations and sources, and
//! internal hosts leave a detector only as a count ([`crate::DistinctHosts`]).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::Error;

/// The ranges `--internal` defaults to: RFC 1918 private IPv4, RFC 6598 shared
/// address space (carrier-grade NAT, where an operator's customers sit), and RFC 4193
/// unique-local IPv6.
pub const DEFAULT_INTERNAL: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
];

/// The operator's internal networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalNets {
    nets: Vec<IpNet>,
}

impl InternalNets {
    /// Parses CIDRs or single addresses. Host bits under the prefix are ignored
    /// (`10.1.2.3/8` is `10.0.0.0/8`).
    ///
    /// ```
    /// let n = accord_detect::InternalNets::parse(["10.0.0.0/8", "2001:db8::/32"])?;
    /// assert!(n.contains("10.9.9.9".parse().unwrap()));
    /// assert!(!n.contains("192.0.2.1".parse().unwrap()));
    /// assert!(accord_detect::InternalNets::parse(["10.0.0.0/33"]).is_err());
    /// # Ok::<(), accord_detect::Error>(())
    /// ```
    pub fn parse<S: AsRef<str>>(cidrs: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let nets = cidrs
            .into_iter()
            .map(|s| {
                let s = s.as_ref().trim();
                parse_net(s).ok_or_else(|| Error::Config {
                    setting: "internal_cidrs",
                    message: format!("`{s}` is not an IP address or CIDR"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(InternalNets { nets })
    }

    /// The private and unique-local ranges of [`DEFAULT_INTERNAL`].
    pub fn private() -> Self {
        InternalNets {
            nets: DEFAULT_INTERNAL
                .iter()
                .filter_map(|s| parse_net(s))
                .collect(),
        }
    }

    /// From already parsed networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        InternalNets { nets }
    }

    /// The networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// `true` if no network is configured.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Is `addr` internal? An IPv4-mapped IPv6 address is judged as its IPv4 form.
    #[inline]
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.nets.iter().any(|n| n.contains(&addr))
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    if let Ok(net) = IpNet::from_str(s) {
        return Some(net.trunc());
    }
    IpAddr::from_str(s).ok().map(IpNet::from)
}
