//! A set of address ranges with logarithmic lookup: the provider's customer
//! address space, which may be thousands of prefixes for a large operator.

use std::net::IpAddr;

use ipnet::IpNet;

/// A normalised (sorted, merged) set of IPv4 and IPv6 ranges.
///
/// ```
/// use accord_agreements::AddressRanges;
/// let ranges = AddressRanges::new(["198.51.100.0/24".parse().unwrap()]);
/// assert!(ranges.contains_addr("198.51.100.9".parse().unwrap()));
/// assert!(ranges.contains_net(&"198.51.100.128/25".parse().unwrap()));
/// assert!(!ranges.contains_net(&"198.51.0.0/16".parse().unwrap()));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressRanges {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    nets: Vec<IpNet>,
}

impl AddressRanges {
    /// Builds the set from networks (host bits are ignored).
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> AddressRanges {
        let nets: Vec<IpNet> = nets.into_iter().map(|n| n.trunc()).collect();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for net in &nets {
            match net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()))),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()))),
            }
        }
        AddressRanges {
            v4: merge(v4),
            v6: merge(v6),
            nets,
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The networks as written in the agreement.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether `addr` lies in one of the ranges. An IPv4-mapped IPv6 address is
    /// looked up as the IPv4 address it carries.
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => find(&self.v4, u32::from(a), u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4), u32::from(v4)),
                None => find(&self.v6, u128::from(a), u128::from(a)),
            },
        }
    }

    /// Whether the whole network `net` lies inside the ranges (a single address
    /// is a network of one).
    pub fn contains_net(&self, net: &IpNet) -> bool {
        match net {
            IpNet::V4(n) => find(&self.v4, u32::from(n.network()), u32::from(n.broadcast())),
            IpNet::V6(n) => {
                if n.prefix_len() == 128 {
                    return self.contains_addr(IpAddr::V6(n.addr()));
                }
                find(&self.v6, u128::from(n.network()), u128::from(n.broadcast()))
            }
        }
    }

    /// Whether `net` and the ranges share at least one address.
    pub fn overlaps(&self, net: &IpNet) -> bool {
        match net {
            IpNet::V4(n) => overlaps(&self.v4, u32::from(n.network()), u32::from(n.broadcast())),
            IpNet::V6(n) => overlaps(&self.v6, u128::from(n.network()), u128::from(n.broadcast())),
        }
    }
}

fn merge<T: Ord + Copy + num_like::Succ>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1.succ() => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Whether `[start, end]` lies inside one merged range.
fn find<T: Ord + Copy>(ranges: &[(T, T)], start: T, end: T) -> bool {
    let i = ranges.partition_point(|r| r.0 <= start);
    i > 0 && ranges[i - 1].1 >= end
}

/// Whether `[start, end]` meets any range.
fn overlaps<T: Ord + Copy>(ranges: &[(T, T)], start: T, end: T) -> bool {
    let i = ranges.partition_point(|r| r.1 < start);
    i < ranges.len() && ranges[i].0 <= end
}

mod num_like {
    /// The next value, saturating (so adjacent ranges merge).
    pub trait Succ {
        fn succ(self) -> Self;
    }
    impl Succ for u32 {
        fn succ(self) -> u32 {
            self.saturating_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> u128 {
            self.saturating_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(nets: &[&str]) -> AddressRanges {
        AddressRanges::new(nets.iter().map(|n| n.parse().unwrap()))
    }

    #[test]
    fn adjacent_ranges_merge_so_a_spanning_network_is_contained() {
        let r = set(&["10.0.0.0/25", "10.0.0.128/25"]);
        assert!(r.contains_net(&"10.0.0.0/24".parse().unwrap()));
        assert!(!r.contains_addr("10.0.1.0".parse().unwrap()));
    }

    #[test]
    fn mapped_ipv6_is_looked_up_as_ipv4() {
        let r = set(&["192.0.2.0/24", "2001:db8::/32"]);
        assert!(r.contains_addr("::ffff:192.0.2.1".parse().unwrap()));
        assert!(r.contains_addr("2001:db8::5".parse().unwrap()));
        assert!(!r.contains_addr("2001:db9::5".parse().unwrap()));
        assert!(r.overlaps(&"192.0.0.0/16".parse().unwrap()));
        assert!(!r.overlaps(&"192.0.3.0/24".parse().unwrap()));
    }
}
