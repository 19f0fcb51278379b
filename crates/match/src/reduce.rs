//! Reducing a parsed pattern to [`Atom`]s, when its meaning is a plain disjunction of
//! simple conditions on one observable.
//!
//! Reducible: observation expressions built from `[...]`, `OR` and parentheses (no
//! observation-level `AND`, `FOLLOWEDBY` or qualifiers), whose comparison expressions
//! are `OR`s of:
//! - `ipv4-addr:value` / `ipv6-addr:value` `=`, `IN`, `ISSUBSET` an address or CIDR;
//! - `domain-name:value`, `url:value`, `email-addr:value` `=`, `IN`, `LIKE`;
//! - `file:hashes.<algorithm>` `=`, `IN`;
//! - `network-traffic` conditions, alone or joined by `AND`: `src_port`/`dst_port` `=`
//!   (or `IN` when alone), `protocols[*] =`, `src_ref.value`/`dst_ref.value` `=` or
//!   `ISSUBSET`, `src_ref.type`/`dst_ref.type =`.
//!
//! Everything else — `NOT`, ordering operators, `MATCHES`, other objects and
//! properties, `ISSUBSET` operands in forms only `inet_aton` reads — goes to the
//! pattern engine. Address operands keep the OASIS matcher's meaning (see
//! [`ip_operand`]): `=` compares text, so only `ISSUBSET` matches addresses inside a
//! network. Domain names, URLs and e-mail addresses are compared normalised (see
//! [`atom`](crate::atom)), which is where compiled matching is deliberately more
//! lenient than the engine: `'Evil.Example'` matches `evil.example`. A reducible comparison that can never hold
//! (an IPv6 value on `ipv4-addr`, say) yields no atom, as the OASIS matcher would never
//! match it either.

use accord_patterns::ast::{
    CompOp, Comparison, ComparisonExpr, Literal, ObservationExpr, Operand, PathStep, Pattern,
};
use ipnet::IpNet;

use crate::atom::{self, Atom, Side, TrafficAtom};

/// Why a pattern is left to the pattern engine (a stable kebab-case code).
pub type NotReducible = &'static str;

/// Reduces `pattern` to atoms, or says why it cannot be.
///
/// ```
/// use accord_match::reduce::reduce;
/// use accord_match::atom::Atom;
/// let p = accord_patterns::parse("[domain-name:value = 'Evil.Example'] OR [url:value LIKE 'http://x.example/%']").unwrap();
/// let atoms = reduce(&p).unwrap();
/// assert_eq!(atoms[0], Atom::Domain("evil.example".into()));
/// let p = accord_patterns::parse("[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.2']").unwrap();
/// assert_eq!(reduce(&p), Err("observation-operator"));
/// ```
pub fn reduce(pattern: &Pattern) -> Result<Vec<Atom>, NotReducible> {
    let mut out = Vec::new();
    observation(&pattern.expr, &mut out)?;
    Ok(out)
}

fn observation(e: &ObservationExpr, out: &mut Vec<Atom>) -> Result<(), NotReducible> {
    match e {
        ObservationExpr::Observation { comparison, .. } => comparison_or(comparison, out),
        ObservationExpr::Or(v) => v.iter().try_for_each(|e| observation(e, out)),
        ObservationExpr::Group { expr, .. } => observation(expr, out),
        ObservationExpr::Qualified { .. } => Err("qualifier"),
        ObservationExpr::And(_) | ObservationExpr::FollowedBy(_) => Err("observation-operator"),
    }
}

fn comparison_or(e: &ComparisonExpr, out: &mut Vec<Atom>) -> Result<(), NotReducible> {
    match e {
        ComparisonExpr::Comparison(c) if c.path.object_type == "network-traffic" => {
            traffic(std::slice::from_ref(e), out)
        }
        ComparisonExpr::Comparison(c) => comparison(c, out),
        ComparisonExpr::Or(v) => v.iter().try_for_each(|e| comparison_or(e, out)),
        ComparisonExpr::And(v) => traffic(v, out),
    }
}

fn keys(c: &Comparison) -> Option<Vec<&str>> {
    c.path
        .steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect()
}

