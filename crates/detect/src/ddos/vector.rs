//! Attack vectors, and which vector (if any) one direction of a flow belongs to.
//!
//! A flow record is read as up to two *sends* (originator to responder, responder to
//! originator). Each send is classified by what flood traffic looks like in flow
//! telemetry, without payload:
//!
//! - **SYN flood** (`syn-flood`): TCP, the sender carried no payload (Zeek's payload
//!   bytes are 0, or a header-only flow of at most [`SYN_MAX_BYTES_PER_PACKET`] bytes
//!   per packet when bytes include headers) in at most [`SYN_MAX_PACKETS`] packets,
//!   and the receiver sent no payload back. Zeek's `S0`/`REJ`/`SH` connections and
//!   NetFlow's SYN-only flows look like this; a completed handshake carrying a request
//!   does not. (The record model carries no `conn_state` or TCP flags yet: volumes
//!   are the proxy.)
//! - **UDP reflection** (`udp-reflection`): UDP from a well-known reflector port
//!   ([`REFLECTOR_PORTS`]) to a receiver that did not ask: the receiver sent nothing
//!   in the same flow (Zeek logs the reflector as originator, or flips the flow and
//!   logs no originator packets).
//! - **ICMP flood** (`icmp-flood`): any ICMP.
//! - **UDP flood** (`udp-flood`): other UDP that went unanswered (receiver sent
//!   nothing), or, when the record has no reverse counts (unidirectional NetFlow),
//!   carried at least [`FLOOD_MIN_PACKETS_PER_FLOW`] packets in one flow. A DNS query
//!   answered by the server is not flood traffic.
//! - **Volumetric** (`volumetric`): other IP protocols (GRE, ESP, …).
//!
//! Everything else (answered TCP, solicited UDP) is counted as the target's ordinary
//! traffic: it dilutes the attack share but is never an attack vector.

use accord_telemetry::Proto;

/// Well-known UDP reflection/amplification source ports and their service names
/// (US-CERT TA14-017A and later advisories).
pub const REFLECTOR_PORTS: [(u16, &str); 19] = [
    (17, "qotd"),
    (19, "chargen"),
    (53, "dns"),
    (69, "tftp"),
    (111, "portmap"),
    (123, "ntp"),
    (137, "netbios"),
    (161, "snmp"),
    (389, "cldap"),
    (1900, "ssdp"),
    (3283, "ard"),
    (3702, "ws-discovery"),
    (5353, "mdns"),
    (5683, "coap"),
    (10001, "ubiquiti"),
    (11211, "memcached"),
    (27015, "steam"),
    (37810, "dvr"),
    (520, "rip"),
];

/// The service name of a reflector port, if it is one.
pub fn reflector_service(port: u16) -> Option<&'static str> {
    REFLECTOR_PORTS
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, s)| *s)
}

/// Most packets a SYN-flood flow carries from the sender (a SYN and its retransmits).
pub const SYN_MAX_PACKETS: u64 = 3;

/// Largest bytes per packet of a header-only TCP flow when bytes include headers
/// (IPv6 + TCP with options).
pub const SYN_MAX_BYTES_PER_PACKET: u64 = 80;

/// Packets in one unidirectional UDP flow above which, without reverse counts, the
/// flow counts as flood traffic.
pub const FLOOD_MIN_PACKETS_PER_FLOW: u64 = 10;

/// An attack vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Vector {
    /// TCP SYN flood.
    SynFlood,
    /// UDP reflection / amplification from well-known reflector ports.
    UdpReflection,
    /// ICMP flood.
    IcmpFlood,
    /// Other unanswered UDP.
    UdpFlood,
    /// Other IP protocols.
    Volumetric,
}

/// Number of vectors (size of per-vector arrays).
pub const NVECTORS: usize = 5;

impl Vector {
    /// Every vector, in index order.
    pub const ALL: [Vector; NVECTORS] = [
        Vector::SynFlood,
        Vector::UdpReflection,
        Vector::IcmpFlood,
        Vector::UdpFlood,
        Vector::Volumetric,
    ];

