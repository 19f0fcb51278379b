//! The flow collector: NetFlow v5/v9 and IPFIX over UDP, decoded, windowed, fed to
//! the observers (matching, detectors), findings handed out as each window closes.
//!
//! One thread, one socket: a datagram is received into a reused buffer, decoded by
//! [`accord_telemetry::netflow::Decoder`] (templates, sampling and sequence numbers per
//! exporter session; a malformed datagram is counted by reason and dropped), and each
//! flow goes to the caller's flow hook and, as a [`Record`], to a [`Pass`] of tumbling
//! windows. Windows close on *telemetry* time — the latest flow end seen — so that a
//! replayed capture windows like live traffic; whatever is open is finished at
//! shutdown. A resolver's dnstap ([`crate::dnstap`]) joins the same pass as DNS
//! records. The loop wakes every [`RECV_TIMEOUT`] to check the stop flag, so a
//! signal handler (or `accord serve` shutting down) stops it within that time.

use std::collections::BTreeMap;
use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use accord_detect::{Finding, Observer, Tumbling};
use accord_telemetry::dnstap::DnstapDecoder;
use accord_telemetry::netflow::{DecodeStats, Decoder, DropReason, Flow, MAX_DATAGRAM};
use accord_telemetry::{Micros, Record};

use crate::dnstap::DnsFeed;
use serde::Serialize;

/// Findings are stored as every detector's are ([`crate::findings`]).
pub use crate::findings::{store_findings, StoreFindingsError, StoreSummary};

/// How long a receive waits before the loop looks at its stop flag again.
pub const RECV_TIMEOUT: Duration = Duration::from_millis(200);

/// Receive buffer asked of the kernel for the collector's socket: exporters send in
/// bursts (a cache expiry), and datagrams that find the buffer full are lost before
/// any sequence number can tell. Linux caps it at `net.core.rmem_max`.
pub const RECV_BUFFER: usize = 8 << 20;

/// Binds the collector's UDP socket at `addr`, with a receive buffer of
/// [`RECV_BUFFER`] (or what the kernel allows).
pub fn bind(addr: std::net::SocketAddr) -> io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // Best effort: a smaller buffer still works.
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Default length of a detection window: five minutes of telemetry time.
pub const DEFAULT_WINDOW: Micros = 300_000_000;

/// How a collector runs.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Length of a detection window (microseconds of telemetry time, at least 1 s).
    pub window: Micros,
    /// Stop after this long without a datagram (tests, replays); `None`: run until
    /// stopped.
    pub idle_exit: Option<Duration>,
    /// Stop after this many datagrams; `None`: no limit.
    pub max_datagrams: Option<u64>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            window: DEFAULT_WINDOW,
            idle_exit: None,
            max_datagrams: None,
        }
    }
}

/// What a collector run saw: the decoder's counters, by name, and the windows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CollectSummary {
    /// Datagrams received.
    pub datagrams: u64,
    /// Datagrams of each version: `v5`, `v9`, `ipfix`.
    pub versions: BTreeMap<&'static str, u64>,
    /// Flow records decoded.
    pub flows: u64,
    /// Datagrams dropped, by reason (`truncated`, `version`, `length`, `set-length`,
    /// `template`, `template-limit`, `record`); reasons that never occurred are left out.
    pub dropped: BTreeMap<&'static str, u64>,
    /// NetFlow v5 flows lost (sequence gaps).
    pub lost_v5_flows: u64,
    /// NetFlow v9 export packets lost.
    pub lost_v9_packets: u64,
    /// IPFIX data records lost.
    pub lost_ipfix_records: u64,
    /// Datagrams that arrived late.
    pub reordered: u64,
    /// Sequence resets (exporter restarts).
    pub sequence_resets: u64,
    /// Data sets skipped for want of their template.
    pub unknown_template_sets: u64,
    /// Templates learnt.
    pub templates: u64,
    /// Exporter sessions seen at the end.
    pub exporters: usize,
    /// Detection windows closed (the last one at shutdown included).
    pub windows: u64,
    /// Findings handed to the findings hook.
    pub findings: u64,
    /// The dnstap intake, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsSummary>,
    /// Seconds the collector ran.
    pub seconds: f64,
}

