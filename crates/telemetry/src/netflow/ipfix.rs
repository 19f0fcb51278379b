//! IPFIX (RFC 7011): a 16-byte message header, then sets — templates (id 2), options
//! templates (id 3) and data (id ≥ 256, the template's id).

use std::collections::HashMap;
use std::net::SocketAddr;

use super::template::{self, Clock, Field, FieldKind, Template, VARIABLE};
use super::v9::install;
use super::{DecodeStats, Decoder, DropReason, ReadBe, SessionKey, MAX_FIELDS_PER_TEMPLATE};

/// Message header length.
pub(crate) const HEADER: usize = 16;

pub(super) fn decode(d: &mut Decoder, exporter: SocketAddr, b: &[u8]) -> Result<(), DropReason> {
    if b.len() < HEADER {
        return Err(DropReason::Truncated);
    }
    let length = usize::from(b.u16_at(2).ok_or(DropReason::Truncated)?);
    if length < HEADER {
        return Err(DropReason::Length);
    }
    // The message ends where its header says; a datagram shorter than that is cut.
    let b = b.get(..length).ok_or(DropReason::Truncated)?;
    let export_s = i64::from(b.u32_at(4).ok_or(DropReason::Truncated)?);
    let sequence = b.u32_at(8).ok_or(DropReason::Truncated)?;
    let domain = b.u32_at(12).ok_or(DropReason::Truncated)?;
    let Decoder {
        sessions,
        flows,
        stats,
    } = d;
    let key = SessionKey {
        exporter,
        version: 10,
        domain,
    };
    let session = super::session(sessions, stats, key);
    let clock = Clock {
        export_ms: export_s * 1000,
        boot_ms: None,
    };
    let mut records = 0u32;
    let mut uncounted = false;
    let result = (|| {
        let mut at = HEADER;
        while b.len() - at >= 4 {
            let id = b.u16_at(at).ok_or(DropReason::SetLength)?;
            let len = usize::from(b.u16_at(at + 2).ok_or(DropReason::SetLength)?);
            if len < 4 || at + len > b.len() {
                return Err(DropReason::SetLength);
            }
            let body = b.get(at + 4..at + len).ok_or(DropReason::SetLength)?;
            at += len;
            match id {
                2 | 3 => templates(body, id == 3, &mut session.templates, stats)?,
                0..=255 => {}
                _ => {
                    let super::Session {
                        templates, rates, ..
                    } = &mut *session;
                    let Some(t) = templates.get(&id) else {
                        stats.unknown_template_sets += 1;
                        uncounted = true;
                        continue;
                    };
                    let counts = template::decode_set(t, body, clock, rates, flows)?;
                    records = records.wrapping_add(counts.records);
                    stats.options_records += u64::from(counts.options);
                    stats.untimed_flows += u64::from(counts.untimed);
                }
            }
        }
        if at != b.len() {
            // Sets fill the message exactly (RFC 7011 §3.3.1).
            return Err(DropReason::SetLength);
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            // IPFIX counts data records: this message's advance the sequence by as many.
            let seq = session.sequence(sequence, records);
            Decoder::count_sequence(stats, seq, |s: &mut DecodeStats| &mut s.lost_ipfix_records);
            if uncounted {
                // Records of unknown templates went uncounted: resynchronise.
                session.expected = None;
            }
            Ok(())
        }
        Err(reason) => {
            session.expected = None;
            Err(reason)
        }
    }
}

/// A template set (`options` false) or options template set: template records, with
/// withdrawals (field count 0) of one template, or of all templates of the set's kind
/// when the withdrawn id is the set id (RFC 7011 §8.1).
fn templates(
    body: &[u8],
    options: bool,
    templates: &mut HashMap<u16, Template>,
    stats: &mut DecodeStats,
) -> Result<(), DropReason> {
    let set_id = if options { 3 } else { 2 };
    let mut at = 0;
    while body.len() - at >= 4 {
        let id = body.u16_at(at).ok_or(DropReason::Template)?;
        let count = usize::from(body.u16_at(at + 2).ok_or(DropReason::Template)?);
        at += 4;
        if count == 0 {
            if id == set_id {
                let before = templates.len();
                templates.retain(|_, t| t.options != options);
                stats.templates_withdrawn += (before - templates.len()) as u64;
            } else if id < 256 {
                return Err(DropReason::Template);
            } else if templates.remove(&id).is_some() {
                stats.templates_withdrawn += 1;
            }
            continue;
        }
        if id < 256 || count > MAX_FIELDS_PER_TEMPLATE {
            return Err(DropReason::Template);
        }
        if options {
            // Scope fields are ordinary elements in IPFIX (e.g. selectorId): read alike.
            let scope = usize::from(body.u16_at(at).ok_or(DropReason::Template)?);
            at += 2;
            if scope == 0 || scope > count {
                return Err(DropReason::Template);
            }
        }
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let raw = body.u16_at(at).ok_or(DropReason::Template)?;
            let len = body.u16_at(at + 2).ok_or(DropReason::Template)?;
            at += 4;
            let kind = if raw & 0x8000 != 0 {
                // Enterprise-specific: a 4-byte enterprise number follows; skipped.
                body.u32_at(at).ok_or(DropReason::Template)?;
                at += 4;
                FieldKind::Skip
            } else if len == VARIABLE {
                FieldKind::Skip
            } else {
                FieldKind::of(raw, len)
            };
            fields.push(Field { kind, len });
        }
        install(templates, stats, id, Template::new(fields, options)?)?;
    }
    Ok(())
}