    /// The name in the JSON contract (`vector`).
    pub fn name(self) -> &'static str {
        match self {
            Vector::SynFlood => "syn-flood",
            Vector::UdpReflection => "udp-reflection",
            Vector::IcmpFlood => "icmp-flood",
            Vector::UdpFlood => "udp-flood",
            Vector::Volumetric => "volumetric",
        }
    }

    /// Index into per-vector arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The MITRE ATT&CK technique: T1498.002 for reflection, T1498.001 (Direct
    /// Network Flood) otherwise.
    pub fn attack_technique(self) -> (&'static str, &'static str) {
        match self {
            Vector::UdpReflection => (
                "T1498.002",
                "Network Denial of Service: Reflection Amplification",
            ),
            _ => (
                "T1498.001",
                "Network Denial of Service: Direct Network Flood",
            ),
        }
    }
}

/// One direction of a flow, as the classifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct Send {
    /// Transport protocol.
    pub proto: Proto,
    /// Sender's port.
    pub src_port: Option<u16>,
    /// Packets sent (`None`: unknown).
    pub packets: Option<u64>,
    /// Bytes sent.
    pub bytes: Option<u64>,
    /// Packets the receiver sent back in the same flow (`None`: the record has no
    /// reverse counts, e.g. unidirectional NetFlow).
    pub reply_packets: Option<u64>,
    /// Bytes the receiver sent back.
    pub reply_bytes: Option<u64>,
    /// The sender is the flow's originator.
    pub from_originator: bool,
}

/// The vector of one send, or `None` for ordinary traffic.
pub fn classify(s: &Send) -> Option<Vector> {
    let replied = match (s.reply_packets, s.reply_bytes) {
        (Some(p), _) if p > 0 => Some(true),
        (_, Some(b)) if b > 0 => Some(true),
        (None, None) => None,
        _ => Some(false),
    };
    match s.proto {
        Proto::Tcp => {
            // Only the originator's direction can be a SYN: a responder's SYN-ACKs
            // are the victim's answers.
            if !s.from_originator {
                return None;
            }
            let pkts = s.packets.unwrap_or(1);
            let bytes = s.bytes.unwrap_or(0);
            let header_only = bytes == 0 || bytes <= SYN_MAX_BYTES_PER_PACKET * pkts.max(1);
            let reply_payload = s.reply_bytes.unwrap_or(0) > 0;
            (pkts <= SYN_MAX_PACKETS && header_only && !reply_payload).then_some(Vector::SynFlood)
        }
        Proto::Udp => {
            let unsolicited = replied != Some(true);
            if s.src_port.and_then(reflector_service).is_some() && unsolicited {
                // The receiver's own port being a reflector port too (53 to 53
                // between resolvers) is server-to-server traffic, not reflection,
                // but a spoofed request is indistinguishable; keep it simple.
                return Some(Vector::UdpReflection);
            }
            match replied {
                Some(false) => Some(Vector::UdpFlood),
                None if s.packets.unwrap_or(0) >= FLOOD_MIN_PACKETS_PER_FLOW => {
                    Some(Vector::UdpFlood)
                }
                _ => None,
            }
        }
        Proto::Icmp => Some(Vector::IcmpFlood),
        Proto::Other(_) => Some(Vector::Volumetric),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(proto: Proto, port: u16, pkts: u64, bytes: u64, reply: Option<(u64, u64)>) -> Send {
        Send {
            proto,
            src_port: Some(port),
            packets: Some(pkts),
            bytes: Some(bytes),
            reply_packets: reply.map(|r| r.0),
            reply_bytes: reply.map(|r| r.1),
            from_originator: true,
        }
    }

    #[test]
    fn syn_only_is_a_syn_flood_and_a_handshake_with_a_request_is_not() {
        assert_eq!(
            classify(&send(Proto::Tcp, 40000, 1, 0, Some((0, 0)))),
            Some(Vector::SynFlood)
        );
        assert_eq!(
            classify(&send(Proto::Tcp, 40000, 1, 60, None)),
            Some(Vector::SynFlood)
        );
        assert_eq!(
            classify(&send(Proto::Tcp, 40000, 5, 400, Some((4, 9000)))),
            None
        );
    }

    #[test]
    fn an_answer_from_port_53_to_a_client_that_asked_is_not_reflection() {
        assert_eq!(
            classify(&send(Proto::Udp, 123, 1, 468, Some((0, 0)))),
            Some(Vector::UdpReflection)
        );
        assert_eq!(classify(&send(Proto::Udp, 53, 1, 300, Some((1, 40)))), None);
    }
}