impl CollectSummary {
    fn from_stats(s: &DecodeStats, exporters: usize) -> Self {
        let mut dropped = BTreeMap::new();
        for r in DropReason::ALL {
            if s.dropped(r) > 0 {
                dropped.insert(r.name(), s.dropped(r));
            }
        }
        CollectSummary {
            datagrams: s.datagrams,
            versions: [
                ("v5", s.by_version[0]),
                ("v9", s.by_version[1]),
                ("ipfix", s.by_version[2]),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect(),
            flows: s.flows,
            dropped,
            lost_v5_flows: s.lost_v5_flows,
            lost_v9_packets: s.lost_v9_packets,
            lost_ipfix_records: s.lost_ipfix_records,
            reordered: s.reordered,
            sequence_resets: s.sequence_resets,
            unknown_template_sets: s.unknown_template_sets,
            templates: s.templates,
            exporters,
            ..CollectSummary::default()
        }
    }
}

impl std::fmt::Display for CollectSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let join = |m: &BTreeMap<&str, u64>| {
            if m.is_empty() {
                "none".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        writeln!(
            f,
            "datagrams:  {} ({}) from {} exporter sessions, {:.1}s",
            self.datagrams,
            join(&self.versions),
            self.exporters,
            self.seconds
        )?;
        writeln!(
            f,
            "flows:      {} decoded; {} templates; {} data sets without a template",
            self.flows, self.templates, self.unknown_template_sets
        )?;
        writeln!(f, "dropped:    {}", join(&self.dropped))?;
        writeln!(
            f,
            "sequence:   lost {} v5 flows, {} v9 packets, {} IPFIX records; {} reordered, {} resets",
            self.lost_v5_flows,
            self.lost_v9_packets,
            self.lost_ipfix_records,
            self.reordered,
            self.sequence_resets
        )?;
        if let Some(d) = &self.dns {
            writeln!(
                f,
                "dnstap:     {} connections ({} refused, {} senders not allowed, {} broken); {} frames: {} DNS records, {} skipped, {} malformed",
                d.connections, d.refused_connections, d.refused_senders, d.broken_streams, d.frames, d.records, d.skipped, d.refused
            )?;
        }
        write!(
            f,
            "findings:   {} over {} windows",
            self.findings, self.windows
        )
    }
}

/// Receives and decodes datagrams on `socket` until `stop` is set (or an
/// [`CollectOptions`] limit is reached), calling `on_flows` with the flows of each
/// datagram, running `observers` over them — and over the DNS records of `dns`, a
/// resolver's dnstap, when given — in windows of `options.window`, and calling
/// `on_findings` with the findings of each window as it closes (and of the open one at
/// the end). Errors: the socket failing (not a bad datagram or frame: those are
/// counted).
pub fn run<'a>(
    socket: &UdpSocket,
    observers: Vec<Box<dyn Observer + 'a>>,
    options: &CollectOptions,
    dns: Option<&DnsFeed>,
    stop: &AtomicBool,
    mut on_flows: impl FnMut(&[Flow]),
    mut on_findings: impl FnMut(Vec<Box<dyn Finding>>),
) -> io::Result<CollectSummary> {
    socket.set_read_timeout(Some(RECV_TIMEOUT))?;
    let started = Instant::now();
    let mut decoder = Decoder::new();
    let mut dns_decoder = DnstapDecoder::new();
    let mut dns_counts = DnsCounts::default();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut windowing = Tumbling::new(observers, options.window);
    let mut findings = 0u64;
    let mut last_datagram = Instant::now();
    let mut emit = |f: Vec<Box<dyn Finding>>, findings: &mut u64| {
        if !f.is_empty() {
            *findings += f.len() as u64;
            on_findings(f);
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if let Some(feed) = dns {
            let mut frames = 0u64;
            feed.drain(|frame| {
                frames += 1;
                match dns_decoder.decode(frame) {
                    Ok(Ok(d)) => {
                        dns_counts.records += 1;
                        let end = d.conn.ts;
                        let closed = windowing.observe(&Record::Dns(d), end);
                        emit(closed, &mut findings);
                    }
                    Ok(Err(_)) => dns_counts.skipped += 1,
                    Err(_) => dns_counts.refused += 1,
                }
            });
            if frames > 0 {
                // Answers are traffic too: an idle exit counts from the last of either.
                last_datagram = Instant::now();
            }
        }
        if options
            .max_datagrams
            .is_some_and(|m| decoder.stats().datagrams >= m)
        {
            break;
        }
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if options
                    .idle_exit
                    .is_some_and(|idle| last_datagram.elapsed() >= idle)
                {
                    break;
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        last_datagram = Instant::now();
        let Ok(flows) = decoder.decode(from, buf.get(..n).unwrap_or(&[])) else {
            continue;
        };
        if flows.is_empty() {
            continue;
        }
        on_flows(flows);
        for flow in flows {
            let closed = windowing.observe(&Record::Conn(flow.conn()), flow.end);
            emit(closed, &mut findings);
        }
    }
    let (last, windows) = windowing.finish();
    emit(last, &mut findings);
    let mut summary = CollectSummary::from_stats(decoder.stats(), decoder.exporters());
    summary.windows = windows;
    summary.findings = findings;
    if let Some(feed) = dns {
        let c = &feed.counters;
        summary.dns = Some(DnsSummary {
            connections: c.connections.load(Ordering::Relaxed),
            refused_connections: c.refused_connections.load(Ordering::Relaxed),
            refused_senders: c.refused_senders.load(Ordering::Relaxed),
            broken_streams: c.broken_streams.load(Ordering::Relaxed),
            frames: c.frames.load(Ordering::Relaxed),
            records: dns_counts.records,
            skipped: dns_counts.skipped,
            refused: dns_counts.refused,
        });
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[derive(Debug, Default)]
struct DnsCounts {
    records: u64,
    skipped: u64,
    refused: u64,
}

/// What the dnstap intake saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DnsSummary {
    /// Resolver connections accepted.
    pub connections: u64,
    /// Connections refused (too many at once).
    pub refused_connections: u64,
    /// TCP connections refused: the sender is not allowed.
    pub refused_senders: u64,
    /// Connections ended by a broken stream.
    pub broken_streams: u64,
    /// Data frames received.
    pub frames: u64,
    /// DNS records handed to the observers (responses).
    pub records: u64,
    /// Frames skipped: queries without a response, non-message frames.
    pub skipped: u64,
    /// Frames refused as malformed.
    pub refused: u64,
}
