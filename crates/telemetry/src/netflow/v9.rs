//! NetFlow v9 (RFC 3954): a 20-byte header, then flowsets — templates (id 0), options
//! templates (id 1) and data (id ≥ 256, the template's id).

use std::net::SocketAddr;

use super::template::{self, Clock, Field, FieldKind, Template};
use super::{
    DecodeStats, Decoder, DropReason, ReadBe, SessionKey, MAX_FIELDS_PER_TEMPLATE,
    MAX_TEMPLATES_PER_EXPORTER,
};

/// Header length.
pub(crate) const HEADER: usize = 20;

pub(super) fn decode(d: &mut Decoder, exporter: SocketAddr, b: &[u8]) -> Result<(), DropReason> {
    if b.len() < HEADER {
        return Err(DropReason::Truncated);
    }
    let uptime = i64::from(b.u32_at(4).ok_or(DropReason::Truncated)?);
    let secs = i64::from(b.u32_at(8).ok_or(DropReason::Truncated)?);
    let sequence = b.u32_at(12).ok_or(DropReason::Truncated)?;
    let source_id = b.u32_at(16).ok_or(DropReason::Truncated)?;
    let Decoder {
        sessions,
        flows,
        stats,
    } = d;
    let key = SessionKey {
        exporter,
        version: 9,
        domain: source_id,
    };
    let session = super::session(sessions, stats, key);
    // v9 counts export packets: each datagram advances the sequence by one.
    let seq = session.sequence(sequence, 1);
    Decoder::count_sequence(stats, seq, |s: &mut DecodeStats| &mut s.lost_v9_packets);
    let clock = Clock {
        export_ms: secs * 1000,
        boot_ms: Some(secs * 1000 - uptime),
    };
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
            0 => templates(body, &mut session.templates, stats)?,
            1 => options_templates(body, &mut session.templates, stats)?,
            2..=255 => {}
            _ => {
                let super::Session {
                    templates, rates, ..
                } = &mut *session;
                let Some(t) = templates.get(&id) else {
                    stats.unknown_template_sets += 1;
                    continue;
                };
                let counts = template::decode_set(t, body, clock, rates, flows)?;
                stats.options_records += u64::from(counts.options);
                stats.untimed_flows += u64::from(counts.untimed);
            }
        }
    }
    Ok(())
}

/// Installs `t` as template `id`, within the session's limit.
pub(super) fn install(
    templates: &mut std::collections::HashMap<u16, Template>,
    stats: &mut DecodeStats,
    id: u16,
    t: Template,
) -> Result<(), DropReason> {
    if !templates.contains_key(&id) && templates.len() >= MAX_TEMPLATES_PER_EXPORTER {
        return Err(DropReason::TemplateLimit);
    }
    templates.insert(id, t);
    stats.templates += 1;
    Ok(())
}

/// A template flowset: records of (id, field count, count × (type, length)).
fn templates(
    body: &[u8],
    templates: &mut std::collections::HashMap<u16, Template>,
    stats: &mut DecodeStats,
) -> Result<(), DropReason> {
    let mut at = 0;
    while body.len() - at >= 4 {
        let id = body.u16_at(at).ok_or(DropReason::Template)?;
        let count = usize::from(body.u16_at(at + 2).ok_or(DropReason::Template)?);
        at += 4;
        if id < 256 || count == 0 || count > MAX_FIELDS_PER_TEMPLATE {
            return Err(DropReason::Template);
        }
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let ty = body.u16_at(at).ok_or(DropReason::Template)?;
            let len = body.u16_at(at + 2).ok_or(DropReason::Template)?;
            at += 4;
            fields.push(field(ty, len)?);
        }
        install(templates, stats, id, Template::new(fields, false)?)?;
    }
    Ok(())
}

/// An options template flowset: records of (id, scope length, options length, scope
/// fields, option fields), lengths in bytes; scope fields are skipped.
fn options_templates(
    body: &[u8],
    templates: &mut std::collections::HashMap<u16, Template>,
    stats: &mut DecodeStats,
) -> Result<(), DropReason> {
    let mut at = 0;
    // Records are at least 6 bytes; fewer trailing bytes are padding.
    while body.len() - at >= 6 {
        let id = body.u16_at(at).ok_or(DropReason::Template)?;
        let scope_len = usize::from(body.u16_at(at + 2).ok_or(DropReason::Template)?);
        let opt_len = usize::from(body.u16_at(at + 4).ok_or(DropReason::Template)?);
        at += 6;
        let n = (scope_len + opt_len) / 4;
        if id < 256
            || scope_len % 4 != 0
            || opt_len % 4 != 0
            || n == 0
            || n > MAX_FIELDS_PER_TEMPLATE
        {
            return Err(DropReason::Template);
        }
        let mut fields = Vec::with_capacity(n);
        for i in 0..n {
            let ty = body.u16_at(at).ok_or(DropReason::Template)?;
            let len = body.u16_at(at + 2).ok_or(DropReason::Template)?;
            at += 4;
            let mut f = field(ty, len)?;
            if i < scope_len / 4 {
                // Scope field types (system, interface, ...) are not IPFIX elements.
                f.kind = FieldKind::Skip;
            }
            fields.push(f);
        }
        install(templates, stats, id, Template::new(fields, true)?)?;
    }
    Ok(())
}

/// One v9 field; v9 has no variable-length fields, and no record can be 65,535 long.
fn field(ty: u16, len: u16) -> Result<Field, DropReason> {
    if len == template::VARIABLE {
        return Err(DropReason::Template);
    }
    Ok(Field {
        kind: FieldKind::of(ty, len),
        len,
    })
}