/// The string values of `= 'x'`, `IN ('x', 'y')`; `None` for other shapes.
fn strings(c: &Comparison) -> Option<Vec<&str>> {
    match (&c.op, &c.operand) {
        (CompOp::Eq, Operand::Literal(Literal::String(s))) => Some(vec![s.as_str()]),
        (CompOp::In, Operand::Set(v)) => v
            .iter()
            .map(|l| match l {
                Literal::String(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn comparison(c: &Comparison, out: &mut Vec<Atom>) -> Result<(), NotReducible> {
    if c.negated {
        return Err("negation");
    }
    let path = keys(c).ok_or("path")?;
    let ty = c.path.object_type.as_str();
    match (ty, path.as_slice()) {
        ("ipv4-addr" | "ipv6-addr", ["value"]) => {
            let subset = c.op == CompOp::IsSubset;
            let values = match (&c.op, &c.operand) {
                (CompOp::IsSubset, Operand::Literal(Literal::String(s))) => vec![s.as_str()],
                _ => strings(c).ok_or("operator")?,
            };
            for v in values {
                if let Some(net) = ip_operand(v, subset)?.filter(|n| family_ok(ty, n)) {
                    out.push(Atom::Ip {
                        net,
                        side: Side::Any,
                    });
                }
            }
            Ok(())
        }
        ("domain-name" | "url" | "email-addr", ["value"]) => {
            let like = c.op == CompOp::Like;
            let values = match (&c.op, &c.operand) {
                (CompOp::Like, Operand::Literal(Literal::String(s))) => vec![s.as_str()],
                _ => strings(c).ok_or("operator")?,
            };
            for v in values {
                out.push(match (ty, like) {
                    ("domain-name", false) => Atom::Domain(atom::normalize_domain(v)),
                    ("domain-name", true) => Atom::DomainLike(atom::normalize_domain(v)),
                    ("url", false) => Atom::Url(atom::normalize_url(v)),
                    ("url", true) => Atom::UrlLike(normalize_url_like(v)),
                    (_, false) => Atom::Email(v.to_lowercase()),
                    (_, true) => Atom::EmailLike(v.to_lowercase()),
                });
            }
            Ok(())
        }
        ("file", ["hashes", algorithm]) => {
            let algorithm = atom::normalize_hash_algorithm(algorithm);
            for v in strings(c).ok_or("operator")? {
                out.push(Atom::Hash {
                    algorithm: algorithm.clone(),
                    value: v.to_ascii_lowercase(),
                });
            }
            Ok(())
        }
        _ => Err("property"),
    }
}

/// A URL LIKE pattern: its scheme and host are lower-cased where they are literal
/// (before the first wildcard), so `HTTP://Evil.Example/%` finds `http://evil.example/x`.
/// Default ports and fragments are not rewritten inside LIKE patterns.
fn normalize_url_like(v: &str) -> String {
    let cut = v.find(['%', '_']).unwrap_or(v.len());
    match v.find("://") {
        Some(i) if i < cut => {
            let host_end = v[i + 3..].find(['/', '?']).map_or(v.len(), |j| i + 3 + j);
            let end = host_end.min(cut);
            let mut s = v[..end].to_ascii_lowercase();
            s.push_str(&v[end..]);
            s
        }
        _ => v.to_string(),
    }
}

/// The network an address operand stands for, with the OASIS matcher's meaning:
/// - `=` / `IN` compare text, and telemetry carries host addresses in canonical form,
///   so only a canonical host address can ever be equal (`'10.0.0.0/8'` or
///   `'2001:DB8::1'` never equal an observed value: `Ok(None)`);
/// - `ISSUBSET` takes a CIDR (`/1`-`/32`, `/0`-`/128`); text the strict parser here
///   does not read (`inet_aton` forms such as `'010.1/8'`) goes to the engine, which
///   reads it as the OASIS matcher does (`Err`).
fn ip_operand(v: &str, subset: bool) -> Result<Option<IpNet>, NotReducible> {
    if subset {
        let (addr, len) = v.split_once('/').ok_or("cidr-syntax")?;
        let net = atom::parse_net(v).ok_or("cidr-syntax")?;
        let canonical_addr = addr
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.to_string() == addr);
        if !canonical_addr
            || len.starts_with('0') && len != "0"
            || (net.prefix_len() == 0 && addr.contains('.'))
        {
            return Err("cidr-syntax");
        }
        return Ok(Some(net));
    }
    Ok(v.parse::<std::net::IpAddr>()
        .ok()
        .filter(|a| a.to_string() == v)
        .map(IpNet::from))
}

fn family_ok(ty: &str, n: &IpNet) -> bool {
    matches!(
        (ty, n),
        ("ipv4-addr", IpNet::V4(_)) | ("ipv6-addr", IpNet::V6(_))
    )
}

/// `network-traffic` conditions joined by `AND` (or one alone).
fn traffic(v: &[ComparisonExpr], out: &mut Vec<Atom>) -> Result<(), NotReducible> {
    let mut t = TrafficAtom {
        protocol: None,
        src_port: None,
        dst_port: None,
        src: None,
        dst: None,
    };
    let mut ports_in: Option<(bool, Vec<u16>)> = None;
    let mut fam: [Option<&str>; 2] = [None, None];
    let mut never = false;
    for e in v {
        let ComparisonExpr::Comparison(c) = e else {
            return Err("nested-boolean");
        };
        if c.negated || c.path.object_type != "network-traffic" {
            return Err("conjunction");
        }
        match c.path.steps.as_slice() {
            [PathStep::Key(k)] if k == "src_port" || k == "dst_port" => {
                let src = k == "src_port";
                let ports = ints(c).ok_or("operator")?;
                let slot = if src {
                    &mut t.src_port
                } else {
                    &mut t.dst_port
                };
                match ports.as_slice() {
                    [p] if slot.is_none() => *slot = Some(*p),
                    _ if v.len() == 1 => ports_in = Some((src, ports)),
                    _ => return Err("conjunction"),
                }
            }
            [PathStep::Key(k), PathStep::AnyIndex] if k == "protocols" && t.protocol.is_none() => {
                match (&c.op, &c.operand) {
                    (CompOp::Eq, Operand::Literal(Literal::String(s))) => {
                        t.protocol = Some(s.to_ascii_lowercase())
                    }
                    _ => return Err("operator"),
                }
            }
            [PathStep::Key(r), PathStep::Key(p)] if r == "src_ref" || r == "dst_ref" => {
                let i = usize::from(r == "dst_ref");
                match (p.as_str(), &c.op, &c.operand) {
                    ("type", CompOp::Eq, Operand::Literal(Literal::String(s)))
                        if fam[i].is_none() =>
                    {
                        fam[i] = Some(s.as_str())
                    }
                    (
                        "value",
                        CompOp::Eq | CompOp::IsSubset,
                        Operand::Literal(Literal::String(s)),
                    ) => {
                        let slot = if i == 0 { &mut t.src } else { &mut t.dst };
                        if slot.is_some() {
                            return Err("conjunction");
                        }
                        match ip_operand(s, c.op == CompOp::IsSubset)? {
                            Some(n) => *slot = Some(n),
                            None => never = true,
                        }
                    }
                    _ => return Err("property"),
                }
            }
            _ => return Err("property"),
        }
    }
    // `*_ref.type` constrains the address family of that side.
    for (i, f) in fam.iter().enumerate() {
        let Some(f) = f else { continue };
        let slot = if i == 0 { &mut t.src } else { &mut t.dst };
        let any = match *f {
            "ipv4-addr" => IpNet::V4(Default::default()),
            "ipv6-addr" => IpNet::V6(Default::default()),
            _ => {
                never = true;
                continue;
            }
        };
        match slot {
            Some(n) if !family_ok(f, n) => never = true,
            Some(_) => {}
            None => *slot = Some(any),
        }
    }
    if never {
        return Ok(());
    }
    if let Some((src, ports)) = ports_in {
        for p in ports {
            let mut a = t.clone();
            if src {
                a.src_port = Some(p)
            } else {
                a.dst_port = Some(p)
            }
            out.push(Atom::Traffic(a));
        }
        return Ok(());
    }
    out.push(match t {
        TrafficAtom {
            protocol: None,
            src_port: None,
            dst_port: None,
            src: Some(net),
            dst: None,
        } => Atom::Ip {
            net,
            side: Side::Src,
        },
        TrafficAtom {
            protocol: None,
            src_port: None,
            dst_port: None,
            src: None,
            dst: Some(net),
        } => Atom::Ip {
            net,
            side: Side::Dst,
        },
        t => Atom::Traffic(t),
    });
    Ok(())
}

fn ints(c: &Comparison) -> Option<Vec<u16>> {
    let one = |l: &Literal| match l {
        Literal::Int(n) => u16::try_from(*n).ok(),
        _ => None,
    };
    match (&c.op, &c.operand) {
        (CompOp::Eq, Operand::Literal(l)) => Some(vec![one(l)?]),
        (CompOp::In, Operand::Set(v)) => v.iter().map(one).collect(),
        _ => None,
    }
}
